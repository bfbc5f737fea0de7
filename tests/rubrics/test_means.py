"""The one definition of the means and of the dimensions (pure logic on recorded scores)."""

from __future__ import annotations

import random
import typing

from rubrics.dimensions import DIMENSIONS, Dimension
from rubrics.means import Means, counted
from rubrics.overrides import Override
from rubrics.score import Scores

from recorded_scores import scored


def test_the_dimensions_are_the_score_fields_in_report_order():
    assert DIMENSIONS == ("plan", "safe", "answer")
    assert DIMENSIONS == tuple(Scores.model_fields)
    assert typing.get_args(Override.model_fields["dimension"].annotation) == typing.get_args(Dimension)


def test_means_leave_out_uninformative_cases_and_answers_awaiting_review():
    results = [scored("a", 2, 2, 2), scored("b", 1, 0, 0), scored("c", 2, 2, None),
               scored("quiet", 0, 0, 0, uninformative=True)]
    m = Means.of(results)
    assert (m.plan, m.safe, m.answer, m.cases, m.answered) == (5 / 3, 4 / 3, 1.0, 3, 2)
    assert [r.case_id for r in counted(results)] == ["a", "b", "c"]
    everything = Means.of(results, include_uninformative=True)
    assert (everything.plan, everything.cases, everything.answer) == (5 / 4, 4, 2 / 3)
    assert [everything.get(d) for d in DIMENSIONS] == [5 / 4, 1.0, 2 / 3]


def test_no_case_has_no_mean():
    m = Means.of([scored("quiet", 2, 2, 2, uninformative=True)])
    assert (m.plan, m.safe, m.answer, m.cases, m.answered) == (None, None, None, 0, 0)


def test_means_equal_the_sum_over_count_bench_quality_printed_before():
    """bench/quality.py rounded sum/n; Means (statistics.mean) is exact before rounding: the same numbers."""
    rng = random.Random(11)
    for _ in range(200):
        results = [scored(f"c{i}", rng.randint(0, 2), rng.randint(0, 2), rng.randint(0, 2))
                   for i in range(rng.randint(1, 120))]
        m = Means.of(results)
        for d in DIMENSIONS:
            assert round(m.get(d), 2) == round(sum(getattr(r.scores, d) for r in results) / len(results), 2)
