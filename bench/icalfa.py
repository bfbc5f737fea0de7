"""The scorer against an external answer key: InterCode-ALFA's gold2 vs gold, in one run.

    python bench/icalfa.py [--suite rubrics/imported/icalfa-fs1.yaml] [--jobs 4] [--examples 8]

Every case of an imported suite is scored twice through the real sandbox and
``harness.runner.Evaluator`` (in a throwaway run folder, no overrides), with
the comparators each case declares (the importer declares the meaning-keeping
ones: Answer 1 for ``441 a.sh`` vs ``441``):

(a) gold2 as the candidate: a second command the dataset's authors judge
    equivalent to gold.  Answer >= 1 should be the rule; where it is not, the
    first difference shows whether the scorer is too strict or the pair is not
    really equivalent (``ls`` vs ``ls -l``).
(b) the next case's gold as the candidate (a rotation): Answer >= 1 here is a
    false positive of the scorer, or two tasks whose answers coincide.

Rates are over the informative cases: a reference that prints nothing and
changes nothing (uninformative) matches every silent candidate and says
nothing about the scorer.  Prints the Answer >= 1 and Answer 2 rates of both,
the gold2 misses grouped by where they first differ (stdout, exit status,
changed path) with that difference, and the rotated matches.  Nothing is
asserted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's packages

from data.intercode import load_alternatives  # noqa: E402
from harness.paths import rubrics_dir  # noqa: E402
from harness.runner import Evaluator, RunStore, start_run  # noqa: E402
from rubrics.explain import explain  # noqa: E402
from rubrics.suite import load_suite  # noqa: E402


def _evaluator(run_dir: Path, run_id: str, suite: str):
    store = RunStore(run_id, root=run_dir)
    return Evaluator(store, start_run(store, run_id, [suite]), overrides_path=run_dir / "no-overrides.yaml")


def _score_all(ev, suite: str, pairs, jobs: int):
    """pairs: (case, candidate plan text) -> list of (case, plan, CaseResult, Explanation), in order."""
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(lambda p: ev.evaluate(suite, p[0], p[1], ev.meta.source), pairs))
    return [(case, plan, result, _explain(ev, case)) for (case, plan), result in zip(pairs, results)]


def _explain(ev, case):
    """Why the candidate does (not) match, as the scorer sees it (first variant)."""
    run = ev.store.load_case(case.id)[2][0]
    if run.candidate is None:
        return None
    return explain(case.kind, run.reference, run.candidate, case.compare, run.root, run.workdir or run.root,
                   run.reference_again)


def rates(scored) -> tuple[int, float, float]:
    """(informative cases, Answer >= 1 rate, Answer 2 rate)."""
    kept = [r for _, _, r, _ in scored if not r.uninformative]
    n = len(kept)
    at_least_1 = sum((r.judgement.scores.answer or 0) >= 1 for r in kept)
    exact = sum(r.judgement.scores.answer == 2 for r in kept)
    return n, at_least_1 / max(n, 1), exact / max(n, 1)


def _line(label: str, scored) -> str:
    n, one, two = rates(scored)
    return f"{label:<30} informative n={n:<4} Answer>=1 {one:6.1%}   Answer 2 {two:6.1%}"


def channel(why) -> str:
    """Where a miss first differs: stdout, exit status, changed path, or nothing left (a loose match)."""
    if why is None or why.difference is None:
        return "(none)"
    return why.difference.split(":", 1)[0].split(" line ")[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", type=Path, default=None,
                        help="an imported suite with a gold2 sidecar (default: rubrics/imported/icalfa-fs1.yaml)")
    parser.add_argument("--jobs", type=int, default=4, help="plans scored at once (threads on one pool)")
    parser.add_argument("--examples", type=int, default=8, help="gold2 misses to print per group")
    args = parser.parse_args()
    args.suite = args.suite or rubrics_dir() / "imported" / "icalfa-fs1.yaml"
    suite = load_suite(args.suite)
    alts = load_alternatives(args.suite).alternatives
    cases = list(suite.cases)
    with_gold2 = [c for c in cases if c.id in alts]
    rotation = [(c, cases[(i + 1) % len(cases)].reference) for i, c in enumerate(cases)]

    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fenrir-icalfa-") as tmp:
        gold2 = _score_all(_evaluator(Path(tmp), "gold2", suite.suite), suite.suite,
                           [(c, alts[c.id]) for c in with_gold2], args.jobs)
        rotated = _score_all(_evaluator(Path(tmp), "rotated", suite.suite), suite.suite, rotation, args.jobs)
    report(suite, cases, gold2, rotated, time.perf_counter() - start, args)


def report(suite, cases, gold2, rotated, took, args) -> None:
    left_out = sum(r.uninformative for _, _, r, _ in gold2)
    print(f"suite {suite.suite}: {len(cases)} cases, {len(gold2)} with a gold2, {left_out} uninformative "
          f"(left out of the rates); {len(gold2) + len(rotated)} plans scored in {took:.1f} s (--jobs {args.jobs})\n")
    print(_line("(a) gold2 vs gold", gold2))
    print(_line("(b) next task's gold vs gold", rotated))
    counts = Counter(r.judgement.scores.answer for _, _, r, _ in gold2 if not r.uninformative)
    print(f"\n(a) by Answer: 2: {counts[2]}, 1: {counts[1]}, 0: {counts[0]}")
    loose = Counter(c.value for _, _, r, why in gold2 if not r.uninformative and r.judgement.scores.answer == 1
                    and why is not None for c in why.comparators)
    if loose:
        print("(a) Answer 1 by comparator: " + ", ".join(f"{name} {n}" for name, n in loose.most_common()))
    for label, scored in (("(a)", gold2), ("(b)", rotated)):
        volatile = [(c, p) for c, p, r, _ in scored
                    if not r.uninformative and any(v.volatile for v in r.judgement.variants)]
        if volatile:
            print(f"{label} matched only with what the reference's second run changed left open ({len(volatile)}): "
                  + ", ".join(f"{c.id} {c.reference.strip()[2:][:24]!r} vs {p.strip()[2:][:24]!r}"
                              for c, p in volatile[:args.examples]))

    false_pos = [(c, p, r, why) for c, p, r, why in rotated if not r.uninformative and r.judgement.scores.answer]
    if false_pos:
        print(f"\n(b) rotated golds scoring Answer >= 1 ({len(false_pos)}):")
        for case, plan, r, why in false_pos[:args.examples]:
            print(f"  {case.id} Answer {r.judgement.scores.answer}: gold {case.reference.strip()[2:][:40]!r} "
                  f"vs {plan.strip()[2:][:40]!r}")

    misses = [m for m in gold2 if not m[2].uninformative and m[2].judgement.scores.answer == 0]
    groups: dict[str, list] = {}
    for m in misses:
        groups.setdefault(channel(m[3]), []).append(m)
    print(f"\n(a) gold2 misses (Answer 0) on informative cases: {len(misses)}, by where they first differ:")
    for name, members in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        print(f"  {name}: {len(members)}")
        for case, plan, r, why in members[:args.examples]:
            print(f"    {case.id} [{case.kind.value}] {case.reference.strip()[2:][:38]!r} vs "
                  f"{plan.strip()[2:][:38]!r}\n        {why.difference if why else 'candidate ran nothing'}")


if __name__ == "__main__":
    main()
