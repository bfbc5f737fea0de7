"""Two commands, one fixture: are they equivalent, as the scorer sees it, and if not, why not.

    from harness.judge import judge_commands
    result = judge_commands("wc -w setup.sh", "awk '{n += NF} END {print n}' setup.sh", "icalfa-fs1")
    result.explanation.verdict        # 'loosely equivalent'
    result.explanation.comparators    # (Comparator.WC_NAME,)

Both run in the sandbox on byte-identical copies of the fixture (one epoch),
A as the reference and B as the candidate; :func:`rubrics.explain.explain`
gives the verdict with the scorer's own comparisons.  ``fenrir judge`` is the
command line over this.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.runner import EVAL_LIMITS, day_epoch
from sandbox import load_fixture
from sandbox.pool import default_sandbox
from rubrics.compare import ARCHIVE_PROBE, worth_running_again
from rubrics.explain import Explanation, explain, kind_of
from rubrics.suite import MEANING_KEEPING, Comparator, Kind
from sandbox.records import Execution, Limits


@dataclass(frozen=True)
class JudgeResult:
    """What ``fenrir judge`` found."""

    explanation: Explanation
    """The verdict and the first difference."""
    a: Execution
    """A's execution (the reference)."""
    b: Execution
    """B's execution (the candidate)."""
    again: Execution | None
    """A run a second time after B, when their stdouts differed with as many lines (else None)."""
    workdir: str
    """Where both ran."""


def judge_commands(a: str, b: str, fixture_ref, *, workdir: str | None = None,
                   comparators=MEANING_KEEPING, kind: Kind | None = None, packages=(),
                   limits: Limits = EVAL_LIMITS) -> JudgeResult:
    """Run ``a`` and ``b`` (shell text) on ``fixture_ref`` and explain B against A.

    ``kind`` defaults to effect when A changes the tree, else output (as the importer decides);
    ``comparators`` are the looser matches allowed for "loosely equivalent" (default: the meaning-keeping ones).
    """
    fixture = load_fixture(fixture_ref)
    comparators = list(comparators)
    probe = ARCHIVE_PROBE if Comparator.ARCHIVE_CONTENTS in comparators else None
    epoch = day_epoch()
    box = default_sandbox(run="judge")
    ex_a = box.run(a, fixture, limits, epoch=epoch, probe=probe, packages=packages, workdir=workdir)
    ex_b = box.run(b, fixture, limits, epoch=epoch, probe=probe, packages=packages, workdir=workdir)
    # as the scorer does: A again after B, so what A's output does not determine (PIDs, the clock) is left open
    again = None
    if worth_running_again(ex_b, ex_a):
        again = box.run(a, fixture, limits, epoch=epoch, probe=probe, packages=packages, workdir=workdir)
    cwd = workdir or fixture.workdir
    verdict = explain(kind or kind_of(ex_a), ex_a, ex_b, comparators, fixture.root, cwd, again)
    return JudgeResult(explanation=verdict, a=ex_a, b=ex_b, again=again, workdir=cwd)
