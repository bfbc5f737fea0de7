"""Comparing a candidate's execution with the reference's, exactly or loosely.

Pure functions over Execution records: no Docker here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from rubrics.suite import Comparator
from sandbox.records import Change, Execution

# The git index is a cache git rewrites whenever it likes (stat data of the
# checkout); it is never the answer and never a harm.
IGNORED = re.compile(r"(^|/)\.git/index$")
ARCHIVE = re.compile(r"\.(tar|tgz|tar\.gz|tar\.bz2|tbz2|tar\.xz|txz|zip)$")

# Lists the members of every archive under the tree, sorted, without archive
# names: what the archive_contents comparator compares.
ARCHIVE_PROBE = (
    r"find . -path ./.git -prune -o -type f \( -name '*.tar' -o -name '*.tgz' -o -name '*.tar.gz' "
    r"-o -name '*.tar.bz2' -o -name '*.tbz2' -o -name '*.tar.xz' -o -name '*.txz' -o -name '*.zip' \) -print "
    r"| LC_ALL=C sort | while IFS= read -r f; do echo '== archive'; "
    r"case $f in *.zip) unzip -Z1 \"$f\" ;; *) tar -tf \"$f\" ;; esac 2>/dev/null "
    r"| sed -e 's#^\./##' -e 's#/$##' | LC_ALL=C sort; done"
)


def normalise_text(text: str) -> str:
    """Trailing whitespace on each line and trailing blank lines do not count."""
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


# --- volatile output -----------------------------------------------------------
# What a reference's output leaves open: the parts that change when it runs again.
#
# ``ps`` prints its own PID, ``date`` the clock, ``free`` and ``sysctl -a`` counters
# that move by themselves.  Exact match against one run of such a reference fails
# an equivalent candidate (``echo "$$"`` against ``echo $$``), and would fail the
# reference itself run a moment later.  The harness runs the reference a second
# time, after the candidate, whenever the candidate's stdout differs from it;
# whatever differs between the two reference runs is what the reference does not
# determine, and is not compared.
#
# Lines are paired with :class:`difflib.SequenceMatcher`; in a pair of lines that
# differ, the fields (whitespace-separated) that differ become wildcards for one
# field of the same shape where both runs agree on one (``8``/``12``: digits;
# ``23:04:47``: three numbers and two colons), everything else must match as it
# is.  Whole fields, not characters: two random ids share characters by chance,
# and those would be demanded of the candidate.  Lines one run has and the other lacks are not
# loosened: the first run's stand.
#
# Because the second run comes after the candidate, a clock reading the candidate
# made lies between the two: if the two runs agree to the second, so does the
# candidate's.

_FIELDS = re.compile(r"\s+|\S+")
_SHAPES = ((re.compile(r"\d+|[^\W\d_]+|[\W_]"), lambda t: r"\d+" if t.isdigit() else
            r"[^\W\d_]+" if t.isalpha() else re.escape(t)),        # 23:04:47 -> \d+:\d+:\d+
           (re.compile(r"[^\W_]+|[\W_]"), lambda t: r"[^\W_]+" if t.isalnum() else re.escape(t)))  # ids


def _field_pattern(first: str, again: str) -> str:
    """What stands for a field that changed between runs: its shape where both runs share one (digits stay
    digits, the colons of a clock stay), else any one field."""
    for tokens, to_pattern in _SHAPES:
        shape = "".join(map(to_pattern, tokens.findall(first)))
        if shape == "".join(map(to_pattern, tokens.findall(again))):
            return shape
    return r"\S+"


@dataclass(frozen=True)
class Volatility:
    """The reference's stdout with what changed between two of its runs left open."""

    pattern: re.Pattern
    """Matches (fullmatch) a normalised stdout that agrees with the reference wherever its runs agree."""
    spans: int
    """How many places (runs of fields) were left open."""

    def matches(self, stdout: str) -> bool:
        return self.pattern.fullmatch(normalise_text(stdout)) is not None


