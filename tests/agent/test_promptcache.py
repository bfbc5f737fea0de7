"""The prompt cache (agent/fast/promptcache.py) saves time and never changes a number."""

import os

import numpy as np
import pytest

from agent.fast.promptcache import CHUNK, PromptCache, common_prefix, folder_key, prefix_kv


def _tiny_model(layers=2, seed=0, threads=None):
    from agent.fast import FastLlama
    from agent.fast.config import parse_spec
    from tests.agent.test_fast import _tiny_config

    spec = parse_spec(_tiny_config(num_hidden_layers=layers, max_position_embeddings=2048))
    gen = np.random.default_rng(seed)
    weights = {name: (gen.standard_normal(shape) * 0.1).astype(np.float32)
               for name, shape in spec.weight_shapes().items()}
    for name in weights:
        if name.endswith("norm.weight"):
            weights[name] = np.ones_like(weights[name])
    return FastLlama(spec, weights, threads=threads)


def _tokens(n, seed=1):
    return np.random.default_rng(seed).integers(0, 128, n).tolist()


def _next_logits(model, cache, token):
    return model(input_ids=np.asarray([[token]]), cache=cache, use_cache=True, logits_to_keep=1).logits


def test_a_cached_opening_gives_the_same_bits_as_computing_it(tmp_path):
    model = _tiny_model()
    store = PromptCache(tmp_path)
    first = _tokens(2 * CHUNK + 40)
    # a second prompt sharing 2 pieces and a bit with the first, then different
    second = first[:2 * CHUNK + 17] + _tokens(30, seed=2)
    fresh = prefix_kv(model, second, None)
    assert fresh.reused == 0 and fresh.length == len(second)
    cold = prefix_kv(model, first, store)  # fills the store: 2 whole pieces
    assert cold.reused == 0 and len(store.entries()) == 1
    warm = prefix_kv(model, second, store)
    assert warm.reused == 2 * CHUNK and warm.length == len(second)
    for layer in range(2):
        assert np.array_equal(warm.keys[layer][:, :, :warm.length], fresh.keys[layer][:, :, :fresh.length])
        assert np.array_equal(warm.values[layer][:, :, :warm.length], fresh.values[layer][:, :, :fresh.length])
    assert np.array_equal(_next_logits(model, warm, 5), _next_logits(model, fresh, 5))
    # the same buffers' capacity as a fresh run's, so later steps run on the same shapes
    assert warm.keys[0].shape == fresh.keys[0].shape


def test_the_thread_count_never_changes_a_bit():
    """fenrir picks its threads from the load average; the numbers must not follow (agent.fast.llama.Workers)."""
    from agent.fast.llama import PARALLEL_ROWS

    tokens = _tokens(CHUNK + 70)
    caches, logits = [], []
    for threads in (1, 2, 3):
        model = _tiny_model(threads=threads)
        assert model.workers.threads == threads
        cache = prefix_kv(model, tokens, None)
        cache.batch_repeat_interleave(PARALLEL_ROWS)  # a batch wide enough for the parallel path
        step = model(input_ids=np.arange(PARALLEL_ROWS)[:, None], cache=cache, use_cache=True)
        caches.append(cache)
        logits.append(step.logits)
    for other in (1, 2):
        assert np.array_equal(logits[other], logits[0])
        for layer in range(2):
            length = caches[0].length
            assert caches[other].length == length
            assert np.array_equal(caches[other].keys[layer][:, :, :length], caches[0].keys[layer][:, :, :length])


@pytest.mark.model
def test_the_thread_count_never_changes_a_bit_of_the_shipped_model():
    """On real shapes OpenBLAS itself gives other last bits with 2 threads than with 1 (a 256x576 by
    576x1536 product); Workers keeps BLAS single-threaded, so the keys and logits are the same."""
    from threadpoolctl import threadpool_limits

    from agent.fast import FastLlama
    from agent.model import load_model

    shipped = load_model(fast=True).model
    tokens = np.random.default_rng(0).integers(0, shipped.config.vocab_size, CHUNK + 90).tolist()
    results = []
    for threads in (1, 2):
        model = FastLlama(shipped.config, dict(shipped.named_parameters()), threads=threads)
        with threadpool_limits(limits=threads, user_api="blas"):  # as a process with OMP_NUM_THREADS=threads
            cache = prefix_kv(model, tokens, None)
        cache.batch_repeat_interleave(3)
        step = model(input_ids=np.asarray([[5], [6], [7]]), cache=cache, use_cache=True, logits_to_keep=1)
        results.append((cache.keys[-1][:, :, :cache.length].copy(), step.logits))
    assert np.array_equal(results[0][0], results[1][0])
    assert np.array_equal(results[0][1], results[1][1])


def test_short_prompts_are_one_piece_and_not_saved(tmp_path):
    model = _tiny_model()
    store = PromptCache(tmp_path)
    tokens = _tokens(CHUNK - 1)
    cache = prefix_kv(model, tokens, store)
    whole = model(input_ids=np.asarray([tokens]), use_cache=True, logits_to_keep=1).cache
    assert cache.length == CHUNK - 1 and store.entries() == []
    assert np.array_equal(cache.keys[1][:, :, :cache.length], whole.keys[1][:, :, :whole.length])


