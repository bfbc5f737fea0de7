"""Grounding and checking in the real sandbox: fixture listings, candidate runs on copies."""

from __future__ import annotations

import io
import tarfile

import pytest

from agent.check import Candidate
from agent.context import list_directory
from agent.plan import parse_plan
from harness.check import SandboxRunner, check_candidates, observe_candidates, runner_for_directory
from harness.grounding import fixture_listing
from sandbox import load_fixture

pytestmark = pytest.mark.docker


def test_a_fixture_is_listed_as_its_tree_would_be_on_disk(tmp_path):
    """The harness lists the archive the sandbox loads; extracted to disk, the same tree lists the same."""
    fixture = load_fixture("seed")
    with tarfile.open(fileobj=io.BytesIO(fixture.read())) as tar:
        tar.extractall(tmp_path / "work", filter="fully_trusted")
    on_disk = list_directory(tmp_path / "work").text.splitlines()[1:]
    listing = fixture_listing("seed")
    assert listing.text.splitlines()[0] == "Directory /work:"
    assert listing.text.splitlines()[1:] == on_disk
    assert "project/ (git repository, branch main)" in on_disk and "output.log" in on_disk


def test_inside_the_sandbox_the_same_code_lists_the_same_tree():
    """A fixture that runs elsewhere than its root is listed inside the sandbox; on a one-root
    fixture both ways give the same text."""
    from harness.grounding import archive_listing, sandbox_listing

    fixture = load_fixture("seed")
    assert sandbox_listing(fixture).text == archive_listing(fixture).text


def test_a_fixture_run_from_slash_is_listed_from_slash():
    listing = fixture_listing("icalfa-fs1")
    lines = listing.text.splitlines()
    assert lines[0] == "Directory /:" and any(line.startswith("testbed/") for line in lines)
    assert "usr/" in " ".join(lines) and "Traceback" not in listing.text


def test_every_fixture_has_a_bounded_listing():
    for name in ("seed", "seed-b", "train-a", "train-b", "train-c"):
        listing = fixture_listing(name)
        assert 0 < listing.shown <= 60 and listing.chars <= 1600, name


def _cands(*plans: str) -> list[Candidate]:
    return [Candidate(plan=parse_plan(p), raw=p, mean_logprob=-0.1 * (i + 1), greedy=i == 0)
            for i, p in enumerate(plans)]


def test_candidates_run_on_a_copy_and_the_agreed_result_wins(tmp_path):
    (tmp_path / "reports" / "2025").mkdir(parents=True)
    (tmp_path / "reports" / "2025" / "sales.csv").write_text("region,amount\nnorth,3\n")
    (tmp_path / "notes.txt").write_text("hello\n")
    runner = runner_for_directory(tmp_path)
    runner.warm()
    cands = _cands("$ head -n 1 sales.csv",                      # the name without its folder: fails
                   "$ head -n 1 reports/2025/sales.csv",
                   "$ sed -n 1p reports/2025/sales.csv",
                   "$ rm notes.txt",                             # previewed: prints the name, changes nothing
                   "$ cat reports/2025/sales.csv | head -1")
    choice, seconds = check_candidates(cands, runner)
    assert choice.index == 1 and choice.votes == 3 and choice.survivors == 4 and seconds > 0
    assert choice.verdicts[0].dropped.startswith("exit 1: head: cannot open 'sales.csv'")
    # the real directory was only read
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["2025", "notes.txt", "reports", "sales.csv"]


def test_effects_are_compared_by_their_changes():
    runner = SandboxRunner(load_fixture("mini"), "fixture mini")
    cands = _cands("$ mkdir -p out/x", "$ mkdir -p out/x && true", "$ mkdir out")
    choice, _ = check_candidates(cands, runner)
    assert choice.index == 0 and choice.votes == 2
    assert choice.verdicts[0].key == choice.verdicts[1].key != choice.verdicts[2].key


