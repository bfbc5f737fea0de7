"""Decide what the plan runs for one line: kept, guarded, a preview, or blocked.

Rewrites are edits on the line's own text (tree-sitter gives each word's
span), so quoting and globs survive.

**Guarded** (the line has guard findings and nothing destructive): it runs in
its no-clobber form, so it does what was asked and cannot lose data.

=====================  ================================================
cp / mv A B            ``cp -n A B`` / ``mv -n A B`` (after the program)
CMD > FILE             ``set -C; CMD > FILE`` (noclobber for the line)
tar -x...              ``tar --keep-old-files -x...`` (``k`` in ``tar xzf``)
tar -czf A DIR         ``set -C; tar -czf - DIR > A`` (archive via noclobber)
unzip A                ``unzip -n A``
=====================  ================================================

**Rewritten** (something destructive): a preview that changes nothing and
shows the exact effect; :meth:`agent.plan.Plan.render` prints the real command
after it as ``# to apply after review: ...``.  In a preview line every guarded
command is previewed too (``echo would run: ...``) and every redirect to a
file is dropped (output on stdout), so the preview writes nothing.

=====================  ================================================
find ... -delete       the same find with ``-print``
find -exec rm {} \\;    the ``-exec ... ;`` clause becomes ``-print``
rm FILES               ``ls -d -- FILES`` (what would go)
rm -r DIRS             ``find DIRS`` (everything that would go)
rmdir / unlink         ``ls -d -- ARGS``
shred / truncate       ``ls -l -- FILES``
mv -f, ln -f, gzip -f  ``echo would run: CMD`` (globs expanded)
kill / pkill / killall ``echo would run: kill ARGS``
xargs rm ...           ``xargs echo rm ...`` (prints the commands)
chmod/chown/chgrp -R   ``find TARGETS`` (what would change)
sed -i / perl -i       the same command without ``-i`` (result on stdout)
cmd >| file            the command without the redirect (output on stdout)
tee FILE               ``cat``
unzip -o A             ``unzip -l A`` (what it would write)
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
network and needs no guard; otherwise it is blocked too.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Callable

from agent.levels import Finding, Level, Verdict, split_flags, xargs_start
from agent.rules import tar_archive_at, tar_options
from agent.safety import classify, findings, noclobber_state, worst
from agent.shell import Unparseable, Word, parse

Edit = tuple[int, int, str]
Rewrite = Callable[[Finding, str], "list[Edit] | None"]


@dataclass(frozen=True)
class Decision:
    """What happens to one command line of a plan."""

    action: str
    """``kept``, ``guarded`` (runs in its no-clobber form), ``rewritten`` (a preview) or ``blocked``."""
    text: str
    """The runnable command (original, guarded or preview); the original when blocked."""
    verdict: Verdict
    """The verdict of the original line."""
    note: str = ""
    """Why it was guarded, rewritten or blocked."""


def decide(line: str) -> Decision:
    """Keep, guard, rewrite into a preview, or block one command line."""
    try:
        found = findings(line)
    except Unparseable:
        verdict = classify(line)
        return Decision("blocked", line, verdict, verdict.reason)
    verdict = worst(found)
    if verdict.level == Level.CATASTROPHIC:
        return Decision("blocked", line, verdict, verdict.reason)
    destructive = [f for f in found if f.level == Level.DESTRUCTIVE]
    guards = [f for f in found if f.guard]
    if not destructive and not guards:
        return Decision("kept", line, verdict)
    if not destructive:
        return _guarded(line, guards, verdict)
    edits = _drop_file_redirects(line)
    for finding in destructive + [g for g in guards if g.rule != "redirect"]:
        rewrite = REWRITES.get(finding.rule)
        made = rewrite(finding, line) if rewrite and not finding.nested else None
        if made is None:
            return Decision("blocked", line, verdict, f"{finding.reason}; no preview for this")
        edits.extend(made)
    text = _apply(line, edits)
    problem = _still_unsafe(text)
    if problem:
        return Decision("blocked", line, verdict, f"{verdict.reason}; preview still unsafe ({problem})")
    return Decision("rewritten", text, verdict, f"preview of: {line}  ({verdict.reason})")


def _guarded(line: str, guards: list[Finding], verdict: Verdict) -> Decision:
    edits: list[Edit] = []
    for finding in guards:
        made = GUARDS[finding.rule](finding, line) if not finding.nested else None
        if made is None:
            return Decision("blocked", line, verdict, f"{finding.reason}; cannot be made no-clobber here")
        edits.extend(made)
    text = _apply(line, edits)
    problem = _still_unsafe(text)
    if problem:
        return Decision("blocked", line, verdict, f"{verdict.reason}; no-clobber form still unsafe ({problem})")
    return Decision("guarded", text, verdict, f"made no-clobber: {'; '.join(g.reason for g in guards)}")


def _still_unsafe(text: str | None) -> str | None:
    """Why ``text`` may not run as it is (None when it may)."""
    if text is None or not text.strip():
        return "nothing left to run"
    try:
        after = findings(text)
    except Unparseable as exc:
        return f"cannot be parsed: {exc}"
    bad = [f for f in after if f.guard or f.level.rank > Level.NETWORK.rank]
    return bad[0].reason if bad else None


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


def _drop_file_redirects(line: str) -> list[Edit]:
    """A preview writes no file: every redirect to one (``>``, ``>>``, ``>|``, ``&>``) goes."""
    return [(r.start, r.end, "") for r in parse(line).redirects()
            if r.writes and not r.target.value.startswith("/dev/")]


# --- helpers --------------------------------------------------------------------
def _text(line: str, word: Word) -> str:
    return line[word.start:word.end]


def _operands(line: str, words: tuple[Word, ...], value_opts: set[str] = frozenset()) -> list[str]:
    out, ended, skip = [], False, False
    for w in words[1:]:
        if skip:
            skip = False
        elif ended or not w.value.startswith("-") or w.value == "-":
            out.append(_text(line, w))
        elif w.value == "--":
            ended = True
        elif w.value in value_opts:
            skip = True
    return out


def _replace(prefix: str, value_opts: set[str] = frozenset(), drop: int = 0, first: bool = False) -> Rewrite:
    """Replace the whole command with ``prefix OPERANDS`` (dropping the first ``drop``; only one if ``first``)."""

    def rewrite(f: Finding, line: str) -> list[Edit] | None:
        ops = _operands(line, f.words, value_opts)[drop:]
        if not ops:
            return None
        return [(f.words[0].start, f.words[-1].end, f"{prefix} {' '.join(ops[:1] if first else ops)}")]

    return rewrite


def _insert_after_program(flag: str) -> Rewrite:
    def rewrite(f: Finding, line: str) -> list[Edit]:
        at = f.words[0].end
        return [(at, at, f" {flag}")]

    return rewrite


def _noclobber(f: Finding, line: str) -> list[Edit]:
    return [(0, 0, "set -C; ")]


def _tar_keep(f: Finding, line: str) -> list[Edit]:
    key = f.words[1] if len(f.words) > 1 else None
    if key is not None and not key.value.startswith("-") and not key.expands:  # old style: tar xzf a.tgz
        return [(key.start, key.start, "k")]
    at = f.words[0].end
    return [(at, at, " --keep-old-files")]


TAR_SUFFIX_COMPRESSOR = {".tgz": "--gzip", ".taz": "--gzip", ".gz": "--gzip", ".tbz": "--bzip2", ".tbz2": "--bzip2",
                         ".bz2": "--bzip2", ".txz": "--xz", ".xz": "--xz", ".tzst": "--zstd", ".zst": "--zstd",
                         ".tlz": "--lzma", ".lzma": "--lzma", ".lz": "--lzip"}
"""What ``tar -a`` picks from an archive's name; written to stdout it has no name, so the guard says it."""
STDOUT_OPS = {">", ">>", ">|", "&>", "&>>", ">&"}


