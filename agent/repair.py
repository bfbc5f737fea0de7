"""Path repair: a file the model names by a path that is not there, but that the listing shows elsewhere.

A small model that reads ``reports/2025/sales.csv`` in the listing still
writes ``head -n 1 sales.csv``, or invents a folder (``logs/output.log`` where
the listing shows ``output.log``).  The plan then fails, or reads nothing.
:func:`repair_command` rewrites such a word to the one listed entry with the
same name, before the safety pass and the check, so the check runs (and
judges) the repaired plan.

A word is repaired only when all of these hold:

* it is an operand the program *reads* (a file ``cat``, ``head``, ``wc``,
  ``grep`` ... read, a path ``find``, ``du`` or ``ls`` start from, the sources
  of ``cp``/``mv``/``tar -c``, the archive of ``tar -x``/``unzip``, the
  directory of ``cd``); never something a command creates or writes
  (``mkdir``, ``touch``, the target of ``cp``/``mv``, ``tar -c``'s archive,
  a redirect target), never a pattern or a script (``grep``'s pattern,
  ``sed``'s script, ``find -name``'s glob), never an option's value;
* it is a plain relative path: no quotes needed for expansions, no glob, no
  ``$``, not absolute, not ``~``, no ``..``;
* the listing shows that it is *not there*: its folder is listed with every
  entry shown (the top level, or a folder without "entries not shown"), and
  it is not among them;
* exactly one listed entry has the same base name (one match or nothing:
  the agent never guesses between two);
* no earlier line of the plan could have made it (a word an earlier line
  names in any role other than one that reads), and no earlier command changed
  directory (``cd``).

The listing is parsed from its text (:func:`listed`), so any listing the
agent was given (of a real directory or of a fixture) serves.  Standard
library and :mod:`agent.shell` only.
"""

from __future__ import annotations

import functools
import re
import shlex
from dataclasses import dataclass

from agent.levels import program, unwrap
from agent.rules import TAR_VALUE_SHORT
from agent.shell import Command, Script, Unparseable, Word, parse

HIDDEN = re.compile(r"\d+ entr(?:y|ies) not shown\)$")
"""The end of a folder line's note when some of its entries are left out:
``project/ (git repository, branch main, 3 entries not shown)``."""
MORE = re.compile(r"^\((\d+) more entr(?:y|ies) not shown\)$")
GLOB = frozenset("*?[]{}")

READ_ALL = frozenset({
    "cat", "head", "tail", "wc", "sort", "uniq", "nl", "tac", "rev", "less", "more", "file", "stat", "md5sum",
    "sha256sum", "sha1sum", "cksum", "du", "ls", "cut", "diff", "cmp", "comm", "paste", "join", "zcat", "zless",
    "gunzip", "gzip", "bzip2", "bunzip2", "xz", "unxz", "rm", "readlink", "realpath", "tree", "source",
    ".", "column", "fold", "od", "xxd", "hexdump", "strings",
})
"""Programs whose operands are all files or folders they read (rm: the preview lists what it names)."""
AFTER_FIRST = frozenset({"grep", "egrep", "fgrep", "rg", "sed", "awk", "chmod", "chown", "chgrp", "jq"})
"""Programs whose first operand is a pattern, a script or a mode (unless given by ``-e``/``-f``), the rest files."""
ALL_BUT_LAST = frozenset({"cp", "mv"})
"""Programs whose last operand is the target (written, never repaired) unless ``-t DIR`` names it."""
VALUE_OPTS = {
    "head": "nc", "tail": "ncs", "sort": "kotST", "cut": "dfcb", "du": "dBt", "grep": "efmABCD", "egrep": "efmABCD",
    "fgrep": "efmABCD", "rg": "efmABCgtT", "sed": "efl", "awk": "fvF", "wc": "", "uniq": "fsw", "ls": "IwT",
    "diff": "ILxX", "cp": "tS", "mv": "tS", "chmod": "", "chown": "", "unzip": "dx",
    "nl": "bdfhilnsvw", "tree": "LIPo", "jq": "", "xxd": "clgs", "od": "AjNtw", "fold": "w", "column": "sct",
    "tar": "".join(sorted(TAR_VALUE_SHORT)),  # the safety rules' own table
}
"""Short options that take a value (the next word, or the rest of the cluster)."""
PATTERN_GIVEN = {"grep": "ef", "egrep": "ef", "fgrep": "ef", "rg": "ef", "sed": "ef", "awk": "f"}
"""Options that give the pattern/script, so that the first operand is a file."""
LONG_TAR = {"--create": "c", "--append": "r", "--update": "u", "--extract": "x", "--get": "x", "--list": "t"}
"""tar's long mode options and their letters."""
LONG_VALUE = frozenset({"--lines", "--bytes", "--max-depth", "--key", "--field-separator", "--fields", "--delimiter",
                        "--exclude", "--include", "--file", "--regexp", "--max-count", "--output", "--directory",
                        "--target-directory", "--context", "--after-context", "--before-context", "--glob", "--type"})
