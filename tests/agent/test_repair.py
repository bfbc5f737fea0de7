"""Path repair from the listing (pure logic on listing text, as the agent renders it)."""

import pytest

from agent.context import render, tree_from_paths
from agent.plan import REPAIRED, parse_plan
from agent.repair import absent, listed, repair_command

SHOP = render(tree_from_paths([
    ("backup", "dir", ""), ("notes.txt.bak", "file", ""), ("output.log", "file", ""),
    ("reports", "dir", ""), ("reports/2025", "dir", ""), ("reports/2025/sales.csv", "file", ""),
    ("reports/2024", "dir", ""), ("reports/2024/summary.txt", "file", ""),
    ("docs", "dir", ""), ("docs/a.md", "file", ""), ("src", "dir", ""), ("src/a.md", "file", ""),
    ("latest.log", "link", "output.log"),
    ("deep", "dir", ""), ("deep/er", "dir", ""), ("deep/er/still", "dir", ""), ("deep/er/still/x.txt", "file", ""),
]), "/home/me/shop").text


def fix(command: str, listing: str = SHOP) -> str:
    return repair_command(command, listed(listing), set())[0]


def test_the_listing_text_is_read_back_with_what_it_leaves_out():
    where = listed(SHOP)
    assert "reports/2025/sales.csv" in where.paths() and "latest.log" in where.paths()
    assert {"", "reports", "reports/2025", "backup"} <= where.complete
    assert "deep/er/still" not in where.complete  # its entries lie past the listing's depth
    assert absent("sales.csv", where) and absent("logs/output.log", where)
    assert not absent("deep/er/still/y.txt", where)  # maybe there: that folder is not shown in full


@pytest.mark.parametrize("command, repaired", [
    ("head -n 1 sales.csv", "head -n 1 reports/2025/sales.csv"),
    ("cat logs/output.log", "cat output.log"),  # an invented folder
    ("wc -l 2025/sales.csv", "wc -l reports/2025/sales.csv"),
    ("head -n 1 'sales.csv' | wc -l", "head -n 1 reports/2025/sales.csv | wc -l"),
    ("grep -c 2025 sales.csv", "grep -c 2025 reports/2025/sales.csv"),
    ("grep -e total -c sales.csv summary.txt", "grep -e total -c reports/2025/sales.csv reports/2024/summary.txt"),
    ("sed -n 2p sales.csv", "sed -n 2p reports/2025/sales.csv"),
    ("cp sales.csv backup/", "cp reports/2025/sales.csv backup/"),
    ("tar -czf s.tar.gz sales.csv", "tar -czf s.tar.gz reports/2025/sales.csv"),
    ("find 2025 -name '*.csv'", "find reports/2025 -name '*.csv'"),
    ("du -sh 2024/", "du -sh reports/2024/"),
])
def test_a_read_path_that_is_not_there_becomes_the_one_listed_entry_of_that_name(command, repaired):
    assert fix(command) == repaired


@pytest.mark.parametrize("command", [
    "cat reports/2025/sales.csv",         # already right
    "cat missing.txt",                    # no entry of that name
    "cat a.md",                           # two entries of that name: never a guess
    "grep sales.csv notes.txt.bak",       # the pattern, not a file
    "find . -name sales.csv",             # a glob of find's, not a path
    "cp notes.txt.bak sales.csv",         # the target is written
    "tar -czf sales.csv.tar.gz docs",     # the archive tar -c writes
    "tar -xzf backup.tar.gz sales.csv",   # a member name inside the archive
    "touch sales.csv", "mkdir 2025",      # created
    "head sales.csv > summary.txt",       # redirect target untouched; head's file is repaired below
    "cd reports && cat sales.csv",        # relative to another folder
    "cat $HOME/sales.csv", "cat *.csv", "cat /srv/sales.csv", "cat ../sales.csv",
    "cat deep/er/still/x2.txt",           # that folder is not listed in full
    "python3 -m venv backup",
])
def test_words_that_are_not_read_paths_or_may_exist_are_left_alone(command):
    if command.startswith("head sales.csv >"):
        assert fix(command) == "head reports/2025/sales.csv > summary.txt"
    else:
        assert fix(command) == command


def test_a_name_an_earlier_line_made_is_not_repaired():
    plan = parse_plan("$ touch sales.csv\n$ cat sales.csv\n", SHOP)
    assert [line.text for line in plan.commands] == ["touch sales.csv", "cat sales.csv"]
    plan = parse_plan("$ cd reports\n$ cat sales.csv\n", SHOP)
    assert plan.commands[1].text == "cat sales.csv"


def test_a_truncated_top_level_makes_a_missing_name_unknown():
    many = render(tree_from_paths([(f"f{i:02d}.txt", "file", "") for i in range(80)]
                                  + [("sub", "dir", ""), ("sub/target.txt", "file", "")]), "/w").text
    assert "more entries not shown" in many
    assert fix("cat target.txt", many) == "cat target.txt"


def test_the_plan_says_what_it_repaired_and_the_safety_pass_sees_the_repaired_command():
    plan = parse_plan("$ head -n 1 sales.csv\n$ rm notes.bak\n", SHOP)
    assert plan.render().splitlines() == [
        f"# {REPAIRED}sales.csv -> reports/2025/sales.csv",
        "$ head -n 1 reports/2025/sales.csv",
        "$ ls -d -- notes.bak",
        "# to apply after review: rm notes.bak",
    ]
    assert parse_plan("$ head -n 1 sales.csv\n").render() == "$ head -n 1 sales.csv"  # no listing, no repair
