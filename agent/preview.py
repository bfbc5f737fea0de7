"""Turn a destructive command line into a preview that changes nothing.

Rewrites are edits on the line's own text (bashlex gives each word's span), so
quoting and globs survive.  The chosen previews:

=====================  ================================================
find ... -delete       the same find with ``-print``
find -exec rm {} \\;    the ``-exec ... ;`` clause becomes ``-print``
rm FILES               ``ls -d -- FILES`` (what would go)
rm -r DIRS             ``find DIRS`` (everything that would go)
rmdir / unlink         ``ls -d -- ARGS``
shred / truncate       ``ls -l -- FILES``
mv / cp (no -n)        ``echo would run: mv ARGS`` (globs expanded, nothing moved)
kill / pkill / killall ``echo would run: kill ARGS``
xargs rm ...           ``xargs echo rm ...`` (prints the commands)
chmod/chown/chgrp -R   ``find TARGETS`` (what would change)
sed -i / perl -i       the same command without ``-i`` (result on stdout)
cmd > file, >> file    the command without the redirect (output on stdout)
tee FILE               ``cat``
rsync                  ``rsync --dry-run ...``
git clean -f           ``git clean -n`` (same other flags)
git reset --hard REF   ``git diff --stat REF``
git checkout -- PATHS  ``git diff --stat -- PATHS``  (also git restore)
git branch -D NAMES    ``git branch -v --list NAMES``
git stash drop/clear   ``git stash list``
=====================  ================================================

Anything else destructive (dd, git push --force, commands inside ``bash -c``
strings, unparseable lines) is blocked, and catastrophic lines always are.
A rewritten line is classified again and kept only if it is now safe or
network; otherwise it is blocked too.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any, Callable

from agent.safety import Finding, Level, Unparseable, Verdict, _flags, classify, findings, worst

Edit = tuple[int, int, str]


@dataclass(frozen=True)
class Decision:
    """What happens to one command line of a plan."""

    action: str
    """``kept``, ``rewritten`` or ``blocked``."""
    text: str
    """The runnable command (original or preview); the original when blocked."""
    verdict: Verdict
    """The verdict of the original line."""
    note: str = ""
    """Why it was rewritten or blocked."""


def decide(line: str) -> Decision:
    """Keep, rewrite into a preview, or block one command line."""
    try:
        found = findings(line)
    except Unparseable:
        verdict = classify(line)
        return Decision("blocked", line, verdict, verdict.reason)
    verdict = worst(found)
    if verdict.level in (Level.SAFE, Level.NETWORK):
        return Decision("kept", line, verdict)
    if verdict.level == Level.CATASTROPHIC:
        return Decision("blocked", line, verdict, verdict.reason)
    edits: list[Edit] = []
    for finding in found:
        if finding.level != Level.DESTRUCTIVE:
            continue
        rewrite = REWRITES.get(finding.rule)
        made = rewrite(finding, line) if rewrite and finding.node is not None else None
        if made is None:
            return Decision("blocked", line, verdict, f"{finding.reason}; no preview for this")
        edits.extend(made)
    text = _apply(line, edits)
    if text is None or not text.strip():
        return Decision("blocked", line, verdict, f"{verdict.reason}; no preview for this")
    after = classify(text)
    if after.level not in (Level.SAFE, Level.NETWORK):
        return Decision("blocked", line, verdict, f"{verdict.reason}; preview still unsafe ({after.reason})")
    return Decision("rewritten", text, verdict, f"preview of: {line}  ({verdict.reason})")


def _apply(line: str, edits: list[Edit]) -> str | None:
    out, end = line, None
    for start, stop, repl in sorted(set(edits), reverse=True):
        if end is not None and stop > end:
            return None  # overlapping edits: give up rather than guess
        if not repl and start > 0 and out[start - 1] == " ":
            start -= 1  # removing a word: take its leading space with it
        out = out[:start] + repl + out[stop:]
        end = start
    return out.strip()


# --- helpers --------------------------------------------------------------------
def _words(f: Finding) -> list[Any]:
    """The word nodes of the finding's command, starting at the program (wrappers skipped)."""
    words = [p for p in f.node.parts if p.kind == "word"]
    return words[len(words) - len(f.argv):]


def _text(line: str, node: Any) -> str:
    return line[node.pos[0]:node.pos[1]]


def _operands(line: str, words: list[Any], value_opts: set[str] = frozenset()) -> list[str]:
    out, ended, skip = [], False, False
    for w in words[1:]:
        if skip:
            skip = False
        elif ended or not w.word.startswith("-") or w.word == "-":
            out.append(_text(line, w))
        elif w.word == "--":
            ended = True
        elif w.word in value_opts:
            skip = True
    return out


def _replace(prefix: str, value_opts: set[str] = frozenset(), drop: int = 0) -> Callable[[Finding, str], list[Edit] | None]:
    """Replace the whole command with ``prefix OPERANDS`` (dropping the first ``drop`` operands)."""

    def rewrite(f: Finding, line: str) -> list[Edit] | None:
        words = _words(f)
        ops = _operands(line, words, value_opts)[drop:]
        if not ops:
            return None
        return [(words[0].pos[0], words[-1].pos[1], f"{prefix} {' '.join(ops)}")]

    return rewrite


def _rm(f: Finding, line: str) -> list[Edit] | None:
    flags, _ = _flags(list(f.argv[1:]))
    recursive = bool(flags & {"-r", "-R", "--recursive"})
    return _replace("find" if recursive else "ls -d --")(f, line)


