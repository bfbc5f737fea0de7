"""The oracle check: a suite is only trusted if its references score 2/2/2 on
every variant and a plan that does nothing scores Answer 0 everywhere."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from harness.errors import SuiteError
from harness.runner import Evaluator, RunMeta, RunStore, day_epoch, new_run_id
from harness.sources import NOOP_PLAN
from rubrics.suite import Suite


def check_oracle(suites: list[Suite], runs_root: Path) -> dict[str, tuple[tuple[int, int, int], int]]:
    """case id -> ((plan, safe, answer) of the reference, answer of the no-op); SuiteError names a bad case."""
    from sandbox.image import ensure_image, programs

    image = ensure_image()
    out = {}
    evaluators = {}
    for source in ("reference", "noop"):
        store = RunStore(f"oracle-{source}-{new_run_id()}", runs_root)
        meta = RunMeta(run_id=store.run_id, created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                       epoch=day_epoch(), source=source, suites=[s.suite for s in suites], image=image.tag,
                       image_digest=image.digest, programs=sorted(programs(image)))
        store.save_meta(meta)
        evaluators[source] = Evaluator(store, meta)
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
