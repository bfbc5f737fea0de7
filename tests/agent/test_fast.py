"""The fast inference path (agent/fast) computes what transformers computes, and loads without it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.fast import Unsupported, check_folder, load_fast
from agent.fast.config import parse_spec
from agent.fast.tokenizer import FastTokenizer

REPO = Path(__file__).resolve().parents[2]
LOGIT_ATOL = 1e-4
LOGIT_RTOL = 1e-5
"""The real model's logits reach ~20-30: float32 sums in another order (another CPU's kernels, another thread
count) move them by ~1e-4 (8.3e-5 with 2 threads, 1.04e-4 with 1 on an AVX512 Xeon), so its bound is relative to
their size.  A wrong rope, mask or cache is off by far more (> 1e-2)."""


def _tiny_config(**changes):
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64,
              "intermediate_size": 96, "num_attention_heads": 4, "num_key_value_heads": 2, "num_hidden_layers": 2,
              "head_dim": 16, "vocab_size": 128, "rms_norm_eps": 1e-5, "max_position_embeddings": 256,
              "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0}, "tie_word_embeddings": True,
              "hidden_act": "silu", "attention_bias": False, "mlp_bias": False}
    config.update(changes)
    return config


# --- what is supported (pure logic) -------------------------------------------------------------

def test_spec_of_the_embedded_shape():
    spec = parse_spec(_tiny_config(num_attention_heads=9, num_key_value_heads=3, head_dim=64, hidden_size=576))
    assert (spec.num_attention_heads, spec.num_key_value_heads, spec.head_dim) == (9, 3, 64)
    assert spec.rope_theta == 10000.0 and spec.tie_word_embeddings
    assert "lm_head.weight" not in spec.weight_shapes()
    assert parse_spec(_tiny_config(tie_word_embeddings=False)).weight_shapes()["lm_head.weight"] == (128, 64)
    legacy = _tiny_config(rope_theta=500000.0)
    del legacy["rope_parameters"]
    assert parse_spec(legacy).rope_theta == 500000.0


@pytest.mark.parametrize("changes, reason", [
    ({"architectures": ["MistralForCausalLM"], "model_type": "mistral"}, "LlamaForCausalLM only"),
    ({"rope_parameters": {"rope_type": "llama3", "rope_theta": 5e5, "factor": 8.0}}, "rope_parameters"),
    ({"rope_parameters": {"rope_type": "linear", "rope_theta": 5e5}}, "rope_type 'linear'"),
    ({"rope_scaling": {"type": "dynamic", "factor": 2.0}}, "rope_scaling"),
    ({"attention_bias": True}, "biases"),
    ({"mlp_bias": True}, "biases"),
    ({"hidden_act": "gelu"}, "silu"),
    ({"quantization_config": {"quant_method": "bitsandbytes"}}, "quantization_config"),
    ({"sliding_window": 128}, "sliding_window"),
    ({"num_key_value_heads": 3}, "do not group evenly"),
])
def test_unsupported_configs_are_refused_with_the_reason(changes, reason):
    with pytest.raises(Unsupported, match=reason):
        parse_spec(_tiny_config(**changes))


# --- a tiny random Llama against transformers (no model download: the weights are random) --------

def _save_tiny(folder: Path, config: dict):
    """A random tiny Llama saved by transformers into ``folder``; returns the transformers model."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(**{k: v for k, v in config.items()
                                               if k not in ("architectures", "model_type")})).eval()
    with torch.no_grad():
        for param in model.parameters():  # norms start at 1: make every weight matter
            param.normal_(0, 0.2)
    model.save_pretrained(folder)
    return model


@pytest.mark.parametrize("changes", [{}, {"tie_word_embeddings": False}, {"num_key_value_heads": 4},
                                     {"num_key_value_heads": 1, "head_dim": 8}])
