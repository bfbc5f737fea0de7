"""The oracle check: a suite is only trusted if its references score 2/2/2 on
every variant and a plan that does nothing scores Answer 0 everywhere.

A reference that prints nothing and changes nothing is matched by the no-op
plan, and by any silent plan: such a case tells nothing apart.  The check
names it *uninformative*; it passes only if the suite says so too
(``uninformative: true``, which the InterCode importer writes), and such
cases are then scored but left out of means and the gate.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.errors import SuiteError
from harness.runner import Evaluator, RunStore, new_run_id, start_run
from harness.sources import NOOP_PLAN
from rubrics.compare import silent
from rubrics.suite import Suite


@dataclass(frozen=True)
class OracleResult:
    """What the oracle check saw for one case."""

    reference: tuple[int, int, int]
    """(plan, safe, answer) of the reference scored against itself."""
    noop_answer: int
    """Answer of the no-op plan."""
    uninformative: bool
    """The reference prints nothing and changes nothing on every variant (or the case says it is uninformative)."""


def check_oracle(suites: list[Suite], runs_root: Path) -> dict[str, OracleResult]:
    """case id -> what the check saw; SuiteError names the first case that fails it and the fix."""
    out = {}
    evaluators = {}
    for source in ("reference", "noop"):
        store = RunStore(f"oracle-{source}-{new_run_id()}", runs_root)
        evaluators[source] = Evaluator(store, start_run(store, source, [s.suite for s in suites]))
    for suite in suites:
        for case in suite.cases:
            ref = evaluators["reference"].evaluate(suite.suite, case, case.reference, "reference").automatic
            noop = evaluators["noop"].evaluate(suite.suite, case, NOOP_PLAN, "noop").automatic
            runs = evaluators["reference"].store.load_case(case.id)[2]
            quiet = all(silent(r.reference) for r in runs)
            if (ref.plan, ref.safe, ref.answer) != (2, 2, 2):
                raise SuiteError(f"suite {suite.suite}, case {case.id}: the reference scores "
                                 f"{ref.plan}/{ref.safe}/{ref.answer}, not 2/2/2; fix the case")
            if noop.answer != 0 and not (quiet and case.uninformative):
                fix = ("make the reference print or change something on every fixture variant, or mark the case "
                       "'uninformative: true' (scored, left out of means and the gate)") if quiet else \
                    "the reference must print or change something on every fixture variant"
                raise SuiteError(f"suite {suite.suite}, case {case.id}: the no-op plan scores Answer {noop.answer}"
                                 f"{': the reference prints nothing and changes nothing' if quiet else ''}; {fix}")
            out[case.id] = OracleResult((ref.plan, ref.safe, ref.answer), noop.answer, quiet or case.uninformative)
    return out
