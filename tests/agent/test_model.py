"""Model loading, adapters, and batched vs one-at-a-time generation."""

import json
import os

import pytest

from agent import adapter as adapter_mod
from agent import base as base_mod
from agent.adapter import check_adapter_base
from agent.base import EMBEDDED_ID
from agent.model import load_model
from harness.errors import ModelError


def test_missing_hub_model_says_how_to_get_it():
    with pytest.raises(ModelError) as info:
        load_model(base_model="TinyLlama/TinyLlama-1.1B-Chat-v1.0")
    message = str(info.value)
    assert "huggingface-cli download TinyLlama/TinyLlama-1.1B-Chat-v1.0" in message
    assert "local" in message


def test_missing_explicit_adapter_is_an_error(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        load_model(adapter=tmp_path / "nope")


def test_adapter_for_another_base_is_refused(tmp_path):
    (tmp_path / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "TinyLlama/TinyLlama-1.1B-Chat-v1.0"}))
    with pytest.raises(ModelError) as info:
        check_adapter_base(tmp_path, EMBEDDED_ID)
    assert "TinyLlama/TinyLlama-1.1B-Chat-v1.0" in str(info.value) and EMBEDDED_ID in str(info.value)


def test_default_adapter_dir_only_when_present(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(adapter_mod, "shipped_adapter", lambda: tmp_path / "no-shipped-adapter")
    assert adapter_mod.resolve_adapter(None) is None
    monkeypatch.setattr(adapter_mod, "shipped_adapter", lambda: tmp_path / "shipped")
    (tmp_path / "shipped").mkdir()
    (tmp_path / "shipped" / "adapter_config.json").write_text("{}")
    assert adapter_mod.resolve_adapter(None) == tmp_path / "shipped"  # found from any directory
    (tmp_path / "lora_adapter").mkdir()
    (tmp_path / "lora_adapter" / "adapter_config.json").write_text("{}")
    assert str(adapter_mod.resolve_adapter(None)) == "lora_adapter"  # ./lora_adapter comes first


@pytest.mark.model
def test_embedded_model_loads(loaded):
    assert loaded.base_model_id == EMBEDDED_ID
    assert loaded.revision.startswith("sha256:") and len(loaded.revision) == 7 + 64
    assert loaded.adapter_sha256 is None and not loaded.quantized
    assert loaded.tokenizer.padding_side == "left" and loaded.tokenizer.pad_token is not None
    assert loaded.model.config.quantization_config if hasattr(loaded.model.config, "quantization_config") else True


@pytest.mark.model
def test_second_load_uses_the_cache(loaded, monkeypatch):
    def no_conversion(*args, **kwargs):
        raise AssertionError("the GGUF was converted again instead of using the cache")

    monkeypatch.setattr(base_mod, "_convert_embedded", no_conversion)
    again = load_model(use_adapter=False)
    folder, sha = base_mod.embedded_cache_dir()
    assert (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file()
    assert json.loads((folder / "fenrir-source.json").read_text())["sha256"] == sha
    assert not any(p.name.startswith(".") for p in folder.parent.iterdir() if p.is_dir())  # no temp leftovers
    assert again.revision == f"sha256:{sha}"


@pytest.mark.model
def test_matching_adapter_applies_is_hashed_and_merges_to_the_same_function(tmp_path):
    import torch
    from peft import LoraConfig, get_peft_model

    fresh = load_model(use_adapter=False)
    ids = fresh.tokenizer("<|im_start|>user\nlist files<|im_end|>\n<|im_start|>assistant\n", return_tensors="pt")
    with torch.no_grad():
        base_logits = fresh.model(**ids).logits
    peft_model = get_peft_model(fresh.model, LoraConfig(r=2, target_modules=["q_proj", "down_proj"], task_type="CAUSAL_LM"))
    torch.manual_seed(0)
    for name, param in peft_model.named_parameters():
        if "lora_B" in name:  # B starts at zero: give the adapter an effect for the merge to keep
            torch.nn.init.normal_(param, std=0.05)
    peft_model.save_pretrained(tmp_path / "adapter", save_embedding_layers=False)  # no hub lookup offline
    config = json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == EMBEDDED_ID
    kept = load_model(adapter=tmp_path / "adapter", merge=False)
    merged = load_model(adapter=tmp_path / "adapter")
    assert kept.adapter_sha256 and len(kept.adapter_sha256) == 64
    assert merged.adapter_sha256 == kept.adapter_sha256 and merged.adapter_path == kept.adapter_path
    assert type(kept.model).__name__.startswith("Peft") and not kept.merged
    assert not type(merged.model).__name__.startswith("Peft") and merged.merged
    assert not any("lora" in name for name, _ in merged.model.named_parameters())
    with torch.no_grad():
        kept_logits, merged_logits = kept.model(**ids).logits, merged.model(**ids).logits
    assert (kept_logits - base_logits).abs().max() > 1e-2  # the adapter changes the function ...
    assert torch.allclose(merged_logits, kept_logits, atol=1e-3)  # ... and merging keeps it

    # the merged model was cached: the next load reads it without peft, to the same weights
    folder = adapter_mod.merged_cache_dir(merged.revision, merged.adapter_sha256, torch.float32)
    assert json.loads((folder / "fenrir-source.json").read_text())["adapter_sha256"] == merged.adapter_sha256
    import peft

    def no_peft(*args, **kwargs):
        raise AssertionError("the cached merge should not apply the adapter again")

    original = peft.PeftModel.from_pretrained
    peft.PeftModel.from_pretrained = no_peft
    try:
        again = load_model(adapter=tmp_path / "adapter")
    finally:
        peft.PeftModel.from_pretrained = original
    assert again.merged and again.adapter_sha256 == merged.adapter_sha256
    with torch.no_grad():
        assert torch.equal(again.model(**ids).logits, merged_logits)
    # ... and marked as just used, so pruning the cache takes other entries first
    marker = folder / "fenrir-source.json"
    os.utime(marker, (1_000_000, 1_000_000))
    load_model(adapter=tmp_path / "adapter")
    assert marker.stat().st_mtime > 1_000_000


def test_merged_cache_keeps_the_most_recently_used(tmp_path, monkeypatch):
    monkeypatch.setattr(adapter_mod, "MERGED_KEEP", 2)
    now = 1_800_000_000.0

    def entry(name, used, complete=True):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(b"x")
        if complete:
            (folder / "fenrir-source.json").write_text("{}")
            os.utime(folder / "fenrir-source.json", (used, used))
        return folder

    new = entry("new", now)
    entry("a", now - 7200), entry("b", now - 3600), entry("c", now - 86400)
    entry("recent", now - 60)  # the most recently used other entry: kept (MERGED_KEEP = 2)
    entry("loading", now - 120)  # beyond the count, but used two minutes ago: within the grace
    entry("partial", now - 86400, complete=False)  # no marker: not a finished entry
    entry(".new.x1y2", now - 86400)  # a writer's temporary folder
    removed = adapter_mod.prune_merged(new, now=now)
    assert sorted(p.name for p in removed) == ["a", "b", "c"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".new.x1y2", "loading", "new", "partial", "recent"]
    assert adapter_mod.prune_merged(new, now=now) == []


@pytest.mark.model
def test_4bit_load_disables_avx512bf16_repacking():
    import bitsandbytes as bnb

    quant = load_model(quantize="4bit", use_adapter=False)
    layers = [m for m in quant.model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert quant.quantized and layers
    assert all(m.support_avx512bf16_for_cpu is False for m in layers)


def _eval_prompts(tokenizer, k_per_prompt):
    from agent.fewshot import Selector, load_examples
    from agent.prompt import build_messages, render_prompt

    selector = Selector(load_examples())
    requests = ["count lines in main.py", "Show the five biggest files below /var/log sorted by size",
                "search for foo", "Delete every .bak file under src and its subdirectories, recursively"]
    return [render_prompt(tokenizer, build_messages(r, selector.select(r, k))) for r, k in zip(requests, k_per_prompt)]


def _assert_batched_equals_sequential(loaded, prompts):
    from agent.generate import Decoding, generate, shared_prefix

    rows = loaded.tokenizer(prompts, add_special_tokens=False)["input_ids"]
    assert shared_prefix(rows) >= 50  # the system prompt is computed once and shared ...
    assert len({len(r) for r in rows}) > 1  # ... and the rows' suffixes are padded in the middle
    decoding = Decoding(max_new_tokens=12, batch_size=1)
    sequential = [generate(loaded, [p], decoding)[0] for p in prompts]
    batched = generate(loaded, prompts, Decoding(max_new_tokens=12, batch_size=len(prompts)))
    tokens = [(g.text, g.prompt_tokens, g.completion_tokens) for g in batched]
    assert tokens == [(g.text, g.prompt_tokens, g.completion_tokens) for g in sequential]
    # log-probabilities only differ by float rounding between batch shapes
    assert [g.mean_logprob for g in batched] == pytest.approx([g.mean_logprob for g in sequential], abs=1e-3)
    assert all(g.completion_tokens > 0 for g in batched)
    assert len({g.completion_tokens for g in batched}) > 1  # rows finished (and left the batch) at different steps


@pytest.mark.model
def test_batched_generation_equals_sequential(loaded):
    prompts = _eval_prompts(loaded.tokenizer, [0, 1, 2, 3])
    assert len({len(loaded.tokenizer(p)["input_ids"]) for p in prompts}) == 4  # really different lengths
    # the same prompt twice: the shared prefix is all but its last token
    _assert_batched_equals_sequential(loaded, prompts + [prompts[2]])


@pytest.mark.model
def test_batched_generation_equals_sequential_with_the_merged_shipped_adapter():
    """The agent's default configuration: shipped adapter merged, zero-shot."""
    default = load_model()
    if default.adapter_path is None:
        pytest.skip("no adapter shipped")
    assert default.merged
    _assert_batched_equals_sequential(default, _eval_prompts(default.tokenizer, [0, 0, 0, 0]))


@pytest.mark.model
@pytest.mark.slow
def test_prompts_of_one_listing_share_a_batch_and_come_back_in_the_callers_order():
    """generate / generate_candidates batch prompts sorted by their tokens (one listing together), and give
    each caller's prompt its own answer: here two listings alternate, two prompts to a batch."""
    from agent.generate import Decoding, Sampling, generate, generate_candidates, prefix_order
    from agent.prompt import build_messages, render_prompt

    default = load_model(fast=True)  # the agent's own path
    tok = default.tokenizer
    listings = ["src/\nsrc/main.py\nREADME.md", "logs/\nlogs/app.log\nlogs/old.log"]
    requests = ["count lines in main.py", "show the last 5 lines of app.log", "list the python files",
                "which log is biggest"]
    prompts = [render_prompt(tok, build_messages(r, [], listings[i % 2])) for i, r in enumerate(requests)]
    rows = tok(prompts, add_special_tokens=False)["input_ids"]
    order = prefix_order(rows)
    assert {frozenset(order[:2]), frozenset(order[2:])} == {frozenset({0, 2}), frozenset({1, 3})}
    one_at_a_time = [generate(default, [p], Decoding(max_new_tokens=12, batch_size=1))[0].text for p in prompts]
    assert [g.text for g in generate(default, prompts, Decoding(max_new_tokens=12, batch_size=2))] == one_at_a_time
    sampling = Sampling(temperature=1.0, top_p=0.95, seed=7)
    alone = [generate_candidates(default, [p], 2, sampling, Decoding(max_new_tokens=12, batch_size=4))[0]
             for p in prompts]
    together = generate_candidates(default, prompts, 2, sampling, Decoding(max_new_tokens=12, batch_size=4))
    assert [[g.text for g in gens] for gens in together] == [[g.text for g in gens] for gens in alone]
    assert [gens[0].text for gens in together] == one_at_a_time  # the greedy candidate first


def test_shared_prefix_leaves_every_row_a_token():
    from agent.generate import shared_prefix

    assert shared_prefix([[1, 2, 3]]) == 0  # one row: nothing to share
    assert shared_prefix([[1, 2, 3, 4], [1, 2, 5]]) == 2
    assert shared_prefix([[1, 2, 3], [1, 2, 3]]) == 2
    assert shared_prefix([[1, 2], [1, 2, 3, 4]]) == 1
    assert shared_prefix([[7, 2], [1, 2]]) == 0


def test_identical_rows_are_prefilled_once_and_copied():
    """_prefill computes each distinct prompt once (a prompt's candidates; several prompts to a batch) and
    gives every copy the logits and cache it would have had alone."""
    import numpy as np
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from agent.generate import TorchLM, _prefill

    torch.manual_seed(0)
    tiny = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                        num_attention_heads=4, num_key_value_heads=2)).eval()
    seen = []

    class Counting(TorchLM):
        def __call__(self, input_ids, **kwargs):
            seen.append(np.asarray(input_ids).shape)
            return super().__call__(input_ids, **kwargs)

    model = Counting(tiny, torch.device("cpu"))
    a, b = [1, 5, 9, 2, 7], [1, 5, 3, 3]
    out, mask, _ = _prefill(model, [a, a, b, a], 0)
    assert [shape[0] for shape in seen] == [1, 2]  # the shared opening once, then the two distinct rows
    assert out.logits.shape[0] == mask.shape[0] == 4
    assert out.cache.inner.layers[0].keys.shape[0] == 4  # a cache row for every copy
    for row, prompt in enumerate([a, a, b, a]):
        alone, _, _ = _prefill(model, [prompt], 0)
        np.testing.assert_allclose(out.logits[row], alone.logits[0], atol=1e-5)


def test_loop_detection_needs_four_repeats():
    from agent.generate import _ends_in_loop

    assert _ends_in_loop([5, 1, 2, 1, 2, 1, 2, 1, 2])
    assert _ends_in_loop([7] * 4)
    assert not _ends_in_loop([7] * 3)
    assert not _ends_in_loop([1, 2, 3, 1, 2, 3, 1, 2, 3])
    assert _ends_in_loop([9] + list(range(13)) * 3)  # a 13-token pattern, 3 copies
    assert not _ends_in_loop([9] + list(range(13)) * 2)
    assert not _ends_in_loop(list(range(40)))


class _FakeConfig:
    def __init__(self) -> None:
        self.quantization_config = {"quant_method": "gguf"}


class _FakeModel:
    """Stands in for the converted model: only the file-writing logic is under test."""

    def __init__(self, fail: bool) -> None:
        self.fail = fail
        self.config = _FakeConfig()
        self.hf_quantizer = object()

    def save_pretrained(self, folder) -> None:
        (folder / "model.safetensors").write_bytes(b"partial")
        if self.fail:
            raise KeyboardInterrupt  # the user pressed ^C mid-conversion


class _FakeTokenizer:
    def save_pretrained(self, folder) -> None:
        (folder / "tokenizer.json").write_text("{}")


def test_interrupted_conversion_leaves_no_cache(tmp_path, monkeypatch):
    import transformers

    monkeypatch.setenv("FENRIR_CACHE", str(tmp_path))
    monkeypatch.setattr(base_mod, "quiet_progress", __import__("contextlib").nullcontext)
    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", lambda *a, **k: _FakeTokenizer())
    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", lambda *a, **k: _FakeModel(True))
    with pytest.raises(KeyboardInterrupt):
        base_mod.ensure_embedded_cache()
    assert [p.name for p in (tmp_path / "models").iterdir() if p.is_dir()] == []

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", lambda *a, **k: _FakeModel(False))
    folder, sha = base_mod.ensure_embedded_cache()
    assert [p.name for p in (tmp_path / "models").iterdir() if p.is_dir()] == [folder.name]
    assert json.loads((folder / "fenrir-source.json").read_text())["sha256"] == sha


@pytest.mark.model
def test_candidates_start_with_the_greedy_plan_and_samples_are_seeded(loaded):
    from agent.generate import Decoding, Sampling, generate, generate_candidates

    prompts = _eval_prompts(loaded.tokenizer, [0, 0, 0])
    decoding = Decoding(max_new_tokens=12, batch_size=16)
    sampling = Sampling(temperature=1.0, top_p=0.95, seed=7)
    (alone,) = generate_candidates(loaded, prompts[1:2], 4, sampling, decoding)
    together = generate_candidates(loaded, prompts, 4, sampling, decoding)
    greedy = generate(loaded, [prompts[1]], decoding)[0]
    assert alone[0].text == greedy.text  # candidate 0 is the greedy plan
    # a prompt's samples do not depend on what else shares its batch
    assert [g.text for g in together[1]] == [g.text for g in alone]
    assert len({g.text for g in alone}) > 1  # the samples differ from each other
    again = generate_candidates(loaded, prompts[1:2], 4, sampling, decoding)[0]
    assert [g.text for g in again] == [g.text for g in alone]
    assert all(g.mean_logprob <= 0 for g in alone)
    assert alone[0].mean_logprob >= min(g.mean_logprob for g in alone)


@pytest.mark.model
def test_a_second_round_continues_the_series_of_samples(loaded):
    """generate_candidates(first=2) draws samples 2 and 3, as a call for 4 does; Agent.more appends them to a
    draft, which its trace record and '#' note then count."""
    from agent.ask import Agent
    from agent.check import Choice
    from agent.generate import Decoding, Sampling, generate_candidates

    prompt = _eval_prompts(loaded.tokenizer, [0])[0]
    decoding = Decoding(max_new_tokens=12)
    sampling = Sampling(temperature=1.0, top_p=0.95, seed=7)
    (four,) = generate_candidates(loaded, [prompt], 4, sampling, decoding)
    (rest,) = generate_candidates(loaded, [prompt], 2, sampling, decoding, first=2)
    assert [g.text for g in rest] == [g.text for g in four[2:]]

    agent = Agent(loaded, fewshot_k=0, max_new_tokens=12, candidates=2)
    (draft,) = agent.draft_many(["list the python files"])
    before = [c.raw for c in draft.candidates]
    agent.more(draft)
    assert draft.rounds == 2 and len(draft.candidates) == len(draft.generations) == 4
    assert [c.raw for c in draft.candidates[:2]] == before
    assert [c.greedy for c in draft.candidates] == [True, False, False, False]
    (fresh,) = Agent(loaded, fewshot_k=0, max_new_tokens=12, candidates=4).draft_many(["list the python files"])
    assert [c.raw for c in draft.candidates] == [c.raw for c in fresh.candidates]
    record = agent.finish(draft, Choice(index=3, checked=True, votes=1, survivors=1), "a copy of here", 0.5)
    assert record.check.rounds == 2 and len(record.check.candidates) == 4
    assert record.plan_text.startswith("# checked on a copy of here: 1 of 4 candidate plans ran cleanly")
    assert "2 of them drawn after none of the first 2 ran cleanly" in record.plan_text.splitlines()[0]