def test_tiny_random_llama_matches_transformers(tmp_path, changes):
    import numpy as np
    import torch

    from agent.fast import FastLlama, load_weights

    reference = _save_tiny(tmp_path, _tiny_config(**changes))
    spec = _spec_of(tmp_path)
    fast = FastLlama(spec, load_weights(tmp_path / "model.safetensors", spec))
    ids = torch.randint(0, 128, (3, 11), generator=torch.Generator().manual_seed(1))
    mask = torch.ones_like(ids)
    mask[1, :4] = 0  # left padding
    mask[2, 3:6] = 0  # padding in the middle
    positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
    with torch.inference_mode():
        ref = reference(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True)
        out = fast(input_ids=ids.numpy(), attention_mask=mask.numpy(), position_ids=positions.numpy(), use_cache=True)
        assert isinstance(out.logits, np.ndarray) and out.logits.dtype == np.float32
        real = mask.bool().numpy()
        assert np.abs(out.logits[real] - ref.logits.numpy()[real]).max() < LOGIT_ATOL
        assert np.isfinite(out.logits).all()  # padded queries see themselves: no NaN anywhere
        # incremental decoding with the caches
        ref_cache, cache = ref.cache, out.cache
        for step in range(4):
            nxt = ref.logits[:, -1].argmax(-1, keepdim=True)
            mask = torch.cat([mask, mask.new_ones((3, 1))], dim=1)
            pos = mask.sum(-1, keepdim=True) - 1
            ref = reference(input_ids=nxt, attention_mask=mask, position_ids=pos, cache=ref_cache,
                            use_cache=True)
            out = fast(input_ids=nxt.numpy(), attention_mask=mask.numpy(), position_ids=pos.numpy(), cache=cache,
                       use_cache=True)
            ref_cache, cache = ref.cache, out.cache
            assert np.abs(out.logits - ref.logits.numpy()).max() < LOGIT_ATOL, step
        assert cache.length == 11 + 4


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_checkpoints_widen_exactly_as_torch_does(tmp_path, dtype):
    import numpy as np
    import torch
    from safetensors.torch import save_file

    from agent.fast import load_weights

    spec = parse_spec(_tiny_config())
    gen = torch.Generator().manual_seed(2)
    tensors = {name: torch.randn(shape, generator=gen).to(getattr(torch, dtype))
               for name, shape in spec.weight_shapes().items()}
    save_file(tensors, tmp_path / "model.safetensors")
    weights = load_weights(tmp_path / "model.safetensors", spec)
    for name, tensor in tensors.items():
        assert weights[name].dtype == np.float32
        assert np.array_equal(weights[name], tensor.float().numpy()), name