def test_an_entry_extended_by_a_new_one_is_replaced_and_old_ones_are_pruned(tmp_path):
    model = _tiny_model(layers=1)
    store = PromptCache(tmp_path, keep=3)
    base = _tokens(CHUNK)
    prefix_kv(model, base + [1], store)
    assert len(store.entries()) == 1
    prefix_kv(model, base + _tokens(CHUNK, seed=3) + [1], store)  # extends the first: it goes
    entries = store.entries()
    assert len(entries) == 1
    assert store.lookup(base + [9, 9])[0] == CHUNK  # the longer entry serves the shorter prompt
    for seed in range(4, 8):  # four unrelated prompts: only the 3 most recent entries stay
        prefix_kv(model, _tokens(CHUNK + 3, seed=seed), store)
    assert len(store.entries()) == 3
    assert store.lookup(_tokens(CHUNK + 3, seed=7))[0] == CHUNK
    assert store.lookup(base)[0] == 0


def test_a_damaged_entry_is_skipped_and_a_read_only_store_costs_nothing_but_time(tmp_path):
    model = _tiny_model(layers=1)
    store = PromptCache(tmp_path)
    tokens = _tokens(CHUNK + 5)
    want = prefix_kv(model, tokens, None)
    prefix_kv(model, tokens, store)
    (entry,) = store.entries()
    entry.write_bytes(entry.read_bytes()[:200])  # truncated, as by a full disk
    again = prefix_kv(model, tokens, store)
    assert again.reused == 0
    assert np.array_equal(again.keys[0][:, :, :again.length], want.keys[0][:, :, :want.length])
    assert store.lookup(tokens)[0] == CHUNK  # replaced by a good entry
    if os.geteuid() != 0:  # root writes anywhere
        for path in store.entries():
            path.unlink()
        tmp_path.chmod(0o500)
        try:
            assert prefix_kv(model, tokens, store).length == len(tokens)
        finally:
            tmp_path.chmod(0o700)


def test_lookup_uses_whole_pieces_only():
    assert common_prefix([1, 2, 3], [1, 2, 4]) == 2
    assert common_prefix([], [1]) == 0


def test_each_model_numpy_version_and_decoder_has_its_own_folder(tmp_path, monkeypatch):
    from agent.fast import llama

    key = folder_key("sha256:a", "b")
    assert key == folder_key("sha256:a", "b")
    assert key != folder_key("sha256:a", None)
    assert key != folder_key("sha256:c", "b")
    monkeypatch.setattr(np, "__version__", "0.0.0")
    assert folder_key("sha256:a", "b") != key
    monkeypatch.undo()
    edited = tmp_path / "llama.py"
    edited.write_bytes(open(llama.__file__, "rb").read() + b"# a change to the decoder\n")
    monkeypatch.setattr(llama, "__file__", str(edited))
    assert folder_key("sha256:a", "b") != key


@pytest.mark.model
def test_candidates_are_the_same_with_the_cache_cold_warm_and_off(tmp_path, monkeypatch):
    """The shipped agent's candidates for a grounded prompt past two pieces: identical text and
    log-probabilities whether the opening was computed, loaded, or the cache is off."""
    from agent.generate import Sampling, generate_candidates
    from agent.model import load_model
    from agent.prompt import build_messages, render_prompt

    from harness.paths import cache_dir

    loaded = load_model(fast=True)
    assert loaded.implementation == "fast"
    assert loaded.model.prompt_cache.folder.parent == cache_dir("prompts")
    loaded.model.prompt_cache = PromptCache(tmp_path)  # an empty store of this test's own
    listing = "\n".join(f"src/module_{i}/file_{i}.py" for i in range(60))
    prompt = render_prompt(loaded.tokenizer, build_messages("count the lines of every python file", [], listing))
    other = render_prompt(loaded.tokenizer, build_messages("list the python files", [], listing))
    assert len(loaded.tokenizer([prompt], add_special_tokens=False)["input_ids"][0]) > 2 * CHUNK

    def run():
        (gens,) = generate_candidates(loaded, [prompt], 4, Sampling(temperature=1.0, seed=3))
        return [(g.text, g.mean_logprob) for g in gens], gens[0].cached_tokens

    store = loaded.model.prompt_cache
    loaded.model.prompt_cache = None
    off, cached = run()
    assert cached == 0
    loaded.model.prompt_cache = store
    generate_candidates(loaded, [other], 2, Sampling(seed=3))  # another request in the same directory
    warm, cached = run()
    assert cached >= 2 * CHUNK
    assert warm == off


@pytest.mark.model
def test_fenrir_prompt_cache_0_turns_it_off(monkeypatch):
    from agent.model import load_model

    monkeypatch.setenv("FENRIR_PROMPT_CACHE", "0")
    loaded = load_model(fast=True)
    assert loaded.implementation == "fast" and loaded.model.prompt_cache is None


def test_folders_of_models_no_longer_used_are_deleted(tmp_path):
    from agent.fast.promptcache import MODEL_GRACE_S, prune_models

    now = 1_000_000.0
    for i, age in enumerate((5000, 4000, 300, 100)):
        folder = tmp_path / f"model{i}"
        folder.mkdir()
        (folder / "entry.safetensors").write_bytes(b"x")
        os.utime(folder, (now - age, now - age))
    keep = tmp_path / "current"
    keep.mkdir()
    gone = prune_models(keep, now=now)
    # the current folder, the most recently used other (model3), and anything used within the grace
    # period (model2) stay
    assert sorted(p.name for p in gone) == ["model0", "model1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current", "model2", "model3"]
    assert 300 < MODEL_GRACE_S < 4000
