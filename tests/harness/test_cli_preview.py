"""fenrir --preview DIR: the plan runs in the sandbox on a copy of DIR; DIR is never touched."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.model, pytest.mark.slow]


def test_preview_shows_what_would_be_deleted_and_deletes_nothing(tmp_path):
    src = tmp_path / "proj"
    (src / "sub").mkdir(parents=True)
    for name in ("a~", "notes.txt~", "keep.txt"):
        (src / name).write_text(name + "\n")
    (src / "sub" / "b~").write_text("b\n")
    before = sorted(p.relative_to(src).as_posix() for p in src.rglob("*"))
    done = subprocess.run([sys.executable, "-c", "from harness.cli import main; main()", "--no-log",
                           "--preview", str(src), "delete every *~ file"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith(("$ ", "# "))
    assert "--- preview in the sandbox" in done.stderr and "itself was not touched" in done.stderr
    # whatever the model planned, nothing it printed ran on the host
    assert sorted(p.relative_to(src).as_posix() for p in src.rglob("*")) == before
    assert not (tmp_path / "logs").exists()  # --no-log


def test_preview_of_a_missing_directory_is_a_usage_error(tmp_path):
    done = subprocess.run([sys.executable, "-c", "from harness.cli import main; main()", "--no-log",
                           "--preview", str(tmp_path / "nope"), "list files"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "does not exist" in done.stderr
