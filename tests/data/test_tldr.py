"""data.placeholders and data.tldr: placeholders get real names, and the request says every one of them.

The examples are real tldr-pages examples (tldr-pages contributors, CC BY 4.0), filled on a small
hand-made catalog so that these tests need neither Docker nor the external data folder.
"""

from __future__ import annotations

import random
import re

import pytest

from data.catalog import Catalog, Entry
from data.placeholders import slot
from data.screen import Drop, Dropped, stages
from data.tldr import fill, runs_in_image, said


def catalog() -> Catalog:
    entries = [
        Entry("notes", "dir", mode=0o755), Entry("notes/todo.txt", "file", 30, text="buy milk\ncall mom\n"),
        Entry("notes/ideas.txt", "file", 20, text="a game\na shop\n"), Entry("logs", "dir", mode=0o755),
        Entry("logs/app.log", "file", 40, text="INFO started\nERROR failed\n"), Entry("backup.tar.gz", "file", 900),
        Entry("site.zip", "file", 500), Entry("latest", "symlink"), Entry("repo", "dir", mode=0o755),
        Entry("repo/README.md", "file", 14, text="# repo\nhello\n"), Entry("repo/src", "dir", mode=0o755),
        Entry("repo/src/app.py", "file", 20, text="print('hello')\n"), Entry("My Notes", "dir"),
        Entry("My Notes/a b.txt", "file", 4, text="x y\n"),
    ]
    return Catalog("train-a", tuple(sorted(entries, key=lambda e: e.path)), ("repo",), {"repo": ("develop", "main")})


@pytest.mark.parametrize("raw, kind, detail", [
    ("[-c|--check]", "option", {"label": "-c"}),
    ("[-sf|--symbolic --force]", "option", {"label": "-sf"}),
    ("[--long-only|--other]", "option", {"label": "--long-only"}),
    ("path/to/file", "path", {"want": "file", "new": False, "multi": False, "ext": ""}),
    ("path/to/file1 path/to/file2 ...", "path", {"want": "file", "multi": True, "label": "files"}),
    ("path/to/directory", "path", {"want": "dir", "new": False}),
    ("path/to/file_or_directory", "path", {"want": "file"}),
    ("path/to/archive.tar.gz", "path", {"want": "file", "ext": "tar.gz", "new": False}),
    ("path/to/new_file", "path", {"want": "file", "new": True}),
    ("path/to/target.tar.gz", "path", {"new": True, "ext": "tar.gz"}),
    ("path/to/output_directory", "path", {"want": "dir", "new": True}),
    ("path/to/symlink", "path", {"want": "symlink"}),
    ("file1", "path", {"want": "file", "label": "file1"}),
    ("10", "literal", {"label": "10"}),
    ("-1", "literal", {"label": "-1"}),
    ("Hello World", "literal", {"label": "Hello World"}),
    ("count", "number", {}),
    ("search_pattern", "pattern", {}),
    ("branch_name", "branch", {}),
    ("username", "word", {}),
    ("commit", "word", {}),
    ("*.ext", "glob", {"ext": ""}),
    ("*.txt", "glob", {"ext": "txt"}),
])
def test_placeholder_rules(raw, kind, detail):
    s = slot(raw)
    assert s is not None and s.kind == kind
    for field, value in detail.items():
        assert getattr(s, field) == value, field


@pytest.mark.parametrize("raw", ["a|b|c", "--shmems|--queues", "/dev/sdXN", "command", "command -with -flags",
                                 "path/to/shell", "path/to/binary", "path/to/device_file", "pid", "url", "package",
                                 "path/to/file.[gz|bz2]", "VARIABLE", "{array[@]",
                                 "function_name1 function_name2"])
def test_placeholders_without_a_rule(raw):
    assert slot(raw) is None


def _fill(description: str, command: str, seed: int = 0):
    return fill(description, command, catalog(), random.Random(seed))


