"""Choosing among candidate plans by their observed results (pure logic, recorded observations)."""

from agent.check import Candidate, Observation, choose, failure, static_failure
from agent.plan import parse_plan


def cand(plan: str, logprob: float = -0.5, greedy: bool = False) -> Candidate:
    return Candidate(plan=parse_plan(plan), raw=plan, mean_logprob=logprob, greedy=greedy)


def ok(stdout: str = "", changes: tuple[str, ...] = ()) -> Observation:
    return Observation(exit_code=0, stdout=stdout, stderr="", changes=changes)


def test_the_majority_result_wins_the_plain_vote():
    cands = [cand("$ ls photos", -0.1, True), cand("$ find photos -name '*.jpg'", -0.4),
             cand("$ find photos -name '*.jpg' -print", -0.3), cand("$ find photos -name \\*.jpg", -0.6)]
    seen = [ok("a\nb\n"), ok("photos/x.jpg\n"), ok("photos/x.jpg\n"), ok("photos/x.jpg\n")]
    choice = choose(cands, seen, greedy_first=False)
    assert choice.index == 2  # the best log-probability inside the winning group
    assert (choice.votes, choice.survivors, choice.checked) == (3, 4, True)
    assert choice.note(4, "a copy of /w").endswith("4 of 4 candidate plans ran cleanly, 3 agreed on this result")


def test_identical_samples_are_separate_votes():
    cands = [cand("$ wc -l a", -0.2, True), cand("$ cat a | wc -l", -0.3), cand("$ cat a | wc -l", -0.3)]
    choice = choose(cands, [ok("3 a\n"), ok("3\n"), ok("3\n")], greedy_first=False)
    assert choice.index == 1 and choice.votes == 2


def test_ties_go_to_the_higher_log_probability():
    cands = [cand("$ head -n 1 f", -0.2, True), cand("$ sed -n 1p g", -0.1)]
    assert choose(cands, [ok("x\n"), ok("y\n")], greedy_first=False).index == 1
    cands = [cand("$ head -n 1 f", -0.1, True), cand("$ sed -n 1p g", -0.2)]
    assert choose(cands, [ok("x\n"), ok("y\n")], greedy_first=False).index == 0


def test_the_greedy_plan_wins_when_it_ran_cleanly_even_if_samples_outvote_it():
    # recorded on held-out row "Please show the 20 most recent lines of logs/deploy.log"
    cands = [cand("$ tail -n 20 logs/deploy.log", -0.106, True)] + [cand("$ head -n 20 logs/deploy.log", -0.105)] * 3
    seen = [ok("2024-05-01T00:02:07Z DEBUG\n")] + [ok("2024-05-01T00:00:06Z INFO\n")] * 3
    choice = choose(cands, seen)
    assert (choice.index, choice.votes, choice.survivors) == (0, 1, 4)
    assert choice.note(4, "w").endswith("4 of 4 candidate plans ran cleanly, 1 agreed on this result")


def test_a_greedy_plan_that_failed_or_did_nothing_gives_way_to_the_vote():
    # recorded on held-out row "What are the bottom 10 lines in fruits.txt?"
    cands = [cand("$ tail -n 10 documents/fruits.txt", -0.101, True), cand("$ head -n 10 documents/fruits.txt", -0.193),
             cand("$ tail -n 10 lists/fruits.txt", -0.089), cand("$ head -n 10 documents/fruits.txt", -0.193)]
    missing = Observation(1, "", "tail: cannot open 'documents/fruits.txt' for reading: No such file or directory\n")
    seen = [missing, missing, ok("pear\napple\n"), missing]
    assert choose(cands, seen).index == 2
    # "find host in config.ini": the greedy plan printed nothing, a sample found the line
    cands = [cand("$ find config.ini -iname host", -0.264, True), cand("$ grep 'host' config.ini", -0.377)]
    assert choose(cands, [ok(""), ok("host = 127.0.0.1\n")]).index == 1
    assert choose(cands, [ok(""), ok("")]).index == 0  # nothing observable anywhere: the greedy plan


