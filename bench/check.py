"""How many candidates, at what temperature: the checked answer's settings, chosen on held-out rows.

    python bench/check.py [--rows 120] [--temperatures 0.6,0.8,1.0] [--max-candidates 8]
                          [--data data/holdout.jsonl,data/holdout_external.jsonl]

For each held-out row (rows of templates and external requests that training
never saw; never an eval suite), grounded in its fixture's listing as the
agent is: the shipped agent writes ``--max-candidates`` plans at each
temperature (the greedy one first); every distinct plan runs once on the
row's fixture in the sandbox, and so does the row's reference.  Then, for each
number of candidates n, :func:`agent.check.choose` picks among the first n
(n = 1 is the greedy plan, unchecked), and the pick counts as right when its
observed result (stdout and file-system changes) equals the reference's.
Prints right-rate by temperature and n, with the generation and check time
per request, and writes ``results/check.json``.  The agent's defaults
(``agent.ask.DEFAULT_CANDIDATES``, ``DEFAULT_SAMPLING``) are set from this table.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's packages

from tabulate import tabulate  # noqa: E402

from agent.ask import Agent  # noqa: E402
from agent.check import choose  # noqa: E402
from agent.fewshot import load_examples  # noqa: E402
from agent.generate import Sampling  # noqa: E402
from agent.model import load_model  # noqa: E402
from harness.check import SandboxRunner, observe_candidates  # noqa: E402
from harness.grounding import fixture_listing  # noqa: E402
from harness.paths import package_root, results_dir  # noqa: E402
from rubrics.score import script_of  # noqa: E402
from sandbox import load_fixture  # noqa: E402


def sample_rows(paths: list[Path], rows: int, seed: int = 0) -> list:
    """Up to ``rows`` rows of each file, a seeded sample (all of a smaller file)."""
    out = []
    for path in paths:
        if not path.exists():
            print(f"(skipping {path}: not there)")
            continue
        examples = load_examples(path)
        random.Random(f"{seed}:{path.name}").shuffle(examples)
        out += [e.row for e in examples[:rows]]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=120, help="rows per data file")
    ap.add_argument("--temperatures", default="0.6,0.8,1.0")
    ap.add_argument("--top-p", type=float, default=0.95)
    ap.add_argument("--max-candidates", type=int, default=8)
    ap.add_argument("--data", default="data/holdout.jsonl,data/holdout_external.jsonl")
    args = ap.parse_args()
    rows = sample_rows([package_root() / p for p in args.data.split(",")], args.rows)
    fixtures = {name: load_fixture(name) for name in sorted({r.fixture for r in rows})}
    runners = {name: SandboxRunner(f, name) for name, f in fixtures.items()}
    contexts = [(fixtures[r.fixture].root, fixture_listing(fixtures[r.fixture])) for r in rows]
    reference = [runners[r.fixture]([script_of(r.completion)])[0].key for r in rows]
    agent = Agent(load_model(fast=True), fewshot_k=0, candidates=args.max_candidates)
    counts = [n for n in (1, 2, 3, 4, 5, 6, 8, 12, 16) if n <= args.max_candidates]
    table, out = [], {"rows": len(rows), "data": args.data, "max_candidates": args.max_candidates,
                      "top_p": args.top_p, "results": []}
    for temperature in (float(t) for t in args.temperatures.split(",")):
        agent.sampling = Sampling(temperature=temperature, top_p=args.top_p, seed=0)
        started = time.perf_counter()
        drafts = agent.draft_many([r.prompt for r in rows], contexts)
        generation_s = (time.perf_counter() - started) / len(rows)
        started = time.perf_counter()
        observed = [observe_candidates(d.candidates, runners[r.fixture]) for r, d in zip(rows, drafts)]
        check_s = (time.perf_counter() - started) / len(rows)
        for quiet_last in (True, False):
            for n in counts:
                right = 0
                for draft, seen, ref in zip(drafts, observed, reference):
                    picked = choose(draft.candidates[:n], seen[:n], quiet_last=quiet_last)
                    chosen = seen[picked.index]
                    right += chosen is not None and chosen.key == ref
                rate = right / len(rows)
                out["results"].append({"temperature": temperature, "candidates": n, "quiet_last": quiet_last,
                                       "right": right, "rate": round(rate, 4),
                                       "generation_s_per_request": round(generation_s, 3),
                                       "check_s_per_request": round(check_s, 3)})
                table.append((temperature, n, "yes" if quiet_last else "no", f"{right}/{len(rows)}",
                              f"{100 * rate:.1f}%", f"{generation_s:.2f}", f"{check_s:.2f}"))
    print(tabulate(table, headers=("T", "candidates", "quiet last", "right", "rate",
                                   f"gen s/req ({args.max_candidates})", f"check s/req ({args.max_candidates})")))
    path = results_dir() / "check.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
