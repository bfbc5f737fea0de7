"""Classify one shell command line by walking its tree-sitter-bash syntax tree.

Every simple command in the line is examined: inside pipelines, ``&&``/``;``
lists, subshells and brace groups, loops, ``if``/``case``, function bodies,
here-doc lines, ``$(...)``/backtick/``<(...)`` substitutions, the strings of
``bash -c``/``sh -c``/``eval`` (re-parsed), and the command run by ``xargs``
or ``find -exec``.  Quoted text is data: ``echo "rm -rf /"`` is safe.  The
line's verdict is the worst finding.

The policy: do what was asked, never lose data.

* ``safe``: reads, or creates something new.  Creating, copying, moving or
  renaming to a path that may already exist is safe *in its no-clobber form*,
  so such a command yields a *guard* finding and the line is rewritten to that
  form (:mod:`agent.preview`) and kept runnable.
* ``network``: talks to other hosts (curl, ssh, pip install, git clone/push...).
* ``destructive``: deletes, overwrites or edits in place.  Shown as a preview
  of its exact effect, with the real command as ``# to apply after review:``.
* ``catastrophic``: never runnable: rm -r of / ~ $HOME * . .. or a system
  folder, ``--no-preserve-root``, mkfs & co, dd to a device, fork bombs, a
  download piped to a shell, sudo/su/doas, writes to /dev/sd* or /etc/*,
  recursive chmod/chown of a root-like path, cp/mv/ln into /etc.

=============================  ==============  ==========================================
command                        level           what the plan runs
=============================  ==============  ==========================================
mkdir, touch, ln -s (no -f)    safe            as written (ln refuses an existing name)
zip, git checkout -b,          safe            as written
git branch NAME, python -m venv
tar -c -f A (A an archive      safe (guard)    ``set -C; tar -c -f - ... > A``: the archive
name, not ``-``)                               goes through a noclobber redirect (a ``-v``
                                               listing goes to stderr); blocked when tar's
                                               stdout already goes to a file
tar -c -f NAME, NAME not an    destructive     blocked (a ``#`` line): archive and sources
archive name (.tar, .tgz, ...)                 swapped would overwrite the source NAME
cp A B, cp -r A B              safe (guard)    ``cp -n A B`` (``-n`` right after ``cp``)
mv A B                         safe (guard)    ``mv -n A B``
cp/mv -n, --update=none, -b    safe            as written (``-b`` keeps a backup)
mv -f                          destructive     ``echo would run: mv -f ...`` (-f would beat -n)
CMD > F, &> F, >& F            safe (guard)    ``set -C; CMD > F`` (noclobber: F never truncated)
CMD >> F, &>> F, tee -a F      safe            as written: an append keeps what F holds
CMD >| F                       destructive     ``CMD`` (output on stdout)
tee F                          destructive     ``cat``
tar -x (no -k)                 safe (guard)    ``tar --keep-old-files -x...`` (``k`` in an old-style key)
tar -x --overwrite / -U        destructive     ``echo would run: tar ...``
unzip A (extracting, no -n)    safe (guard)    ``unzip -n A``
unzip -o                       destructive     ``unzip -l A`` (what it would write)
gzip/gunzip/bzip2/xz F         safe            as written: they refuse to overwrite F.gz,
                                               and F's content lives on in F.gz
gzip/... -f                    destructive     ``echo would run: gzip -f ...``
ln -f, ln -sf                  destructive     ``echo would run: ln -sf ...``
rm, rmdir, shred, find -delete destructive     listings of what would go (see agent.preview)
sed -i, perl -i, git reset ... destructive     previews (see agent.preview)
=============================  ==============  ==========================================

Why ``set -C; `` for redirects: it is POSIX (bash, dash), covers every ``>``
in the line (pipelines, lists, subshells, functions and ``$(...)`` inherit
it), leaves ``>>``, ``>&2`` and ``/dev/null`` working, and a clash is a clear
error ("cannot overwrite existing file") instead of lost data.  It also stays
set for the later lines of a plan, which is harmless: every ``>`` of a plan is
guarded anyway.  A line that starts with ``set -C`` (or ``set -o noclobber``)
needs no guard; in a line that turns it off (``set +C``) a ``>`` cannot be
guarded, so it is destructive.  ``cp -n``/``mv -n`` skip an existing target
silently (exit 0 with GNU coreutils 9.1), ``tar -k`` and ``> f`` under
noclobber fail loudly; in every case the existing file is kept.

A guard that cannot be applied (the command sits in a ``bash -c`` string) makes
the finding destructive.  A line tree-sitter cannot parse cannot be checked, so
it is ``destructive`` with a reason saying so (the plan shows it as a comment).

This module imports only tree-sitter and the standard library: the scoring
rubrics reuse it without docker or torch.
"""

