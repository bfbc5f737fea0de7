"""The scorer against an external answer key: InterCode-ALFA's gold2 vs gold, in one run.

    python bench/icalfa.py [--suite rubrics/imported/icalfa-fs1.yaml] [--jobs 4] [--examples 8]

Every case of an imported suite is scored twice through the real sandbox and
``harness.runner.Evaluator`` (in a throwaway run folder, no overrides):

(a) gold2 as the candidate: a second command the dataset's authors judge
    equivalent to gold.  Answer 2 should be common; where it is not, the
    reasons show whether the scorer is too strict or the pair is not really
    equivalent (``ls`` vs ``ls -l``).
(b) the next case's gold as the candidate (a derangement): Answer 2 here is a
    false positive of the scorer, or a degenerate case: a reference that prints
    nothing and changes nothing (a tool missing from the image, a file that is
    not there) matches every silent candidate, as exit status and stderr are
    not compared.  Both rates are also printed without such cases.

Prints the Answer 2/1/0 counts and rates of both, and examples of gold2
disagreements with the reason.  Nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_SUITE = Path(__file__).resolve().parent.parent / "rubrics" / "imported" / "icalfa-fs1.yaml"


def _evaluator(run_dir: Path, run_id: str, suite: str):
    from harness.runner import Evaluator, RunStore, start_run

    store = RunStore(run_id, root=run_dir)
    return Evaluator(store, start_run(store, run_id, [suite]), overrides_path=run_dir / "no-overrides.yaml")


def _score_all(ev, suite: str, pairs, jobs: int):
    """pairs: (case, candidate plan text) -> list of (case, plan, CaseResult, why), in order."""
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(lambda p: ev.evaluate(suite, p[0], p[1], ev.meta.source), pairs))
    return [(case, plan, result, _why(ev, case)) for (case, plan), result in zip(pairs, results)]


def _silent(ev, case) -> bool:
    """The reference prints nothing and changes nothing: any silent candidate matches it."""
    from rubrics.compare import change_signature, normalise_text

    ref = ev.store.load_case(case.id)[2][0].reference
    return not normalise_text(ref.stdout) and not change_signature(ref.changes)


def _why(ev, case) -> str:
    """What differs between the candidate's and the reference's execution (first variant)."""
    from rubrics.compare import change_signature, normalise_text

    run = ev.store.load_case(case.id)[2][0]
    ref, cand = run.reference, run.candidate
    if cand is None:
        return "candidate ran nothing"
    notes = [f"exit {ref.exit_code}/{cand.exit_code}"]
    rs, cs = normalise_text(ref.stdout).splitlines(), normalise_text(cand.stdout).splitlines()
    if rs != cs:
        first = next((i for i, (a, b) in enumerate(zip(rs, cs)) if a != b), min(len(rs), len(cs)))
        a = rs[first] if first < len(rs) else "<end>"
        b = cs[first] if first < len(cs) else "<end>"
        notes.append(f"stdout {len(rs)} vs {len(cs)} lines, line {first + 1}: {a[:35]!r} vs {b[:35]!r}")
    rc, cc = change_signature(ref.changes), change_signature(cand.changes)
    if rc != cc:
        notes.append(f"changes {[c[0] for c in rc][:3]} vs {[c[0] for c in cc][:3]}")
    if len(notes) == 1 and (ref.stderr.strip() or cand.stderr.strip()):
        notes.append(f"stderr {cand.stderr.strip().splitlines()[-1][:60] if cand.stderr.strip() else ''!r}")
    return "; ".join(notes)


def _summary(label: str, scored) -> str:
    counts = Counter(r.judgement.scores.answer for _, _, r, _ in scored)
    n = len(scored)
    parts = ", ".join(f"Answer {a}: {counts.get(a, 0):>3} ({counts.get(a, 0) / n:6.1%})" for a in (2, 1, 0))
    return f"{label:<28} n={n:<4} {parts}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", type=Path, default=DEFAULT_SUITE, help="an imported suite with a gold2 sidecar")
    parser.add_argument("--jobs", type=int, default=4, help="plans scored at once (threads on one pool)")
    parser.add_argument("--examples", type=int, default=8, help="gold2 disagreements to print")
    args = parser.parse_args()

    from rubrics.intercode import load_alternatives
    from rubrics.suite import load_suite

    suite = load_suite(args.suite)
    alts = load_alternatives(args.suite).alternatives
    cases = list(suite.cases)
    with_gold2 = [c for c in cases if c.id in alts]
    derangement = [(c, cases[(i + 1) % len(cases)].reference) for i, c in enumerate(cases)]

    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fenrir-icalfa-") as tmp:
        gold2 = _score_all(_evaluator(Path(tmp), "gold2", suite.suite), suite.suite,
                           [(c, alts[c.id]) for c in with_gold2], args.jobs)
        ev_cross = _evaluator(Path(tmp), "cross", suite.suite)
        cross = _score_all(ev_cross, suite.suite, derangement, args.jobs)
        silent = {c.id for c, _, _, _ in cross if _silent(ev_cross, c)}
    took = time.perf_counter() - start
    report(suite, cases, with_gold2, gold2, cross, silent, took, args)


def report(suite, cases, with_gold2, gold2, cross, silent, took, args) -> None:

    print(f"suite {suite.suite}: {len(cases)} cases, {len(with_gold2)} with a gold2; "
          f"{len(gold2) + len(cross)} plans scored in {took:.1f} s (--jobs {args.jobs})\n")
    print(_summary("(a) gold2 vs gold", gold2))
    print(_summary("(b) next task's gold vs gold", cross))
    a2 = sum(r.judgement.scores.answer == 2 for _, _, r, _ in gold2) / max(len(gold2), 1)
    b2 = sum(r.judgement.scores.answer == 2 for _, _, r, _ in cross) / max(len(cross), 1)
    print(f"\nAnswer-2 rate: gold2 {a2:.1%} vs cross-task {b2:.1%}")
    print(f"\n{len(silent)} references print nothing and change nothing (missing tools, failing golds); without them:")
    print(_summary("(a) gold2 vs gold", [m for m in gold2 if m[0].id not in silent]))
    print(_summary("(b) next task's gold vs gold", [m for m in cross if m[0].id not in silent]))

    by_category = Counter()
    agree = Counter()
    for case, _, r, _ in gold2:
        by_category[case.category] += 1
        agree[case.category] += r.judgement.scores.answer == 2
    print("gold2 Answer 2 by category: " + ", ".join(
        f"{cat or '(none)'} {agree[cat]}/{by_category[cat]}" for cat in sorted(by_category)))

    false_pos = [(c, p, why) for c, p, r, why in cross if r.judgement.scores.answer == 2]
    if false_pos:
        print(f"\ncross-task Answer 2 ({len(false_pos)}):")
        for case, plan, why in false_pos[:args.examples]:
            print(f"  {case.id}: gold {case.reference.strip()[2:][:40]!r} vs {plan.strip()[2:][:40]!r} ({why})")

    misses = [m for m in gold2 if m[2].judgement.scores.answer != 2]
    print(f"\ngold2 disagreements (first {min(args.examples, len(misses))} of {len(misses)}):")
    for case, plan, r, why in misses[:args.examples]:
        print(f"  {case.id} [{case.kind.value}] Answer {r.judgement.scores.answer}: "
              f"{case.reference.strip()[2:][:40]!r} vs {plan.strip()[2:][:40]!r}\n      {why}")


if __name__ == "__main__":
    main()
