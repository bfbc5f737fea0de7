"""The sandbox and fixtures commands, run as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.docker

FENRIR = [sys.executable, "-c", "from harness.cli import main; main()"]


def fenrir(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(FENRIR + list(args), capture_output=True, text=True, input=stdin, timeout=120)


def test_run_prints_the_right_files():
    done = fenrir("sandbox", "run", "--fixture", "seed", "--", 'find . -name "*.jpg" -size +5M | sort')
    assert done.returncode == 0, done.stderr
    assert done.stdout == "./photos/beach.jpg\n./photos/family/reunion.jpg\n"
    assert "--- exit 0" in done.stderr and "--- no changes" in done.stderr


def test_run_reports_changes_and_exit_status():
    done = fenrir("sandbox", "run", "--fixture", "seed", "--", "rm notes.txt; touch new; chmod 600 draft.txt~; exit 4")
    assert done.returncode == 4
    assert "  - notes.txt (file)" in done.stderr
    assert "  + new (file, 0 B)" in done.stderr
    assert "  ~ draft.txt~ (mode 0644 -> 0600)" in done.stderr


def test_run_json_and_plan_from_stdin():
    done = fenrir("sandbox", "run", "--fixture", "mini", "--json", "-", stdin="wc -l < a.txt\n")
    record = json.loads(done.stdout)
    assert record["stdout"] == "1\n" and record["exit_code"] == 0 and record["fixture"] == "mini"
    assert record["image_digest"].startswith("sha256:")


def test_bad_plan_is_a_clean_error():
    done = fenrir("sandbox", "run", "--fixture", "mini", "--", "   ")
    assert done.returncode == 1 and "plan is empty" in done.stderr and "Traceback" not in done.stderr


def test_cli_leaves_no_containers_and_cleanup_runs():
    from sandbox.engine import client

    fenrir("sandbox", "run", "--fixture", "mini", "--", "true")
    mine = client().containers.list(all=True, filters={"label": "fenrir.sandbox=pool"})
    assert not [c for c in mine if c.labels.get("fenrir.worker", "").startswith("p")
                and not _alive(c.labels.get("fenrir.owner", ""))]
    done = fenrir("sandbox", "cleanup")
    assert done.returncode == 0 and done.stdout.startswith("removed ")


def _alive(owner: str) -> bool:
    import os

    pid = owner.rpartition(":")[2]
    try:
        os.kill(int(pid), 0)
        return True
    except (ValueError, ProcessLookupError):
        return False


def test_fixtures_list_show_build():
    listing = fenrir("fixtures", "list")
    assert listing.returncode == 0 and "seed-b" in listing.stdout
    shown = fenrir("fixtures", "show", "mini")
    assert "sub/link -> b.txt" in shown.stdout and "rel:-259200.0" in shown.stdout
    built = fenrir("fixtures", "build", "mini")
    assert built.stdout.startswith("mini: 5 entries")
