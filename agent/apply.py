"""The real command behind a preview the model wrote itself.

A request that would lose data is answered with a preview; the real command
follows it as ``# to apply after review: ...``.  When the model writes a
destructive command, :mod:`agent.preview` rewrites it and keeps the original
for that line.  But the model often writes the preview itself, as it was
trained to (``# preview only: lists the files that would be deleted`` then
``$ find logs -name '*.log'``), and then there was no real command to apply.

:func:`apply_command` derives it from the preview's own ``# preview only:``
line and the command after it, for the previews Fenrir's training rows teach:

=====================================================  =====================  ==========================
preview comment                                        preview command        to apply after review
=====================================================  =====================  ==========================
lists the files that would be deleted                  ``find ARGS [-print]``  ``find ARGS -delete``
lists the empty directories that would be removed      ``find ARGS -empty``    ``find ARGS -empty -delete``
lists everything that would be removed                 ``find DIR``            ``rm -r DIR``
shows the file that would be deleted                   ``ls [-l] FILE...``    ``rm FILE...``
shows what git clean would remove                      ``git clean -n ...``    ``git clean -f ...``
=====================================================  =====================  ==========================

Nothing is derived when the command has any other shape (a pipeline, ``-o``
alternatives that ``-delete`` would bind to only in part, an action of its
own), or when the derived command would be catastrophic.  The derived line is
a comment: it never runs, in the sandbox or anywhere.
"""

from __future__ import annotations

import shlex

from agent.safety import Level, Unparseable, classify

PREVIEW = "preview only:"
"""How a preview's own comment starts (after ``# ``)."""

# find words after which '-delete' would not delete exactly what the preview listed
_FIND_UNSAFE = {"-o", "-or", ",", "-prune", "-exec", "-execdir", "-ok", "-okdir", "-delete", "-print0",
                "-printf", "-fprint", "-fprint0", "-fprintf", "-ls", "-fls", "-quit", "!", "-not", "(", ")"}


def _words(command: str) -> list[str] | None:
    """The words of one simple command (no pipes, lists, substitutions or redirections), or None."""
    if any(ch in command for ch in "|;&<>`$\n"):
        return None
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    return words or None


def _find_delete(words: list[str], empty: bool) -> list[str] | None:
    if words[0] != "find" or any(w in _FIND_UNSAFE for w in words[1:]):
        return None
    if empty != ("-empty" in words):
        return None
    if words[-1] == "-print":
        words = words[:-1]
    if len(words) < 3 or not any(w.startswith("-") for w in words[1:]):
        return None  # no test at all: that preview lists everything, and -delete would take it all
    return words + ["-delete"]


def _find_everything(words: list[str]) -> list[str] | None:
    if words[0] != "find" or len(words) != 2 or words[1].startswith("-"):
        return None
    return ["rm", "-r", words[1]]


def _ls_file(words: list[str]) -> list[str] | None:
    if words[0] != "ls":
        return None
    flags = [w for w in words[1:] if w.startswith("-")]
    files = [w for w in words[1:] if not w.startswith("-")]
    if not files or any(set(f[1:]) - set("lhad1") for f in flags if f != "--"):
        return None
    return ["rm", *files]


def _git_clean(words: list[str]) -> list[str] | None:
    if words[0] != "git" or "clean" not in words:
        return None
    at = words.index("clean")
    out, dry = words[:at + 1], False
    for w in words[at + 1:]:
        if w in ("-n", "--dry-run"):
            out.append("-f")
            dry = True
        elif w.startswith("-") and not w.startswith("--") and "n" in w[1:]:
            out.append(w.replace("n", "f"))
            dry = True
        else:
            out.append(w)
    return out if dry else None


_RULES = (
    ("lists the files that would be deleted", lambda w: _find_delete(w, empty=False)),
    ("lists the empty directories that would be removed", lambda w: _find_delete(w, empty=True)),
    ("lists everything that would be removed", _find_everything),
    ("shows the file that would be deleted", _ls_file),
    ("shows what git clean would remove", _git_clean),
)


def apply_command(comment: str, command: str) -> str | None:
    """The command a model-written preview stands for, or None when it cannot be told for sure.

    ``comment``: the preview's comment without ``#`` (``preview only: lists the files that would be
    deleted``); ``command``: the preview command after it.
    """
    what = comment.strip()
    if not what.startswith(PREVIEW):
        return None
    what = what[len(PREVIEW):].strip()
    words = _words(command)
    if words is None:
        return None
    for says, rule in _RULES:
        if what == says:
            derived = rule(words)
            break
    else:
        return None
    if derived is None:
        return None
    text = shlex.join(derived)
    try:
        if classify(text).level == Level.CATASTROPHIC:
            return None
    except Unparseable:
        return None
    return text