def _echo(f: Finding, line: str) -> list[Edit] | None:
    words = _words(f)
    return [(words[0].pos[0], words[0].pos[0], "echo would run: ")]


def _xargs(f: Finding, line: str) -> list[Edit] | None:
    from agent.safety import _xargs_command

    words = _words(f)
    inner = _xargs_command(list(f.argv[1:]))
    if len(inner) >= len(words):
        return None
    return [(words[len(words) - len(inner)].pos[0],) * 2 + ("echo ",)]


def _drop_inplace(value_opts: set[str]) -> Callable[[Finding, str], list[Edit] | None]:
    """Remove ``-i[SUFFIX]`` (also inside a flag cluster like ``-pi``) and ``--in-place[=S]``."""

    def rewrite(f: Finding, line: str) -> list[Edit] | None:
        edits: list[Edit] = []
        skip = False
        for w in _words(f)[1:]:
            word = w.word
            if skip:
                skip = False
            elif word == "--":
                break
            elif word.startswith("--in-place"):
                edits.append((w.pos[0], w.pos[1], ""))
            elif word in value_opts:
                skip = True
            elif word.startswith("-") and not word.startswith("--") and "i" in word[1:]:
                kept = word[: word.index("i", 1)]
                edits.append((w.pos[0], w.pos[1], "" if kept == "-" else kept))
        return edits or None

    return rewrite


def _find_delete(f: Finding, line: str) -> list[Edit] | None:
    return [(w.pos[0], w.pos[1], "-print") for w in _words(f) if w.word == "-delete"]


def _find_exec(f: Finding, line: str) -> list[Edit] | None:
    words = _words(f)
    edits: list[Edit] = []
    i = 0
    while i < len(words):
        if words[i].word in ("-exec", "-execdir", "-ok", "-okdir"):
            j = i + 1
            while j < len(words) and words[j].word not in (";", "+"):
                j += 1
            if j == len(words):
                return None
            inner = " ".join(shlex.quote(w.word) for w in words[i + 1:j])
            if classify(inner).level.rank >= Level.DESTRUCTIVE.rank:
                edits.append((words[i].pos[0], words[j].pos[1], "-print"))
            i = j
        i += 1
    return edits or None


def _redirect(f: Finding, line: str) -> list[Edit] | None:
    return [(f.node.pos[0], f.node.pos[1], "")]


def _tee(f: Finding, line: str) -> list[Edit] | None:
    words = _words(f)
    return [(words[0].pos[0], words[-1].pos[1], "cat")]


def _rsync(f: Finding, line: str) -> list[Edit] | None:
    end = _words(f)[0].pos[1]
    return [(end, end, " --dry-run")]


def _git_parts(f: Finding) -> tuple[list[Any], int]:
    words = _words(f)
    i = 1
    while i < len(words) and words[i].word.startswith("-"):
        i += 2 if words[i].word in ("-C", "-c") else 1
    return words, i


def _git_clean(f: Finding, line: str) -> list[Edit] | None:
    words, i = _git_parts(f)
    edits: list[Edit] = [(words[i].pos[1], words[i].pos[1], " -n")]
    for w in words[i + 1:]:
        if w.word == "--force":
            edits.append((w.pos[0], w.pos[1], ""))
        elif w.word.startswith("-") and not w.word.startswith("--") and "f" in w.word:
            kept = w.word.replace("f", "")
            edits.append((w.pos[0], w.pos[1], "" if kept == "-" else kept))
    return edits


def _git_command(build: Callable[[list[str]], str]) -> Callable[[Finding, str], list[Edit] | None]:
    def rewrite(f: Finding, line: str) -> list[Edit] | None:
        words, i = _git_parts(f)
        ops = _operands(line, words[i:])
        return [(words[i].pos[0], words[-1].pos[1], build(ops))]

    return rewrite


REWRITES: dict[str, Callable[[Finding, str], list[Edit] | None]] = {
    "rm": _rm,
    "rmdir": _replace("ls -d --"),
    "unlink": _replace("ls -d --"),
    "shred": _replace("ls -l --", {"-n", "-s", "--iterations", "--size"}),
    "truncate": _replace("ls -l --", {"-s", "-r", "--size", "--reference"}),
    "mv": _echo,
    "cp": _echo,
    "kill": _echo,
    "pkill": _echo,
    "killall": _echo,
    "xargs": _xargs,
    "chmod-R": _replace("find", {"--reference"}, drop=1),
    "chown-R": _replace("find", {"--reference"}, drop=1),
    "chgrp-R": _replace("find", {"--reference"}, drop=1),
    "sed-i": _drop_inplace({"-e", "-f", "--expression", "--file", "-l"}),
    "perl-i": _drop_inplace({"-e", "-E", "-M", "-I"}),
    "find-delete": _find_delete,
    "find-exec": _find_exec,
    "redirect": _redirect,
    "tee": _tee,
    "rsync": _rsync,
    "git-clean": _git_clean,
    "git-reset": _git_command(lambda ops: "diff --stat " + (ops[0] if ops else "HEAD")),
    "git-discard": _git_command(lambda ops: "diff --stat -- " + " ".join(o for o in ops if o != "--")),
    "git-branch-D": _git_command(lambda ops: "branch -v --list " + " ".join(ops)),
    "git-stash": _git_command(lambda ops: "stash list"),
}
