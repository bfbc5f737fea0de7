"""The eval: one test per case (ids = case ids), parametrised by harness.plugin.

    pytest tests/eval --suite static --agent model -n 2
"""

from harness.plugin import RESULT_PROPERTY, score_trace_row


def test_case(fenrir_case, fenrir_eval, request):
    suite, case = fenrir_case
    fenrir_eval.check(request.node, suite, case)


def test_trace_row(fenrir_trace_row, fenrir_eval, request):
    result = score_trace_row(fenrir_eval, fenrir_trace_row)
    request.node.user_properties.append((RESULT_PROPERTY, result.model_dump_json()))
