"""data.verify: rows are run in the sandbox and must do what they claim."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from agent.fewshot import QARow
from data.verify import claim_of, verify_rows


def row(completion: str, category: str = "find", fixture: str = "train-a", prompt: str = "a request") -> QARow:
    return QARow(prompt=prompt, completion=completion, category=category, fixture=fixture)


def test_claims_are_read_from_the_commands():
    assert claim_of(row("$ du -sh logs")).kind == "output"
    assert claim_of(row("$ tar -czf logs.tar.gz logs")).creates == ("logs.tar.gz",)
    assert claim_of(row("$ git -C webapp checkout -b wip")).creates == ("webapp/.git/refs/heads/wip",)
    venv = claim_of(row("$ python3 -m venv env\n$ env/bin/pip install requests"))
    assert venv.kind == "effect" and venv.slow
    assert venv.creates == ("env/bin/python*", "env/lib/python*/site-packages/requests/*")
    moved = claim_of(row("$ mv notes/todo.txt archive/"))
    assert moved.removes == ("notes/todo.txt",)
    assert claim_of(row("# preview only\n$ find . -name '*~'", category="delete_preview")).kind == "preview"


@pytest.mark.docker
def test_correct_rows_pass():
    rows = [
        row("$ find webapp -type f -name '*.py'"),
        row("$ tail -n 3 app.log", category="head_tail"),
        row("$ git -C webapp checkout -b wip", category="git"),
        row("$ tar -czf logs.tar.gz logs", category="tar"),
        row("$ mv notes/todo.txt archive/", category="files"),
        row("# preview only: lists the files that would be deleted\n$ find . -type f -name '*~'", category="delete_preview"),
    ]
    assert verify_rows(rows) == []


@pytest.mark.docker
def test_wrong_rows_fail_with_line_and_reason():
    rows = [
        row("$ find webapp -type f -name '*.py'", prompt="fine"),
        row("$ tail -n 3 no-such.log", category="head_tail", prompt="missing file"),
        row("$ rm app.log", category="misc", prompt="rm claimed as output"),
        row("# preview only\n$ rm -v app.log", category="delete_preview", prompt="preview that deletes"),
        row("$ find . -name '*.nothing'", prompt="prints nothing"),
        row("$ chmod 644 reports/sales.csv", category="chmod", prompt="no-op chmod"),
        row("$ tar -czf out.tar.gz logs\n$ rm -r logs", category="tar", prompt="archive that deletes"),
        row("$ ls", fixture="no-such-fixture", prompt="unknown fixture"),
    ]
    failures = {f.prompt: (f.line, f.reason) for f in verify_rows(rows)}
    assert "fine" not in failures
    assert failures["missing file"][0] == 2 and "exit code 1" in failures["missing file"][1]
    assert "changed the tree: app.log" in failures["rm claimed as output"][1]
    assert "deleting program (rm)" in failures["preview that deletes"][1]
    assert failures["prints nothing"][1] == "output row printed nothing"
    assert failures["no-op chmod"][1] == "effect row changed nothing"
    assert "which the row does not claim to remove" in failures["archive that deletes"][1]
    assert "no-such-fixture" in failures["unknown fixture"][1]
    assert len(failures) == 7


FENRIR = [sys.executable, "-c", "from harness.cli import main; main()"]


@pytest.mark.docker
def test_cli_exit_codes(tmp_path):
    good = tmp_path / "good.jsonl"
    bad = tmp_path / "bad.jsonl"
    good.write_text(json.dumps(row("$ du -sh photos", category="du").model_dump()) + "\n")
    bad.write_text(good.read_text() + json.dumps(row("$ head -n 2 missing.txt", prompt="show missing").model_dump()) + "\n")
    done = subprocess.run(FENRIR + ["data", "verify", str(good)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 rows, 0 failures" in done.stdout
    done = subprocess.run(FENRIR + ["data", "verify", str(bad)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert f"{bad}:line 2: exit code 1" in done.stdout and "[show missing]" in done.stdout
    assert "2 rows, 1 failures" in done.stdout


def test_the_agents_preview_mark_is_a_preview_claim():
    assert claim_of(row("$ ls -d -- notes/todo.txt\n# to apply after review: rm notes/todo.txt", category="rm")).kind == "preview"


@pytest.mark.docker
def test_check_rows_separates_a_clean_run_from_a_verified_one():
    from data.verify import check_rows

    rows = [row("$ diff dir1/common.txt dir2/common.txt", category="diff", fixture="train-nl2bash"),  # exit 1: differ
            row("$ find . -name '*.nothing'", fixture="train-nl2bash"),
            row("$ cat no-such-file.txt", category="cat", fixture="train-nl2bash"),
            row("$ find . -name '*~' -print\n# to apply after review: find . -name '*~' -delete", fixture="train-nl2bash")]
    outcomes = check_rows(rows, workers=2)
    assert [(o.ran_clean, o.verified) for o in outcomes] == [(True, True), (True, False), (False, False), (True, True)]
    assert outcomes[1].reason == "output row printed nothing" and outcomes[2].reason.startswith("exit code 1")