def _tar_stdout(f: Finding, line: str) -> list[Edit] | None:
    """``tar -czf A dir`` -> ``set -C; tar -czf - dir > A``: tar writes the archive to stdout and the
    noclobber redirect refuses an existing A, so it is created but never replaced (bash: "cannot
    overwrite existing file").  None (no guard) when tar's stdout already goes somewhere."""
    script = parse(line)
    around = [c for c in script.commands() if c.start <= f.words[0].start < c.end]  # tar, or xargs ... tar
    args = list(f.argv[1:])
    at = tar_archive_at(args)
    if not around or at is None:
        return None
    cmd = min(around, key=lambda c: c.end - c.start)
    edits: list[Edit] = []
    for r in script.redirects(cmd.node.parent):
        if cmd.start <= r.start < cmd.end and r.fd in (None, "1") and r.op in STDOUT_OPS:
            if r.target is None or r.target.value != "/dev/null":
                return None  # its stdout is wanted elsewhere
            edits.append((r.start, r.end, ""))  # the archive takes the place of > /dev/null
    word, prefix = f.words[at[0] + 1], at[1]
    text = _text(line, word)
    if not text.startswith(prefix) or len(text) == len(prefix):
        return None
    target = text[len(prefix):]
    edits += [(word.start, word.end, prefix + "-"), (cmd.end, cmd.end, f" > {target}")]
    if noclobber_state(script) != "on":
        edits.append((0, 0, "set -C; "))
    letters, longs = tar_options(args)
    if "a" in letters or "--auto-compress" in longs:
        suffix = next((s for s in TAR_SUFFIX_COMPRESSOR if word.value.lower().endswith(s)), None)
        if suffix:
            edits.append((f.words[0].end, f.words[0].end, f" {TAR_SUFFIX_COMPRESSOR[suffix]}"))
    return edits


