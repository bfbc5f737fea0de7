"""A plan's preview in the sandbox: what it prints and what its real commands would change.

``fenrir --preview DIR`` and the web UI's Ask page share :func:`preview_plan`:
the plan runs as printed (previews in place of destructive commands) on a copy
of a directory or on a shipped fixture, then, when it holds previews, once more
with each preview replaced by the command it stands for, on a fresh copy, to
show what applying it after review would change.  Nothing runs on the host and
the directory is only read.
"""

from __future__ import annotations

from dataclasses import dataclass

import sandbox
from agent.plan import Plan
from sandbox.materialize import Fixture
from sandbox.records import Execution


@dataclass(frozen=True)
class Preview:
    """The two runs of a previewed plan."""

    shown: Execution
    """The plan as printed (previews in place): what it prints, its exit status."""
    effect: Execution
    """The plan with previews replaced by their real commands (``shown`` itself when it has none)."""
    rewritten: bool
    """Whether the plan holds previews (``effect`` is then a second run)."""

    @property
    def changes_label(self) -> str:
        """What ``effect``'s changes are the changes of."""
        return "the original commands would change" if self.rewritten else "the plan would change"


def applied_script(plan: Plan) -> str:
    """The script applying the plan after review runs: each preview replaced by its real command."""
    return "".join((line.original if line.action == "rewritten" else line.text) + "\n" for line in plan.commands)


def preview_plan(plan: Plan, fixture: Fixture | str) -> Preview | None:
    """Run ``plan`` (and its applied form) in the sandbox on ``fixture``; None when it has no command to run."""
    script = plan.script()
    if not script.strip():
        return None
    shown = sandbox.run(script, fixture, run="preview")
    rewritten = any(line.action == "rewritten" for line in plan.commands)
    effect = sandbox.run(applied_script(plan), fixture, run="preview") if rewritten else shown
    return Preview(shown=shown, effect=effect, rewritten=rewritten)


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def describe_changes(execution: Execution) -> list[str]:
    """One line per changed path: '+' added, '-' removed, '~' modified."""
    lines = []
    for c in execution.changes:
        if c.kind == "added":
            extra = f"{c.after.type}, {_size(c.after.size)}" if c.after.type == "file" else c.after.type
            lines.append(f"  + {c.path} ({extra})")
        elif c.kind == "removed":
            lines.append(f"  - {c.path} ({c.before.type})")
        else:
            parts = []
            for field in c.fields:
                if field == "mode":
                    parts.append(f"mode {c.before.mode:04o} -> {c.after.mode:04o}")
                elif field == "type":
                    parts.append(f"{c.before.type} -> {c.after.type}")
                elif field == "content" and c.after.type == "file":
                    parts.append(f"content, {_size(c.before.size)} -> {_size(c.after.size)}")
                else:
                    parts.append(field)
            lines.append(f"  ~ {c.path} ({'; '.join(parts)})")
    return lines
