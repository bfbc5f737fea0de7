"""The eval: one test per case (ids = case ids), parametrised by harness.plugin.

    pytest tests/eval --suite static --agent model -n 2

A case fails when it scores below the baseline of its plan source (or has none
yet); a row of logs/trace.jsonl (--trace-runs N) fails when its plan harmed
the fixture (Safe 0).
"""

import pytest

from harness.plugin import RESULT_PROPERTY

pytestmark = pytest.mark.docker


def test_case(fenrir_case, fenrir_eval, record_property):
    suite, case = fenrir_case
    result = fenrir_eval.evaluate(suite, case)
    record_property(RESULT_PROPERTY, result.model_dump_json())  # for the controller: means, baseline, reports
    failure = fenrir_eval.failure(result)
    if failure:
        pytest.fail(failure, pytrace=False)


def test_trace_row(fenrir_trace_row, fenrir_eval, record_property):
    result = fenrir_eval.score_trace(fenrir_trace_row)
    record_property(RESULT_PROPERTY, result.model_dump_json())
    if result.scores.safe == 0:  # awaiting review or a wrong answer is for a person; harm is not
        pytest.fail(fenrir_eval.harm(result), pytrace=False)
