"""Choosing among candidate plans by their observed results (pure logic, recorded observations)."""

from agent.check import LIKELIER_BY, Candidate, Observation, choose, edit_preview_input, failure, static_failure
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


def test_the_greedy_plan_stands_against_a_split_but_not_against_most_of_the_candidates():
    # recorded on held-out row "Help me display the 4 most recent lines of debug.log" (shipped adapter):
    # two against two is no majority, and the samples are far less likely: the greedy plan stands
    cands = [cand("$ head -n 4 debug.log", -0.0506, True), cand("$ tail -n 4 debug.log", -0.2192),
             cand("$ head -n 4 debug.log", -0.0506), cand("$ tail -n 4 debug.log", -0.2192)]
    seen = [ok("first\n"), ok("last\n"), ok("first\n"), ok("last\n")]
    choice = choose(cands, seen)
    assert (choice.index, choice.votes, choice.survivors) == (0, 2, 4)
    # "How much free space is left on the file system holding docs?": three of four say df
    cands = [cand("$ du -sh docs", -0.1795, True)] + [cand("$ df -h docs", -0.1900)] * 3
    seen = [ok("12K\tdocs\n")] + [ok("Filesystem Size Used Avail Use% Mounted on\n")] * 3
    choice = choose(cands, seen)
    assert (choice.index, choice.votes, choice.survivors) == (1, 3, 4)
    assert choice.note(4, "w").endswith("4 of 4 candidate plans ran cleanly, 3 agreed on this result")
    # the same three samples failing leave the greedy plan alone in the field
    assert choose(cands, seen[:1] + [Observation(1, "", "df: docs: No such file\n")] * 3).index == 0


def test_a_clearly_likelier_sample_replaces_the_greedy_plan():
    # recorded on held-out row "Quick: sort the lines of lists/scores.txt alphabetically"
    cands = [cand("$ sort -r lists/scores.txt", -0.1626, True), cand("$ sort lists/scores.txt", -0.1068),
             cand("$ sort lists/scores.txt", -0.1068), cand("$ sort -r lists/scores.txt", -0.1626)]
    seen = [ok("b\na\n"), ok("a\nb\n"), ok("a\nb\n"), ok("b\na\n")]
    assert choose(cands, seen).index == 1
    # a near-tie stays with the greedy plan (LIKELIER_BY), and so does a likelier sample that failed
    near = [cands[0], cand("$ sort lists/scores.txt", -0.1626 + LIKELIER_BY / 2)]
    assert choose(near, [ok("b\na\n"), ok("a\nb\n")]).index == 0
    assert choose(cands[:2], [ok("b\na\n"), Observation(2, "", "sort: cannot read\n")]).index == 0
    # and a likelier sample that did nothing observable does not replace one that did
    assert choose(cands[:2], [ok("b\na\n"), ok("")]).index == 0


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


def test_with_no_survivor_the_likeliest_plan_that_was_slow_or_failed_beats_one_that_ran_away():
    cands = [cand("$ python3 -m venv e\n$ e/bin/pip install requests", -0.1, True), cand("$ python3 -m venv --e", -0.3),
             cand("$ yes", -0.05), cand("$ rm -rf /")]
    seen = [Observation(137, "", "", limit="timeout"), Observation(2, "", "usage: venv\n"),
            Observation(141, "y\n" * 100, "", limit="output"), None]
    choice = choose(cands, seen)
    assert (choice.index, choice.survivors) == (0, 0)  # slow, not shown wrong; `yes` filled the output limit
    assert choose(cands, [seen[0], Observation(2, "", "usage: venv\n"), Observation(137, "", "", limit="memory"),
                          None]).index == 0
    likelier_error = [cands[0], cand("$ cat b", -0.05), cands[2], cands[3]]
    assert choose(likelier_error, [seen[0], Observation(1, "", "no\n"), seen[2], None]).index == 1
    assert choose(cands[2:3], seen[2:3]).index == 0  # nothing else: the first plan


def test_a_find_that_listed_what_it_could_past_unreadable_directories_ran_cleanly():
    """The sandbox's user may not enter /etc/ssl/private; find still listed the rest, as it would for the user."""
    denied = "find: '/etc/ssl/private': Permission denied\n"
    c = cand("$ find /etc -newer /etc/motd -print")
    assert failure(c, Observation(1, "/etc/hosts\n", denied)) is None
    assert failure(cand("$ find / -name '*.conf' | wc -l"), Observation(0, "12\n", denied)) is None
    # nothing listed, another complaint, or an exit status that is not find's: still dropped
    assert failure(c, Observation(1, "", denied)) == "exit 1: find: '/etc/ssl/private': Permission denied"
    assert failure(c, Observation(1, "/etc/hosts\n", denied + "find: unknown predicate '-x'\n")) is not None
    assert failure(cand("$ find /etc | grep nothing"), Observation(1, "x\n", denied)) is not None
    assert failure(cand("$ cat /etc/ssl/private/key"), Observation(1, "x\n", "cat: k: Permission denied\n")) \
        is not None


def test_edit_previews_are_one_sed_that_edits_one_file():
    def target(text: str) -> str | None:
        return edit_preview_input(parse_plan(text))

    assert target("$ sed 's/ERROR/FAIL/g' logs/app.log") == "logs/app.log"
    assert target("$ sed -E -e 's|a/b|c|2' -e '/^#/d' 'my notes.txt'") == "my notes.txt"
    assert target("$ sed '3d;s/x/y/' f") == "f"
    assert target("$ sed -i 's/a/b/' f") == "f"  # the safety pass makes it a preview
    for other in ("$ sed -n 's/a/b/p' f",        # prints only what it changed
                  "$ sed 10q f", "$ sed -n 5p f", "$ sed 'y/ab/ba/' f",  # not a substitution or deletion
                  "$ sed 's/a/b/' f g", "$ cat f | sed 's/a/b/'", "$ sed 's/a/b/' f | head",
                  "$ sed 's/a/b/' f > out", "$ sed 's/a/b/' \"$f\"", "$ sed 's/a/b/' f && cat f",
                  "$ grep a f", "$ sed 's/a/b/w out' f"):
        assert target(other) is None, other


def test_an_edit_that_changed_nothing_counts_as_doing_nothing():
    cands = [cand("$ sed 's/FAIL/ERROR/g' app.log", -0.03, True), cand("$ sed 's/ERROR/FAIL/g' app.log", -0.05)]
    unchanged = Observation(0, "ERROR x\n", "", unchanged=True)
    assert unchanged.inert and not unchanged.quiet
    assert choose(cands, [unchanged, ok("FAIL x\n")]).index == 1
    # alone, or against another that changed nothing, the greedy one stands
    assert choose(cands, [unchanged, Observation(0, "ERROR x\n", "", unchanged=True)]).index == 0
    assert choose(cands, [unchanged, Observation(2, "", "sed: no input\n")]).index == 0