def test_a_file_is_named_in_place_of_the_generic_phrase():
    cand = _fill("Display the contents of a file", "cat {{path/to/file}}")
    path = cand.command.split()[1]
    assert path in {"notes/todo.txt", "notes/ideas.txt", "logs/app.log", "repo/README.md", "repo/src/app.py"}
    assert cand.request == f"Display the contents of {path}" and cand.fills == (path,)


def test_two_files_backticked_names_and_values_said_by_the_description():
    cand = _fill("Compare two files", "diff {{path/to/file1}} {{path/to/file2}}")
    a, b = cand.command.split()[1:]
    assert a != b and cand.request == f"Compare {a} and {b}"
    cand = _fill("Print the last `count` lines of a file", "tail {{[-n|--lines]}} {{count}} {{path/to/file}}")
    assert re.fullmatch(r"tail -n 3 \S+", cand.command)
    assert cand.request == f"Print the last 3 lines of {cand.command.split()[-1]}"
    cand = _fill("Show the first 10 lines", "head -n {{10}} {{path/to/file}}")
    assert cand.request == f"Show the first 10 lines: {cand.command.split()[-1]}"


def test_a_pattern_is_a_word_of_the_chosen_file():
    for seed in range(5):
        cand = _fill("Search for a pattern within a file", 'grep "{{search_pattern}}" {{path/to/file}}', seed)
        word, path = re.fullmatch(r'grep "(\w+)" (\S+)', cand.command).groups()
        entry = next(e for e in catalog().entries if e.path == path)
        assert word in entry.text and cand.request == f"Search for {word} within {path}"


def test_new_names_are_new_and_keep_their_phrase():
    cand = _fill("Create a gzipped archive from a directory and write it to an output file",
                 "tar czf {{path/to/output_file.tar.gz}} {{path/to/directory}}")
    _, _, target, folder = cand.command.split()
    assert target == "output.tar.gz" and not catalog().exists(target) and catalog().exists(folder)
    assert cand.request == (f"Create a gzipped archive from the {folder} directory and write it to an output file "
                            f"{target}")


def test_git_runs_in_a_repository_the_request_names():
    cand = _fill("Show the history of a file in the current repository", "git log {{path/to/file}}")
    path = cand.command.split()[-1]
    assert cand.command.startswith("git -C repo log ") and catalog().exists(f"repo/{path}")
    assert cand.request == f"Show the history of {path} in the repo repository"
    cand = _fill("List all branches", "git branch")
    assert cand.command == "git -C repo branch" and cand.request == "List all branches in the repo repository"
    cand = _fill("Switch to a branch", "git switch {{branch_name}}")
    assert cand.command == "git -C repo switch develop" and cand.request == "Switch to branch develop in the repo repository"


def test_leftover_values_are_appended_and_names_with_spaces_are_never_chosen():
    cand = _fill("Set max per-user process limit", "ulimit -u {{30}}")
    assert cand.command == "ulimit -u 30" and cand.request == "Set max per-user process limit: 30"
    for seed in range(20):
        cand = _fill("Count lines", "wc -l {{path/to/file}}", seed)
        assert " " not in cand.command.split(maxsplit=2)[2]


@pytest.mark.parametrize("command, detail", [
    ("sha256sum -c {{path/to/file.sha256}}", "no fitting name for {{path/to/file.sha256}}"),
    ("time {{command}}", "no rule for {{command}}"),
    ("ipcs {{-m|-q|-s}}", "no rule for {{-m|-q|-s}}"),
])
def test_unfillable_examples(command, detail):
    assert _fill("Something", command) == Dropped(Drop.UNFILLABLE, detail)


