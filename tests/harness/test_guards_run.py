"""The no-clobber forms the safety pass writes, run in the real sandbox: a new target is
created, an existing one is never replaced (agent.preview's guarded table)."""

from __future__ import annotations

import pytest

from agent.check import Candidate
from agent.plan import parse_plan
from harness.check import observe_candidates, runner_for_directory

pytestmark = pytest.mark.docker


def _observe(tmp_path, *plans: str):
    cands = [Candidate(plan=parse_plan(p), raw=p, mean_logprob=-0.1, greedy=i == 0) for i, p in enumerate(plans)]
    assert all(c.plan.commands[0].action == "guarded" for c in cands), [c.plan.commands[0] for c in cands]
    return cands, observe_candidates(cands, runner_for_directory(tmp_path))


def test_tar_create_makes_a_new_archive_and_never_replaces_one(tmp_path):
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "q1.txt").write_text("north,3\n")
    (tmp_path / "reports.tar.gz").write_bytes(b"an older archive")
    cands, (fresh, clash, listed) = _observe(
        tmp_path,
        "$ tar -czf new.tar.gz reports",
        "$ tar -czf reports.tar.gz reports",                  # exists: refused, kept as it was
        "$ tar -czvf new.tgz reports && tar -tzf new.tgz")
    assert cands[0].plan.commands[0].text == "set -C; tar -czf - reports > new.tar.gz"
    assert fresh.exit_code == 0 and any("new.tar.gz" in c for c in fresh.changes), fresh
    assert clash.exit_code != 0 and "cannot overwrite existing file" in clash.stderr
    assert not any("reports.tar.gz" in c for c in clash.changes), clash.changes
    assert listed.exit_code == 0 and listed.stdout.splitlines() == ["reports/", "reports/q1.txt"]
    assert (tmp_path / "reports.tar.gz").read_bytes() == b"an older archive"  # the real folder is only read


def test_copies_moves_and_redirects_keep_an_existing_target(tmp_path):
    (tmp_path / "a.txt").write_text("new\n")
    (tmp_path / "b.txt").write_text("old\n")
    _, seen = _observe(tmp_path, "$ cp a.txt b.txt && cat b.txt", "$ mv a.txt b.txt; cat b.txt",
                       "$ echo new > b.txt; cat b.txt", "$ cp a.txt c.txt && cat c.txt")
    assert [s.stdout for s in seen] == ["old\n", "old\n", "old\n", "new\n"]
    assert "cannot overwrite existing file" in seen[2].stderr
