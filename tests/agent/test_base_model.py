"""``--base-model``: another Hugging Face causal LM, trained on, planned with, quantized and offloaded to disk.

No hub is reachable, so the bases are random-weight models saved locally
(:mod:`agent.random_base`): a 2-layer Llama with TinyLlama's zephyr chat
template and a 2-layer Qwen2 with ChatML.  Everything goes through the real
``fenrir`` command line (click's runner in this process; one fresh process for
the offload's output).  Random weights write no real plan: the tests check
what is recorded, refused and reproduced, not plan quality.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.adapter import adapter_sha256
from agent.model import load_model
from agent.offload import parse_memory
from agent.random_base import RandomBase, save_random_base
from harness.cli import main
from harness.errors import ModelError
from harness.paths import shipped_adapter

ROOT = Path(__file__).resolve().parents[2]
REQUEST = "list python files"


@pytest.fixture(scope="module", autouse=True)
def private_cache(tmp_path_factory):
    """A cache of this module's own, so that merges of random adapters do not push real ones out of
    ``~/.cache/fenrir/merged``; the embedded model's converted copy is shared (it costs ~12 s to make)."""
    from harness.paths import cache_dir

    models = cache_dir("models")
    root = tmp_path_factory.mktemp("cache")
    (root / "models").symlink_to(models, target_is_directory=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FENRIR_CACHE", str(root))
        yield root


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    """family -> folder of a tiny random-weight base (tokenizer and chat template included)."""
    root = tmp_path_factory.mktemp("bases")
    return {family: save_random_base(RandomBase(family), root / family) for family in ("llama", "qwen2")}


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    """Eight training rows cut from data/cli_qa.jsonl."""
    lines = [line for line in (ROOT / "data" / "cli_qa.jsonl").read_text().splitlines() if line.strip()][:8]
    path = tmp_path_factory.mktemp("rows") / "rows.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def fenrir(*args: str, env: dict[str, str] | None = None):
    """``fenrir ARGS`` through click's runner; the result (exit code, stdout, stderr)."""
    return CliRunner(env={"TQDM_DISABLE": "1", **(env or {})}).invoke(main, list(args))


def train(base: Path, rows: Path, output: Path, *extra: str):
    result = fenrir("train", "--base-model", str(base), "--data", str(rows), "--output", str(output),
                    "--max-steps", "2", "--batch-size", "4", "--learning-rate", "1e-2", "--threads", "1", *extra)
    assert result.exit_code == 0, result.output
    return json.loads((output / "manifest.json").read_text())


def plan(*args: str, env: dict[str, str] | None = None) -> dict:
    """The trace record of ``fenrir --no-check --no-context --json ARGS REQUEST``."""
    result = fenrir(*args, "--no-check", "--no-context", "--no-log", "--json", REQUEST, env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def llama_adapter(bases, rows, tmp_path_factory):
    """An adapter trained for 2 steps on the random Llama."""
    out = tmp_path_factory.mktemp("adapters") / "llama"
    train(bases["llama"], rows, out)
    return out


@pytest.mark.model
@pytest.mark.parametrize("family", ["llama", "qwen2"])
def test_train_then_plan_on_another_base(family, bases, rows, tmp_path):
    base = bases[family]
    out = tmp_path / "adapter"
    manifest = train(base, rows, out)
    loaded = load_model(base_model=str(base), use_adapter=False, fast=True)
    assert manifest["base_model"] == str(base.resolve()) == loaded.base_model_id
    assert manifest["base_revision"] == loaded.revision and loaded.revision.startswith("dir:")
    assert manifest["steps"] == 2 and len(manifest["loss_curve"]) == 2
    assert json.loads((out / "adapter_config.json").read_text())["base_model_name_or_path"] == str(base.resolve())

    trace = tmp_path / "trace.jsonl"
    result = fenrir("--base-model", str(base), "--adapter", str(out), "--no-check", "--no-context", REQUEST,
                    env={"FENRIR_TRACE": str(trace)})
    assert result.exit_code == 0, result.output
    (record,) = [json.loads(line) for line in trace.read_text().splitlines()]
    assert record["base_model"] == str(base.resolve()) and record["base_revision"] == loaded.revision
    assert record["adapter_sha256"] == adapter_sha256(out)
    assert record["request"] == REQUEST and record["completion_tokens"] >= 1
    assert result.stdout.strip() == (record["plan_text"] or "# (the model produced no commands)").strip()


@pytest.mark.model
def test_chat_template_comes_from_the_tokenizer(bases):
    from agent.ask import Agent

    starts = {"llama": ("<|system|>\n", "<|assistant|>\n"), "qwen2": ("<|im_start|>system\n", "<|im_start|>assistant\n")}
    for family, (first, last) in starts.items():
        for fast in (True, False):  # the Llama goes through agent.fast, the Qwen2 through transformers
            loaded = load_model(base_model=str(bases[family]), use_adapter=False, fast=fast)
            _, (prompt,) = Agent(loaded, fewshot_k=0).prompts([REQUEST])
            assert prompt.startswith(first) and prompt.endswith(last), (family, fast, prompt)
            assert f"\n{REQUEST}" in prompt


@pytest.mark.model
def test_adapters_refuse_the_other_base(bases, llama_adapter):
    llama = str(bases["llama"].resolve())
    result = fenrir("--adapter", str(llama_adapter), "--no-check", "--no-log", REQUEST)  # on the embedded SmolLM2
    assert result.exit_code == 1
    assert f"trained on base model {llama!r}" in result.output and "HuggingFaceTB/SmolLM2-135M-Instruct" in result.output
    assert (shipped_adapter() / "adapter_config.json").is_file()
    result = fenrir("--base-model", llama, "--adapter", str(shipped_adapter()), "--no-check", "--no-log", REQUEST)
    assert result.exit_code == 1
    assert "trained on base model 'HuggingFaceTB/SmolLM2-135M-Instruct'" in result.output and llama in result.output


@pytest.mark.model
def test_4bit_on_cpu_trains_and_plans(bases, rows, tmp_path):
    import bitsandbytes as bnb

    quant = load_model(base_model=str(bases["llama"]), quantize="4bit", use_adapter=False)
    layers = [m for m in quant.model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert quant.quantized and len(layers) == 2 * 7  # q k v o gate up down in each of 2 layers
    assert all(m.support_avx512bf16_for_cpu is False for m in layers)
    out = tmp_path / "qlora"
    manifest = train(bases["llama"], rows, out, "--quantize", "4bit")
    assert manifest["quantized"] is True and all(loss == loss for loss in manifest["loss_curve"])
    record = plan("--base-model", str(bases["llama"]), "--adapter", str(out), "--quantize", "4bit")
    assert record["quantized"] is True and record["adapter_sha256"] == adapter_sha256(out)


@pytest.mark.model
def test_a_base_without_a_chat_template_is_refused(tmp_path, rows):
    base = save_random_base(RandomBase("llama", chat_template=False), tmp_path / "plain")
    for args in (("--base-model", str(base), "--no-check", "--no-log", REQUEST),
                 ("train", "--base-model", str(base), "--data", str(rows), "--output", str(tmp_path / "out"))):
        result = fenrir(*args)
        assert result.exit_code == 1, result.output
        assert "has no chat template" in result.output and f"chat_template.jinja file in {base}" in result.output


@pytest.mark.model
def test_offloaded_base_gives_the_same_plan(bases, llama_adapter, tmp_path, monkeypatch):
    """A memory budget far below the model's size puts its layers on disk; the plan is the same."""
    base = str(bases["llama"])
    monkeypatch.chdir(tmp_path)  # nothing may be written to the current directory
    disk_cache = {"FENRIR_CACHE": str(tmp_path / "cache")}  # the adapter is merged on disk, tensor by tensor
    whole_disk = plan("--base-model", base, "--adapter", str(llama_adapter), "--offload", str(tmp_path / "off"),
                      "--max-memory", "300KB", env=disk_cache)
    partly = plan("--base-model", base, "--adapter", str(llama_adapter),  # the environment's settings
                  env={**disk_cache, "FENRIR_OFFLOAD": str(tmp_path / "off2"), "FENRIR_MAX_MEMORY": "600KB"})
    # in memory, with another cache: peft's merge_and_unload
    in_memory = plan("--base-model", base, "--adapter", str(llama_adapter), env={"FENRIR_CACHE": str(tmp_path / "c2")})
    assert in_memory["completion_tokens"] >= 1

    def same(record):
        return record["raw_output"], record["completion_tokens"], record["adapter_sha256"]
    # the merge made on disk, loaded again without offload (through agent.fast)
    from_disk_merge = plan("--base-model", base, "--adapter", str(llama_adapter), env=disk_cache)
    assert same(whole_disk) == same(partly) == same(in_memory) == same(from_disk_merge)
    base_alone = plan("--base-model", base, "--max-memory", "300KB", env=disk_cache)
    assert base_alone["adapter_sha256"] is None and base_alone["raw_output"] != in_memory["raw_output"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c2", "cache", "off", "off2"]

    monkeypatch.setenv("FENRIR_CACHE", str(tmp_path / "cache"))
    loaded = load_model(base_model=base, adapter=str(llama_adapter), max_memory="600KB")
    assert loaded.merged and set(loaded.offloaded) >= {"model.layers", "lm_head"}
    assert "model.embed_tokens" not in loaded.offloaded
    assert load_model(base_model=base, adapter=str(llama_adapter), fast=True).implementation == "fast"
    assert str(loaded.device) == "cpu" and next(loaded.model.parameters()).device.type in ("cpu", "meta")


@pytest.mark.model
def test_merge_on_disk_equals_peft_merge(bases, llama_adapter, tmp_path):
    import torch
    from safetensors.torch import load_file

    from agent.merge import merge_on_disk

    merge_on_disk(bases["llama"], llama_adapter, tmp_path / "disk", torch.float32)
    in_memory = load_model(base_model=str(bases["llama"]), adapter=str(llama_adapter), merge=True)
    expected = {k: v for k, v in in_memory.model.state_dict().items()}
    got = load_file(tmp_path / "disk" / "model.safetensors")
    assert set(got) == set(expected)
    changed = [k for k in got if not torch.equal(got[k], load_file(bases["llama"] / "model.safetensors")[k])]
    assert sorted({k.split(".")[-2] for k in changed}) == ["k_proj", "o_proj", "q_proj", "v_proj"]
    for key, tensor in got.items():
        assert torch.allclose(tensor, expected[key], atol=1e-6), key


@pytest.mark.model
@pytest.mark.slow
def test_offload_in_a_fresh_process_says_so_and_nothing_else(bases, tmp_path):
    fenrir_bin = str(Path(sys.executable).parent / "fenrir")
    env = dict(os.environ, TQDM_DISABLE="1", FENRIR_TRACE=str(tmp_path / "trace.jsonl"))
    done = subprocess.run([fenrir_bin, "--base-model", str(bases["qwen2"]), "--offload", str(tmp_path / "off"),
                           "--max-memory", "300KB", "--no-check", "--no-context", "--json", REQUEST],
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["base_model"] == str(bases["qwen2"].resolve())
    assert done.stderr.startswith(f"--- 1 module of {bases['qwen2'].resolve()} offloaded to disk ((the whole model))")
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr  # no library warnings


def test_memory_sizes():
    assert parse_memory("2GiB") == 2 * 2**30 and parse_memory("1.5 GB") == 1_500_000_000
    assert parse_memory("300KB") == 300_000 and parse_memory("1048576") == 2**20
    for bad in ("two gigs", "2XB", "", "0"):
        with pytest.raises(ModelError, match="--max-memory"):
            parse_memory(bad)


@pytest.mark.model
def test_bad_memory_options_are_refused(bases):
    result = fenrir("--base-model", str(bases["llama"]), "--max-memory", "lots", "--no-check", "--no-log", REQUEST)
    assert result.exit_code == 1 and "--max-memory 'lots' is not a size; write e.g. 2GiB" in result.output
    with pytest.raises(ModelError, match="4bit cannot be combined with --offload"):
        load_model(base_model=str(bases["llama"]), quantize="4bit", max_memory="2GiB")
    assert "--max-memory SIZE" in fenrir("ask", "--help").output


@pytest.mark.model
def test_a_folder_revision_follows_the_weights_not_their_size(tmp_path):
    from agent.base import resolve_base

    first = save_random_base(RandomBase("llama", layers=1, vocab=300), tmp_path / "m", seed=0)
    _, _, before = resolve_base(str(first))
    save_random_base(RandomBase("llama", layers=1, vocab=300), tmp_path / "m", seed=1)  # same shapes, other weights
    _, _, after = resolve_base(str(first))
    assert before.startswith("dir:") and after.startswith("dir:") and before != after


@pytest.mark.model
def test_the_eval_model_source_takes_the_base_and_the_offload(bases, llama_adapter, tmp_path):
    """What ``pytest tests/eval --agent model --base-model DIR --adapter OUT --max-memory SIZE`` plans with."""
    from harness.sources import make_source
    from rubrics.suite import resolve_suites

    cases = resolve_suites("static")[0].cases[:2]

    def records(**low_memory):
        source = make_source("model", None, cases, None, adapter=str(llama_adapter), context=False, check=False,
                             base_model=str(bases["llama"]), **low_memory)
        assert source.name == "model-base:llama-adapter:llama-nocontext-nocheck"
        return source.records()

    in_memory = records()
    offloaded = records(offload=str(tmp_path / "off"), max_memory="300KB")
    assert [r.base_model for r in offloaded] == [str(bases["llama"].resolve())] * 2
    assert [r.raw_output for r in offloaded] == [r.raw_output for r in in_memory]
    assert [r.adapter_sha256 for r in offloaded] == [adapter_sha256(llama_adapter)] * 2


@pytest.mark.model
def test_merge_on_disk_reads_and_writes_shards(bases, llama_adapter, tmp_path, monkeypatch):
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    from agent import merge

    sharded = tmp_path / "sharded-base"
    AutoModelForCausalLM.from_pretrained(bases["llama"]).save_pretrained(sharded, max_shard_size="300KB")
    assert (sharded / "model.safetensors.index.json").is_file()
    merge.merge_on_disk(bases["llama"], llama_adapter, tmp_path / "one", torch.float32)
    monkeypatch.setattr(merge, "SHARD_BYTES", 200_000)
    merge.merge_on_disk(sharded, llama_adapter, tmp_path / "many", torch.float32)
    index = json.loads((tmp_path / "many" / "model.safetensors.index.json").read_text())
    assert len(set(index["weight_map"].values())) > 2
    many = {}
    for name in set(index["weight_map"].values()):
        many.update(load_file(tmp_path / "many" / name))
    one = load_file(tmp_path / "one" / "model.safetensors")
    assert set(many) == set(one) and all(torch.equal(many[k], one[k]) for k in one)
    with pytest.raises(ModelError, match="cannot be merged into an offloaded base"):
        config = json.loads((llama_adapter / "adapter_config.json").read_text())
        dora = tmp_path / "dora"
        dora.mkdir()
        (dora / "adapter_config.json").write_text(json.dumps({**config, "use_dora": True}))
        merge.merge_on_disk(bases["llama"], dora, tmp_path / "no", torch.float32)
