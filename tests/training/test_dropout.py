"""LoRA dropout with a uniform-float mask: nn.Dropout's function, swapped in by build_model on the CPU."""

from types import SimpleNamespace

import pytest
import torch

from training.config import TrainConfig
from training.dropout import UniformDropout, set_lora_dropout, use_uniform_dropout
from training.train import build_model


def test_keeps_each_element_with_probability_one_minus_p_and_rescales():
    torch.manual_seed(0)
    p = 0.05
    x = torch.full((2000, 1000), 2.0)
    y = UniformDropout(p).train()(x)
    kept = y != 0
    # 2e6 draws: the kept share's standard deviation is ~1.5e-4
    assert abs(kept.float().mean().item() - (1 - p)) < 1e-3
    assert torch.allclose(y[kept], torch.tensor(2.0 / (1 - p)))
    assert abs(y.mean().item() - 2.0) < 5e-3  # the expectation is the input's, as with nn.Dropout


def test_is_the_identity_in_eval_mode_and_at_p_zero():
    x = torch.randn(64, 32)
    assert torch.equal(UniformDropout(0.3).eval()(x), x)
    assert torch.equal(UniformDropout(0.0).train()(x), x)
    with pytest.raises(ValueError, match="choose 0 <= p < 1"):
        UniformDropout(1.0)


def test_gradient_flows_through_the_kept_elements_only():
    torch.manual_seed(1)
    x = torch.randn(300, 40, requires_grad=True)
    y = UniformDropout(0.5).train()(x)
    y.sum().backward()
    assert torch.equal(x.grad, (y != 0).float() * 2.0)


def tiny_llama():
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    return LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                        num_attention_heads=4, num_key_value_heads=2))


def test_build_model_swaps_every_lora_dropout_on_the_cpu(rows_file, tmp_path):
    config = TrainConfig(data=str(rows_file(2)), output=str(tmp_path / "out"), lora_dropout=0.05)
    loaded = SimpleNamespace(model=tiny_llama(), quantized=False, device=torch.device("cpu"), base_model_id="tiny")
    model = build_model(loaded, config)
    dropouts = [d for m in model.modules() if isinstance(getattr(m, "lora_dropout", None), torch.nn.ModuleDict)
                for d in m.lora_dropout.values()]
    assert len(dropouts) == 2 * len(config.target_modules)  # every projection of both layers
    assert all(isinstance(d, UniformDropout) and d.p == 0.05 and d.training for d in dropouts)
    assert use_uniform_dropout(model) == 0  # nothing left to swap
    model.eval()
    assert set_lora_dropout(model, "torch") == len(dropouts)  # and back, as bench/train.py --dropouts compares
    back = [d for m in model.modules() if isinstance(getattr(m, "lora_dropout", None), torch.nn.ModuleDict)
            for d in m.lora_dropout.values()]
    assert all(type(d) is torch.nn.Dropout and d.p == 0.05 and not d.training for d in back)
    with pytest.raises(ValueError, match="choose uniform or torch"):
        set_lora_dropout(model, "bernoulli")


def test_dropout_zero_keeps_peft_identity_modules(rows_file, tmp_path):
    config = TrainConfig(data=str(rows_file(2)), output=str(tmp_path / "out"), lora_dropout=0.0)
    loaded = SimpleNamespace(model=tiny_llama(), quantized=False, device=torch.device("cpu"), base_model_id="tiny")
    model = build_model(loaded, config)
    assert not any(isinstance(m, UniformDropout) for m in model.modules())