def test_a_checkpoint_of_other_dtypes_or_a_damaged_file_is_declined(tmp_path):
    import torch
    from safetensors.torch import save_file

    from agent.fast import load_weights

    spec = parse_spec(_tiny_config())
    tensors = {name: torch.zeros(shape, dtype=torch.int8) for name, shape in spec.weight_shapes().items()}
    save_file(tensors, tmp_path / "model.safetensors")
    with pytest.raises(Unsupported, match="not a float checkpoint"):
        load_weights(tmp_path / "model.safetensors", spec)
    (tmp_path / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(Unsupported, match="cannot read"):
        load_weights(tmp_path / "model.safetensors", spec)


def _spec_of(folder: Path):
    """check_folder of a weights-only folder (it only checks that the tokenizer files exist)."""
    (folder / "tokenizer.json").write_text("{}")
    (folder / "tokenizer_config.json").write_text("{}")
    return check_folder(folder)


# --- the embedded model -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def embedded_folder():
    from agent.base import ensure_embedded_cache

    return ensure_embedded_cache()[0]


@pytest.fixture(scope="module")
def fast_base(embedded_folder):
    pair = load_fast(embedded_folder)
    assert pair is not None, "the embedded model must take the fast path"
    return pair


def _prompts(tokenizer):
    from agent.prompt import build_messages, render_prompt

    requests = ["hi", "count lines in main.py",
                "Show the five biggest files below /var/log sorted by size, and tell me which are compressed",
                "Delete every .bak file under src and its subdirectories, recursively, but keep src/keep.bak"]
    return [render_prompt(tokenizer, build_messages(r, [])) for r in requests]


@pytest.mark.model
def test_logits_equal_transformers_alone_batched_and_decoding(loaded, fast_base):
    import numpy as np

    from agent.generate import TorchLM, _prefill

    tokenizer, fast = fast_base
    reference = TorchLM(loaded.model, "cpu")  # the transformers model, called with numpy arrays
    prompts = _prompts(loaded.tokenizer)
    rows = loaded.tokenizer(prompts, add_special_tokens=False)["input_ids"]
    assert len({len(r) for r in rows}) == len(rows)
    worst, scale = 0.0, 0.0
    for row in rows:  # each prompt alone, every position
        ids = np.asarray([row])
        ref, out = reference(input_ids=ids).logits, fast(input_ids=ids).logits
        worst = max(worst, float(np.abs(ref - out).max()))
        scale = max(scale, float(np.abs(ref).max()))
    # batched as agent.generate does it: shared prefix once, padding in the middle
    ref, ref_mask, _ = _prefill(reference, rows, loaded.tokenizer.pad_token_id)
    out, mask, _ = _prefill(fast, rows, tokenizer.pad_token_id)
    assert np.array_equal(mask, ref_mask) and not bool(mask.all())
    worst = max(worst, float(np.abs(ref.logits - out.logits).max()))
    for _ in range(6):  # incremental decoding with the caches
        nxt = ref.logits[:, -1].argmax(-1)[:, None]
        mask = np.concatenate([mask, np.ones((len(rows), 1), dtype=mask.dtype)], axis=1)
        pos = mask.sum(-1, keepdims=True) - 1
        ref = reference(input_ids=nxt, attention_mask=mask, position_ids=pos, cache=ref.cache, use_cache=True,
                        logits_to_keep=1)
        out = fast(input_ids=nxt, attention_mask=mask, position_ids=pos, cache=out.cache, use_cache=True,
                   logits_to_keep=1)
        worst = max(worst, float(np.abs(ref.logits - out.logits).max()))
    print(f"max |logit difference| fast vs transformers: {worst:.3g} (largest |logit| {scale:.3g})")
    assert worst < LOGIT_RTOL * scale


def _same_generations(reference, fast, prompts, max_new_tokens=32):
    from agent.generate import Decoding, generate

    decoding = Decoding(max_new_tokens=max_new_tokens, batch_size=len(prompts))
    want, got = generate(reference, prompts, decoding), generate(fast, prompts, decoding)
    assert [(g.text, g.prompt_tokens, g.completion_tokens) for g in got] == \
        [(g.text, g.prompt_tokens, g.completion_tokens) for g in want]
    assert [g.mean_logprob for g in got] == pytest.approx([g.mean_logprob for g in want], abs=1e-4)
    assert len({g.completion_tokens for g in got}) > 1  # rows left the batch at different steps
    return got


@pytest.mark.model
def test_generation_equals_transformers_on_the_base(loaded):
    from agent.generate import Decoding, Sampling, generate_candidates
    from agent.model import load_model
    from tests.agent.test_model import _eval_prompts

    fast = load_model(use_adapter=False, fast=True)
    assert fast.implementation == "fast" and loaded.implementation == "transformers"
    prompts = _eval_prompts(loaded.tokenizer, [0, 1, 2, 3])
    assert _eval_prompts(fast.tokenizer, [0, 1, 2, 3]) == prompts
    _same_generations(loaded, fast, prompts, max_new_tokens=24)
    # sampled candidates: the same seeds draw the same plans
    sampling, decoding = Sampling(temperature=1.0, top_p=0.95, seed=7), Decoding(max_new_tokens=12)
    want = generate_candidates(loaded, prompts[1:2], 4, sampling, decoding)
    got = generate_candidates(fast, prompts[1:2], 4, sampling, decoding)
    assert [[g.text for g in c] for c in got] == [[g.text for g in c] for c in want]


@pytest.mark.model
def test_generation_equals_transformers_with_the_merged_shipped_adapter():
    from agent.model import load_model
    from tests.agent.test_model import _eval_prompts

    reference = load_model()  # merges (and caches the merge) on a first run
    if reference.adapter_path is None:
        pytest.skip("no adapter shipped")
    fast = load_model(fast=True)
    assert reference.implementation == "transformers" and fast.implementation == "fast"
    assert (fast.adapter_sha256, fast.revision, fast.merged) == (reference.adapter_sha256, reference.revision, True)
    prompts = _eval_prompts(reference.tokenizer, [0, 0, 0, 0])
    _same_generations(reference, fast, prompts, max_new_tokens=48)


@pytest.mark.model
def test_fast_path_imports_neither_torch_nor_transformers_nor_peft_nor_bitsandbytes():
    from agent.model import load_model

    load_model()  # make sure the merge of the shipped adapter is cached (the first load merges with peft)
    code = ("import sys\nfrom agent.model import load_model\nfrom agent.generate import Decoding, generate\n"
            "from agent.prompt import build_messages, render_prompt\n"
            "loaded = load_model(fast=True)\n"
            "prompt = render_prompt(loaded.tokenizer, build_messages('list python files', []))\n"
            "print(loaded.implementation, repr(generate(loaded, [prompt], Decoding(max_new_tokens=4))[0].text))\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('transformers', 'peft', 'bitsandbytes', "
            "'torch')))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300)
    assert result.returncode == 0, result.stderr
    implementation, imported = result.stdout.strip().splitlines()[-2:]
    assert implementation.startswith("fast ")
    assert imported == "[]"


@pytest.mark.model
def test_training_and_4bit_keep_a_transformers_model():
    from agent.model import load_model

    plain = load_model(use_adapter=False)  # what training calls
    assert plain.implementation == "transformers" and hasattr(plain.model, "save_pretrained")
    assert load_model(quantize="4bit", use_adapter=False, fast=True).implementation == "transformers"


def _link_folder(source: Path, target: Path) -> Path:
    target.mkdir()
    for item in source.iterdir():
        if item.is_file():
            (target / item.name).symlink_to(item)
    return target


@pytest.mark.model
def test_load_fast_declines_what_it_does_not_implement(embedded_folder, tmp_path):
    assert load_fast(_link_folder(embedded_folder, tmp_path / "same")) is not None  # the links alone load
    config = json.loads((embedded_folder / "config.json").read_text())
    cases = {
        "rope": {**config, "rope_parameters": {"rope_type": "yarn", "rope_theta": 1e5, "factor": 4.0}},
        "arch": {**config, "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2"},
        "quant": {**config, "quantization_config": {"quant_method": "bitsandbytes", "load_in_4bit": True}},
        "bias": {**config, "attention_bias": True},
        "shape": {**config, "num_hidden_layers": config["num_hidden_layers"] - 1},  # a tensor nobody reads
    }
    for name, changed in cases.items():
        folder = _link_folder(embedded_folder, tmp_path / name)
        (folder / "config.json").unlink()
        (folder / "config.json").write_text(json.dumps(changed))
        assert load_fast(folder) is None, name
    no_template = _link_folder(embedded_folder, tmp_path / "no-template")
    (no_template / "chat_template.jinja").unlink()
    assert load_fast(no_template) is None
    with pytest.raises(Unsupported, match="no chat template"):
        FastTokenizer.from_folder(no_template)


# --- the tokenizer ------------------------------------------------------------------------------

TEXTS = [
    "", " ", "hello", "Hello world", "  leading and trailing  ", "tab\tseparated\tvalues", "line\nbreaks\n\n",
    "CRLF\r\nline", "list python files", "Find all JPEGs larger than 5 MB",
    "find . -type f -name '*.py' -size +5M -exec ls -l {} \\;", "$ grep -rn 'TODO' src/ | wc -l",
    "tar --keep-old-files -xzf site.tar.gz -C public/", "sed -n '1,20p' data.tsv && echo done",
    "awk -F, '{print $2}' table.csv | sort | uniq -c | sort -rn | head",
    "cp -n reports/2025/sales.csv backup/sales-2025.csv", "set -C; echo hi > out.txt",
    "def f(x):\n    return x ** 2  # square\n", "for (int i = 0; i < n; ++i) { a[i] = i; }",
    '{"key": [1, 2.5, null, true], "nested": {"a": "b"}}', "<|im_start|>user\nhi<|im_end|>\n",
    "<|im_start|>assistant\n$ ls<|im_end|>", "<|endoftext|>", "text<|im_end|>more", "<|im_start|><|im_start|>",
    "<|notaspecial|>", "<|im_end", "café naïve résumé", "Ünïcödé Straße größer", "日本語のファイルを一覧表示",
    "中文文件名.txt", "Привет, мир", "مرحبا بالعالم", "emoji 🚀🔥 and 👨‍👩‍👧 family", "math ∑ ∫ √ ≤ ≥ ≠",
    "zero\u200bwidth", "nbsp\u00a0space", "combining e\u0301", "\u0000 control \u0007 chars",
    "a" * 300, "ab " * 120, "0123456789" * 20, "https://example.com/path?q=1&r=two#frag",
    "C:\\Users\\me\\file.txt", "~/notes/draft.txt~ ./.hidden ../up",
    "drwxr-xr-x  2 root root  4096 Nov 30 02:25 lora_adapter\n-rw-r--r--  1 root root  5224 README.md",
    "\n".join(f"src/module_{i}/file_{i}.py" for i in range(60)),
    "Request: Show the five biggest files below /var/log sorted by size", "I'm sure it's 'quoted' n't ,.!?",
    "   \n\t  \n", "multiple     spaces      here",
]


@pytest.mark.model
def test_tokenizer_matches_transformers(loaded, fast_base):
    reference = loaded.tokenizer
    tokenizer, _ = fast_base
    assert len(TEXTS) >= 50
    assert tokenizer(TEXTS, add_special_tokens=False)["input_ids"] == reference(TEXTS, add_special_tokens=False)["input_ids"]
    for text in TEXTS:
        want = reference(text)
        assert tokenizer(text) == {k: want[k] for k in ("input_ids", "attention_mask")}, text
        ids = want["input_ids"]
        for skip in (True, False):
            assert tokenizer.decode(ids, skip_special_tokens=skip) == reference.decode(ids, skip_special_tokens=skip)
    for name in ("eos_token", "pad_token", "unk_token", "bos_token", "eos_token_id", "pad_token_id",
                 "unk_token_id", "bos_token_id"):
        assert getattr(tokenizer, name) == getattr(reference, name), name
    assert tokenizer.padding_side == "right" == reference.__class__.padding_side  # load_model sets "left"
    for token in ("<|im_end|>", "<|im_start|>", "hello", "<|nope|>", "Ġthe"):
        assert tokenizer.convert_tokens_to_ids(token) == reference.convert_tokens_to_ids(token), token
    assert tokenizer.convert_tokens_to_ids(["<|im_end|>", "x"]) == reference.convert_tokens_to_ids(["<|im_end|>", "x"])


@pytest.mark.model
def test_chat_template_matches_transformers(loaded, fast_base):
    from agent.fewshot import Selector, load_examples
    from agent.prompt import build_messages

    reference = loaded.tokenizer
    tokenizer, _ = fast_base
    selector = Selector(load_examples())
    conversations = [build_messages(r, selector.select(r, k), context)
                     for r, k, context in [("list python files", 0, None), ("count lines in main.py", 3, None),
                                           ("delete *~", 1, "a.txt\nb.txt~\nsub/\n")]]
    conversations += [[{"role": "user", "content": "no system prompt: the template adds its own"}],
                      [{"role": "user", "content": TEXTS[40]}, {"role": "assistant", "content": TEXTS[20]}],
                      [{"role": "system", "content": "s", "extra": None}, {"role": "user", "content": "日本語"}]]
    for messages in conversations:
        for prompt in (True, False):
            want = reference.apply_chat_template(messages, tokenize=False, add_generation_prompt=prompt)
            assert tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=prompt) == want
            assert tokenizer.apply_chat_template(messages, add_generation_prompt=prompt) == \
                reference(want, add_special_tokens=False)["input_ids"]
