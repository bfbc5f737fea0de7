"""The real command behind a preview the model wrote itself (``# to apply after review: ...``)."""

from __future__ import annotations

import pytest

from agent.apply import apply_command
from agent.plan import parse_plan

FILES = "preview only: lists the files that would be deleted"
EMPTY = "preview only: lists the empty directories that would be removed"
EVERYTHING = "preview only: lists everything that would be removed"
ONE_FILE = "preview only: shows the file that would be deleted"
GIT_CLEAN = "preview only: shows what git clean would remove"

DERIVED = [
    (FILES, "find . -type f -name '*.log'", "find . -type f -name '*.log' -delete"),
    (FILES, "find logs -name '*~' -mtime +30 -print", "find logs -name '*~' -mtime +30 -delete"),
    (FILES, 'find "my dir" -type f -size +5M', "find 'my dir' -type f -size +5M -delete"),
    (EMPTY, "find build -type d -empty", "find build -type d -empty -delete"),
    (EVERYTHING, "find reports", "rm -r reports"),
    (ONE_FILE, "ls -l data/emails.txt", "rm data/emails.txt"),
    (ONE_FILE, "ls a.txt b.txt", "rm a.txt b.txt"),
    (GIT_CLEAN, "git -C webapp clean -n -d", "git -C webapp clean -f -d"),
    (GIT_CLEAN, "git clean -nd", "git clean -fd"),
    (GIT_CLEAN, "git clean --dry-run -x", "git clean -f -x"),
]


@pytest.mark.parametrize("comment, preview, real", DERIVED)
def test_a_preview_gives_the_command_it_stands_for(comment, preview, real):
    assert apply_command(comment, preview) == real


@pytest.mark.parametrize("comment, preview", [
    (FILES, "find . -name '*.a' -o -name '*.b'"),   # -delete would bind to the last alternative only
    (FILES, "find . -name '*.tmp' -exec ls {} +"),  # an action of its own
    (FILES, "find . -name '*.tmp' | head"),         # a pipeline
    (FILES, "find logs"),                           # no test: everything, not "the files"
    (FILES, "ls -l a.txt"),                         # the comment says find
    (EMPTY, "find build -type d"),                  # not the empty ones
    (EVERYTHING, "find ."),                         # rm -r . is catastrophic: never offered
    (EVERYTHING, "find / -name x"),
    (ONE_FILE, "ls -R src"),
    (GIT_CLEAN, "git -C webapp clean -f -d"),       # not a dry run
    ("lists what would be deleted", "find . -name '*.log'"),  # not a preview comment
    ("preview only: something else", "find . -name '*.log'"),
])
def test_nothing_is_derived_where_it_cannot_be_told_for_sure(comment, preview):
    assert apply_command(comment, preview) is None


def test_the_plan_prints_the_real_command_after_a_preview_the_model_wrote():
    plan = parse_plan(f"# {FILES}\n$ find . -type f -name '*.log'\n")
    assert plan.render().splitlines() == [
        f"# {FILES}", "$ find . -type f -name '*.log'", "# to apply after review: find . -type f -name '*.log' -delete"]
    assert plan.script() == "find . -type f -name '*.log'\n"  # the derived line never runs
    # written by the model already: not twice
    again = parse_plan(f"# {FILES}\n$ find . -name x\n# to apply after review: find . -name x -delete\n")
    assert again.render().count("to apply after review") == 1
    # a destructive command the safety pass rewrote keeps its own original, once
    rewritten = parse_plan("$ find . -name '*.log' -delete\n").render()
    assert rewritten.count("to apply after review") == 1


@pytest.mark.docker
@pytest.mark.parametrize("comment, preview, real", [DERIVED[0], DERIVED[1], DERIVED[4], DERIVED[8], DERIVED[9]])
def test_what_the_preview_lists_is_what_the_real_command_removes(comment, preview, real, tmp_path):
    """In the sandbox: the paths the real command removes are the paths the preview printed."""
    from sandbox import load_fixture
    from sandbox.pool import default_sandbox

    path = tmp_path / "tree.yaml"
    path.write_text("""name: apply-tree
files:
  - {path: logs/a.log, text: "a\\n", mtime: -40d}
  - {path: logs/b.log~, text: "b\\n", mtime: -40d}
  - {path: logs/c.log~, text: "c\\n"}
  - {path: reports/q1.csv, text: "q\\n"}
  - {path: reports/deep/x.md, text: "x\\n"}
  - {path: keep.txt, text: "k\\n"}
git:
  - path: .
    commits:
      - message: init
        files: {tracked.txt: "t\\n"}
setup: |
  touch untracked.tmp
""")
    fixture = load_fixture(str(path))
    box = default_sandbox(run="apply-test")
    listed = box.run(preview, fixture)
    done = box.run(real, fixture)
    assert done.exit_code == 0, done.stderr
    removed = {c.path for c in done.changes if c.kind == "removed"}
    shown = {line.strip().removeprefix("./").removeprefix("Would remove ").rstrip("/")
             for line in listed.stdout.splitlines() if line.strip()}
    assert removed and removed == shown, (listed.stdout, sorted(removed))
