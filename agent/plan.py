"""Parse raw model output into a :class:`Plan` of checked, printable lines.

The model is asked for ``$ command`` lines and ``# comments``, but small
models wrap them in markdown fences, number them, or add prose.  Parsing:

* ``$ cmd`` (also ``$cmd``) lines are commands wherever they appear;
* inside a fenced code block, every non-blank line is a command (or a
  comment when it starts with ``#``); a leading ``$ `` is removed;
* outside fences, ``1. cmd`` / ``- cmd`` / `` `cmd` `` lines and bare lines
  are commands only when they start with a known program name and parse
  as shell (tree-sitter-bash); everything else is prose and dropped;
* ``# comments`` are kept as comments.

Each command then goes through :func:`agent.preview.decide`: kept, guarded
(run in its no-clobber form: ``cp -n``, ``set -C; ... > f``), rewritten into a
preview (printed with the real command after it as ``# to apply after review:
...``), or blocked (printed as a ``#`` comment, never as ``$``).
"""

from __future__ import annotations

import re
import shutil

from pydantic import BaseModel, ConfigDict, Field

from agent.apply import PREVIEW, apply_command
from agent.preview import decide
from agent.repair import listed, repair_command
from agent.safety import Level, Unparseable, parse_shell

APPLY_AFTER_REVIEW = "# to apply after review: "
"""How a preview's real command is printed after it."""
REPAIRED = "path from the listing: "
"""How a plan says that a path the model wrote was repaired to a listed one."""
FENCE = re.compile(r"^\s*```")
LIST_PREFIX = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+")
KNOWN = {
    "find", "grep", "egrep", "rg", "ls", "cat", "head", "tail", "wc", "du", "df", "sort", "uniq", "cut", "awk",
    "sed", "tar", "gzip", "gunzip", "zip", "unzip", "git", "python", "python3", "pip", "pip3", "mkdir", "touch",
    "cp", "mv", "rm", "rmdir", "chmod", "chown", "echo", "printf", "cd", "pwd", "xargs", "tr", "diff", "file",
    "stat", "ln", "tee", "curl", "wget", "ssh", "scp", "rsync", "ps", "kill", "pkill", "sudo", "source", ".",
    "export", "date", "basename", "dirname", "realpath", "readlink", "md5sum", "sha256sum", "less", "more",
    "zcat", "bzip2", "xz", "dd", "truncate", "shred", "npm", "make", "env", "which", "tree", "nl", "rev",
    "paste", "join", "comm", "split", "jq", "test", "[", "true", "false", "perl", "bash", "sh", "deactivate",
}


