"""The overrides file: found where the environment says when read, appended whole, validated before a write."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import SuiteError
from rubrics.overrides import HEADER, append_override, load_overrides, make_override


@pytest.fixture(autouse=True)
def _no_shipped_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Never the repository's rubrics/overrides.yaml."""
    monkeypatch.setenv("FENRIR_OVERRIDES", str(tmp_path / "default-overrides.yaml"))


def _entry(case: str = "tail-log", reason: str = "six lines is close enough"):
    return make_override(case, "a" * 64, "answer", 1, 0, reason, "tester")


def test_the_default_file_is_read_from_the_environment_when_called(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "later.yaml"
    monkeypatch.setenv("FENRIR_OVERRIDES", str(path))  # set after rubrics.overrides was imported
    append_override(_entry())
    assert path.read_text(encoding="utf-8").startswith(HEADER)
    assert [o.case for o in load_overrides()] == ["tail-log"]


def test_appending_keeps_the_text_and_adds_the_entry_whole(tmp_path: Path):
    path = tmp_path / "overrides.yaml"
    path.write_text("# kept as written\n- {case: a, plan_sha256: " + "b" * 64 + ", dimension: plan, score: 2, "
                    "reason: fine here, reviewer: bob, timestamp: '2026-01-01T00:00:00+00:00'}", encoding="utf-8")
    old = path.read_text(encoding="utf-8")
    append_override(_entry(), path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith(old + "\n- case: tail-log\n")
    assert [o.case for o in load_overrides(path)] == ["a", "tail-log"]


def test_a_broken_file_is_refused_before_anything_is_appended(tmp_path: Path):
    path = tmp_path / "overrides.yaml"
    path.write_text("- case: tail-log\n  dimension: answer\n  score: 5\n", encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(SuiteError, match=r"overrides file .*overrides.yaml, entry 1: .*nothing was changed"):
        append_override(_entry(), path)
    assert path.read_bytes() == before


def test_a_blank_reason_is_refused_in_the_file_too(tmp_path: Path):
    path = tmp_path / "overrides.yaml"
    path.write_text("- {case: a, plan_sha256: " + "b" * 64 + ", dimension: plan, score: 2, reason: '    ', "
                    "reviewer: bob, timestamp: '2026-01-01T00:00:00+00:00'}\n", encoding="utf-8")
    with pytest.raises(SuiteError, match=r"entry 1: reason: Value error, is blank or too short"):
        load_overrides(path)
    with pytest.raises(SuiteError, match=r"override for x: reason: .*say why the score changes \(--reason\)"):
        _entry("x", "   ")
