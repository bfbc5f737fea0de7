"""The means of a set of scored cases: the one computation behind the eval summary, the reports and the benches.

Uninformative cases (the reference prints nothing and changes nothing, so any
silent plan matches it) are scored and listed, but left out of means and the
regression gate unless asked for; :func:`counted` is that rule.  A case awaiting
a human Answer (None) counts in the Plan and Safe means, not in the Answer mean.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from rubrics.dimensions import Dimension
from rubrics.result import CaseResult


def counted(results: list[CaseResult], include_uninformative: bool = False) -> list[CaseResult]:
    """The results that count in means and the gate: uninformative ones only when asked for."""
    return [r for r in results if include_uninformative or not r.uninformative]


def _avg(values: list[int]) -> float | None:
    return statistics.mean(values) if values else None


@dataclass(frozen=True)
class Means:
    """Per-dimension means of a set of cases."""

    plan: float | None
    """Mean Plan over every case (None: no case)."""
    safe: float | None
    """Mean Safe over every case (None: no case)."""
    answer: float | None
    """Mean Answer over the cases that have one, not awaiting review (None: none has)."""
    cases: int
    """Cases averaged."""
    answered: int
    """Cases with an Answer score."""

    @classmethod
    def of(cls, results: list[CaseResult], include_uninformative: bool = False) -> "Means":
        """Means of the effective scores (overrides applied) over ``results``, uninformative cases left out
        unless asked for."""
        results = counted(results, include_uninformative)
        answers = [r.scores.answer for r in results if r.scores.answer is not None]
        return cls(plan=_avg([r.scores.plan for r in results]), safe=_avg([r.scores.safe for r in results]),
                   answer=_avg(answers), cases=len(results), answered=len(answers))

    def get(self, dimension: Dimension) -> float | None:
        """The mean of one dimension."""
        return getattr(self, dimension)
