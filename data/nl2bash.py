"""NL2Bash pairs (MIT; Lin et al., LREC 2018) -> candidate rows, and the name analysis behind the
``train-nl2bash`` fixture.

    python -m data.nl2bash [PATH]      # print the analysis (the numbers fixtures/train-nl2bash.yaml follows)

Each pair becomes one candidate on ``train-nl2bash``: the request is the pair's ``nl`` (whitespace
collapsed), the command its ``cmd`` with only trivial normalisation (surrounding whitespace and a
trailing ``;`` removed).  Nothing else is rewritten: a command that does not fit the sandbox is
dropped or tagged by ``data.external``, never edited.

:func:`analyse` counts what the commands name: the starting points and ``-name`` patterns of
``find`` (60% of the commands), the extensions those patterns ask for, the relative file operands of
everything else, and the ``-type``/``-size``/``-mtime``/``-perm`` tests; :func:`coverage` says how many
of the most used names a fixture has.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from data.candidate import Candidate, external_dir
from data.catalog import catalog
from data.screen import stages
from harness.errors import DataError
from harness.jsonlfile import read_records

HINT = " (set FENRIR_EXTERNAL to the folder holding nl2bash/nl2bash.jsonl)"

FIXTURE = "train-nl2bash"
"""The fixture every NL2Bash candidate runs on."""
_FILE_OPERAND = re.compile(r"[\w.\-]+(?:/[\w.\-]+)*\.[A-Za-z0-9]{1,5}|[\w\-]+(?:/[\w.\-]+)+")
_HOST = re.compile(r"\d+(?:\.\d+){3}|[\w.-]+\.(?:com|org|net)")


class Pair(BaseModel):
    """One NL2Bash pair as stored in ``nl2bash.jsonl``."""

    model_config = ConfigDict(extra="forbid")

    nl: str
    """The request, as its author wrote it."""
    cmd: str
    """The one-line Bash command."""


def load(path: Path | str) -> list[Pair]:
    """Every pair of the file, in order; a bad line is a DataError naming file and line."""
    return [pair for _, pair in read_records(path, Pair, "NL2Bash pair {nl, cmd}", DataError, HINT)]


def request(pair: Pair) -> str:
    """The pair's request with runs of whitespace collapsed."""
    return " ".join(pair.nl.split())


def command(pair: Pair) -> str:
    """The pair's command, trimmed (and a trailing lone ``;`` dropped): nothing else is changed."""
    cmd = pair.cmd.strip()
    if cmd.endswith(";") and not cmd.endswith(("\\;", ";;")):
        cmd = cmd[:-1].rstrip()
    return cmd


def candidates(pairs: list[Pair]) -> list[Candidate]:
    """One candidate per pair, on :data:`FIXTURE`, in file order (origin ``nl2bash:LINE``)."""
    return [Candidate("nl2bash", f"nl2bash:{i}", request(p), command(p), FIXTURE) for i, p in enumerate(pairs, start=1)]


@dataclass
class NameStats:
    """What the NL2Bash commands name, counted over all pairs."""

    pairs: int = 0
    """Pairs analysed."""
    find_commands: int = 0
    """Pairs that call ``find``."""
    starts: Counter = field(default_factory=Counter)
    """``find`` starting points (``.``, ``/``, ``~``, ``dir``...)."""
    patterns: Counter = field(default_factory=Counter)
    """``-name``/``-iname``/``-path`` patterns (``*.txt``, ``*~``, ``.svn``...)."""
    extensions: Counter = field(default_factory=Counter)
    """Extensions those patterns ask for (lower case, no dot)."""
    operands: Counter = field(default_factory=Counter)
    """Relative file-like operands of other commands (``file.txt``, ``dir1/``, ``src/prog.js``...)."""
    tests: Counter = field(default_factory=Counter)
    """``find`` tests with their values (``-type f``, ``-mtime -1``, ``-size +10M``, ``-perm 777``...)."""


def analyse(pairs: list[Pair]) -> NameStats:
    """Count the names, patterns and tests the commands use."""
    stats = NameStats(pairs=len(pairs))
    for pair in pairs:
        found_find = False
        for _, words in stages(command(pair)):
            if not words:
                continue
            if words[0] == "find":
                found_find = True
                i = 1
                while i < len(words) and not words[i].startswith(("-", "(", "!", "\\")):
                    stats.starts[words[i]] += 1
                    i += 1
                for flag, value in zip(words, words[1:]):
                    if flag in ("-name", "-iname", "-path", "-ipath", "-wholename"):
                        stats.patterns[value] += 1
                        ext = re.search(r"\.([A-Za-z0-9]+)$", value)
                        if ext:
                            stats.extensions[ext.group(1).lower()] += 1
                    elif flag in ("-type", "-mtime", "-mmin", "-atime", "-ctime", "-size", "-perm", "-newer", "-user"):
                        stats.tests[f"{flag} {value}"] += 1
            else:
                for word in words[1:]:
                    if not word.startswith(("-", "/", "~", "$", "*")) and _FILE_OPERAND.fullmatch(word) \
                            and not _HOST.fullmatch(word):
                        stats.operands[word.rstrip("/")] += 1
        stats.find_commands += found_find
    return stats


def coverage(counter: Counter, exists, top: int = 50) -> tuple[int, int]:
    """(uses covered, uses in all) over the ``top`` most used names, by ``exists(name)``."""
    common = counter.most_common(top)
    return sum(n for name, n in common if exists(name)), sum(n for _, n in common)


def report(stats: NameStats, top: int = 25) -> str:
    """The analysis as text."""
    def line(title: str, counter: Counter) -> str:
        return f"{title}: " + ", ".join(f"{k} {v}" for k, v in counter.most_common(top))
    return "\n".join([
        f"{stats.pairs} pairs, {stats.find_commands} call find ({stats.find_commands / max(1, stats.pairs):.0%})",
        line("find starting points", stats.starts), line("find name patterns", stats.patterns),
        line("extensions asked for", stats.extensions), line("file operands of other commands", stats.operands),
        line("find tests", stats.tests)])


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else external_dir() / "nl2bash" / "nl2bash.jsonl"
    stats = analyse(load(path))
    print(report(stats))
    cat = catalog(FIXTURE)
    files = {e.name for e in cat.entries} | cat.paths
    got, total = coverage(stats.operands, lambda name: name in files)
    print(f"{FIXTURE} has {got} of the {total} uses of the 50 commonest file operands")
    got, total = coverage(stats.extensions, lambda ext: bool(cat.files(ext)), top=40)
    print(f"{FIXTURE} has files for {got} of the {total} uses of the 40 commonest extensions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
