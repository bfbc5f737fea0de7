"""The previews of destructive git commands, run in the real sandbox on a real repository: each prints what
the command would do and changes nothing (agent.rules' git findings, agent.preview's rewrites)."""

from __future__ import annotations

import subprocess

import pytest

from agent.check import Candidate
from agent.plan import parse_plan
from harness.check import observe_candidates, runner_for_directory

pytestmark = pytest.mark.docker


def git(cwd, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd=cwd, check=True,
                   capture_output=True)


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "notes.txt").write_text("one\n")
    (tmp_path / "other.txt").write_text("two\n")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "first")
    git(tmp_path, "tag", "v1")
    git(tmp_path, "branch", "topic")
    (tmp_path / "notes.txt").write_text("one\nedited\n")  # an uncommitted change
    (tmp_path / "junk.txt").write_text("untracked\n")
    return tmp_path


@pytest.mark.parametrize(("written", "preview", "shows"), [
    ("git clean -x", "git clean -n -x", "Would remove junk.txt"),
    ("git rm other.txt", "git rm -n other.txt", "rm 'other.txt'"),
    ("git mv -f other.txt notes.txt", "git mv -n -f other.txt notes.txt", "Renaming other.txt to notes.txt"),
    ("git checkout -f topic", "git diff --stat HEAD", "notes.txt | 1 +"),
    ("git checkout main notes.txt", "git diff --stat main -- notes.txt", "notes.txt | 1 +"),
    ("git branch -M topic main", "git branch -v --list topic main", "topic"),
    ("git tag -d v1", "git tag -l v1", "v1"),
    ("git reflog expire --expire=now --all", "git reflog expire --dry-run --expire=now --all", ""),
    ("git prune -v", "git prune -n -v", ""),
])
def test_a_git_preview_shows_the_effect_and_changes_nothing(repo, written, preview, shows):
    plan = parse_plan(f"$ {written}")
    command = plan.commands[0]
    assert command.action == "rewritten" and command.text == preview, command
    assert f"# to apply after review: {written}" in plan.render()
    (seen,) = observe_candidates([Candidate(plan=plan, raw=written, mean_logprob=-0.1, greedy=True)],
                                 runner_for_directory(repo))
    assert seen.exit_code == 0 and seen.limit is None, seen
    assert shows in seen.stdout, seen.stdout
    # git diff may refresh the index's stat cache (.git/index), as any read of the work tree does
    assert [c for c in seen.changes if c.split()[1] != ".git/index"] == [], seen.changes
    assert (repo / "junk.txt").exists() and (repo / "notes.txt").read_text() == "one\nedited\n"  # only read