def _rm(f: Finding, line: str) -> list[Edit] | None:
    found, _ = split_flags(list(f.argv[1:]))
    recursive = bool(found & {"-r", "-R", "--recursive"})
    return _replace("find" if recursive else "ls -d --")(f, line)


def _echo(f: Finding, line: str) -> list[Edit]:
    at = f.words[0].start
    return [(at, at, "echo would run: ")]


def _xargs(f: Finding, line: str) -> list[Edit] | None:
    index = 1 + xargs_start(list(f.argv[1:]))
    if index >= len(f.words):
        return None
    at = f.words[index].start
    return [(at, at, "echo ")]


def _drop_inplace(value_opts: set[str]) -> Rewrite:
    """Remove ``-i[SUFFIX]`` (also inside a flag cluster like ``-pi``) and ``--in-place[=S]``."""

    def rewrite(f: Finding, line: str) -> list[Edit] | None:
        edits: list[Edit] = []
        skip = False
        for w in f.words[1:]:
            word = w.value
            if skip:
                skip = False
            elif word == "--":
                break
            elif word.startswith("--in-place"):
                edits.append((w.start, w.end, ""))
            elif word in value_opts:
                skip = True
            elif word.startswith("-") and not word.startswith("--") and "i" in word[1:]:
                kept = word[: word.index("i", 1)]
                edits.append((w.start, w.end, "" if kept == "-" else kept))
        return edits or None

    return rewrite


def _find_delete(f: Finding, line: str) -> list[Edit] | None:
    return [(w.start, w.end, "-print") for w in f.words if w.value == "-delete"]


def _find_exec(f: Finding, line: str) -> list[Edit] | None:
    words = f.words
    edits: list[Edit] = []
    i = 0
    while i < len(words):
        if words[i].value in ("-exec", "-execdir", "-ok", "-okdir"):
            j = i + 1
            while j < len(words) and words[j].value not in (";", "+"):
                j += 1
            if j == len(words):
                return None
            inner = " ".join(shlex.quote(w.value) for w in words[i + 1:j])
            if classify(inner).level.rank >= Level.DESTRUCTIVE.rank:
                edits.append((words[i].start, words[j].end, "-print"))
            i = j
        i += 1
    return edits or None


def _redirect(f: Finding, line: str) -> list[Edit]:
    return [(f.redirect.start, f.redirect.end, "")]


def _tee(f: Finding, line: str) -> list[Edit]:
    return [(f.words[0].start, f.words[-1].end, "cat")]


def _rsync(f: Finding, line: str) -> list[Edit]:
    end = f.words[0].end
    return [(end, end, " --dry-run")]


def _git_sub(f: Finding) -> int:
    """Index of git's subcommand in ``f.words`` (after ``-C dir``, ``-c k=v``)."""
    i = 1
    while i < len(f.words) and f.words[i].value.startswith("-"):
        i += 2 if f.words[i].value in ("-C", "-c") else 1
    return i


