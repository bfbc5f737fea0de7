"""The meaning-keeping comparators and the judge's explanations, on recorded executions (no Docker)."""

from __future__ import annotations

import pytest

from rubrics.compare import loose_match
from rubrics.explain import explain, first_difference, kind_of
from rubrics.score import judge
from rubrics.suite import MEANING_KEEPING, Case, Comparator, Kind
from sandbox.records import Change, Execution, Limits, PathState

C = Comparator
PROGRAMS = frozenset({"wc", "find"})


def ex(stdout: str = "", changes=(), **kw) -> Execution:
    base = dict(plan="x", fixture="f", fixture_hash="h", image="i", image_digest="sha256:" + "0" * 64,
                exit_code=0, wall_time=0.01, stderr="", stdout_bytes=len(stdout), stderr_bytes=0, limits=Limits())
    base.update(kw)
    return Execution(stdout=stdout, changes=tuple(changes), **base)


def added(path: str) -> Change:
    return Change(path=path, kind="added", before=None, after=PathState(type="file", mode=0o644, size=3,
                                                                         sha256="b" * 64))


def removed(path: str) -> Change:
    return Change(path=path, kind="removed", before=PathState(type="file", mode=0o644, size=3, sha256="a" * 64),
                  after=None)


@pytest.mark.parametrize("a, b, comparator, workdir", [
    ("441 setup.sh\n", "441\n", C.WC_NAME, "/"),
    ("  12  34 567 a.txt\n  3 4 5 b.txt\n", "12 34 567\n3 4 5\n", C.WC_NAME, "/"),
    ("3.4\n", "3.4 words\n", C.WC_NAME, "/"),
    ("/usr/local/bin\n", "/usr/local/bin/\n", C.TRAILING_SLASH, "/"),
    ("d41d8cd98f00b204e9800998ecf8427e  -\n", "d41d8cd98f00b204e9800998ecf8427e\n", C.MD5SUM_DASH, "/"),
    ("/testbed/dir1/a.txt\n", "testbed/dir1/a.txt\n", C.RELATIVE_PATHS, "/"),
    ("/testbed/dir1/a.txt\n/testbed\n", "./dir1/a.txt\n.\n", C.RELATIVE_PATHS, "/testbed"),
    ("abc  /work/x.py\n", "abc  x.py\n", C.RELATIVE_PATHS, "/work"),
    ("/work/x.py:3:hello\n", "./x.py:3:hello\n", C.RELATIVE_PATHS, "/work"),
])
def test_each_comparator_matches_what_it_names_and_only_under_its_name(a, b, comparator, workdir):
    ref, cand = ex(a), ex(b)
    assert loose_match("output", cand, ref, [comparator], "", workdir)
    others = [c for c in MEANING_KEEPING if c != comparator]
    assert not loose_match("output", cand, ref, others, "", workdir)
    verdict = explain(Kind.OUTPUT, ref, cand, MEANING_KEEPING, "", workdir)
    assert (verdict.verdict, verdict.comparators) == ("loosely equivalent", (comparator,))


@pytest.mark.parametrize("a, b, workdir", [
    ("441 setup.sh\n", "442\n", "/"),                      # another number
    ("2 apples\n", "2 pears\n", "/"),                      # names are not dropped when both sides have one
    ("12 34\n", "12\n", "/"),                              # numbers are not dropped
    ("/usr/local/bin\n", "/usr/bin/\n", "/"),
    ("d41d8cd98f00b204e9800998ecf8427e  -\n", "d41d8cd98f00b204e9800998ecf8427f\n", "/"),
    ("d41d8cd98f00b204e9800998ecf8427e  a.txt\n", "d41d8cd98f00b204e9800998ecf8427e\n", "/"),
    ("/testbed/dir1/a.txt\n", "dir1/a.txt\n", "/"),        # relative to the workdir, not to some root
    ("/etc/hosts\n", "hosts\n", "/etc/x"),
    ("ls -l\n", "ls\n", "/"),
    ("a\nb\n", "b\na\n", "/"),                             # order still counts
])
def test_comparators_keep_meaning(a, b, workdir):
    assert not loose_match("output", ex(b), ex(a), list(MEANING_KEEPING), "", workdir)
    assert explain(Kind.OUTPUT, ex(a), ex(b), MEANING_KEEPING, "", workdir).verdict == "different"