from __future__ import annotations

from typing import Iterator

from tree_sitter import Node

from agent.levels import (
    DOWNLOADERS,
    INTERPRETERS,
    PRIVILEGE,
    SAFE,
    SAFE_DEVICES,
    SHELLS,
    Finding,
    Level,
    Verdict,
    is_system_path,
    program,
    unwrap,
    xargs_start,
)
from agent.rules import command_findings
from agent.shell import APPEND_OPS, Command, Redirect, Script, Unparseable, Word, parse

__all__ = ["Finding", "Level", "Unparseable", "Verdict", "classify", "findings", "parse_shell", "worst"]


def parse_shell(text: str) -> Script:
    """The parsed text; raises :class:`Unparseable`."""
    return parse(text)


def findings(line: str) -> list[Finding]:
    """Every finding in ``line``; raises :class:`Unparseable`."""
    return list(_findings(parse(line), nested=False))


def classify(line: str) -> Verdict:
    """The verdict of one command line (unparseable lines are destructive)."""
    try:
        found = findings(line)
    except Unparseable as exc:
        return Verdict(Level.DESTRUCTIVE, f"cannot be parsed, so cannot be checked: {exc}")
    return worst(found)


def worst(found: list[Finding]) -> Verdict:
    """The first of the worst findings (a line with guards only is safe, for the guard's reason)."""
    if not found:
        return SAFE
    top = max(found, key=lambda f: f.level.rank)
    return Verdict(top.level, top.reason)


# --- the walk -----------------------------------------------------------------
def _findings(script: Script, nested: bool) -> Iterator[Finding]:
    noclobber = noclobber_state(script)
    for command in script.commands():
        yield from _command(script, command, nested)
    for redirect in script.redirects():
        yield from _redirect(redirect, noclobber, nested)
    for name, body in script.functions():
        yield from _fork_bomb(script, name, body)
    for stages in script.pipelines():
        yield from _download_to_shell(script, stages)


def noclobber_state(script: Script) -> str | None:
    """``on`` when the line starts with ``set -C`` / ``set -o noclobber``, ``off`` when it
    turns noclobber off anywhere (``set +C``), else None."""
    def switches(command: Command, sign: str) -> bool:
        argv = command.argv
        if not argv or argv[0] != "set":
            return False
        cluster = any(a.startswith(sign) and not a.startswith(sign * 2) and "C" in a[1:] for a in argv[1:])
        named = any(a == sign + "o" and b == "noclobber" for a, b in zip(argv[1:], argv[2:]))
        return cluster or named

    if any(switches(c, "+") for c in script.commands()):
        return "off"
    top = script.top_level()
    if top and top[0].type == "command" and switches(next(script.commands(top[0])), "-"):
        return "on"
    return None


def _command(script: Script, command: Command, nested: bool) -> Iterator[Finding]:
    words = list(command.words)
    if not words:
        return
    # `$(curl ...)` as the command, or `bash <(curl ...)`: downloaded text gets executed.
    runs = words if program(words[0].value) in INTERPRETERS else words[:1]
    if any(program(inner.name) in DOWNLOADERS for w in runs for inner in script.commands(w.node)):
        yield Finding(Level.CATASTROPHIC, "runs downloaded text as a command", "download-shell", nested=nested)
    yield from _argv(words, nested)


