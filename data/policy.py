"""Which training rows the agent's safety pass would not pass through as written.

A row teaches the model a plan; at run time the model's output goes through
:func:`agent.plan.parse_plan`.  A row whose completion the pass would *guard*
(``cp`` -> ``cp -n``, ``> f`` -> ``set -C; > f``, ``tar -x`` -> ``tar
--keep-old-files -x``) or *block* teaches a form the agent never prints: the
templates (``data.templates``) are written in the no-clobber form so that
training and the policy agree.  Previews (``sed -i`` rows, rewritten on
purpose: the row teaches what was asked, the agent shows a preview) are not
drift, and neither is the ``tar -c -f A`` guard (``set -C; tar -cf - ... > A``):
the row teaches the idiomatic ``tar -czf A dir`` and the agent writes the archive
through a noclobber redirect at run time, a rewrite of the command's shape that
a small model should not have to learn.

    python -m data.policy [FILE ...]    # default: the committed data files; exit 1 if any row drifts
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from agent.fewshot import QARow, load_examples
from agent.plan import parse_plan
from agent.safety import findings
from data.files import committed_rows

DRIFT_ACTIONS = frozenset({"guarded", "blocked"})
"""What the pass may not do to a training completion."""
RUNTIME_GUARDS = frozenset({"tar-c"})
"""Guards applied at run time only: a line guarded by these alone is not drift."""


@dataclass(frozen=True)
class Drift:
    """A row whose completion the safety pass would change."""

    line: int
    """1-based line of the row in its file (or position in the list)."""
    prompt: str
    """The row's request."""
    before: tuple[str, ...]
    """The commands as the row has them."""
    after: tuple[str, ...]
    """What the agent would print for them (the guarded form, or the blocked original)."""
    actions: tuple[str, ...]
    """The pass's action per command: kept, guarded, rewritten or blocked."""


def drift(rows: list[QARow], first_line: int = 1) -> list[Drift]:
    """Every row with a command the pass would guard or block."""
    out = []
    for i, row in enumerate(rows):
        commands = [line for line in parse_plan(row.completion).lines if line.original is not None]
        actions = tuple(line.action for line in commands)
        if any(a in DRIFT_ACTIONS and not (a == "guarded" and runtime_guarded(c.original))
               for a, c in zip(actions, commands)):
            out.append(Drift(i + first_line, row.prompt, tuple(c.original for c in commands),
                             tuple(c.text for c in commands), actions))
    return out


def runtime_guarded(command: str) -> bool:
    """Whether the pass guards ``command`` only with run-time guards (:data:`RUNTIME_GUARDS`)."""
    guards = {f.rule for f in findings(command) if f.guard}
    return bool(guards) and guards <= RUNTIME_GUARDS


def drift_file(path: Path) -> list[Drift]:
    """:func:`drift` over a JSONL file, with the file's line numbers."""
    examples = load_examples(path)
    lines = [int(e.id.rsplit(":", 1)[1]) for e in examples]
    return [Drift(lines[d.line - 1], d.prompt, d.before, d.after, d.actions)
            for d in drift([e.row for e in examples])]


def main(argv: list[str] | None = None) -> int:
    paths = [Path(a) for a in (sys.argv[1:] if argv is None else argv)] or list(committed_rows())
    total = 0
    for path in paths:
        found = drift_file(path)
        for d in found:
            changed = [f"{b!r} -> {a!r}" for b, a, act in zip(d.before, d.after, d.actions) if act in DRIFT_ACTIONS]
            print(f"{path}:{d.line}: {'; '.join(changed)}  [{d.prompt}]")
        print(f"{path}: {len(found)} row(s) the safety pass would change")
        total += len(found)
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