"""Long options that take the next word as their value when written without ``=``."""


@dataclass(frozen=True)
class Entry:
    """One entry of a listing."""

    path: str
    """Path relative to the listed directory."""
    kind: str
    """``file``, ``dir`` or ``link``."""


@dataclass(frozen=True)
class Listed:
    """What a listing's text says: the entries shown and the folders whose entries were all shown."""

    entries: tuple[Entry, ...]
    """Every entry shown."""
    complete: frozenset[str]
    """Folders ('' for the listed one) whose every entry is shown: a name missing there is not there."""

    def paths(self) -> frozenset[str]:
        """Every entry's path (made once per listing: each candidate's every word looks it up)."""
        return self._paths

    @functools.cached_property
    def _paths(self) -> frozenset[str]:
        return frozenset(e.path for e in self.entries)


@dataclass(frozen=True)
class Repair:
    """One word of a command rewritten to a listed path."""

    word: str
    """What the model wrote."""
    path: str
    """The listed entry it now names."""


@functools.lru_cache(maxsize=8)
def listed(text: str) -> Listed:
    """Parse a listing's text (:func:`agent.context.render`'s output); parsed once for all of a request's candidates."""
    entries: list[Entry] = []
    partial: set[str] = set()
    lines = text.splitlines()[1:]
    for line in lines:
        if not line or line == "(empty)":
            continue
        if MORE.match(line):
            partial.add("")
        elif " -> " in line:
            entries.append(Entry(line.split(" -> ", 1)[0], "link"))
        elif "/ (" in line and line.endswith(")"):
            path, note = line.split("/ (", 1)
            entries.append(Entry(path, "dir"))
            if HIDDEN.search(note):
                partial.add(path)
        elif line.endswith("/"):
            entries.append(Entry(line.rstrip("/"), "dir"))
        else:
            entries.append(Entry(line, "file"))
    dirs = {e.path for e in entries if e.kind == "dir"}
    # a listed folder whose entries lie past the listing's depth shows "N entries not shown": partial
    complete = frozenset(({""} | dirs) - partial)
    return Listed(tuple(entries), complete)


def _plain(value: str) -> bool:
    """A relative path the repair may touch."""
    if not value or value.startswith(("-", "/", "~")) or value in (".", ".."):
        return False
    if any(c in GLOB for c in value) or "$" in value or "=" in value or "\n" in value:
        return False
    return ".." not in value.split("/")


def _value_letters(name: str, arg: str) -> tuple[str, bool]:
    """The short-option letters of ``arg`` and whether the next word is the value of its last one."""
    letters = arg[1:]
    takers = VALUE_OPTS.get(name, "")
    for i, ch in enumerate(letters):
        if ch in takers:
            return letters[:i + 1], i == len(letters) - 1
        if ch.isdigit():  # head -5
            return letters[:i], False
    return letters, False


def _operands(name: str, words: list[Word]) -> tuple[list[Word], set[str]]:
    """The operands of a command (options and their values left out) and the short option letters given."""
    operands: list[Word] = []
    letters: set[str] = set()
    i, ended = 1, False
    while i < len(words):
        value = words[i].value
        if ended or not value.startswith("-") or value == "-":
            operands.append(words[i])
        elif value == "--":
            ended = True
        elif value.startswith("--"):
            if "=" not in value and value in LONG_VALUE:
                i += 1
        else:
            given, takes_next = _value_letters(name, value)
            letters.update(given)
            if takes_next:
                i += 1
        i += 1
    return operands, letters


