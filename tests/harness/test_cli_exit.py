"""``fenrir`` exits without the interpreter's final garbage collection (0.6 s with torch loaded)."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_a_command_leaves_the_heap_frozen_for_the_exit():
    code = ("import atexit, gc, sys\n"
            # registered first, so it runs last: after the CLI's own handler
            "atexit.register(lambda: print('frozen at exit:', gc.get_freeze_count() > 0))\n"
            "from harness.cli import main\n"
            "print('frozen before:', gc.get_freeze_count() > 0)\n"
            "sys.argv = ['fenrir', 'fixtures', 'list']\n"
            "main()\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "frozen before: False"
    assert "seed" in result.stdout  # the command itself ran
    assert lines[-1] == "frozen at exit: True"