class PlanLine(BaseModel):
    """One printed line of a plan."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    """``command`` (runnable, printed with ``$ ``) or ``comment`` (printed with ``# ``)."""
    text: str
    """The command as it will run (after any preview rewrite), or the comment text without ``#``."""
    original: str | None = None
    """The command as the model wrote it (commands only; equals ``text`` unless guarded/rewritten/blocked)."""
    parse_ok: bool = True
    """Whether the original command parses as shell (always true for comments)."""
    parse_error: str | None = None
    """Where it does not parse (tree-sitter-bash's first error), when it does not."""
    level: str = "safe"
    """Safety verdict of the original command: safe, network, destructive or catastrophic."""
    reason: str = ""
    """Why the verdict is what it is."""
    action: str = "kept"
    """``kept``, ``guarded`` (runs made no-clobber), ``rewritten`` (a preview that changes nothing)
    or ``blocked`` (shown as a comment)."""


class Plan(BaseModel):
    """A dry-run shell plan parsed from one model output."""

    model_config = ConfigDict(extra="forbid")

    lines: list[PlanLine] = Field(default_factory=list)
    """The plan's lines in order."""

    @property
    def commands(self) -> list[PlanLine]:
        return [line for line in self.lines if line.kind == "command"]

    def render(self) -> str:
        """The printed plan: ``$ cmd`` for runnable commands, ``# ...`` otherwise.

        A preview is followed by the command it stands for, as ``# to apply after review: ORIGINAL``.
        """
        out = []
        for line in self.lines:
            if line.kind == "command":
                out.append(f"$ {line.text}")
                if line.action == "rewritten":
                    out.append(f"{APPLY_AFTER_REVIEW}{line.original}")
            elif line.action == "blocked":
                out.append(f"# blocked ({line.level}): {line.original}  -- {line.reason}")
            else:
                out.append(f"# {line.text}")
        return "\n".join(out)

    def script(self) -> str:
        """The runnable shell script for the sandbox: commands only, one per line."""
        return "".join(line.text + "\n" for line in self.commands)

    @property
    def worst_level(self) -> str:
        levels = [Level(line.level) for line in self.lines if line.original is not None]
        return max(levels, key=lambda lv: lv.rank).value if levels else Level.SAFE.value


def _parse_error(cmd: str) -> str | None:
    try:
        parse_shell(cmd)
    except Unparseable as exc:
        return str(exc)
    return None


def _looks_like_command(text: str) -> bool:
    first = text.split(maxsplit=1)[0] if text.split() else ""
    first = first.rsplit("/", 1)[-1]
    return (first in KNOWN or shutil.which(first) is not None and first.isascii() and first.islower()) \
        and _parse_error(text) is None


def extract(raw: str) -> list[tuple[str, str]]:
    """``(kind, text)`` pairs recovered from raw model output."""
    out: list[tuple[str, str]] = []
    in_fence = False
    for raw_line in raw.splitlines():
        if FENCE.match(raw_line):
            in_fence = not in_fence
            continue
        line = raw_line.strip()
        if not line or line.startswith("#!"):  # blank, or a shebang: not part of the plan
            continue
        if line.startswith("#"):
            out.append(("comment", line.lstrip("#").strip()))
            continue
        candidate = LIST_PREFIX.sub("", line).strip()
        if candidate.startswith("`") and candidate.endswith("`") and len(candidate) > 2:
            candidate = candidate.strip("`").strip()
        if candidate.startswith("$") and not candidate.startswith(("$(", "${")):
            command = candidate[1:].strip()
            if command:
                out.append(("command", command))
            continue
        if in_fence:
            out.append(("command", candidate))
        elif _looks_like_command(candidate):
            out.append(("command", candidate))
    return out


def parse_plan(raw: str, listing: str | None = None) -> Plan:
    """Parse ``raw`` model output and pass every command through the safety check.

    ``listing``: the text of the directory listing the model was shown; a path the model wrote that
    the listing shows is not there, but whose name one listed entry has, is repaired to that entry
    first (:mod:`agent.repair`), with a ``#`` line saying so.
    """
    lines: list[PlanLine] = []
    where = listed(listing) if listing else None
    named: set[str] = set()
    moved = False
    for kind, text in extract(raw):
        if kind == "comment":
            if text:
                lines.append(PlanLine(kind="comment", text=text))
            continue
        if where is not None and not moved:
            text, repairs, moved = repair_command(text, where, named)
            if repairs:
                lines.append(PlanLine(kind="comment", text=REPAIRED + ", ".join(f"{r.word} -> {r.path}"
                                                                                 for r in repairs)))
        error = _parse_error(text)
        decision = decide(text)
        lines.append(
            PlanLine(
                kind="comment" if decision.action == "blocked" else "command",
                text=decision.text,
                original=text,
                parse_ok=error is None,
                parse_error=error,
                level=decision.verdict.level.value,
                reason=decision.verdict.reason if decision.action != "blocked" else decision.note,
                action=decision.action,
            )
        )
    return Plan(lines=_with_apply_lines(lines))


def _with_apply_lines(lines: list[PlanLine]) -> list[PlanLine]:
    """After a preview the model wrote itself (``# preview only: ...`` then the command), the real command
    as ``# to apply after review: ...`` where :func:`agent.apply.apply_command` can tell it."""
    out: list[PlanLine] = []
    for i, line in enumerate(lines):
        out.append(line)
        before = lines[i - 1] if i else None
        after = lines[i + 1] if i + 1 < len(lines) else None
        if (line.kind == "command" and line.action == "kept" and before is not None and before.kind == "comment"
                and before.text.startswith(PREVIEW)
                and not (after is not None and after.kind == "comment"
                         and after.text.startswith(APPLY_AFTER_REVIEW[2:]))):
            real = apply_command(before.text, line.text)
            if real is not None:
                out.append(PlanLine(kind="comment", text=APPLY_AFTER_REVIEW[2:] + real))
    return out
