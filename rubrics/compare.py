"""Comparing a candidate's execution with the reference's, exactly or loosely.

Pure functions over Execution records: no Docker here.
"""

from __future__ import annotations

import re

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


def exact_match(kind: str, cand: Execution, ref: Execution) -> bool:
    """Primary channel identical (trailing whitespace aside), and the other channel too.

    A reference that prints nothing and changes nothing answers with its exit
    status alone (``test -f x``, ``grep -q``): then the exit status must match too.
    """
    if _exit_mismatch(cand, ref):
        return False
    same_stdout = normalise_text(cand.stdout) == normalise_text(ref.stdout)
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
