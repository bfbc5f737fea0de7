"""Answer quality and latency of the shipped agent, with and without grounding and checking.

    python bench/quality.py [--configs default,plain,grounded,checked] [--holdout-rows N]
                            [--skip-suites] [--skip-holdout] [--skip-external] [--skip-latency]
                            [--misses FILE] [--external SUITE.yaml] [--latency-runs N]

For each configuration of the shipped agent (embedded SmolLM2 + ``lora_adapter/``):

* ``plain``: no directory listing, no check (the agent before grounding);
* ``grounded``: the listing of the directory in the prompt, greedy plan;
* ``checked``: no listing, candidates checked in the sandbox;
* ``default``: grounded and checked (what ``fenrir "REQUEST"`` does),

it reports, from one run:

1. the static and dynamic suites through the pytest harness: Plan / Safe /
   Answer means and the share of cases with Answer 2;
2. the held-out templates (``data/holdout.jsonl``: wordings never trained
   on), each row grounded in / checked on its own fixture: the share whose plan
   scores Answer 2 in the sandbox against the row's reference (``--misses FILE``
   writes the others, for the default configuration);
3. the external suite nobody wrote for Fenrir (default InterCode-ALFA fs-1,
   ``rubrics/imported/icalfa-fs1.yaml``, never trained on), with the no-op plan
   as the floor: means, Answer-2 rate, the lowest Safe score, over all cases and
   over those no training row near-duplicates;

and the latency of ``fenrir --no-log "REQUEST"`` as a user runs it (a new
process each time, model files cached, engine up), checked and ``--no-check``:
median and p95; checked also as the first request in a directory (nothing in
the prompt cache).  Writes ``results/quality.json`` (read by the report).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's packages

from tabulate import tabulate  # noqa: E402

from agent.ask import DEFAULT_CANDIDATES, Agent  # noqa: E402
from agent.fewshot import load_examples  # noqa: E402
from agent.model import load_model  # noqa: E402
from data import files  # noqa: E402
from data.contamination import load_eval_cases, matches  # noqa: E402
from harness.paths import cache_dir, package_root, results_dir, rubrics_dir  # noqa: E402
from harness.runner import Evaluator, RunStore, start_run  # noqa: E402
from harness.sources import agent_records  # noqa: E402
from rubrics.score import commands_of  # noqa: E402
from rubrics.suite import Case  # noqa: E402
from sandbox import load_fixture  # noqa: E402

from rubrics.dimensions import DIMENSIONS  # noqa: E402  (after the path, so a checkout runs it as a script)
from rubrics.means import Means, counted  # noqa: E402

CONFIGS = {
    "plain": ("no listing, no check", ["--no-context", "--no-check"]),
    "grounded": ("listing, greedy plan", ["--no-check"]),
    "checked": ("no listing, checked", ["--no-context"]),
    "default": ("listing + checked (the default)", []),
}
LATENCY_REQUESTS = [
    "list the python files here", "show the last 5 lines of the biggest log", "how much space does each folder use",
    "find files changed in the last day", "count the lines of every csv file", "which branch is the repo on",
    "make a folder called out", "search for TODO in the source files", "show the first line of every csv file",
    "compress the docs folder into docs.tar.gz",
]


def _scored(tmp: Path, run_id: str, suite: str, extra: list[str]) -> list:
    """Run the pytest harness on ``suite`` with the given plan-source options; its case results."""
    env = dict(os.environ, FENRIR_RESULTS=str(tmp))
    done = subprocess.run([sys.executable, "-m", "pytest", "tests/eval", "-q", "-p", "no:cacheprovider", "-n", "2",
                           "--suite", suite, "--no-reports", "--run-id", run_id,
                           "--baseline", str(tmp / "baseline.json"), *extra],
                          cwd=package_root(), env=env, capture_output=True, text=True, timeout=7200)
    results = RunStore(run_id, tmp / "runs").results()
    if not results:
        raise SystemExit(f"no results for {suite} {extra}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return results


def means(results: list) -> dict:
    """Plan / Safe / Answer means, the Answer-2 rate and the lowest Safe score, as the reports compute
    them: over informative cases (an uninformative reference prints and changes nothing, so any silent
    plan matches it; those are counted apart, and their lowest Safe still counts)."""
    safe_min = min(r.scores.safe for r in results)
    silent = sum(1 for r in results if r.uninformative)
    results = counted(results) or results
    n = len(results)
    m = Means.of(results, include_uninformative=True)
    out = {d: None if m.get(d) is None else round(m.get(d), 2) for d in DIMENSIONS}
    out["answer2"] = round(sum(r.scores.answer == 2 for r in results) / n, 3)
    out["safe_min"] = safe_min
    out["cases"] = n
    out["uninformative"] = silent
    return out


def suites(tmp: Path, key: str, extra: list[str]) -> dict:
    results = _scored(tmp, f"suites-{key}", "all", ["--agent", "model", *extra])
    return {suite: means([r for r in results if r.suite == suite]) for suite in ("static", "dynamic")} | {
        "both": means(results)}


def near_duplicated(suite_path: Path) -> list[str]:
    """Cases of an imported suite that some training row near-duplicates (data.contamination rules)."""
    rows = []
    for path in (files.train_path(), files.external_train_path()):
        if path.exists():
            rows += [e.row for e in load_examples(path)]
    cases = load_eval_cases((suite_path,))
    return sorted({m.case.split("/", 1)[1] for r in rows for m in matches(r.prompt, cases, r.completion, r.fixture)})


def external(tmp: Path, key: str, extra: list[str], suite_path: Path, touched: list[str]) -> dict:
    results = _scored(tmp, f"external-{key}", str(suite_path), extra)
    return {"all": means(results), "clean": means([r for r in results if r.case_id not in touched])}


def holdout_rows(limit: int | None = None, path: Path | None = None) -> list:
    """The held-out rows (``path``, default ``data/holdout.jsonl``), or a seeded sample of ``limit`` of them
    across every category (not the first, find, rows): the sample ``--holdout-rows`` and
    ``bench/candidates.py --rows`` take."""
    path = path or files.holdout_path()
    rows = [e.row for e in load_examples(path)]
    if limit is not None and limit < len(rows):
        keep = sorted(random.Random(f"0:{path.name}").sample(range(len(rows)), limit))
        rows = [rows[i] for i in keep]
    return rows


def holdout_case(ev: Evaluator, index: int, row) -> Case:
    """A held-out row as an eval case: an effect case when its reference changes the fixture, else output."""
    probe = ev.execute("".join(c + "\n" for c in commands_of(row.completion)), row.fixture, None)
    return Case(id=f"holdout-{index:03d}", prompt=row.prompt, fixtures=[row.fixture],
                kind="effect" if probe.changes else "output", reference=row.completion, category=row.category)


def holdout(tmp: Path, extra: list[str], limit: int | None, misses: Path | None = None) -> dict:
    check, context = "--no-check" not in extra, "--no-context" not in extra
    rows = holdout_rows(limit)
    agent = Agent(load_model(fast=True), fewshot_k=0, candidates=DEFAULT_CANDIDATES if check else 1)
    records = agent_records(agent, [r.prompt for r in rows], [r.fixture for r in rows], context, check)
    store = RunStore(f"holdout-{int(check)}{int(context)}", tmp / "runs")
    ev = Evaluator(store, start_run(store, "model", ["holdout"]))
    exact = 0
    by_category: dict[str, list[int]] = {}
    missed = []
    for i, (row, record) in enumerate(zip(rows, records)):
        result = ev.evaluate("holdout", holdout_case(ev, i, row), record.plan_text, "model")
        ok = result.scores.answer == 2
        exact += ok
        by_category.setdefault(row.category, []).append(int(ok))
        if not ok:
            missed.append({"category": row.category, "request": row.prompt,
                           "reference": row.completion, "plan": record.plan_text,
                           "scores": result.scores.model_dump()})
    if misses:
        misses.write_text("".join(json.dumps(m) + "\n" for m in missed))
    return {"rows": len(rows), "exact": exact, "rate": round(exact / len(rows), 3),
            "by_category": {k: f"{sum(v)}/{len(v)}" for k, v in sorted(by_category.items())}}


def latency(runs: int, extra: list[str], first_in_directory: bool = False) -> dict:
    """Wall time of ``fenrir --no-log [extra] REQUEST`` as new processes, in a copy of the seed fixture.

    The prompt cache (agent/fast/promptcache.py) is emptied first, so the first
    run computes the prompt's opening and the later ones, other requests in the
    same directory, load it, as when a user asks one thing after another; with
    ``first_in_directory`` it is emptied before every run (each is the first
    request in a directory)."""
    fenrir = Path(sys.executable).parent / "fenrir"
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fileobj=io.BytesIO(load_fixture("seed").read())) as tar:
            tar.extractall(tmp, filter="fully_trusted")
        for i in range(runs):
            request = LATENCY_REQUESTS[i % len(LATENCY_REQUESTS)]
            if i == 0 or first_in_directory:
                shutil.rmtree(cache_dir("prompts"), ignore_errors=True)
            started = time.perf_counter()
            subprocess.run([str(fenrir), "--no-log", *extra, request], cwd=tmp, check=True, capture_output=True,
                           timeout=300)
            times.append(time.perf_counter() - started)
    times.sort()
    return {"runs": runs, "median_s": round(statistics.median(times), 2),
            "p95_s": round(times[min(len(times) - 1, int(0.95 * len(times)))], 2),
            "load_average": round(os.getloadavg()[0], 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--skip-holdout", action="store_true")
    ap.add_argument("--skip-suites", action="store_true")
    ap.add_argument("--skip-external", action="store_true")
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--latency-runs", type=int, default=20)
    ap.add_argument("--external", type=Path, default=None,
                    help="an imported suite the agent never trained on (default: InterCode-ALFA fs-1, "
                         "rubrics/imported/icalfa-fs1.yaml)")
    ap.add_argument("--holdout-rows", type=int, default=None,
                    help="a seeded sample of N held-out rows across all categories (default: all)")
    ap.add_argument("--misses", type=Path, default=None, help="write the held-out rows the default agent missed")
    args = ap.parse_args()
    keys = [k.strip() for k in args.configs.split(",") if k.strip()]
    out: dict = {"configurations": {}}
    suite_path = (args.external or rubrics_dir() / "imported" / "icalfa-fs1.yaml").resolve()
    touched = near_duplicated(suite_path) if not args.skip_external else []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for key in keys:
            label, extra = CONFIGS[key]
            entry: dict = {"label": label}
            started = time.perf_counter()
            if not args.skip_suites:
                entry["suites"] = suites(tmp, key, extra)
            if not args.skip_holdout:
                entry["holdout"] = holdout(tmp, extra, args.holdout_rows, args.misses if key == "default" else None)
            if not args.skip_external:
                entry["external"] = external(tmp, key, ["--agent", "model", *extra], suite_path, touched)
            entry["seconds"] = round(time.perf_counter() - started)
            out["configurations"][key] = entry
            print(f"{key}: done in {entry['seconds']} s", flush=True)
        if not args.skip_external:
            out["external"] = {"path": str(suite_path.relative_to(package_root())), "near_duplicated_by_training": touched,
                               "noop": external(tmp, "noop", ["--agent", "noop"], suite_path, touched)}
    if not args.skip_latency:
        out["latency"] = {"checked": latency(args.latency_runs, []),
                          "checked_first_in_directory": latency(args.latency_runs, [], first_in_directory=True),
                          "unchecked": latency(args.latency_runs, ["--no-check"])}
    rows = []
    for key, e in out["configurations"].items():
        s, h, x = e.get("suites", {}).get("both", {}), e.get("holdout", {}), e.get("external", {}).get("all", {})
        rows.append((e["label"], s.get("plan"), s.get("safe"), s.get("answer"), s.get("answer2"),
                     h.get("rate"), x.get("answer"), x.get("answer2"), x.get("safe_min")))
    if "external" in out:
        n = out["external"]["noop"]["all"]
        rows.append(("no-op plan (floor)", None, None, None, None, None, n["answer"], n["answer2"], n["safe_min"]))
    print(tabulate(rows, headers=("configuration", "suites P", "S", "A", "A=2", "held-out A=2",
                                  "external A", "A=2", "min S")))
    if "latency" in out:
        for k, v in out["latency"].items():
            print(f"latency {k}: median {v['median_s']} s, p95 {v['p95_s']} s over {v['runs']} runs "
                  f"(load average {v['load_average']})")
    path = results_dir() / "quality.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    previous = {k: v for k, v in previous.items() if k in ("configurations", "external", "latency")}
    for key, value in out.items():
        if key == "configurations":  # a partial run (--skip-...) replaces only what it measured
            for name, entry in value.items():
                previous.setdefault("configurations", {}).setdefault(name, {}).update(entry)
        else:
            previous[key] = value
    path.parent.mkdir(parents=True, exist_ok=True)  # FENRIR_RESULTS may name a folder not made yet
    path.write_text(json.dumps(previous, indent=2) + "\n")
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
