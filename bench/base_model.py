"""Seconds per plan with a TinyLlama-1.1B-sized base on this machine, end to end, vs the embedded model.

No hub is reachable here, so the base is a random-weight model of
TinyLlama-1.1B-Chat-v1.0's exact shape (22 layers, hidden 2048, MLP 5632, 32
query / 4 key-value heads, vocabulary 32000; :data:`agent.random_base.TINYLLAMA_1B`),
saved once in bfloat16 as the real checkpoint is (2.2 GB, under
``cache_dir("bench")``), with a tokenizer trained on the repository's requests
and TinyLlama's chat template.  Each timing is a new ``fenrir`` process, as a
user runs it, from the repository root::

    fenrir --base-model DIR --no-check --no-log --json "list python files"

Random weights write no real plan, and they stop early (on a loop, or a blank
line), so besides the default run the same command runs with
``--max-new-tokens 1``: the difference over the difference in generated tokens
is the cost of one more token, from which a plan of N tokens costs
``one-token run + (N - 1) x per token``.  Quality needs the real weights.
The embedded model (SmolLM2-135M with the shipped adapter) runs the same
request in the same session, for the ratio.

    .venv/bin/python bench/base_model.py [--runs 2] [--max-memory 2GiB] [--transformers]

``--max-memory`` also times the base offloaded to disk beyond that budget;
``--transformers`` also times it with ``FENRIR_FAST=0`` (transformers' Llama
instead of :mod:`agent.fast`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout's packages
os.environ.setdefault("TQDM_DISABLE", "1")

from agent.cpu import configure_threads  # noqa: E402
from agent.generate import Decoding, generate  # noqa: E402
from agent.model import load_model  # noqa: E402
from agent.random_base import TINYLLAMA_1B, RandomBase, save_random_base  # noqa: E402
from harness.paths import cache_dir  # noqa: E402

REQUEST = "list python files"


def ensure_base(folder: Path, small: bool = False) -> Path:
    """The random-weight TinyLlama-1.1B-shaped folder, saved once (~1 min, 2.2 GB of disk, ~5 GB of memory)."""
    spec = RandomBase("llama") if small else TINYLLAMA_1B
    if (folder / "model.safetensors").is_file() or (folder / "model.safetensors.index.json").is_file():
        return folder
    started = time.perf_counter()
    tmp = folder.with_name(folder.name + ".partial")
    save_random_base(spec, tmp, dtype="bfloat16")
    tmp.rename(folder)
    print(f"saved a random-weight {spec.parameters() / 1e6:,.0f} M-weight {spec.layers}-layer Llama to {folder} "
          f"in {time.perf_counter() - started:.0f} s")
    return folder


def run(args: list[str], env: dict[str, str] | None = None) -> dict:
    """One ``fenrir`` process: wall seconds and what its trace record says."""
    fenrir = str(Path(sys.executable).parent / "fenrir")
    started = time.perf_counter()
    done = subprocess.run([fenrir, *args, "--no-check", "--no-log", "--json", REQUEST], cwd=ROOT,
                          capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=1800)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"fenrir {' '.join(args)} failed:\n{done.stderr}")
    record = json.loads(done.stdout)
    return {"wall_s": wall, "generate_s": record["latency_s"], "prompt": record["prompt_tokens"],
            "completion": record["completion_tokens"]}


def decode_cost(folder: Path, tokens: int = 32) -> tuple[float, int]:
    """Seconds per generated token in this process (agent.fast, as fenrir loads it), with no stop on
    loops or blank lines, so random weights write all ``tokens``: (s per token, tokens written)."""
    configure_threads()
    loaded = load_model(base_model=str(folder), use_adapter=False, fast=True)
    prompt = loaded.tokenizer.apply_chat_template([{"role": "user", "content": REQUEST}], tokenize=False,
                                                  add_generation_prompt=True)

    def timed(n: int) -> tuple[float, int]:
        started = time.perf_counter()
        (out,) = generate(loaded, [prompt], Decoding(max_new_tokens=n, batch_size=1, stop_strings=(),
                                                     stop_loops=False))
        return time.perf_counter() - started, out.completion_tokens

    timed(1)  # warm-up
    one, _ = timed(1)
    many, written = timed(tokens)
    return (many - one) / max(written - 1, 1), written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", type=Path, default=None, help="Where the random base is saved (default: cache).")
    parser.add_argument("--runs", type=int, default=2, help="Timed runs of each variant (the first may read from disk).")
    parser.add_argument("--max-memory", default=None, help="Also time the base offloaded beyond this budget.")
    parser.add_argument("--transformers", action="store_true", help="Also time it with FENRIR_FAST=0.")
    parser.add_argument("--small", action="store_true", help="A 2-layer model instead: checks this script, quickly.")
    opts = parser.parse_args()
    default = cache_dir("bench") / ("tiny-llama-random" if opts.small else "tinyllama-1.1b-random")
    folder = ensure_base(opts.folder or default, opts.small)
    base = ["--base-model", str(folder)]
    big = "2-layer Llama (--small)" if opts.small else "TinyLlama-1.1B shape"
    variants: list[tuple[str, list[str], dict[str, str]]] = [
        ("embedded SmolLM2-135M + adapter", [], {}),
        (big, base, {}),
        (f"{big}, 1 token", [*base, "--max-new-tokens", "1"], {}),
    ]
    if opts.transformers:
        variants.append((f"{big}, transformers", base, {"FENRIR_FAST": "0"}))
    if opts.max_memory:
        variants.append((f"{big}, offloaded beyond {opts.max_memory}",
                         [*base, "--max-memory", opts.max_memory, "--offload", str(cache_dir("bench", "offload"))], {}))
    run([*base, "--max-new-tokens", "1"], {})  # untimed: the folder's digest is remembered, its pages read in
    load = os.getloadavg()[0]
    results: dict[str, list[dict]] = {name: [] for name, _, _ in variants}
    for _ in range(opts.runs):  # interleaved, so each variant sees the same background load
        for name, args, env in variants:
            results[name].append(run(args, env))
    print(f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '(unset)')}, {os.cpu_count()} cores, "
          f"1-minute load average {load:.1f} before and {os.getloadavg()[0]:.1f} after the timed runs")
    print(f"{'variant':45} {'wall s':>8} {'generate s':>10} {'prompt':>7} {'tokens':>7}")
    best = {}
    for name, rows in results.items():
        row = min(rows, key=lambda r: r["wall_s"])
        best[name] = row
        every = ", ".join(f"{r['wall_s']:.1f}" for r in rows)
        print(f"{name:45} {row['wall_s']:8.1f} {row['generate_s']:10.1f} {row['prompt']:7d} {row['completion']:7d}"
              f"   (all: {every})")
    full, one = best[big], best[f"{big}, 1 token"]
    embedded = best["embedded SmolLM2-135M + adapter"]
    per_token, written = decode_cost(folder)
    print(f"\nin one process, {written} tokens generated without stopping (agent.fast): {per_token:.2f} s per token; "
          f"from the fenrir runs above: "
          f"{(full['generate_s'] - one['generate_s']) / max(full['completion'] - 1, 1):.2f} s per token")
    prefill = one["generate_s"] / max(one["prompt"], 1) * 100
    print(f"per generated token: {per_token:.2f} s; the prompt: {prefill:.2f} s per 100 tokens; "
          f"start and load: {one['wall_s'] - one['generate_s']:.1f} s")
    print(f"so this prompt ({one['prompt']} tokens) and a 30-token plan take "
          f"~{one['wall_s'] + 29 * per_token:.0f} s")
    print(f"{big} / embedded, wall per plan: {full['wall_s'] / embedded['wall_s']:.1f}x "
          f"({full['wall_s']:.1f} s vs {embedded['wall_s']:.1f} s)")


if __name__ == "__main__":
    main()
