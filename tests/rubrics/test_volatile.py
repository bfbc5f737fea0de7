"""A reference whose output changes by itself (PIDs, the clock, counters), on recorded executions (no Docker).

The harness runs such a reference a second time after the candidate; what differs between its two runs is
left open, field by field and shape by shape, and nothing else is.
"""

from __future__ import annotations

import pytest

from rubrics.compare import volatility, worth_running_again
from rubrics.explain import explain
from rubrics.score import judge
from rubrics.suite import Case, Kind
from tests.rubrics.test_explain import PROGRAMS, added, ex

PS_1 = "    PID TTY          TIME CMD\n      8 ?        00:00:00 ps\n"
PS_2 = "    PID TTY          TIME CMD\n     12 ?        00:00:00 ps\n"


@pytest.mark.parametrize("first, again, candidate", [
    (PS_1, PS_2, "    PID TTY          TIME CMD\n    310 ?        00:00:00 ps\n"),       # width of a PID column
    ("8\n", "12\n", "10\n"),                                                            # echo $$
    ("Mon Nov 30 23:04:47 UTC 2026\n", "Mon Nov 30 23:04:49 UTC 2026\n", "Mon Nov 30 23:04:48 UTC 2026\n"),
    ("uuid = 5436743f-cd2b-4779\n", "uuid = 987ffcbc-09d7-4e18\n", "uuid = 0a1b2c3d-9e9e-aaaa\n"),
    ("a\nfs.dentry = 1647\t1608\t45\t0\nz\n", "a\nfs.dentry = 1655\t1617\t45\t0\nz\n", "a\nfs.dentry = 1650\t1611\t45\t0\nz\n"),
])
def test_what_changed_between_the_two_runs_is_left_open(first, again, candidate):
    v = volatility(first, again)
    assert v is not None and v.matches(candidate) and v.matches(first) and v.matches(again)


@pytest.mark.parametrize("first, again, candidate", [
    ("8\n", "12\n", "hello\n"),                                    # a number stays a number
    ("8\n", "12\n", "8 9\n"),                                      # one field stays one field
    (PS_1, PS_2, "    PID TTY          TIME CMD\n     10 ?        00:00:00 bash\n"),  # what did not change must match
    (PS_1, PS_2, "    PID TTY          TIME CMD\n"),               # as many lines
    ("Mon Nov 30 23:04:47 UTC 2026\n", "Mon Nov 30 23:04:49 UTC 2026\n", "Mon Nov 30 23:04 UTC 2026\n"),
    ("a\nb\n", "a\nb\nc\n", "a\nx\n"),                             # a line only one run printed loosens nothing
])
def test_what_did_not_change_still_counts(first, again, candidate):
    v = volatility(first, again)
    assert v is None or not v.matches(candidate)


def test_runs_that_agree_leave_nothing_open():
    assert volatility("a  \nb\n\n", "a\nb") is None
    assert volatility("a\nb\n", "a\nb\nc\n") is None  # lines came: nothing within a line changed


def test_the_reference_runs_again_only_when_that_could_change_the_verdict():
    assert worth_running_again(ex("10\n"), ex("8\n"))
    assert not worth_running_again(ex("8\n"), ex("8\n"))          # already the same
    assert not worth_running_again(ex("8\n9\n"), ex("8\n"))       # more lines: nothing left open can help
    assert not worth_running_again(ex("x\n"), ex(""))             # a silent reference leaves nothing open


def test_the_scorer_gives_answer_2_and_says_why_only_with_the_second_run():
    case = Case(id="pid", prompt="show the shell's pid", fixtures=["f"], kind="output", reference="$ echo $$\n")
    plan = '$ echo "$$"\n'
    alone = judge(case, plan, [(ex("10\n"), ex("8\n"))], PROGRAMS)
    assert alone.scores.answer == 0
    with_again = judge(case, plan, [(ex("10\n"), ex("8\n"), ex("12\n"))], PROGRAMS)
    assert with_again.scores.answer == 2 and with_again.variants[0].volatile
    assert "what changed when the reference ran again" in with_again.reasons["answer"]
    # a reference that did not change when it ran again leaves nothing open
    assert judge(case, plan, [(ex("10\n"), ex("8\n"), ex("8\n"))], PROGRAMS).scores.answer == 0
    # the changes still count: printing the PID and writing a file is not what was asked
    assert judge(case, plan, [(ex("10\n", [added("x")]), ex("8\n"), ex("12\n"))], PROGRAMS).scores.answer == 0


def test_the_explanation_counts_what_was_left_open():
    verdict = explain(Kind.OUTPUT, ex(PS_1), ex(PS_2.replace("12", "10")), (), "", "/", again=ex(PS_2))
    assert (verdict.verdict, verdict.volatile, verdict.difference) == ("equivalent", 1, None)
    assert explain(Kind.OUTPUT, ex(PS_1), ex(PS_2.replace("12", "10"))).verdict == "different"
