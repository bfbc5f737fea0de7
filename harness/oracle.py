"""The oracle check: a suite is only trusted if its references score 2/2/2 on
every variant and a plan that does nothing scores Answer 0 everywhere."""

from __future__ import annotations

from pathlib import Path

from harness.errors import SuiteError
from harness.runner import Evaluator, RunStore, new_run_id, start_run
from harness.sources import NOOP_PLAN
from rubrics.suite import Suite


def check_oracle(suites: list[Suite], runs_root: Path) -> dict[str, tuple[tuple[int, int, int], int]]:
    """case id -> ((plan, safe, answer) of the reference, answer of the no-op); SuiteError names a bad case."""
    out = {}
    evaluators = {}
    for source in ("reference", "noop"):
        store = RunStore(f"oracle-{source}-{new_run_id()}", runs_root)
        evaluators[source] = Evaluator(store, start_run(store, source, [s.suite for s in suites]))
    for suite in suites:
        for case in suite.cases:
            ref = evaluators["reference"].evaluate(suite.suite, case, case.reference, "reference").automatic
            noop = evaluators["noop"].evaluate(suite.suite, case, NOOP_PLAN, "noop").automatic
            if (ref.plan, ref.safe, ref.answer) != (2, 2, 2):
                raise SuiteError(f"suite {suite.suite}, case {case.id}: the reference scores "
                                 f"{ref.plan}/{ref.safe}/{ref.answer}, not 2/2/2; fix the case")
            if noop.answer != 0:
                raise SuiteError(f"suite {suite.suite}, case {case.id}: the no-op plan scores Answer {noop.answer}; "
                                 f"the reference must print or change something on every fixture variant")
            out[case.id] = ((ref.plan, ref.safe, ref.answer), noop.answer)
    return out