def _redirect(redirect: Redirect, noclobber: str | None, nested: bool) -> Iterator[Finding]:
    if not redirect.writes:
        return
    target = redirect.target.value
    if target in SAFE_DEVICES or target.startswith("/dev/fd/"):
        return
    if is_system_path(target) or target.startswith("/dev/"):
        yield Finding(Level.CATASTROPHIC, f"writes to system path {target}", "redirect", redirect=redirect,
                      nested=nested)
    elif redirect.op in APPEND_OPS:
        return  # an append keeps what the file holds
    elif redirect.op == ">|":
        yield Finding(Level.DESTRUCTIVE, f"overwrites file {target} (redirect >| ignores noclobber)", "redirect",
                      redirect=redirect, nested=nested)
    elif noclobber == "off":
        yield Finding(Level.DESTRUCTIVE, f"overwrites file {target} (the line turns noclobber off)", "redirect",
                      redirect=redirect, nested=nested)
    elif noclobber is None:
        yield Finding(Level.SAFE, f"writes {target} only if it does not exist yet (noclobber: set -C)",
                      "redirect", redirect=redirect, guard=True, nested=nested)


def _fork_bomb(script: Script, name: str, body: Node) -> Iterator[Finding]:
    calls = any(c.name == name for c in script.commands(body))
    spawns = any(n.type == "pipeline" or (n.type == "&" and not n.is_named) for n in script.nodes(body))
    if calls and spawns:
        yield Finding(Level.CATASTROPHIC, f"fork bomb: function {name!r} spawns itself", "fork-bomb")


def _download_to_shell(script: Script, stages: list[Node]) -> Iterator[Finding]:
    seen_download = False
    for stage in stages:
        names = {program(c.name) for c in script.commands(stage)}
        if seen_download and names & (INTERPRETERS | PRIVILEGE):
            yield Finding(Level.CATASTROPHIC, "pipes a download into a shell", "download-shell")
        seen_download = seen_download or bool(names & DOWNLOADERS)


def _argv(words: list[Word], nested: bool) -> Iterator[Finding]:
    words = unwrap(words)
    if not words:
        return
    name = program(words[0].value)
    args = [w.value for w in words[1:]]
    if name in PRIVILEGE:
        yield Finding(Level.CATASTROPHIC, f"{name} runs a command with elevated privileges", "privilege",
                      tuple(words), nested=nested)
        for f in _argv([w for w in words[1:] if not w.value.startswith("-")], nested):
            yield _in_string(f)
        return
    if name in SHELLS or name == "eval":
        yield from _shell_string(name, args)
        return
    if name == "xargs":
        inner = words[1 + xargs_start(args):]
        for f in _argv(inner, nested):
            if f.guard:
                yield f  # `xargs mv ...` -> `xargs mv -n ...`
            else:
                yield Finding(f.level, f"xargs {f.reason}", "xargs" if f.level == Level.DESTRUCTIVE else f.rule,
                              tuple(words), nested=nested)
        return
    yield from command_findings(name, words, nested, _argv)


def _in_string(f: Finding) -> Finding:
    """A finding whose spans are not the line's: a guard cannot be applied there."""
    if f.guard:
        return Finding(Level.DESTRUCTIVE, f"{f.reason}, but inside a string it cannot be made no-clobber",
                       f.rule, f.words, f.redirect, nested=True)
    return Finding(f.level, f.reason, f.rule, f.words, f.redirect, nested=True)


def _shell_string(name: str, args: list[str]) -> Iterator[Finding]:
    """Re-parse ``bash -c STRING`` / ``eval WORDS`` and classify what runs."""
    if name == "eval":
        script = " ".join(args)
    else:
        script = None
        for i, arg in enumerate(args):
            if arg.startswith("-") and not arg.startswith("--") and "c" in arg[1:] and i + 1 < len(args):
                script = args[i + 1]
                break
        if script is None:
            return  # runs a script file or reads stdin: not inspectable, treated like any program
    try:
        parsed = parse(script)
    except Unparseable as exc:
        yield Finding(Level.DESTRUCTIVE, f"{name} runs a string that cannot be checked: {exc}", "unparsed")
        return
    label = "eval" if name == "eval" else f"{name} -c"
    for f in _findings(parsed, nested=True):
        f = _in_string(f)
        yield Finding(f.level, f"{label}: {f.reason}", f.rule, f.words, f.redirect, nested=True)