def _git_clean(f: Finding, line: str) -> list[Edit]:
    words, i = f.words, _git_sub(f)
    edits: list[Edit] = [(words[i].end, words[i].end, " -n")]
    for w in words[i + 1:]:
        if w.value == "--":
            break
        if w.value in ("--force", "--interactive"):  # a preview neither deletes nor asks
            edits.append((w.start, w.end, ""))
        elif w.value.startswith("-") and not w.value.startswith("--") and set(w.value) & set("fi"):
            kept = w.value.replace("f", "").replace("i", "")
            edits.append((w.start, w.end, "" if kept == "-" else kept))
    return edits


def _git_dry_run(option: str) -> Rewrite:
    """``git SUB ...`` -> ``git SUB OPTION ...``: the subcommand's own dry run (``git rm -n``, ``git apply --stat``)."""

    def rewrite(f: Finding, line: str) -> list[Edit]:
        end = f.words[_git_sub(f)].end
        return [(end, end, f" {option}")]

    return rewrite


def _git_discard(f: Finding, line: str) -> list[Edit]:
    """``git checkout [TREE] [--] PATH...`` / ``git restore PATH...`` -> ``git diff --stat [TREE] -- PATH...``:
    the changes to those paths that would be lost (against TREE when one is named)."""
    i = _git_sub(f)
    sub, before, after, ended = f.words[i].value, [], [], False
    for w in f.words[i + 1:]:
        if w.value == "--" and not ended:
            ended = True
        elif ended or not w.value.startswith("-") or w.value == "-":
            (after if ended else before).append(_text(line, w))
    if sub == "checkout" and not ended and len(before) >= 2:  # `git checkout TREE PATH...`
        before, after = before[:1], before[1:]
    elif sub != "checkout" or not ended:  # restore's operands, `git checkout .`: all paths
        before, after = [], before + after
    tree = f" {before[0]}" if sub == "checkout" and before else ""
    return [(f.words[i].start, f.words[-1].end, f"diff --stat{tree} -- {' '.join(after)}")]


def _git_reflog(f: Finding, line: str) -> list[Edit]:
    """``git reflog expire|delete ...`` -> ``git reflog expire|delete --dry-run ...`` (after the action; git 2.39
    takes no ``-n`` there)."""
    i = _git_sub(f) + 1
    while f.words[i].value.startswith("-"):  # options before the action
        i += 1
    end = f.words[i].end
    return [(end, end, " --dry-run")]


def _git_command(build: Callable[[list[str]], str]) -> Rewrite:
    def rewrite(f: Finding, line: str) -> list[Edit]:
        i = _git_sub(f)
        ops = _operands(line, f.words[i:])
        return [(f.words[i].start, f.words[-1].end, build(ops))]

    return rewrite


GUARDS: dict[str, Rewrite] = {
    "cp": _insert_after_program("-n"),
    "mv": _insert_after_program("-n"),
    "unzip": _insert_after_program("-n"),
    "redirect": _noclobber,
    "tar-x": _tar_keep,
    "tar-c": _tar_stdout,
}
"""No-clobber rewrites, by rule id of a guard finding."""

REWRITES: dict[str, Rewrite] = {
    "rm": _rm,
    "rmdir": _replace("ls -d --"),
    "unlink": _replace("ls -d --"),
    "shred": _replace("ls -l --", {"-n", "-s", "--iterations", "--size"}),
    "truncate": _replace("ls -l --", {"-s", "-r", "--size", "--reference"}),
    "mv": _echo,
    "cp": _echo,
    "tar-x": _echo,
    "tar-c": _echo,
    "unzip": _echo,
    "force": _echo,
    "unzip-o": _replace("unzip -l", {"-d", "-P", "-x"}, first=True),
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
    "git-discard": _git_discard,
    "git-branch-D": _git_command(lambda ops: "branch -v --list " + " ".join(ops)),
    "git-stash": _git_command(lambda ops: "stash list"),
    "git-force-switch": _git_command(lambda ops: "diff --stat HEAD"),
    "git-rm": _git_dry_run("-n"),
    "git-mv": _git_dry_run("-n"),
    "git-tag": _git_command(lambda ops: "tag -l " + " ".join(ops)),
    "git-apply": _git_dry_run("--stat"),
    "git-prune": _git_dry_run("-n"),
    "git-reflog": _git_reflog,
    "patch": _insert_after_program("--dry-run"),
}
"""Previews, by rule id of a destructive finding (and of a guard, inside a preview line)."""
