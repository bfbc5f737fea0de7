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


def loosen_text(text: str, comparators: list[Comparator], root: str = "") -> str:
    lines = normalise_text(text).splitlines()
    if Comparator.STRIP_DOT_SLASH in comparators:
        prefixes = ["./"] + ([root.rstrip("/") + "/"] if root else [])
        stripped = []
        for line in lines:
            for prefix in prefixes:
                if line.startswith(prefix):
                    line = line[len(prefix):]
                    break
            stripped.append(line)
        lines = stripped
    if Comparator.SQUEEZE_WHITESPACE in comparators:
        lines = [" ".join(line.split()) for line in lines]
    if Comparator.UNORDERED_LINES in comparators:
        lines = sorted(lines)
    return "\n".join(lines)


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


def _silent(ex: Execution) -> bool:
    return not normalise_text(ex.stdout) and not _relevant(ex.changes)


def exact_match(kind: str, cand: Execution, ref: Execution) -> bool:
    """Primary channel identical (trailing whitespace aside), and the other channel too.

    A reference that prints nothing and changes nothing answers with its exit
    status alone (``test -f x``, ``grep -q``): then the exit status must match too.
    """
    if _silent(ref) and (cand.exit_code == 0) != (ref.exit_code == 0):
        return False
    same_stdout = normalise_text(cand.stdout) == normalise_text(ref.stdout)
    same_diff = change_signature(cand.changes) == change_signature(ref.changes)
    if kind == "effect":
        # progress output (tar -v, pip's log) is not the answer: stdout must
        # match only when the reference itself prints something
        return same_diff and (same_stdout or not normalise_text(ref.stdout))
    return same_stdout and same_diff


def loose_match(kind: str, cand: Execution, ref: Execution, comparators: list[Comparator], root: str) -> bool:
    """Match under the case's declared looser comparators."""
    if not comparators or (_silent(ref) and (cand.exit_code == 0) != (ref.exit_code == 0)):
        return False
    by_content = Comparator.ARCHIVE_CONTENTS in comparators
    same_diff = (change_signature(cand.changes, archives_by_content=by_content)
                 == change_signature(ref.changes, archives_by_content=by_content))
    if by_content and (cand.probe_stdout or "") != (ref.probe_stdout or ""):
        return False
    same_stdout = loosen_text(cand.stdout, comparators, root) == loosen_text(ref.stdout, comparators, root)
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
