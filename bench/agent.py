"""Agent speed (and few-shot k) measured in one run.

    python bench/agent.py                 # load times + sequential vs batched tokens/s
    python bench/agent.py --base          # the base model alone (its default k)
    python bench/agent.py --fewshot K     # another k
    python bench/agent.py --fewshot-sweep # also score k = 0..6 on held-out requests
    python bench/agent.py --paths         # transformers vs fast path: load, tokens/s, `fenrir` wall time

Measures the agent's default configuration unless told otherwise: the model
``load_model()`` gives (the shipped adapter) and ``default_fewshot`` examples,
on the prompts of the static and dynamic eval suites.

Prints: cold load (GGUF conversion into an empty temporary cache), cached
load, tokens/s generating the prompts one at a time (one ``generate`` call
each, as every ``fenrir "..."`` invocation pays; nothing is kept between
calls) and in one batch, the batched/sequential ratio, whether both gave the
same outputs, and the prefill-only times.  Target: ratio >= 3.5.

``--paths`` compares the two ways ``load_model`` can load the same model,
transformers and :mod:`agent.fast`, in one run: load time (a new process
importing and loading, and a load in a warm process), tokens/s on the suite
prompts (and whether both give the same plans), and the wall time of
``fenrir --no-log --no-check "list python files"`` and of the checked
``fenrir --no-log "list python files"`` run as new processes in a small
project folder (median and p95 over ``--runs``, with the load average before
each series: the machine is shared).  Target (issue #9): the checked run in
<= 4 s median.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the checkout's packages

from agent.ask import DEFAULT_MAX_NEW_TOKENS, default_fewshot  # noqa: E402
from agent.cpu import configure_threads, inference_threads  # noqa: E402
from agent.fewshot import Selector, load_examples  # noqa: E402
from agent.generate import Decoding, generate, shared_prefix  # noqa: E402
from agent.model import load_model  # noqa: E402
from agent.plan import parse_plan  # noqa: E402
from agent.prompt import build_messages, render_prompt  # noqa: E402
from rubrics.suite import resolve_suites  # noqa: E402

# Held-out requests for choosing k (not in data/cli_qa.jsonl, not the eval prompts): request -> programs
# any one of which a correct plan would start with.
HELD_OUT = [
    ("Find all GIF images larger than 1 MB", {"find"}),
    ("Search the notes folder for the word meeting", {"grep", "rg"}),
    ("Make a compressed archive of the music directory", {"tar", "zip"}),
    ("Show the current git branch name", {"git"}),
    ("Print the last 15 lines of syslog.txt", {"tail"}),
    ("How many lines does README.md have", {"wc"}),
    ("Show the size of the videos directory", {"du"}),
    ("Print config.txt with every tab replaced by a space", {"sed", "tr", "expand"}),
    ("Sort cities.txt alphabetically and drop duplicates", {"sort"}),
    ("Delete all .swp files in this project", {"find", "ls"}),
    ("Make backup.sh executable", {"chmod"}),
    ("Create a python virtual environment named venv", {"python3", "python"}),
    ("List all YAML files below the config directory", {"find", "ls"}),
    ("Count the words in chapter1.txt", {"wc"}),
    ("Show lines containing WARN in app.log", {"grep"}),
    ("Extract site.tar.gz into the public folder", {"tar", "mkdir"}),
    ("Show the commit history of main.c", {"git"}),
    ("Display the first 20 lines of data.tsv", {"head", "sed"}),
    ("Print the second column of table.csv", {"cut", "awk"}),
    ("Show files larger than 50 MB in the downloads folder", {"find", "du"}),
]


def _setup_threads() -> int:
    """Threads as ``fenrir`` sets them (every core when idle, fewer on a busy machine; see agent.cpu)."""
    return configure_threads()


def bench_load(**options) -> tuple[float, float]:
    """Cold and cached ``load_model(**options)`` (the measured config) into an empty temporary cache."""
    old = os.environ.get("FENRIR_CACHE")
    with tempfile.TemporaryDirectory(prefix="fenrir-bench-") as tmp:
        os.environ["FENRIR_CACHE"] = tmp
        try:
            start = time.perf_counter()
            load_model(**options)
            cold = time.perf_counter() - start
            start = time.perf_counter()
            load_model(**options)
            cached = time.perf_counter() - start
        finally:
            if old is None:
                os.environ.pop("FENRIR_CACHE", None)
            else:
                os.environ["FENRIR_CACHE"] = old
    return cold, cached


def suite_prompts() -> list[str]:
    """The requests of the static and dynamic eval suites, in suite order."""
    return [case.prompt for suite in resolve_suites("static,dynamic") for case in suite.cases]


def describe(loaded, k: int) -> str:
    if loaded.adapter_path is None:
        model = "base model alone"
    else:
        merged = "merged into the weights" if loaded.merged else "kept apart (peft)"
        model = f"adapter {loaded.adapter_path} (sha256 {loaded.adapter_sha256[:12]}, {merged})"
    return f"config: {model}, fewshot k={k}"


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def bench_generation(loaded, requests: list[str], k: int, max_new_tokens: int, batch_size: int) -> None:
    selector = Selector(load_examples() if k > 0 else [])
    prompts = [render_prompt(loaded.tokenizer, build_messages(r, selector.select(r, k))) for r in requests]
    generate(loaded, prompts[:2], Decoding(max_new_tokens=4, batch_size=2))  # warm-up
    start = time.perf_counter()
    seq = [generate(loaded, [p], Decoding(max_new_tokens=max_new_tokens, batch_size=1))[0] for p in prompts]
    t_seq = time.perf_counter() - start
    start = time.perf_counter()
    bat = generate(loaded, prompts, Decoding(max_new_tokens=max_new_tokens, batch_size=batch_size))
    t_bat = time.perf_counter() - start
    # Prefill alone (one new token): the prompt compute each mode must pay; it bounds the ratio.
    start = time.perf_counter()
    for p in prompts:
        generate(loaded, [p], Decoding(max_new_tokens=1, batch_size=1))
    p_seq = time.perf_counter() - start
    start = time.perf_counter()
    generate(loaded, prompts, Decoding(max_new_tokens=1, batch_size=batch_size))
    p_bat = time.perf_counter() - start
    n_seq = sum(g.completion_tokens for g in seq)
    n_bat = sum(g.completion_tokens for g in bat)
    prompt_tokens = [g.prompt_tokens for g in seq]
    shared = shared_prefix(loaded.tokenizer(prompts[:batch_size], add_special_tokens=False)["input_ids"])
    print(describe(loaded, k))
    print(f"requests: {len(prompts)} (static+dynamic suites)  prompt tokens: mean {sum(prompt_tokens) / len(prompts):.0f}, "
          f"max {max(prompt_tokens)}, shared prefix {shared}  max_new_tokens={max_new_tokens}  batch_size={batch_size}  "
          f"threads={inference_threads() if loaded.implementation == 'fast' else _torch_threads()}")
    print(f"sequential: {n_seq} tokens in {t_seq:.2f} s = {n_seq / t_seq:.1f} tok/s  (one generate() call per request)")
    print(f"batched:    {n_bat} tokens in {t_bat:.2f} s = {n_bat / t_bat:.1f} tok/s")
    print(f"batched/sequential: {(n_bat / t_bat) / (n_seq / t_seq):.2f}x   identical outputs: {seq == bat}")
    print(f"prefill only: sequential {p_seq:.2f} s, batched {p_bat:.2f} s "
          f"(bound on the ratio if decoding were free: {t_seq / p_bat:.2f}x)")


def fewshot_sweep(loaded, ks: list[int], max_new_tokens: int) -> None:
    selector = Selector(load_examples())
    print("k  usable  right-program  mean-prompt-tokens  seconds")
    for k in ks:
        prompts = [render_prompt(loaded.tokenizer, build_messages(r, selector.select(r, k))) for r, _ in HELD_OUT]
        start = time.perf_counter()
        outs = generate(loaded, prompts, Decoding(max_new_tokens=max_new_tokens, batch_size=len(prompts)))
        seconds = time.perf_counter() - start
        usable = right = 0
        for (request, programs), out in zip(HELD_OUT, outs):
            plan = parse_plan(out.text)
            commands = [line for line in plan.lines if line.original is not None]
            ok = bool(commands) and all(line.parse_ok for line in commands)
            usable += ok
            right += ok and commands[0].original.split()[0].rsplit("/", 1)[-1] in programs
        tokens = sum(o.prompt_tokens for o in outs) / len(outs)
        print(f"{k}  {usable:2d}/{len(HELD_OUT)}   {right:2d}/{len(HELD_OUT)}          {tokens:6.0f}            {seconds:5.1f}")


PROJECT = {
    "README.md": "# demo\n", "pyproject.toml": "[project]\nname = 'demo'\n", "notes.txt": "todo\n",
    "src/demo/__init__.py": "", "src/demo/main.py": "print('hi')\n", "src/demo/util.py": "X = 1\n",
    "tests/test_main.py": "def test(): pass\n", "data/sales.csv": "a,b\n1,2\n", "docs/guide.md": "# guide\n",
}
"""The small project folder the ``fenrir`` runs are timed in (its listing goes into the prompt)."""


def _percentiles(times: list[float]) -> str:
    ranked = sorted(times)
    p95 = ranked[math.ceil(0.95 * len(ranked)) - 1]  # nearest rank
    return f"median {statistics.median(times):.2f} s  p95 {p95:.2f} s  (n={len(times)}, min {ranked[0]:.2f})"


def _load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def _timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return seconds, result.stdout


def compare_paths(runs: int) -> None:
    """Transformers vs fast path, measured in this one run (see the module docstring)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "TQDM_DISABLE": "1"}
    paths = {"transformers": "0", "fast": "1"}
    load_model()  # the shipped adapter's merge is cached before anything is timed
    print(f"== transformers vs fast path ({_load()})")
    code = ("import time; t = time.perf_counter(); from agent.model import load_model; "
            "l = load_model(fast=True); print(l.implementation, time.perf_counter() - t)")
    for name, flag in paths.items():
        times = []
        for _ in range(3):
            _, out = _timed([sys.executable, "-c", code], REPO, {**env, "FENRIR_FAST": flag})
            implementation, seconds = out.split()
            assert implementation == name, (implementation, name)
            times.append(float(seconds))
        start = time.perf_counter()
        load_model(fast=flag == "1")
        warm = time.perf_counter() - start
        print(f"load {name:12s}: new process (imports + load) median {statistics.median(times):.2f} s of "
              f"{', '.join(f'{t:.2f}' for t in times)}; in a warm process {warm:.2f} s")
    requests = suite_prompts()[:8]
    outputs = {}
    for name, flag in paths.items():
        loaded = load_model(fast=flag == "1")
        assert loaded.implementation == name
        k = default_fewshot(loaded)
        selector = Selector(load_examples() if k > 0 else [])
        prompts = [render_prompt(loaded.tokenizer, build_messages(r, selector.select(r, k))) for r in requests]
        generate(loaded, prompts[:1], Decoding(max_new_tokens=4))  # warm-up
        start = time.perf_counter()
        seq = [generate(loaded, [p], Decoding(max_new_tokens=DEFAULT_MAX_NEW_TOKENS, batch_size=1))[0]
               for p in prompts]
        t_seq = time.perf_counter() - start
        start = time.perf_counter()
        bat = generate(loaded, prompts, Decoding(max_new_tokens=DEFAULT_MAX_NEW_TOKENS, batch_size=len(prompts)))
        t_bat = time.perf_counter() - start
        n_seq, n_bat = sum(g.completion_tokens for g in seq), sum(g.completion_tokens for g in bat)
        outputs[name] = [(g.text, g.completion_tokens) for g in seq + bat]
        print(f"generate {name:12s}: one request at a time {n_seq / t_seq:6.1f} tok/s, "
              f"{len(prompts)} in one batch {n_bat / t_bat:6.1f} tok/s  ({_load()})")
    print(f"same plans and token counts: {outputs['transformers'] == outputs['fast']}")
    fenrir = str(Path(sys.executable).parent / "fenrir")
    with tempfile.TemporaryDirectory(prefix="fenrir-bench-project-") as tmp:
        project = Path(tmp)
        for name, text in PROJECT.items():
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            (project / name).write_text(text)
        for label, extra in (("--no-check", ["--no-check"]), ("checked", [])):
            for name, flag in paths.items():
                command = [fenrir, "--no-log", *extra, "list python files"]
                series_load = _load()
                _timed(command, project, {**env, "FENRIR_FAST": flag})  # warm-up (page cache, sandbox results)
                times, outs = [], set()
                for _ in range(runs):
                    seconds, out = _timed(command, project, {**env, "FENRIR_FAST": flag})
                    times.append(seconds)
                    outs.add(out)
                checked = all("# checked on a copy" in o for o in outs)
                print(f"fenrir {label:10s} {name:12s}: {_percentiles(times)}  ({series_load} before, "
                      f"{_load()} after){'  checked in the sandbox' if checked else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", action="store_true", help="the base model alone, without the adapter")
    parser.add_argument("--no-merge", action="store_true", help="keep the adapter apart (a PeftModel)")
    parser.add_argument("--fewshot", type=int, default=None, help="k for the speed run (default: the agent's)")
    parser.add_argument("--max-new-tokens", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None, help="default: all prompts in one batch")
    parser.add_argument("--fewshot-sweep", action="store_true", help="score k = 0..6 on held-out requests")
    parser.add_argument("--skip-cold", action="store_true", help="skip the GGUF conversion timing")
    parser.add_argument("--paths", action="store_true", help="only compare the transformers and fast paths")
    parser.add_argument("--runs", type=int, default=10, help="fenrir runs per series with --paths")
    args = parser.parse_args()
    os.environ.setdefault("TQDM_DISABLE", "1")
    threads = _setup_threads()
    if args.paths:
        print(f"threads in this process: torch {threads}, fast path {inference_threads()}")
        compare_paths(args.runs)
        return
    options = {"use_adapter": not args.base, "merge": not args.no_merge}
    if not args.skip_cold:
        cold, cached = bench_load(**options)
        print(f"load: cold (GGUF conversion, empty cache) {cold:.2f} s   cached {cached:.2f} s   "
              f"ratio {cold / cached:.0f}x")
    loaded = load_model(**options)
    requests = suite_prompts()
    k = default_fewshot(loaded) if args.fewshot is None else args.fewshot
    bench_generation(loaded, requests, k, args.max_new_tokens or DEFAULT_MAX_NEW_TOKENS,
                     args.batch_size or len(requests))
    if args.fewshot_sweep:
        fewshot_sweep(loaded, [0, 1, 2, 3, 4, 5, 6], 48)


if __name__ == "__main__":
    main()
