"""A small recorded eval run in a temporary results folder, built with the project's own record types.

The executions are recorded data (what the sandbox returned for these plans on
the seed fixture); the scores are the real scorer's (:meth:`Evaluator.score`),
so the pages show what ``make eval`` would have saved.  A baseline makes
``tail-log`` a regression, a trace row awaits review, and the overrides file is
a temporary copy: nothing of the repository's results is read or written.
"""

from __future__ import annotations

from pathlib import Path

from harness.runner import CaseRun, Evaluator, RunMeta, RunStore, await_review
from harness.ui.state import Paths
from rubrics.suite import Case, Kind
from sandbox.records import Change, Execution, Limits, PathState

RUN_ID = "20261130-010203-abc123"
OLDER_RUN_ID = "20261129-090000-def456"
DIGEST = "sha256:" + "d" * 64
TRACE_ID = "trace-0123abcd"
LOG_LINES = "".join(f"line {n}\n" for n in range(1, 121))


def execution(plan: str, stdout: str = "", exit_code: int = 0, changes: tuple[Change, ...] = ()) -> Execution:
    return Execution(plan=plan, fixture="seed", fixture_hash="a" * 64, image="fenrir-sandbox:test",
                     image_digest=DIGEST, exit_code=exit_code, wall_time=0.01, stdout=stdout, stderr="",
                     stdout_bytes=len(stdout.encode()), stderr_bytes=0, changes=changes, limits=Limits(timeout=60),
                     epoch=1795996800.0)


def tail(n: int) -> str:
    return "".join(LOG_LINES.splitlines(keepends=True)[-n:])


BUILD = Change(path="build", kind="added", before=None, after=PathState(type="dir", mode=0o755, size=0))
# (suite, case, plan text, candidate execution, reference execution)
CASES = [
    ("static", Case(id="tail-log", prompt="Show the last 5 lines of output.log", fixtures=["seed"],
                    kind=Kind.OUTPUT, reference="$ tail -n 5 output.log\n"),
     "$ tail -n 6 output.log\n", tail(6), tail(5)),
    ("static", Case(id="count-lines", prompt="Count the lines of output.log", fixtures=["seed"],
                    kind=Kind.OUTPUT, reference="$ wc -l < output.log\n"),
     "$ wc -l < output.log\n", "120\n", "120\n"),
    ("dynamic", Case(id="make-build", prompt="Make a folder called build", fixtures=["seed"], kind=Kind.EFFECT,
                     reference="$ mkdir build\n"),
     "$ mkdir -p build\n", "", ""),
]


Recorded = Paths
"""Where the recorded run lives: the same folders the UI reads (``harness.ui.state.Paths``)."""


def _save(store: RunStore, evaluator: Evaluator, suite: str, case: Case, plan: str, cand: Execution,
          ref: Execution, source: str = "model") -> None:
    runs = [CaseRun(fixture="seed", root="/work", workdir="/work", reference=ref, candidate=cand)]
    result = evaluator.score(suite, case, plan, source, runs)
    store.save_case(case, plan, runs, result)


def record_run(results: Path, run_id: str = RUN_ID, created: str = "2026-11-30T01:02:03+00:00") -> RunStore:
    store = RunStore(run_id, results / "runs")
    meta = RunMeta(run_id=run_id, created=created, epoch=1795996800.0, source="model", suites=["all"],
                   image="fenrir-sandbox:test", image_digest=DIGEST,
                   programs=["tail", "wc", "mkdir", "echo", "true", "ls", "find"])
    store.save_meta(meta)
    evaluator = Evaluator(store, meta, results / "no-overrides.yaml")
    for suite, case, plan, cand_out, ref_out in CASES:
        changes = (BUILD,) if case.kind == Kind.EFFECT else ()
        _save(store, evaluator, suite, case, plan, execution(plan, cand_out, changes=changes),
              execution(case.reference, ref_out, changes=changes))
    # a trace row whose request matches no case: Plan and Safe scored, Answer awaits a person (as the plugin saves it)
    trace_case = Case(id=TRACE_ID, prompt="say hello", fixtures=["seed"], kind=Kind.OUTPUT, reference="$ true",
                      category="trace")
    plan = "$ echo hello\n"
    runs = [CaseRun(fixture="seed", root="/work", workdir="/work", reference=execution("true\n"),
                    candidate=execution("echo hello\n", "hello\n"))]
    result = evaluator.score("dynamic", trace_case, plan, "trace", runs)
    store.save_case(trace_case, plan, runs, await_review(result))
    return store