def _tar_inputs(words: list[Word]) -> list[Word]:
    """What tar reads: with ``-c`` (``-r``, ``-u``) the files after the options, with ``-x``/``-t`` the
    archive given as a separate word (``-f A``, ``--file A``, old-style ``xzf A``); never member names."""
    letters: set[str] = set()
    archive: Word | None = None
    operands: list[Word] = []
    pending: list[str] = []
    for i, word in enumerate(words[1:]):
        value = word.value
        if pending:
            if pending.pop(0) == "f":
                archive = word
            continue
        if i == 0 and not value.startswith("-"):  # old-style key: its values follow in order
            letters.update(value)
            pending = [c for c in value if c in VALUE_OPTS["tar"]]
        elif value.startswith("--"):
            option = value.split("=", 1)[0]
            letters.update(LONG_TAR.get(option, ""))
            if "=" not in value and (option == "--file" or option in LONG_VALUE):
                pending.append("f" if option == "--file" else "_")
        elif value.startswith("-") and len(value) > 1:
            body = value[1:]
            for j, ch in enumerate(body):
                letters.add(ch)
                if ch in VALUE_OPTS["tar"]:
                    if j == len(body) - 1:
                        pending.append(ch)
                    break
        else:
            operands.append(word)
    if "C" in letters:
        return []  # -C DIR: the names are relative to DIR
    if letters & set("cru"):
        return operands
    if letters & set("xt"):
        return [archive] if archive is not None else []
    return []


def read_operands(command: Command) -> tuple[list[Word], bool]:
    """The words of ``command`` that name something it reads, and whether it changes directory."""
    words = unwrap(list(command.words))
    if not words:
        return [], False
    name = program(words[0].value)
    if name in ("cd", "pushd"):
        return [w for w in words[1:2] if not w.value.startswith("-")], True
    if name == "find":
        starts = []
        for w in words[1:]:
            if w.value.startswith(("-", "(", "!", ")")):
                break
            starts.append(w)
        return starts, False
    if name == "tar":
        return _tar_inputs(words), False
    operands, letters = _operands(name, words)
    if name == "unzip":
        return operands[:1], False  # the archive; the words after it are member names
    if name in READ_ALL:
        return operands, False
    if name in AFTER_FIRST:
        given = PATTERN_GIVEN.get(name, "")
        return (operands if letters & set(given) else operands[1:]), False
    if name in ALL_BUT_LAST:
        return (operands if "t" in letters else operands[:-1]), False
    return [], False


def absent(path: str, where: Listed) -> bool:
    """Whether the listing shows that ``path`` is not there: its first missing component sits in a
    folder listed in full."""
    parts = path.split("/")
    paths = where.paths()
    for k in range(1, len(parts) + 1):
        if "/".join(parts[:k]) not in paths:
            return "/".join(parts[:k - 1]) in where.complete
    return False


def _match(value: str, where: Listed) -> str | None:
    """The one listed entry ``value`` stands for, or None (there, maybe there, or ambiguous)."""
    path = value.removeprefix("./").rstrip("/")
    if not path or not absent(path, where):
        return None
    base = path.rpartition("/")[2]
    same = [e.path for e in where.entries if e.path.rpartition("/")[2] == base]
    return same[0] if len(same) == 1 else None


def repair_command(text: str, where: Listed, named: set[str]) -> tuple[str, list[Repair], bool]:
    """``text`` with each repairable word rewritten (see the module docstring), the repairs, and whether
    the command changes directory (later lines must not be repaired then).

    ``named`` holds the words earlier lines named in roles other than reading (they may exist by
    now); this line's such words are added to it.
    """
    try:
        script: Script = parse(text)
    except Unparseable:
        return text, [], False
    edits: list[tuple[Word, str]] = []
    commands = list(script.commands())
    operands = [read_operands(c) for c in commands]
    moved = any(changes_dir for _, changes_dir in operands)
    readers: set[int] = set()
    for command, (reads, _) in zip(commands, operands):
        for word in reads:
            if moved:  # a cd anywhere in the line: which folder a name is relative to is unclear
                break
            readers.add(word.start)
            if word.expands or not _plain(word.value) or word.value in named:
                continue
            target = _match(word.value, where)
            if target is not None:
                edits.append((word, target))
        for word in command.words[1:]:
            if word.start not in readers:
                named.add(word.value)
    for redirect in script.redirects():
        if redirect.target is not None:
            named.add(redirect.target.value)
    repairs = []
    for word, target in sorted(edits, key=lambda e: -e[0].start):
        replacement = target + ("/" if word.value.endswith("/") else "")
        text = text[:word.start] + shlex.quote(replacement) + text[word.end:]
        repairs.append(Repair(word.value, replacement))
    return text, repairs[::-1], moved