def test_a_path_repaired_from_the_listing_is_what_the_check_runs(tmp_path):
    (tmp_path / "reports" / "2025").mkdir(parents=True)
    (tmp_path / "reports" / "2025" / "sales.csv").write_text("region,amount\nnorth,3\n")
    listing = list_directory(tmp_path).text
    runner = runner_for_directory(tmp_path)
    cands = [Candidate(plan=parse_plan(p, listing), raw=p, mean_logprob=-0.1 * (i + 1), greedy=i == 0)
             for i, p in enumerate(["$ head -n 1 sales.csv", "$ head -n 1 2025/sales.csv"])]
    assert [c.script for c in cands] == ["head -n 1 reports/2025/sales.csv\n"] * 2
    seen = observe_candidates(cands, runner)
    assert [(s.exit_code, s.stdout) for s in seen] == [(0, "region,amount\n")] * 2
    choice, _ = check_candidates(cands, runner)
    assert (choice.index, choice.votes, choice.survivors) == (0, 2, 2)


def test_an_edit_preview_that_changes_nothing_gives_way_to_one_that_does(tmp_path):
    """Recorded on held-out row "Substitute 0.0.0.0 for every 127.0.0.1 in config.ini and display the
    result": three of four candidates substitute the other way round, on a file with no 0.0.0.0."""
    (tmp_path / "config.ini").write_text("host = 127.0.0.1\nport = 8000\n")
    runner = _Counting(runner_for_directory(tmp_path))
    cands = _cands("$ sed 's/0.0.0.0/127.0.0.1/g' config.ini", "$ sed 's/127.0.0.1/0.0.0.0/g' config.ini",
                   "$ sed 's/0.0.0.0/0.0.0.1/g' config.ini", "$ sed 's/0.0.0.0/127.0.0.1/g' config.ini")
    seen = observe_candidates(cands, runner)
    assert [s.unchanged for s in seen] == [True, False, True, True]
    assert seen[1].stdout == "host = 0.0.0.0\nport = 8000\n"
    # the file was read once, in the same batch as the candidates
    assert runner.scripts.count("cat -- config.ini\n") == 1 and len(runner.scripts) == 4
    choice, _ = check_candidates(cands, runner)
    assert choice.index == 1 and choice.votes == 1 and choice.survivors == 4
    # when every edit changes nothing, the greedy plan stands
    choice, _ = check_candidates([cands[0], cands[2]], runner)
    assert choice.index == 0


class _Counting:
    """A real sandbox runner that also records which scripts it was asked to run."""

    def __init__(self, runner: SandboxRunner) -> None:
        self.runner, self.scripts = runner, []

    def __call__(self, scripts):
        self.scripts += list(scripts)
        return self.runner(scripts)


def test_a_second_round_is_drawn_only_when_no_candidate_ran_cleanly(tmp_path):
    (tmp_path / "notes.txt").write_text("hello\n")
    runner = _Counting(runner_for_directory(tmp_path))
    first = _cands("$ cat note.txt", "$ cat notes", "$ cat note.txt")      # none runs cleanly
    drawn = []

    def more():
        drawn.append(True)
        extra = _cands("$ cat notes", "$ cat notes.txt", "$ head -n 1 notes.txt")
        return [Candidate(plan=c.plan, raw=c.raw, mean_logprob=c.mean_logprob, greedy=False) for c in extra]

    choice, seconds = check_candidates(first, runner, more)
    assert drawn == [True] and seconds > 0
    assert len(choice.verdicts) == 6 and choice.survivors == 2 and choice.votes == 2
    assert choice.index in (4, 5)  # one of the second round's, which agree on "hello"
    # the first round's scripts were not run again in the second
    assert sorted(runner.scripts) == sorted(["cat note.txt\n", "cat notes\n", "cat notes.txt\n",
                                             "head -n 1 notes.txt\n"])
    # a first round with a survivor never draws more
    drawn.clear()
    choice, _ = check_candidates(_cands("$ cat notes.txt", "$ cat nope"), runner, more)
    assert drawn == [] and len(choice.verdicts) == 2 and choice.index == 0


def test_no_second_round_when_a_candidate_ran_out_of_time():
    """A plan that ran out of time is slow, not shown wrong (a venv and a pip install take ~5 s): more
    samples would favour a quick plan that does something else."""
    from sandbox.records import Limits

    runner = SandboxRunner(load_fixture("mini"), "fixture mini", limits=Limits(timeout=1))
    drawn = []

    def more():
        drawn.append(True)
        return [Candidate(plan=parse_plan("$ ls"), raw="$ ls", mean_logprob=-0.5, greedy=False)]

    choice, _ = check_candidates(_cands("$ sleep 3", "$ cat nope"), runner, more)
    assert drawn == [] and choice.survivors == 0 and len(choice.verdicts) == 2
    assert choice.verdicts[0].dropped == "hit a limit: timeout"