def test_a_case_declaring_comparators_gets_answer_1_and_others_answer_0():
    c = Case(id="c", prompt="count words", fixtures=["f"], kind="output", reference="$ wc -w a.sh",
             compare=[C.WC_NAME])
    assert judge(c, "$ wc -w < a.sh", [(ex("441\n"), ex("441 a.sh\n"))], PROGRAMS).scores.answer == 1
    bare = c.model_copy(update={"compare": []})
    assert judge(bare, "$ wc -w < a.sh", [(ex("441\n"), ex("441 a.sh\n"))], PROGRAMS).scores.answer == 0
    cwd = c.model_copy(update={"compare": [C.RELATIVE_PATHS]})
    runs = [(ex("testbed/a\n"), ex("/testbed/a\n"))]
    assert judge(cwd, "$ find testbed", runs, PROGRAMS, root="/testbed", workdir="/").scores.answer == 1
    assert judge(cwd, "$ find testbed", runs, PROGRAMS, root="/testbed").scores.answer == 0  # workdir: the root


def test_the_first_difference_names_the_channel():
    assert explain(Kind.OUTPUT, ex("a\nb\n"), ex("a\nb  \n\n")).verdict == "equivalent"
    assert first_difference(Kind.OUTPUT, ex("a\nb\n"), ex("a\nc\nd\n")) == "stdout line 2: A 'b', B 'c'"
    assert first_difference(Kind.OUTPUT, ex("a\n"), ex("a\nd\n")) == "stdout line 2: A (no line), B 'd'"
    assert first_difference(Kind.OUTPUT, ex("", exit_code=1), ex("")) == (
        "exit status: A 1, B 0 (A prints nothing and changes nothing: its exit status is its answer)")
    assert first_difference(Kind.EFFECT, ex("", [added("dir1/abc.txt")]), ex("")) == (
        "changed path dir1/abc.txt: A added (file 0644, 3 B, sha256 bbbbbbbbbbbb), B leaves it")
    assert first_difference(Kind.EFFECT, ex("", [removed("x")]), ex("", [added("x")])).startswith(
        "changed path x: A removed, B added (file")
    assert first_difference(Kind.EFFECT, ex(""), ex("progress\n")) is None  # effect: B's chatter does not count
    verdict = explain(Kind.OUTPUT, ex("/usr/local/bin\n"), ex("/usr/local/bin/\n"), MEANING_KEEPING)
    assert verdict.difference == "stdout line 1: A '/usr/local/bin', B '/usr/local/bin/'"
    wrong = explain(Kind.OUTPUT, ex("x/\ny\n"), ex("x\nz\n"), MEANING_KEEPING)
    assert wrong.verdict == "different" and wrong.difference == "stdout line 1: A 'x/', B 'x'"
    assert wrong.remaining == "stdout line 2: A 'y', B 'z'"  # what the comparators leave
    assert explain(Kind.OUTPUT, ex(""), ex("")).uninformative
    assert kind_of(ex("", [added("a")])) == Kind.EFFECT and kind_of(ex("hi\n")) == Kind.OUTPUT


def test_a_loose_match_names_only_the_comparators_it_takes():
    a, b = ex("/testbed/bin/ 441\n"), ex("testbed/bin 441\n")
    verdict = explain(Kind.OUTPUT, a, b, MEANING_KEEPING, "", "/")
    assert verdict.verdict == "loosely equivalent"
    assert verdict.comparators == (C.TRAILING_SLASH, C.RELATIVE_PATHS)