EXAMPLES = [  # (page, description, command): real tldr-pages examples
    ("cat", "Print the contents of a file to `stdout`", "cat {{path/to/file}}"),
    ("cat", "Concatenate several files into an output file", "cat {{path/to/file1 path/to/file2 ...}} > {{path/to/output_file}}"),
    ("tar", "E[x]tract a (compressed) archive [f]ile into the current directory [v]erbosely", "tar xvf {{path/to/source.tar[.gz|.bz2|.xz]}}"),
    ("tar", "[c]reate a g[z]ipped archive and write it to a [f]ile", "tar czf {{path/to/target.tar.gz}} {{path/to/file1 path/to/file2 ...}}"),
    ("tar", "[t]est (list) the contents of a tar [f]ile", "tar tvf {{path/to/source.tar}}"),
    ("grep", "Search for a pattern within files", 'grep "{{search_pattern}}" {{path/to/file1 path/to/file2 ...}}'),
    ("grep", "Search for an exact string (disables regular expressions)", 'grep {{[-F|--fixed-strings]}} "{{exact_string}}" {{path/to/file}}'),
    ("wc", "Count all lines in a file", "wc {{[-l|--lines]}} {{path/to/file}}"),
    ("head", "Output the first `count` lines of a file", "head {{[-n|--lines]}} {{count}} {{path/to/file}}"),
    ("du", "List the sizes of a directory and any subdirectories, in the given unit (B/KiB/MiB)", "du -{{b|k|m}} {{path/to/directory}}"),
    ("du", "List the human-readable size of a directory and of all the files and directories within it", "du {{[-a|--all]}} {{[-h|--human-readable]}} {{path/to/directory}}"),
    ("ls", "List files one per line", "ls -1"),
    ("mkdir", "Create specific directories", "mkdir {{path/to/directory1 path/to/directory2 ...}}"),
    ("cp", "Copy a file to another location", "cp {{path/to/source_file.ext}} {{path/to/target_file.ext}}"),
    ("cp", "Recursively copy a directory's contents to another location", "cp {{[-r|--recursive]}} {{path/to/source_directory}} {{path/to/target_directory}}"),
    ("sort", "Sort a file in ascending order", "sort {{path/to/file}}"),
    ("git-log", "Show the sequence of commits starting from the current one, in reverse chronological order", "git log"),
    ("git-log", "Show the history of a particular file or directory, including differences", "git log {{[-p|--patch]}} {{path/to/file_or_directory}}"),
    ("zipinfo", "List all files in a Zip file in long format", "zipinfo {{path/to/archive.zip}}"),
    ("readlink", "Get the actual file to which the symlink points", "readlink {{path/to/file}}"),
]


def _path_words(command: str) -> list[str]:
    return [w for _, words in stages(command) for w in words[1:]
            if re.fullmatch(r"[\w.~/-]+", w) and not w.startswith("-") and ("/" in w or re.search(r"\.[A-Za-z]\w*$", w))]


@pytest.mark.parametrize("page, description, command", EXAMPLES, ids=[f"{p}-{i}" for i, (p, _, _) in enumerate(EXAMPLES)])
def test_never_invent_names(page, description, command):
    """Every value filled in is said in the request; every path the command names is said or exists."""
    cat = catalog()
    for seed in range(3):
        cand = fill(description, command, cat, random.Random(seed))
        if isinstance(cand, Dropped):
            assert cand.reason == Drop.UNFILLABLE
            continue
        assert "{{" not in cand.command
        for value in cand.fills:
            assert said(value, cand.request), (value, cand.request)
        scope = "repo/" if cand.command.startswith("git -C repo ") else ""
        for word in _path_words(cand.command):
            assert said(word, cand.request) or cat.exists(scope + word), (word, cand.request, cand.command)


@pytest.mark.parametrize("page, command, expected", [
    ("tar", "tar czf a.tar.gz b", True), ("git-log", "git log -p", True), ("git-log", "git show", False),
    ("cariddi", "cat urls.txt | cariddi", False), ("tar", "bsdtar -x", False), ("ssh", "ssh host", False),
])
def test_examples_are_taken_when_the_image_has_their_program(page, command, expected):
    assert runs_in_image(page, command, frozenset({"tar", "git", "cat"})) is expected
