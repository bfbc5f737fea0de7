"""harness.atomic: a write either lands whole or leaves the old file untouched."""

from __future__ import annotations

import pytest

from harness import atomic


def test_write_creates_folder_and_replaces(tmp_path):
    target = tmp_path / "a" / "b.json"
    atomic.write_text(target, "one")
    atomic.write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["b.json"]


def test_failed_write_keeps_old_content_and_no_temp(tmp_path):
    target = tmp_path / "b.json"
    atomic.write_text(target, "old")


    with pytest.raises(TypeError):
        atomic.write_bytes(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["b.json"]


def test_paths_read_environment_when_called(tmp_path, monkeypatch):
    from harness import paths

    monkeypatch.setenv("FENRIR_RESULTS", str(tmp_path / "r"))
    assert paths.results_dir() == tmp_path / "r"
    assert paths.runs_dir() == tmp_path / "r" / "runs"
    monkeypatch.delenv("FENRIR_RESULTS")
    assert paths.results_dir() == paths.package_root() / "results"
    assert (paths.fixtures_dir()).is_dir() and (paths.templates_dir()).is_dir()
