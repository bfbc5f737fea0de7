"""Training end to end on a few rows: determinism, learning, a loadable adapter, 4-bit gradients.

Reproducibility tolerance: two runs of the same config and data in one
process on CPU (deterministic algorithms, same thread count) must give loss
curves equal to 1e-4 relative; in practice they are bit-identical.
"""

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from agent.base import EMBEDDED_ID
from agent.prompt import SYSTEM_PROMPT
from training.config import TrainConfig
from training.train import train

REL_TOL = 1e-4


def tiny(data, out, **changes) -> TrainConfig:
    values = dict(data=str(data), output=str(out), max_steps=3, batch_size=2, max_length=128,
                  learning_rate=2e-3, lora_dropout=0.0, seed=0, threads=1)
    values.update(changes)
    return TrainConfig(**values)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One tiny training on 8 rows (3 steps of 2 rows), kept for several tests."""
    from tests.training.conftest import DATA

    folder = tmp_path_factory.mktemp("tiny")
    data = folder / "rows.jsonl"
    data.write_text("\n".join(DATA.read_text().splitlines()[:8]) + "\n")
    config = tiny(data, folder / "adapter")
    return config, train(config, log=lambda m: None)


@pytest.mark.model
@pytest.mark.slow
def test_same_data_and_config_give_the_same_loss_curve(tiny_run, tmp_path):
    config, first = tiny_run
    second = train(config.replace(output=str(tmp_path / "again")), log=lambda m: None)
    assert len(first.loss_curve) == len(second.loss_curve) == 3
    for a, b in zip(first.loss_curve, second.loss_curve):
        assert abs(a - b) <= REL_TOL * abs(a), (first.loss_curve, second.loss_curve)


@pytest.mark.model
@pytest.mark.slow
def test_outputs_manifest_and_loss_log(tiny_run):
    config, manifest = tiny_run
    out = Path(config.output)
    lines = [json.loads(line) for line in (out / "loss.jsonl").read_text().splitlines()]
    assert [line["step"] for line in lines] == [1, 2, 3]
    assert [line["loss"] for line in lines] == manifest.loss_curve
    saved = json.loads((out / "manifest.json").read_text())
    assert saved["base_model"] == EMBEDDED_ID and saved["base_revision"].startswith("sha256:")
    assert saved["quantized"] is False and saved["device"].startswith("cpu:")  # CPU default: no quantization
    assert saved["dtype"] == "float32"  # no dtype asked: the base as the CPU loads it
    assert saved["system_prompt_sha256"] == __import__("hashlib").sha256(SYSTEM_PROMPT.encode()).hexdigest()
    assert saved["data_rows"] == 8 and len(saved["data_sha256"]) == 64
    assert saved["config"]["learning_rate"] == 2e-3 and saved["steps"] == 3
    assert {"torch", "transformers", "peft", "bitsandbytes"} <= set(saved["versions"])
    card = (out / "README.md").read_text()  # the model card, not PEFT's blank template
    assert card.startswith(f"---\nbase_model: {EMBEDDED_ID}\n") and "| steps | 3 of 2 rows" in card
    adapter_config = json.loads((out / "adapter_config.json").read_text())
    assert adapter_config["base_model_name_or_path"] == EMBEDDED_ID
    assert adapter_config["r"] == 8 and set(adapter_config["target_modules"]) == {"q_proj", "k_proj", "v_proj", "o_proj"}


@pytest.mark.model
@pytest.mark.slow
def test_saved_adapter_loads_through_the_agent_loader_and_changes_logits(tiny_run):
    import torch

    from agent.model import load_model

    config, _ = tiny_run
    base = load_model(use_adapter=False)
    tuned = load_model(adapter=config.output)
    assert tuned.adapter_path == config.output and tuned.adapter_sha256
    ids = base.tokenizer("<|im_start|>user\nlist files<|im_end|>\n<|im_start|>assistant\n", return_tensors="pt")
    with torch.no_grad():
        a = base.model(**ids).logits
        b = tuned.model(**ids).logits
    assert (a - b).abs().max() > 1e-3


@pytest.mark.model
@pytest.mark.slow
def test_loss_decreases_on_a_tiny_set(rows_file, tmp_path):
    manifest = train(tiny(rows_file(2), tmp_path / "a", max_steps=5), log=lambda m: None)
    curve = manifest.loss_curve
    assert curve[-1] < 0.7 * curve[0], curve  # two rows seen five times: the loss must fall well


@pytest.mark.model
@pytest.mark.slow
def test_4bit_lora_gradients_survive_a_no_grad_forward(rows_file):
    """The AVX512-BF16 trap: on CPUs with AVX512-BF16, a no-grad eval forward makes
    bitsandbytes repack the Linear4bit weights, and later training gets corrupted,
    mostly vanished gradients (measured without the loader's workaround: |grad| sum
    59 instead of 638, max difference 0.11).  With it, gradients are unchanged."""
    import torch

    from agent.model import load_model
    from training.data import collate, load_dataset
    from training.loss import completion_loss_sum
    from training.train import build_model

    config = tiny(rows_file(2), "unused", quantize="4bit")
    loaded = load_model(quantize="4bit", use_adapter=False)
    assert loaded.quantized
    batch = collate(load_dataset(config.data, loaded.tokenizer, 128).rows, loaded.tokenizer.pad_token_id)
    torch.manual_seed(0)
    model = build_model(loaded, config)
    with torch.no_grad():  # lora_B starts at zero; make every LoRA tensor get a gradient
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.01)

    def train_grads() -> dict:
        model.train()
        loss, n = completion_loss_sum(model, batch)
        (loss / n).backward()
        grads = {k: p.grad.clone() for k, p in model.named_parameters() if p.requires_grad and p.grad is not None}
        model.zero_grad(set_to_none=True)
        return grads

    before = train_grads()
    model.eval()
    with torch.no_grad():  # what generation or a held-out eval does
        model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
    after = train_grads()
    n_lora = sum(1 for p in model.parameters() if p.requires_grad)
    assert len(before) == len(after) == n_lora
    assert all(float(g.abs().sum()) > 0 for g in after.values())
    for name, grad in before.items():
        torch.testing.assert_close(after[name], grad, rtol=1e-5, atol=1e-7, msg=name)
    lora = [p for p in model.parameters() if p.requires_grad]
    snapshot = [p.detach().clone() for p in lora]
    optimizer = torch.optim.AdamW(lora, lr=1e-3)
    model.train()
    loss, n = completion_loss_sum(model, batch)
    (loss / n).backward()
    optimizer.step()
    assert all(not torch.equal(p.detach(), s) for p, s in zip(lora, snapshot))


@pytest.mark.model
def test_completion_loss_matches_the_loss_over_full_logits(rows_file):
    """The LM head runs only where a target is predicted; the loss is the same as slicing full logits."""
    import torch
    import torch.nn.functional as F

    from agent.model import load_model
    from training.data import collate, load_dataset
    from training.loss import completion_loss_sum, prepare_batch, shared_prefix_length
    from training.train import build_model

    config = tiny(rows_file(3), "unused")
    loaded = load_model(use_adapter=False)
    batch = collate(load_dataset(config.data, loaded.tokenizer, 128).rows, loaded.tokenizer.pad_token_id)
    assert shared_prefix_length(batch) > 50  # the system prompt: the shared-prefix path is taken
    model = build_model(loaded, config)
    model.eval()  # no dropout: both paths compute the same function
    with torch.no_grad():  # lora_B starts at zero; give every LoRA weight a gradient to compare
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.01)

    def grads():
        out = {k: p.grad.clone() for k, p in model.named_parameters() if p.requires_grad}
        model.zero_grad(set_to_none=True)
        return out

    loss, n = completion_loss_sum(model, batch)
    loss.backward()
    ours = grads()
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[:, :-1].float()
    targets = batch["labels"][:, 1:]
    full = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                           ignore_index=-100, reduction="sum")
    full.backward()
    reference = grads()
    assert n == int((targets != -100).sum()) > 0
    torch.testing.assert_close(loss, full, rtol=1e-5, atol=1e-4)
    assert ours.keys() == reference.keys() and len(ours) > 0
    for name, grad in reference.items():
        torch.testing.assert_close(ours[name], grad, rtol=1e-3, atol=1e-5, msg=name)
    # without gradients through the prefix: the same loss, and every LoRA weight still learns
    loss_nograd, _ = completion_loss_sum(model, batch, prefix_grad=False)
    loss_nograd.backward()
    partial = grads()
    torch.testing.assert_close(loss_nograd, loss, rtol=1e-5, atol=1e-4)
    assert all(float(g.abs().sum()) > 0 for g in partial.values())
    assert any(not torch.allclose(partial[k], ours[k], rtol=1e-3, atol=1e-5) for k in ours)
    # rows of one length (no padding): the batch goes without an attention mask, and the loss is the same
    same = {k: v[:2].clone() for k, v in batch.items()}
    width = int(same["attention_mask"].sum(1).min())
    same = {k: v[:, :width] for k, v in same.items()}
    assert prepare_batch(same).attention_mask is None and prepare_batch(same).prefix > 50
    loss_same, n_same = completion_loss_sum(model, same)
    logits = model(input_ids=same["input_ids"]).logits[:, :-1].float()
    full_same = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), same["labels"][:, 1:].reshape(-1),
                                ignore_index=-100, reduction="sum")
    assert n_same == int((same["labels"][:, 1:] != -100).sum()) > 0
    torch.testing.assert_close(loss_same, full_same, rtol=1e-5, atol=1e-4)


def test_shared_prefix_stops_before_the_first_target_and_at_the_first_difference():
    import torch

    from training.loss import shared_prefix_length

    I = -100
    batch = {"input_ids": torch.tensor([[1, 2, 3, 4, 5, 6], [1, 2, 3, 9, 9, 0]]),
             "attention_mask": torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0]]),
             "labels": torch.tensor([[I, I, I, I, 5, 6], [I, I, I, I, 9, I]])}
    assert shared_prefix_length(batch) == 3  # rows differ at position 3
    batch["input_ids"][1, 3] = 4
    assert shared_prefix_length(batch) == 3  # first target at 4: the prefix ends at 3
    batch["labels"][1, 2] = 3
    assert shared_prefix_length(batch) == 1
    batch["attention_mask"][0, 0] = 0
    assert shared_prefix_length(batch) == 0


@pytest.mark.model
@pytest.mark.slow
def test_bfloat16_base_trains_a_float32_adapter(rows_file, tmp_path):
    from safetensors.torch import load_file

    # 3 steps (loss 2.43 -> 0.86 here): a CPU without AVX512-BF16 emulates bfloat16 at ~30 s a step
    manifest = train(tiny(rows_file(2), tmp_path / "bf16", max_steps=3, dtype="bfloat16"), log=lambda m: None)
    curve = manifest.loss_curve
    assert curve[-1] < 0.7 * curve[0], curve
    assert manifest.config["dtype"] == "bfloat16" and manifest.dtype == "bfloat16"
    weights = load_file(str(tmp_path / "bf16" / "adapter_model.safetensors"))
    assert weights and {str(t.dtype) for t in weights.values()} == {"torch.float32"}


def test_dtype_is_checked(rows_file, tmp_path):
    from harness.errors import TrainingError

    with pytest.raises(TrainingError, match="dtype must be one of auto, float32, bfloat16"):
        tiny(rows_file(2), tmp_path / "x", dtype="float16")
    with pytest.raises(TrainingError, match="bfloat16 applies to an unquantized base"):
        tiny(rows_file(2), tmp_path / "x", dtype="bfloat16", quantize="4bit")


@pytest.mark.parametrize("native", [True, False])
def test_dtype_auto_is_bfloat16_only_where_the_cpu_computes_it(native, monkeypatch):
    """auto follows the hardware; an explicit bfloat16 is kept where it is emulated, with a warning; a 4-bit
    base is never cast."""
    import torch

    from training import train as training

    monkeypatch.setattr(training, "cpu_computes_bfloat16", lambda: native)
    cpu = SimpleNamespace(quantized=False, device=torch.device("cpu"))
    said: list[str] = []
    assert training.compute_dtype("auto", cpu, said.append) == ("bfloat16" if native else "float32")
    assert training.compute_dtype("float32", cpu, said.append) == "float32"
    assert training.compute_dtype(None, cpu, said.append) is None
    assert said == []
    assert training.compute_dtype("bfloat16", cpu, said.append) == "bfloat16"
    assert bool(said) is not native
    if said:
        assert "dtype: auto" in said[0] and "AVX512-BF16" in said[0]
    assert training.compute_dtype("auto", SimpleNamespace(quantized=True, device=cpu.device), said.append) is None


def test_log_line_says_the_pace_and_time_left():
    from training.train import pace

    assert pace(10, 520, 175.0) == "17.50 s/step, 2h28m left"  # 510 steps x 17.5 s = 8,925 s
    assert pace(100, 130, 60.0) == "0.60 s/step, 0m18s left"
    assert pace(520, 520, 9100.0).endswith("0m00s left")


@pytest.mark.parametrize("schedule", ["constant", "linear", "cosine"])
def test_learning_rate_schedules(schedule, rows_file, tmp_path):
    import torch

    from training.train import make_scheduler

    config = tiny(rows_file(2), tmp_path / "x", learning_rate=1e-3, warmup_steps=2, lr_schedule=schedule)
    optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=config.learning_rate)
    scheduler = make_scheduler(optimizer, config, total_steps=10)
    lrs = []
    for _ in range(10):
        lrs.append(scheduler.get_last_lr()[0])
        optimizer.step()
        scheduler.step()
    assert lrs[0] == 0.0 and lrs[1] == pytest.approx(5e-4) and lrs[2] == pytest.approx(1e-3)
    if schedule == "constant":
        assert lrs[2:] == [pytest.approx(1e-3)] * 8
    else:
        assert all(a > b for a, b in zip(lrs[2:], lrs[3:])) and lrs[-1] < 2e-4


@pytest.mark.model
@pytest.mark.slow
def test_fenrir_train_prints_no_library_noise(rows_file, tmp_path):
    """A fresh `fenrir train` shows its own progress, not bitsandbytes' or transformers' notices."""
    import os
    import subprocess
    import sys

    out = tmp_path / "adapter"
    env = dict(os.environ, TQDM_DISABLE="1")
    fenrir = str(Path(sys.executable).parent / "fenrir")
    done = subprocess.run([fenrir, "train", "--data", str(rows_file(4)),
                           "--output", str(out), "--max-steps", "1", "--batch-size", "2", "--threads", "1"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    assert (out / "adapter_model.safetensors").exists()
    for noise in ("Warning", "kernels-community", "Traceback"):
        assert noise not in done.stdout + done.stderr, done.stdout + done.stderr


@pytest.mark.model
@pytest.mark.slow
def test_4bit_asked_for_on_cpu_trains_a_4bit_base(rows_file, tmp_path):
    """The quantization is the one asked for on the CPU too (tests/training/test_cuda.py checks CUDA)."""
    manifest = train(tiny(rows_file(2), tmp_path / "q", quantize="4bit", max_steps=1), log=lambda m: None)
    assert manifest.quantized is True and manifest.dtype == "nf4"
    assert json.loads((tmp_path / "q" / "manifest.json").read_text())["quantized"] is True


@pytest.mark.model
def test_padding_free_layout_gives_the_padded_loss_and_gradients(tmp_path):
    """Rows of one listing laid end to end after the shared prefix (the layout training uses): the
    same loss and LoRA gradients as padding every row to the batch's width, with no padding left."""
    import torch

    from agent.model import load_model
    from tests.training.conftest import DATA
    from training.data import collate, load_dataset, load_grounding
    from training.loss import completion_loss_sum, prepare_batch
    from training.train import build_model

    rows = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]
    seed_rows = [r for r in rows if r["fixture"] == "train-a"][:4]
    assert len({len(r["completion"]) for r in seed_rows}) > 1  # different lengths: the padded layout pads
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in seed_rows))
    config = tiny(data, "unused")
    loaded = load_model(use_adapter=False)
    grounding = load_grounding(Path(__file__).resolve().parents[2] / "data" / "listings.json")
    batch = collate(load_dataset(config.data, loaded.tokenizer, 1024, grounding).rows, loaded.tokenizer.pad_token_id)
    model = build_model(loaded, config)
    model.eval()
    torch.manual_seed(0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.01)

    def loss_and_grads(step_batch, prefix_grad=True):
        loss, n = completion_loss_sum(model, step_batch, prefix_grad)
        loss.backward()
        grads = {k: p.grad.clone() for k, p in model.named_parameters() if p.requires_grad}
        model.zero_grad(set_to_none=True)
        return loss.detach(), n, grads

    padded, flat = prepare_batch(batch), prepare_batch(batch, padding_free=True)
    assert flat.padding_free and not padded.padding_free
    assert flat.prefix == padded.prefix > 200  # the system prompt and the listing, computed once
    rows_n = batch["input_ids"].shape[0]
    assert flat.input_ids.shape == (1, flat.n_tokens - (rows_n - 1) * flat.prefix)  # not one padding token
    assert batch["attention_mask"].numel() > flat.n_tokens  # while the padded layout has some
    for prefix_grad in (True, False):
        loss_p, n_p, grads_p = loss_and_grads(padded, prefix_grad)
        loss_f, n_f, grads_f = loss_and_grads(flat, prefix_grad)
        assert n_p == n_f > 0
        torch.testing.assert_close(loss_f, loss_p, rtol=1e-5, atol=1e-4)
        assert grads_p.keys() == grads_f.keys() and all(float(g.abs().sum()) > 0 for g in grads_f.values())
        # float sums in another order: measured <= 3.1e-5 relative (per tensor, in norm); a wrong mask is ~1e-1
        worst = max(float((grads_f[k] - g).norm() / g.norm()) for k, g in grads_p.items())
        assert worst < 1e-3, worst
    # no shared prefix (one row alone) and an attention that adds the mask to its scores: still the same loss
    single = {k: v[:1, :int(batch["attention_mask"][0].sum())] for k, v in batch.items()}
    assert prepare_batch(single, padding_free=True).prefix == 0
    model.set_attn_implementation("eager")
    try:
        loss_e, _, _ = loss_and_grads(prepare_batch(batch, padding_free=True))
        loss_s, _, _ = loss_and_grads(prepare_batch(single, padding_free=True))
    finally:
        model.set_attn_implementation("sdpa")
    torch.testing.assert_close(loss_e, loss_p, rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(loss_s, loss_and_grads(prepare_batch(single))[0], rtol=1e-5, atol=1e-4)


def test_padding_free_mask_fits_the_attention_or_names_the_fix():
    import torch

    from harness.errors import TrainingError
    from training.loss import block_mask

    allowed = torch.tensor([[True, False], [True, True]])[None, None]
    weight = SimpleNamespace(dtype=torch.float32)

    def model(kind):
        return SimpleNamespace(config=SimpleNamespace(_attn_implementation=kind),
                               get_output_embeddings=lambda: SimpleNamespace(weight=weight))

    assert block_mask(model("sdpa"), allowed) is allowed
    additive = block_mask(model("eager"), allowed)
    assert additive.dtype == torch.float32 and additive[0, 0, 1].tolist() == [0.0, 0.0]
    assert additive[0, 0, 0, 1] == torch.finfo(torch.float32).min
    with pytest.raises(TrainingError, match="flash_attention_2.*--padding-free false"):
        block_mask(model("flash_attention_2"), allowed)


def interrupt_in_step(monkeypatch, loop, step: int) -> None:
    """A Ctrl-C in optimizer step ``step`` (one micro-batch a step): the loss of that step raises KeyboardInterrupt."""
    real, calls = loop.completion_loss_sum, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == step:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(loop, "completion_loss_sum", interrupted)


@pytest.mark.model
def test_a_resumed_run_ends_as_one_that_never_stopped(tmp_path, rows_file, monkeypatch):
    """Ctrl-C after a checkpoint, then --resume: the same loss curve and the same adapter, bit for bit on CPU."""
    import torch
    from safetensors.torch import load_file

    import training.train as loop
    from training.checkpoint import CHECKPOINT

    config = tiny(rows_file(8), tmp_path / "once", max_steps=4, save_every=2, lora_dropout=0.1)
    once = train(config, log=lambda m: None)
    assert not (tmp_path / "once" / CHECKPOINT).exists()  # a finished run leaves the adapter only

    messages = []
    stopped = config.replace(output=str(tmp_path / "twice"))
    interrupt_in_step(monkeypatch, loop, 3)
    with pytest.raises(KeyboardInterrupt):
        train(stopped, log=messages.append)
    monkeypatch.undo()
    assert (tmp_path / "twice" / CHECKPOINT).is_file()
    assert "holds step 2; `fenrir train --resume`" in messages[-1]
    again = train(stopped, resume=True, log=messages.append)
    assert "resumed after step 2" in "\n".join(messages)
    assert again.resumed_at == [2] and once.resumed_at == []
    assert again.loss_curve == once.loss_curve and len(once.loss_curve) == 4
    lines = (tmp_path / "twice" / "loss.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [1, 2, 3, 4]
    first, second = (load_file(str(tmp_path / name / "adapter_model.safetensors")) for name in ("once", "twice"))
    assert first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)
    assert not (tmp_path / "twice" / CHECKPOINT).exists()


@pytest.mark.model
def test_resume_refuses_another_config_or_no_checkpoint(tmp_path, rows_file, monkeypatch):
    from harness.errors import TrainingError
    import training.train as loop

    config = tiny(rows_file(4), tmp_path / "run", max_steps=3, save_every=1)
    with pytest.raises(TrainingError, match="no checkpoint in .*start the run without --resume"):
        train(config, resume=True, log=lambda m: None)
    with pytest.raises(TrainingError, match="pass one of them"):
        train(config, resume=True, overwrite=True, log=lambda m: None)
    interrupt_in_step(monkeypatch, loop, 2)
    with pytest.raises(KeyboardInterrupt):
        train(config, log=lambda m: None)
    monkeypatch.undo()
    with pytest.raises(TrainingError, match="holds a stopped run's checkpoint: --resume continues it"):
        train(config, log=lambda m: None)
    with pytest.raises(TrainingError, match=r"another config \(learning_rate 0.002 -> 0.001\)"):
        train(config.replace(learning_rate=1e-3), resume=True, log=lambda m: None)
    rows = Path(config.data[0])
    kept = rows.read_text()
    rows.write_text(kept + rows_file(5, "more.jsonl").read_text().splitlines()[-1] + "\n")
    with pytest.raises(TrainingError, match="the data changed since the checkpoint"):
        train(config, resume=True, log=lambda m: None)
    rows.write_text(kept)
    # settings that do not change what is learned may differ
    done = train(config.replace(log_every=1, save_every=0), resume=True, log=lambda m: None)
    assert done.resumed_at == [1] and len(done.loss_curve) == 3


def test_held_out_batches_keep_one_listing_each_and_every_row_once():
    from training.train import listing_batches

    groups = ["a", "b", "a", "", "b", "a", "a", "c"]
    batches = listing_batches(groups, 2)
    assert sorted(i for b in batches for i in b) == list(range(len(groups)))  # every row once
    assert all(len({groups[i] for i in b}) == 1 and len(b) <= 2 for b in batches)  # one listing, at most 2 rows
    assert batches == [[0, 2], [5, 6], [1, 4], [3], [7]]  # file order within a listing
    assert listing_batches([""] * 5, 2) == [[0, 1], [2, 3], [4]]  # one group: the file order of before


@pytest.mark.model
@pytest.mark.slow
def test_the_held_out_check_batched_by_listing_gives_the_file_order_answers(tmp_path):
    """exact_match and eval_loss batch the held-out rows by listing; the samples stay in file order, the
    answers are those of each prompt generated alone, and the loss is that of file-order batches."""
    from agent.generate import Decoding, generate
    from agent.model import load_model
    from training.data import Grounding, load_dataset, load_grounding
    from training.data import prompt_text
    from training.train import eval_loss, exact_match

    root = Path(__file__).resolve().parents[2]
    lines = [line for line in (root / "data" / "holdout.jsonl").read_text().splitlines() if line.strip()]
    picked = [line for line in lines if json.loads(line)["fixture"] == "train-a"][:2] + \
        [line for line in lines if json.loads(line)["fixture"] == "train-c"][:2]
    picked = [picked[0], picked[2], picked[1], picked[3]]  # fixtures alternate in the file
    path = tmp_path / "held.jsonl"
    path.write_text("\n".join(picked) + "\n")
    listings = load_grounding(root / "data" / "listings.json")
    held = Grounding(listings.listings, 0.0, listings.sha256)
    loaded = load_model(fast=False)
    grouped = exact_match(loaded, loaded.model, str(path), 20, held)
    rows = [json.loads(line) for line in picked]
    alone = [generate(loaded, [prompt_text(loaded.tokenizer, r["prompt"], held.listings[r["fixture"]])],
                      Decoding(max_new_tokens=20, batch_size=1))[0].text for r in rows]
    assert [s["expected"] for s in grouped[2]] == [r["completion"] for r in rows]
    assert [s["got"] for s in grouped[2]] == alone
    dataset = load_dataset([str(path)], loaded.tokenizer, 1024, held)
    pad = loaded.tokenizer.pad_token_id
    assert eval_loss(loaded.model, dataset, pad, 4) == pytest.approx(eval_loss(loaded.model, dataset, pad, 4, False),
                                                                     rel=1e-4)