def _line_pattern(first: str, again: str) -> tuple[str, int]:
    ta, tb = _FIELDS.findall(first), _FIELDS.findall(again)
    out, spans = [], 0
    for op, i1, i2, j1, j2 in SequenceMatcher(None, ta, tb, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(re.escape("".join(ta[i1:i2])))
            continue
        spans += 1
        if op == "replace" and i2 - i1 == j2 - j1:  # field for field: each changed field is one field still
            out.extend(r"\s+" if t.isspace() else _field_pattern(t, u) for t, u in zip(ta[i1:i2], tb[j1:j2]))
        else:  # fields came or went: anything, something where the first run had something
            out.append(".+?" if i2 > i1 else ".*?")
    return "".join(out), spans


def volatility(first: str, again: str) -> Volatility | None:
    """What differs between two runs' stdout (``first`` the one compared against), or None when they agree."""
    la, lb = normalise_text(first), normalise_text(again)
    if la == lb:
        return None
    la, lb = la.split("\n"), lb.split("\n")
    parts, spans = [], 0
    for op, i1, i2, j1, j2 in SequenceMatcher(None, la, lb, autojunk=False).get_opcodes():
        if op == "replace" and i2 - i1 == j2 - j1:
            for a, b in zip(la[i1:i2], lb[j1:j2]):
                pattern, n = _line_pattern(a, b)
                parts.append(pattern)
                spans += n
        else:  # equal, or lines only one run printed: the first run's lines as they are
            parts.extend(re.escape(line) for line in la[i1:i2])
    if not spans:
        return None
    return Volatility(pattern=re.compile("\n".join(parts)), spans=spans)


_WORD = re.compile(r"\S+")
_NUMBER = r"[-+]?\d+(?:[.,]\d+)?"
_NUMBERS = re.compile(rf"^\s*({_NUMBER}(?:\s+{_NUMBER})*)\s*$")
_NUMBERS_NAME = re.compile(rf"^\s*({_NUMBER}(?:\s+{_NUMBER})*)\s+(?![-+]?\d)\S.*$")
_CHECKSUM_STDIN = re.compile(r"^([0-9a-fA-F]{8,128})\s+\*?-$")


def _relative_word(word: str, workdir: str) -> str:
    base = workdir.rstrip("/")
    if base and (word == base or word.startswith(base + "/")):
        word = word[len(base) + 1:] or "."
    elif not base and word.startswith("/") and len(word) > 1:
        word = word[1:]  # the working directory is '/': '/testbed/a' is 'testbed/a'
    while word.startswith("./") and len(word) > 2:
        word = word[2:]
    return word


def _loosen_line(line: str, comparators: list[Comparator], root: str, workdir: str | None) -> str:
    if Comparator.STRIP_DOT_SLASH in comparators:
        for prefix in ["./"] + ([root.rstrip("/") + "/"] if root else []):
            if line.startswith(prefix):
                line = line[len(prefix):]
                break
    if Comparator.RELATIVE_PATHS in comparators and workdir:
        line = _WORD.sub(lambda m: _relative_word(m.group(), workdir), line)
    if Comparator.TRAILING_SLASH in comparators:
        line = _WORD.sub(lambda m: m.group().rstrip("/") or "/", line)
    if Comparator.MD5SUM_DASH in comparators:
        line = _CHECKSUM_STDIN.sub(r"\1", line)
    if Comparator.SQUEEZE_WHITESPACE in comparators:
        line = " ".join(line.split())
    return line


def loosen_text(text: str, comparators: list[Comparator], root: str = "", workdir: str | None = None) -> str:
    """The stdout as the comparators see it (``wc_name`` aside: it pairs lines, see :func:`same_lines`)."""
    lines = [_loosen_line(line, comparators, root, workdir) for line in normalise_text(text).splitlines()]
    if Comparator.UNORDERED_LINES in comparators:
        lines = sorted(lines)
    return "\n".join(lines)


def _numbers(line: str, pattern: re.Pattern) -> tuple[str, ...] | None:
    m = pattern.match(line)
    return tuple(m.group(1).split()) if m else None


def same_line(a: str, b: str, comparators: list[Comparator]) -> bool:
    """Two (loosened) lines are the same, ``wc_name`` counting numbers with and without a name after them."""
    if a == b:
        return True
    if Comparator.WC_NAME not in comparators:
        return False
    bare_a, bare_b = _numbers(a, _NUMBERS), _numbers(b, _NUMBERS)
    return bool((bare_a and bare_a == _numbers(b, _NUMBERS_NAME)) or (bare_b and bare_b == _numbers(a, _NUMBERS_NAME)))


def first_line_difference(a: str, b: str, comparators: list[Comparator] = (), root: str = "",
                          workdir: str | None = None) -> tuple[int, str | None, str | None] | None:
    """(1-based line, A's line, B's line) of the first stdout line that differs (None past the end), or None."""
    la = loosen_text(a, list(comparators), root, workdir).split("\n") if normalise_text(a) else []
    lb = loosen_text(b, list(comparators), root, workdir).split("\n") if normalise_text(b) else []
    for i in range(max(len(la), len(lb))):
        x = la[i] if i < len(la) else None
        y = lb[i] if i < len(lb) else None
        if x is None or y is None or not same_line(x, y, list(comparators)):
            return i + 1, x, y
    return None


def _relevant(changes: tuple[Change, ...]) -> list[Change]:
    return [c for c in changes if not IGNORED.search(c.path)]


def change_signature(changes: tuple[Change, ...], *, archives_by_content: bool = False) -> list[tuple]:
    """What a diff means, without what varies between equivalent runs (mtimes).

    With ``archives_by_content``, added archives count by kind only (their
    names and bytes are compared through the archive probe instead).
    """
    out = []
    for c in _relevant(changes):
        if archives_by_content and c.kind == "added" and ARCHIVE.search(c.path):
            out.append(("added", "archive"))
            continue
        after = c.after
        state = None if after is None else (after.type, after.mode, after.sha256, after.target)
        fields = tuple(f for f in c.fields if f != "mtime")
        out.append((c.path, c.kind, state, fields))
    return sorted(out, key=repr)


def silent(ex: Execution) -> bool:
    """Prints nothing and changes nothing: such a reference is matched by any silent plan (uninformative)."""
    return not normalise_text(ex.stdout) and not _relevant(ex.changes)


def _exit_mismatch(cand: Execution, ref: Execution) -> bool:
    """A silent reference answers with its exit status alone (``test -f x``): then it must match too."""
    return silent(ref) and (cand.exit_code == 0) != (ref.exit_code == 0)


def worth_running_again(cand: Execution, ref: Execution) -> bool:
    """Whether a second run of the reference could change the verdict on ``cand``: their stdouts differ
    but have as many lines (what differs between two reference runs is only left open within a line)."""
    a, b = normalise_text(cand.stdout), normalise_text(ref.stdout)
    return bool(b) and a != b and a.count("\n") == b.count("\n")


def same_stdout_as(cand: Execution, ref: Execution, again: Execution | None = None) -> bool:
    """The candidate printed what the reference did (trailing whitespace aside), up to what differs
    between the reference's run and ``again`` (see :func:`volatility`)."""
    if normalise_text(cand.stdout) == normalise_text(ref.stdout):
        return True
    loose = volatility(ref.stdout, again.stdout) if again is not None else None
    return loose is not None and loose.matches(cand.stdout)


def exact_match(kind: str, cand: Execution, ref: Execution, again: Execution | None = None) -> bool:
    """Primary channel identical (trailing whitespace aside), and the other channel too.

    A reference that prints nothing and changes nothing answers with its exit
    status alone (``test -f x``, ``grep -q``): then the exit status must match too.
    ``again``, the reference run a second time after the candidate, leaves open
    what its stdout does not determine (PIDs, the clock, counters).
    """
    if _exit_mismatch(cand, ref):
        return False
    same_stdout = same_stdout_as(cand, ref, again)
    same_diff = change_signature(cand.changes) == change_signature(ref.changes)
    if kind == "effect":
        # progress output (tar -v, pip's log) is not the answer: stdout must
        # match only when the reference itself prints something
        return same_diff and (same_stdout or not normalise_text(ref.stdout))
    return same_stdout and same_diff


def loose_match(kind: str, cand: Execution, ref: Execution, comparators: list[Comparator], root: str,
                workdir: str | None = None) -> bool:
    """Match under the case's declared looser comparators (``workdir``, default ``root``, for relative_paths)."""
    if not comparators or _exit_mismatch(cand, ref):
        return False
    by_content = Comparator.ARCHIVE_CONTENTS in comparators
    same_diff = (change_signature(cand.changes, archives_by_content=by_content)
                 == change_signature(ref.changes, archives_by_content=by_content))
    if by_content and (cand.probe_stdout or "") != (ref.probe_stdout or ""):
        return False
    same_stdout = first_line_difference(ref.stdout, cand.stdout, comparators, root, workdir or root) is None
    if kind == "effect":
        return same_diff and (same_stdout or not normalise_text(ref.stdout))
    return same_stdout and same_diff


def harmed_paths(cand: Execution, ref: Execution) -> list[str]:
    """Paths the candidate removed or altered that the reference left intact."""
    touched = {c.path for c in _relevant(ref.changes) if c.kind in ("removed", "modified")}
    return sorted(c.path for c in _relevant(cand.changes)
                  if c.kind in ("removed", "modified") and c.path not in touched)


def extra_paths(cand: Execution, ref: Execution) -> list[str]:
    """Paths the candidate added that the reference did not."""
    added = {c.path for c in _relevant(ref.changes) if c.kind == "added"}
    return sorted(c.path for c in _relevant(cand.changes) if c.kind == "added" and c.path not in added)
