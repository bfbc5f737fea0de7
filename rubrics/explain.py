"""Why two executions match or not, as the scorer sees it: the verdict and the first difference.

``fenrir judge`` and ``bench/icalfa.py`` say it; the scorer (``rubrics.score``)
decides with the same functions (:func:`rubrics.compare.exact_match` for
Answer 2, :func:`rubrics.compare.loose_match` under declared comparators for
Answer 1).  A plays the reference, B the candidate.  Pure: no Docker here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rubrics.compare import (ARCHIVE, change_signature, exact_match, first_line_difference, loose_match,
                             normalise_text, silent, volatility)
from rubrics.suite import Comparator, Kind
from sandbox.records import Change, Execution

SHOWN = 60
"""Characters of a differing line shown."""


@dataclass(frozen=True)
class Explanation:
    """The verdict on B against A, and where they part."""

    verdict: Literal["equivalent", "loosely equivalent", "different"]
    """equivalent: Answer 2; loosely equivalent: Answer 1 under ``comparators``; different: Answer 0."""
    kind: Kind
    """What was compared: stdout and changes (output), or the changes and A's stdout if any (effect)."""
    comparators: tuple[Comparator, ...]
    """loosely equivalent: the comparators it takes (none can be dropped); else empty."""
    difference: str | None
    """The first difference on the exact level (stdout line, exit status, changed path); None when equivalent."""
    remaining: str | None
    """different: the first difference still there under the comparators, when it is another one."""
    uninformative: bool
    """A prints nothing and changes nothing: any silent B with the same exit status matches it."""
    volatile: int = 0
    """equivalent only with what A's stdout does not determine left open: how many spans changed when A
    ran again (PIDs, the clock, counters); 0 when B matched A as it is."""


def kind_of(reference: Execution) -> Kind:
    """effect when the reference changes the tree, else output (how the importer and the judge decide)."""
    return Kind.EFFECT if change_signature(reference.changes) else Kind.OUTPUT


def _show(line: str | None) -> str:
    if line is None:
        return "(no line)"
    return repr(line if len(line) <= SHOWN else line[:SHOWN] + "...")


def _state(c: Change) -> str:
    after = c.after
    if c.kind == "removed" or after is None:
        return "removed"
    what = f"{after.type} {after.mode:04o}"
    if after.type == "file":
        what += f", {after.size} B, sha256 {after.sha256[:12]}"
    elif after.type == "symlink":
        what += f" -> {after.target}"
    return f"{c.kind} ({what})"


def _change_difference(a: Execution, b: Execution, by_content: bool) -> str | None:
    if change_signature(a.changes, archives_by_content=by_content) == \
            change_signature(b.changes, archives_by_content=by_content):
        return None

    def keyed(ex: Execution) -> dict[str, tuple]:
        out = {}
        for c in ex.changes:
            sig = change_signature((c,))  # empty for what never counts (the git index)
            if sig and not (by_content and c.kind == "added" and ARCHIVE.search(c.path)):
                out[c.path] = (sig, c)
        return out

    ka, kb = keyed(a), keyed(b)
    for path in sorted(set(ka) | set(kb)):
        if path in ka and path not in kb:
            return f"changed path {path}: A {_state(ka[path][1])}, B leaves it"
        if path in kb and path not in ka:
            return f"changed path {path}: B {_state(kb[path][1])}, A leaves it"
        if ka[path][0] != kb[path][0]:
            return f"changed path {path}: A {_state(ka[path][1])}, B {_state(kb[path][1])}"
    return "archives: A and B create a different number of archives"


def first_difference(kind: Kind | str, a: Execution, b: Execution, comparators=(), root: str = "",
                     workdir: str | None = None) -> str | None:
    """The first thing that keeps B from matching A under ``comparators`` (none: the exact level), or None."""
    kind = Kind(kind)
    comparators = list(comparators)
    if silent(a) and (a.exit_code == 0) != (b.exit_code == 0):
        return (f"exit status: A {a.exit_code}, B {b.exit_code} (A prints nothing and changes nothing: "
                f"its exit status is its answer)")
    if kind != Kind.EFFECT or normalise_text(a.stdout):
        d = first_line_difference(a.stdout, b.stdout, comparators, root, workdir or root)
        if d is not None:
            line, x, y = d
            return f"stdout line {line}: A {_show(x)}, B {_show(y)}"
    by_content = Comparator.ARCHIVE_CONTENTS in comparators
    found = _change_difference(a, b, by_content)
    if found:
        return found
    if by_content and (a.probe_stdout or "") != (b.probe_stdout or ""):
        return "archive contents: the member lists of the archives A and B create differ"
    return None


def explain(kind: Kind | str, a: Execution, b: Execution, comparators=(), root: str = "",
            workdir: str | None = None, again: Execution | None = None) -> Explanation:
    """The verdict on B against A, the comparators a loose match takes, and the first difference.

    ``again``: A run a second time after B; what changed between A's two runs is not compared."""
    kind = Kind(kind)
    comparators = list(comparators)
    uninformative = silent(a)
    if exact_match(kind.value, b, a):
        return Explanation("equivalent", kind, (), None, None, uninformative)
    if again is not None and exact_match(kind.value, b, a, again):
        spans = volatility(a.stdout, again.stdout).spans
        return Explanation("equivalent", kind, (), None, None, uninformative, volatile=spans)
    difference = first_difference(kind, a, b, (), root, workdir)
    if comparators and loose_match(kind.value, b, a, comparators, root, workdir):
        needed = list(comparators)
        for c in comparators:  # drop each comparator the match does not need
            fewer = [x for x in needed if x != c]
            if fewer and loose_match(kind.value, b, a, fewer, root, workdir):
                needed = fewer
        return Explanation("loosely equivalent", kind, tuple(needed), difference, None, uninformative)
    remaining = first_difference(kind, a, b, comparators, root, workdir) if comparators else None
    return Explanation("different", kind, (), difference, None if remaining == difference else remaining,
                       uninformative)
