"""Answer quality: base vs adapter, zero-shot vs few-shot, on the eval suites and the held-out templates.

    python bench/quality.py [--skip-suites] [--skip-holdout] [--skip-external] [--holdout-rows N]
                            [--misses FILE] [--external SUITE.yaml]

1. Runs the static and dynamic suites four times through the pytest harness
   (base model zero-shot, base few-shot, adapter zero-shot, adapter few-shot)
   and prints the Plan / Safe / Answer means of each.
2. Scores the adapter (zero-shot, as trained) on ``data/holdout.jsonl``: rows of
   whole templates the generator held out of training, so their wordings were
   never seen.  Each row's completion is its reference; a row counts as exact
   when the model's plan scores Answer 2 in the sandbox.  ``--misses FILE``
   writes the rows that were not, one JSON line each (request, reference, plan,
   scores), to read where the agent does not generalise.
3. Scores the default agent and the no-op plan (the floor) on an imported suite
   nobody wrote for Fenrir (default: InterCode-ALFA's NL2Bash file-system tasks,
   ``rubrics/imported/icalfa-fs1.yaml``), over all its cases and over those no
   training row near-duplicates by the ``data.contamination`` rules.
Writes ``results/quality.json`` (read by the report's training section).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CONFIGS = [
    ("base, zero-shot", ["--adapter", "none", "--fewshot", "0"]),
    ("base, few-shot (k=4)", ["--adapter", "none", "--fewshot", "4"]),
    ("adapter, zero-shot (the default)", ["--fewshot", "0"]),
    ("adapter, few-shot (k=4)", ["--fewshot", "4"]),
]


def _scored(tmp: Path, run_id: str, suite: str, extra: list[str]) -> list:
    """Run the pytest harness on ``suite`` with the given plan-source options; its case results."""
    env = dict(os.environ, FENRIR_RESULTS=str(tmp))
    subprocess.run([sys.executable, "-m", "pytest", "tests/eval", "-q", "-p", "no:cacheprovider", "-n", "2",
                    "--suite", suite, "--no-reports", "--run-id", run_id,
                    "--baseline", str(tmp / "baseline.json"), *extra],
                   cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
    from harness.runner import RunStore

    return RunStore(run_id, tmp / "runs").results()


def _means(results: list) -> dict:
    """Means as the reports compute them: uninformative cases (any silent plan matches) left out."""
    from harness.report import Means

    m = Means.of(results)
    out = {d: round(getattr(m, d), 2) for d in ("plan", "safe", "answer")}
    out["cases"] = m.cases
    return out


def suite_means(tmp: Path, name: str, extra: list[str]) -> dict:
    run_id = "".join(c for c in name if c.isalnum() or c == "-")
    results = _scored(tmp, run_id, "all", ["--agent", "model", *extra])
    return {suite: _means([r for r in results if r.suite == suite]) for suite in ("static", "dynamic")}


def external(tmp: Path, suite_path: Path) -> dict:
    """The default agent and the no-op floor on an imported suite, over all cases and over the
    cases no training row near-duplicates (``data.contamination`` rules): the clean external check."""
    from agent.fewshot import load_examples
    from data.contamination import load_eval_cases, matches

    rows = [e.row for e in load_examples(REPO / "data" / "cli_qa.jsonl")]
    cases = load_eval_cases((suite_path,))
    touched = {m.case.split("/", 1)[1] for r in rows for m in matches(r.prompt, cases, r.completion, r.fixture)}
    out = {"suite": suite_path.stem, "path": str(suite_path.relative_to(REPO)),
           "near_duplicated_by_training": sorted(touched)}
    for name, extra in (("agent", ["--agent", "model"]), ("noop", ["--agent", "noop"])):
        results = _scored(tmp, f"external-{name}", str(suite_path), extra)
        out[name] = _means(results)
        out[name + "_clean"] = _means([r for r in results if r.case_id not in touched])
    return out


def holdout(tmp: Path, limit: int | None, misses: Path | None = None) -> dict:
    from agent.ask import Agent
    from agent.fewshot import load_examples
    from agent.model import load_model
    from harness.runner import Evaluator, RunStore, start_run
    from rubrics.score import commands_of
    from rubrics.suite import Case

    rows = load_examples(REPO / "data" / "holdout.jsonl")[:limit]
    agent = Agent(load_model(), fewshot_k=0)
    plans = agent.plan_many([e.row.prompt for e in rows])
    store = RunStore("holdout", tmp / "runs")
    ev = Evaluator(store, start_run(store, "model-fewshot0", ["holdout"]))
    exact = 0
    by_category: dict[str, list[int]] = {}
    missed = []
    for i, (example, record) in enumerate(zip(rows, plans)):
        probe = ev.execute("".join(c + "\n" for c in commands_of(example.row.completion)), example.row.fixture, None)
        kind = "effect" if probe.changes else "output"
        case = Case(id=f"holdout-{i:03d}", prompt=example.row.prompt, fixtures=[example.row.fixture], kind=kind,
                    reference=example.row.completion, category=example.row.category)
        result = ev.evaluate("holdout", case, record.plan_text, "model-fewshot0")
        ok = result.scores.answer == 2
        exact += ok
        by_category.setdefault(example.row.category, []).append(int(ok))
        if not ok:
            missed.append({"category": example.row.category, "request": example.row.prompt,
                           "reference": example.row.completion, "plan": record.plan_text,
                           "scores": result.scores.model_dump()})
    if misses:
        misses.write_text("".join(json.dumps(m) + "\n" for m in missed))
    return {"rows": len(rows), "exact": exact,
            "by_category": {k: f"{sum(v)}/{len(v)}" for k, v in sorted(by_category.items())}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-holdout", action="store_true")
    ap.add_argument("--skip-suites", action="store_true")
    ap.add_argument("--skip-external", action="store_true")
    ap.add_argument("--external", type=Path, default=REPO / "rubrics" / "imported" / "icalfa-fs1.yaml",
                    help="an imported suite the agent never trained on (default: InterCode-ALFA fs-1)")
    ap.add_argument("--holdout-rows", type=int, default=None)
    ap.add_argument("--misses", type=Path, default=None, help="write the held-out rows the adapter missed (JSONL)")
    args = ap.parse_args()
    from tabulate import tabulate

    out: dict = {"suites": {}, "holdout": None, "external": None}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if not args.skip_suites:
            rows = []
            for name, extra in CONFIGS:
                m = suite_means(tmp, name, extra)
                out["suites"][name] = m
                rows.append((name, *(m["static"][d] for d in ("plan", "safe", "answer")),
                             *(m["dynamic"][d] for d in ("plan", "safe", "answer"))))
            print(tabulate(rows, headers=("configuration", "static P", "S", "A", "dynamic P", "S", "A")))
        if not args.skip_holdout:
            out["holdout"] = holdout(tmp, args.holdout_rows, args.misses)
            h = out["holdout"]
            print(f"\nheld-out templates (adapter, zero-shot): {h['exact']}/{h['rows']} exact "
                  f"({100 * h['exact'] / h['rows']:.0f}%)")
            print("by category: " + ", ".join(f"{k} {v}" for k, v in h["by_category"].items()))
        if not args.skip_external:
            out["external"] = e = external(tmp, args.external.resolve())
            print(f"\nexternal suite {e['suite']} (never trained on; Plan / Safe / Answer):")
            print(tabulate([(k.replace("_clean", f" ({e[k]['cases']} clean cases)"), e[k]["plan"], e[k]["safe"],
                             e[k]["answer"]) for k in ("agent", "noop", "agent_clean", "noop_clean")],
                           headers=("plan source", "P", "S", "A")))
    path = REPO / "results" / "quality.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    for key, value in out.items():
        if value:
            previous[key] = value
    path.write_text(json.dumps(previous, indent=2) + "\n")
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
