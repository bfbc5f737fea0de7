"""Where the checked answer goes wrong: every candidate of every held-out row, recorded and scored.

    python bench/candidates.py generate --out FILE.jsonl [--rows N] [--candidates 4]
    python bench/candidates.py score FILE.jsonl [--misses OUT.jsonl] [--round N]

``generate`` runs the shipped agent (listing in the prompt, ``--candidates``
plans per request: the greedy one and samples, the agent's own settings) on
held-out rows (``data/holdout.jsonl``, wordings training never saw; never an
eval suite) and writes each row with its candidates' raw text and mean
log-probability: the model's part, which is slow, done once.

``score`` then does the agent's part on the recorded text, as the agent of
this checkout does it (parsing, path repair, the safety pass), runs every
distinct candidate in the sandbox, lets :func:`agent.check.choose` pick, and
scores each candidate against the row's reference with the eval's own rubric
(Answer 2: exact result).  It prints, per category and over all rows, how
often the greedy plan, the checked choice and the best candidate (the
ceiling of any choosing) score Answer 2, so a change to the agent's side can
be measured without generating again.  Executions are cached by content, so a
second ``score`` costs only what changed.

The agent draws a second round when none of its first ``N`` (4) candidates
ran cleanly (:func:`harness.check.check_candidates`).  Recorded with
``generate --candidates 8``, ``score --round 4`` replays that: the first 4
are checked, and the other 4 only for rows where none of those ran cleanly
(the first 4 of 8 are the same draws as a recording of 4).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's packages

from tabulate import tabulate  # noqa: E402

from agent.ask import DEFAULT_CANDIDATES, Agent  # noqa: E402
from agent.check import Candidate  # noqa: E402
from agent.fewshot import QARow  # noqa: E402
from agent.model import load_model  # noqa: E402
from agent.plan import parse_plan  # noqa: E402
from harness.check import SandboxRunner, check_candidates, observe_candidates  # noqa: E402
from harness.grounding import fixture_listing  # noqa: E402
from harness.runner import Evaluator, RunStore, start_run  # noqa: E402
from bench.quality import holdout_case, holdout_rows  # noqa: E402  (the same rows and cases)
from sandbox import load_fixture  # noqa: E402


def generate(out: Path, limit: int | None, candidates: int, data: Path | None = None, fewshot: int = 0,
             examples: list[Path] | None = None) -> None:
    rows = holdout_rows(limit, data)
    fixtures = {name: load_fixture(name) for name in sorted({r.fixture for r in rows})}
    contexts = [(fixtures[r.fixture].root, fixture_listing(fixtures[r.fixture])) for r in rows]
    with tempfile.TemporaryDirectory() as tmp:
        pool = None
        if examples:  # the agent reads one file of examples: these files one after another
            pool = Path(tmp) / "examples.jsonl"
            pool.write_text("".join(p.read_text(encoding="utf-8").rstrip("\n") + "\n" for p in examples))
        agent = Agent(load_model(fast=True), data_path=pool, fewshot_k=fewshot, candidates=candidates)
        drafts = agent.draft_many([r.prompt for r in rows], contexts)
    with open(out, "w", encoding="utf-8") as fh:
        for i, (row, draft, context) in enumerate(zip(rows, drafts, contexts)):
            fh.write(json.dumps({"index": i, "category": row.category, "request": row.prompt,
                                 "fixture": row.fixture, "reference": row.completion, "root": context[0],
                                 "listing": context[1].text,
                                 "generations": [{"text": g.text, "mean_logprob": g.mean_logprob}
                                                 for g in draft.generations]}) + "\n")
    print(f"wrote {len(rows)} rows to {out}")


def score(path: Path, misses: Path | None, everything: bool = False, repair: bool = True,
          round_size: int | None = None) -> None:
    # the eval's run records (~25 MB for the held-out rows) are scratch: only the table and --misses are kept
    with tempfile.TemporaryDirectory(prefix="fenrir-candidates-") as tmp:
        _score(path, misses, RunStore("holdout-candidates", Path(tmp)), everything, repair, round_size)


def _score(path: Path, misses: Path | None, store: RunStore, everything: bool, repair: bool,
           round_size: int | None) -> None:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    ev = Evaluator(store, start_run(store, "model", ["holdout"]))
    runners: dict[str, SandboxRunner] = {}
    table: dict[str, list[int]] = {}
    missed = []
    second_rounds = 0
    for rec in records:
        fixture = load_fixture(rec["fixture"])
        runner = runners.setdefault(rec["fixture"], SandboxRunner(fixture, f"fixture {fixture.name}"))
        cands = [Candidate(plan=parse_plan(g["text"], rec["listing"] if repair else None), raw=g["text"],
                           mean_logprob=g["mean_logprob"], greedy=i == 0)
                 for i, g in enumerate(rec["generations"])]
        first = min(len(cands), round_size or len(cands))
        # the agent's check: the first round, and the recorded rest as its second round when none ran cleanly
        known: dict = {}
        choice, _ = check_candidates(cands[:first], runner, (lambda: cands[first:]) if len(cands) > first else None,
                                     known)
        cands = cands[:len(choice.verdicts)]  # the candidates the agent would have drawn
        seen = observe_candidates(cands, runner, known)  # all run already: read from known
        second_rounds += len(cands) > first
        case = holdout_case(ev, rec["index"], QARow(prompt=rec["request"], completion=rec["reference"],
                                                    category=rec["category"], fixture=rec["fixture"]))
        right, silent = {}, False
        for i, c in enumerate(cands):
            text = c.plan.render()
            if text not in right:
                result = ev.evaluate("holdout", case, text, "model")
                right[text], silent = result.scores.answer == 2, result.uninformative
        ok = [right[c.plan.render()] for c in cands]
        marks = [int(ok[0]), int(ok[choice.index]), int(any(ok))]
        for key in (rec["category"], "all") + (() if silent else ("informative",)):
            table.setdefault(key, [0, 0, 0, 0])
            table[key] = [a + b for a, b in zip(table[key], [1, *marks])]
        if misses is not None and (everything or not ok[choice.index]):
            missed.append({**{k: rec[k] for k in ("index", "category", "request", "fixture", "reference")},
                           "right": ok[choice.index], "uninformative": silent, "chosen": choice.index,
                           "votes": choice.votes, "survivors": choice.survivors,
                           "candidates": [{"plan": c.plan.render(), "raw": c.raw, "logprob": round(c.mean_logprob, 3),
                                           "right": o, "dropped": v.dropped, "result": v.key,
                                           "stdout": o_.stdout[:300] if o_ else None,
                                           "stderr": o_.stderr[:300] if o_ else None,
                                           "exit": o_.exit_code if o_ else None,
                                           "quiet": o_.quiet if o_ else None,
                                           "unchanged": o_.unchanged if o_ else None}
                                          for c, o, v, o_ in zip(cands, ok, choice.verdicts, seen)]})
    rows = [(k, v[0], v[1], v[2], v[3]) for k, v in sorted(table.items()) if k not in ("all", "informative")]
    rows.append(("all", *table["all"]))
    # a reference that prints nothing and changes nothing matches every silent plan: imported suites leave
    # such cases out of their means (uninformative), so this is the rate comparable with theirs
    rows.append(("informative", *table.get("informative", [0, 0, 0, 0])))
    print(tabulate(rows, headers=("category", "rows", "greedy A=2", "checked A=2", "best candidate A=2")))
    if round_size:
        print(f"{second_rounds} of {len(records)} rows drew a second round (none of their first {round_size} "
              "ran cleanly); best candidate counts the candidates the agent drew")
    if misses:
        misses.write_text("".join(json.dumps(m) + "\n" for m in missed), encoding="utf-8")
        print(f"wrote {len(missed)} missed rows to {misses}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="record the candidates' text (the slow, model part)")
    gen.add_argument("--out", type=Path, required=True)
    gen.add_argument("--rows", type=int, default=None, help="the seeded sample bench/quality.py takes (default: all)")
    gen.add_argument("--candidates", type=int, default=DEFAULT_CANDIDATES)
    gen.add_argument("--fewshot", type=int, default=0,
                     help="in-context examples from data/cli_qa.jsonl per request (default 0, as the shipped agent)")
    gen.add_argument("--examples", default=None, metavar="FILE[,FILE]",
                     help="with --fewshot: choose the examples from these training files instead of data/cli_qa.jsonl "
                          "(e.g. data/cli_qa.jsonl,data/external.jsonl); never an eval suite or a held-out file")
    gen.add_argument("--data", type=Path, default=None,
                     help="held-out rows to take (default: data/holdout.jsonl; data/holdout_external.jsonl holds "
                          "NL2Bash and tldr-pages rows no training saw)")
    sc = sub.add_parser("score", help="parse, check and score recorded candidates as this checkout's agent does")
    sc.add_argument("path", type=Path)
    sc.add_argument("--misses", type=Path, default=None, help="write the rows whose checked choice missed")
    sc.add_argument("--all", action="store_true", help="--misses gets every row, not only the missed ones")
    sc.add_argument("--round", type=int, default=DEFAULT_CANDIDATES, metavar="N",
                    help="candidates in the agent's first round (default %(default)s): a row recorded with more "
                         "(generate --candidates 2N) gets the rest as its second round when none of the first "
                         "N ran cleanly, as the agent does")
    sc.add_argument("--no-repair", action="store_true", help="leave the model's paths as written (the agent before "
                                                              "agent.repair), to measure what the repair gains")
    args = ap.parse_args()
    if args.command == "generate":
        examples = [Path(p) for p in args.examples.split(",") if p.strip()] if args.examples else None
        for p in examples or []:  # examples from the rows being scored would hand the model their answers
            if p.name.startswith("holdout") or "rubrics" in p.resolve().parts:
                ap.error(f"--examples {p}: held-out rows and eval suites are never examples; pass training files")
        generate(args.out, args.rows, args.candidates, args.data, args.fewshot, examples)
    else:
        score(args.path, args.misses, args.all, repair=not args.no_repair, round_size=args.round)


if __name__ == "__main__":
    main()