def test_failures_are_dropped_with_their_reason():
    cands = [cand("$ cat missing.txt", -0.1, True), cand("$ grep -r x .", -0.2), cand("$ sleep 100", -0.3),
             cand("$ ls nope; echo hi", -0.4), cand("$ echo fine", -0.9)]
    seen = [Observation(1, "", "cat: missing.txt: No such file or directory\n"),
            Observation(2, "", ""),
            Observation(137, "", "", limit="timeout"),
            Observation(0, "hi\n", "ls: cannot access 'nope': No such file or directory\n"),
            ok("fine\n")]
    choice = choose(cands, seen)
    assert choice.index == 4 and choice.survivors == 1
    reasons = [v.dropped for v in choice.verdicts]
    assert reasons[0] == "exit 1: cat: missing.txt: No such file or directory"
    assert reasons[1] == "exit 2"
    assert reasons[2] == "hit a limit: timeout"
    assert reasons[3].startswith("printed an error: ls: cannot access")
    assert reasons[4] is None


def test_progress_on_stderr_is_not_an_error_for_chatty_programs():
    c = cand("$ git checkout -b topic")
    assert failure(c, Observation(0, "", "Switched to a new branch 'topic'\n")) is None
    assert failure(c, Observation(128, "", "fatal: not a git repository\n")).startswith("exit 128")


def test_a_diff_that_finds_differences_ran_cleanly():
    """diff and cmp exit 1 to say the inputs differ: that is their answer, not a failure."""
    differences = Observation(1, "< a\n---\n> b\n", "")
    assert failure(cand("$ diff -r dir1 dir2"), differences) is None
    assert failure(cand("$ cd src && cmp a.bin b.bin"), Observation(1, "a.bin b.bin differ: byte 1\n", "")) is None
    # but not with an error, not another status, and not when something else ends the plan
    assert failure(cand("$ diff a b"), Observation(2, "", "diff: a: No such file or directory\n")).startswith("exit 2")
    assert failure(cand("$ diff a b"), Observation(1, "", "diff: a: Is a directory\n")).startswith("exit 1")
    assert failure(cand("$ diff a b | grep x"), Observation(1, "", "")) == "exit 1"
    assert failure(cand("$ grep -r nothing ."), Observation(1, "", "")) == "exit 1"


def test_static_failures_never_run():
    assert static_failure(cand("# nothing to do")) == "nothing to run"
    assert static_failure(cand("$ rm -rf /")).startswith("blocked")
    assert static_failure(cand("$ ls")) is None
    cands = [cand("$ rm -rf /", -0.1, True), cand("$ ls", -0.5)]
    choice = choose(cands, [None, ok("a\n")])
    assert choice.index == 1 and choice.verdicts[0].dropped.startswith("blocked") and choice.verdicts[0].key is None


def test_quiet_results_lose_to_observable_ones_unless_alone():
    cands = [cand("$ true", -0.1, True), cand("$ true", -0.1), cand("$ ls", -0.9)]
    assert choose(cands, [ok(), ok(), ok("a\n")]).index == 2
    assert choose(cands, [ok(), ok(), ok("a\n")], quiet_last=False).index == 0
    assert choose(cands[:2], [ok(), ok()]).index == 0


def test_changes_are_part_of_the_result():
    cands = [cand("$ mkdir out", -0.1, True), cand("$ mkdir -p out", -0.2), cand("$ touch out", -0.3)]
    seen = [ok(changes=("added out dir ",)), ok(changes=("added out dir ",)), ok(changes=("added out file e3b0",))]
    choice = choose(cands, seen)
    assert choice.index == 0 and choice.votes == 2
    assert seen[0].key == seen[1].key != seen[2].key


def test_nothing_survives_keeps_the_greedy_plan_and_says_so():
    cands = [cand("$ cat a", -0.1, True), cand("$ cat b", -0.2)]
    choice = choose(cands, [Observation(1, "", "no\n"), Observation(1, "", "no\n")])
    assert (choice.index, choice.survivors, choice.checked) == (0, 0, True)
    assert "none of 2 candidate plans ran cleanly" in choice.note(2, "a copy of /w")


def test_with_no_survivor_a_plan_that_ran_within_the_limits_beats_one_that_ran_away():
    cands = [cand("$ find / -name x", -0.1, True), cand("$ cat a", -0.3), cand("$ cat b", -0.2), cand("$ rm -rf /")]
    seen = [Observation(137, "", "", limit="timeout"), Observation(1, "", "no\n"), Observation(1, "", "no\n"), None]
    choice = choose(cands, seen)
    assert (choice.index, choice.survivors) == (2, 0)
    assert choose(cands[:1], seen[:1]).index == 0  # nothing else: the greedy plan
