"""Parsing messy model outputs into plans."""

from agent.plan import Plan, parse_plan
from agent.safety import classify


def test_fenced_block_with_prose_around():
    raw = "Sure! Here is how:\n\n```bash\nfind . -type f -iname '*.jpg' -size +5M\n```\n\nThis lists big JPEGs."
    plan = parse_plan(raw)
    assert plan.render() == "$ find . -type f -iname '*.jpg' -size +5M"
    assert plan.script() == "find . -type f -iname '*.jpg' -size +5M\n"


def test_dollar_lines_comments_and_prose():
    raw = "To count lines:\n# count lines of code\n$ wc -l main.py\nThe wc command counts lines."
    plan = parse_plan(raw)
    assert [(line.kind, line.text) for line in plan.lines] == [("comment", "count lines of code"), ("command", "wc -l main.py")]
    assert plan.render() == "# count lines of code\n$ wc -l main.py"


def test_numbered_list_and_backticks():
    raw = "1. `mkdir -p out`\n2. tar -czf out/r.tar.gz reports\n3. Check the archive size."
    assert parse_plan(raw).script() == "mkdir -p out\nset -C; tar -czf - reports > out/r.tar.gz\n"  # no-clobber


def test_fenced_lines_with_dollar_prompt():
    raw = "```\n$ git status --short\n$ git log --oneline -n 3\n```"
    assert parse_plan(raw).script() == "git status --short\ngit log --oneline -n 3\n"


def test_empty_and_prose_only_output():
    assert parse_plan("").lines == []
    assert parse_plan("I cannot help with that request.\n\nSorry.").lines == []


def test_parse_error_is_recorded_not_raised():
    plan = parse_plan("$ echo 'unterminated\n$ ls")
    first, second = plan.lines
    assert not first.parse_ok and first.parse_error
    assert first.action == "blocked" and first.kind == "comment"
    assert second.parse_ok and second.text == "ls"


def test_destructive_is_previewed_and_catastrophic_blocked():
    plan = parse_plan("$ find . -name '*~' -delete\n$ rm -rf /")
    assert plan.render().splitlines() == [
        "$ find . -name '*~' -print",
        "# to apply after review: find . -name '*~' -delete",
        "# blocked (catastrophic): rm -rf /  -- rm -r of / deletes everything under it",
    ]
    assert plan.script() == "find . -name '*~' -print\n"
    assert plan.worst_level == "catastrophic"
    for line in plan.render().splitlines():
        assert line.startswith(("$ ", "# "))


def test_copies_and_writes_run_no_clobber_and_deletes_stay_previews():
    raw = ("$ mkdir -p backup\n$ cp reports/2025/sales.csv backup/sales-2025.csv\n$ mv notes.txt.bak notes.txt\n"
           "$ ls -l backup > backup/listing.txt\n$ sed -i 's/a/b/' notes.txt\n$ echo $((1 + 2))")
    plan = parse_plan(raw)
    assert plan.render().splitlines() == [
        "$ mkdir -p backup",
        "$ cp -n reports/2025/sales.csv backup/sales-2025.csv",
        "$ mv -n notes.txt.bak notes.txt",
        "$ set -C; ls -l backup > backup/listing.txt",
        "$ sed 's/a/b/' notes.txt",
        "# to apply after review: sed -i 's/a/b/' notes.txt",
        "$ echo $((1 + 2))",
    ]
    assert [line.action for line in plan.commands] == ["kept", "guarded", "guarded", "guarded", "rewritten", "kept"]
    assert [line.level for line in plan.commands] == ["safe", "safe", "safe", "safe", "destructive", "safe"]
    assert plan.commands[1].original == "cp reports/2025/sales.csv backup/sales-2025.csv"
    assert plan.script().splitlines()[1:4] == [
        "cp -n reports/2025/sales.csv backup/sales-2025.csv", "mv -n notes.txt.bak notes.txt",
        "set -C; ls -l backup > backup/listing.txt"]


def test_rendered_plan_parses_back_to_the_same_plan():
    """The printed plan is itself a plan: its previews and guards are kept as they are,
    and the `# to apply after review:` line comes back as a comment."""
    raw = "$ cp a b\n$ rm -rf build\n$ ls > out.txt\n$ sudo ls"
    rendered = parse_plan(raw).render()
    again = parse_plan(rendered)
    assert again.render() == rendered
    assert [line.action for line in again.commands] == ["kept", "kept", "kept"]
    assert ("comment", "to apply after review: rm -rf build") in [(line.kind, line.text) for line in again.lines]


def test_plan_round_trips_through_json():
    plan = parse_plan("$ ls\n$ rm a.txt")
    again = Plan.model_validate_json(plan.model_dump_json())
    assert again == plan
    assert [line.level for line in again.lines] == ["safe", "destructive"]


def test_shebang_dropped_and_comment_only_text_runs_nothing():
    raw = "```bash\n#!/bin/bash\n# Get the size\ndu -sh videos\n```\n#!/bin/sh"
    plan = parse_plan(raw)
    assert plan.render() == "# Get the size\n$ du -sh videos"
    # a comment is no command (bashlex used to crash on it, and it was blocked as unparseable)
    assert classify("# only a comment").level.value == "safe"
    assert classify("ls  # rm -rf /").level.value == "safe"
