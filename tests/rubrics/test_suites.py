"""Suite files: validation, and the oracle check every shipped suite must pass."""

from __future__ import annotations

import pytest

from harness.errors import SuiteError
from rubrics.suite import builtin_suites, load_suite, resolve_suites
from sandbox.fixture import ImageSpec


def test_shipped_suites_load_with_the_required_coverage():
    static, dynamic = load_suite(builtin_suites()["static"]), load_suite(builtin_suites()["dynamic"])
    assert len(static.cases) == 8 and len(dynamic.cases) == 7
    assert {c.category for c in static.cases} >= {"find", "grep", "tar", "git", "head_tail", "wc", "du", "sed"}
    assert all(len(c.fixtures) >= 1 for c in static.cases + dynamic.cases)


@pytest.mark.parametrize("text, message", [
    ("cases: [", "not valid YAML"),
    ("suite: s\ncases:\n  - {id: a, prompt: hello there, fixtures: [seed], kind: output, reference: ls}",
     r"case a: reference: .*'\$ ' command"),
    ("suite: s\ncases:\n  - {id: a, prompt: hello there, fixtures: [seed], kind: guess, reference: '$ ls'}",
     r"case a: kind: "),
    ("suite: s\ncases:\n  - {id: a, prompt: hello there, fixtures: [], kind: output, reference: '$ ls'}",
     r"case a: fixtures: "),
    ("suite: s\ncases:\n  - {id: a, prompt: hello there, fixtures: [seed], kind: output, reference: '$ ls', extra: 1}",
     r"case a: extra: Extra inputs"),
    ("suite: s\ncases:\n  - {id: a, prompt: hi there, fixtures: [seed], kind: output, reference: '$ ls'}\n"
     "  - {id: a, prompt: hi again, fixtures: [seed], kind: output, reference: '$ ls'}", "appears twice"),
])
def test_malformed_suites_name_file_case_and_field(tmp_path, text, message):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(SuiteError, match=message) as info:
        load_suite(path)
    assert str(path) in str(info.value)


def test_a_suite_image_reaches_every_case_and_new_fields_leave_old_fingerprints_alone(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("suite: s\nimage: {packages: [tree]}\ncases:\n"
                    "  - {id: a, prompt: show the tree, fixtures: [mini], kind: output, reference: '$ tree'}\n"
                    "  - {id: b, prompt: show the processes, fixtures: [mini], kind: output, reference: '$ pstree',\n"
                    "     image: {packages: [psmisc]}, uninformative: true}\n")
    a, b = load_suite(path).cases
    assert (a.packages, b.packages, a.uninformative, b.uninformative) == (("tree",), ("psmisc", "tree"), False, True)
    plain = load_suite(builtin_suites()["static"]).cases[0]
    assert plain.fingerprint == plain.model_copy(update={"uninformative": True}).fingerprint
    assert plain.fingerprint != plain.model_copy(update={"image": ImageSpec(packages=["tree"])}).fingerprint
    path.write_text("suite: s\ncases:\n  - {id: a, prompt: show it, fixtures: [mini], kind: output, "
                    "reference: '$ ls', image: {packages: [Bad_Name]}}\n")
    with pytest.raises(SuiteError, match=r"case a: image\.packages: .*'Bad_Name' is not a Debian package name"):
        load_suite(path)


def test_unknown_suite_is_a_clear_error():
    with pytest.raises(SuiteError, match="does not exist"):
        resolve_suites("nope.yaml")


@pytest.mark.docker
def test_oracle_every_reference_scores_2_2_2_and_noop_scores_answer_0(tmp_path):
    from harness.oracle import check_oracle

    report = check_oracle(resolve_suites("all"), tmp_path)
    assert len(report) == 15
    assert all((r.reference, r.noop_answer, r.uninformative) == ((2, 2, 2), 0, False) for r in report.values()), report


@pytest.mark.docker
def test_oracle_rejects_a_suite_whose_noop_passes(tmp_path):
    from harness.oracle import check_oracle

    path = tmp_path / "weak.yaml"
    path.write_text("suite: weak\ncases:\n  - {id: silent, prompt: do nothing at all, fixtures: [mini], "
                    "kind: output, reference: '$ true'}\n")
    with pytest.raises(SuiteError, match="case silent: the no-op plan scores Answer 2: the reference prints "
                                         "nothing and changes nothing; .* or mark the case 'uninformative: true'"):
        check_oracle([load_suite(path)], tmp_path)
    path.write_text(path.read_text().replace("reference: '$ true'", "reference: '$ true', uninformative: true"))
    report = check_oracle([load_suite(path)], tmp_path)
    assert (report["silent"].noop_answer, report["silent"].uninformative) == (2, True)
