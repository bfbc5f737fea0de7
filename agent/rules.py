"""Per-program rules of the safety classifier (see :mod:`agent.safety`).

``command_findings(name, args, ...)`` looks at one simple command after
wrappers (env, nice, timeout, xargs...) are removed and yields a
:class:`~agent.safety.Finding` for everything that is not plainly safe.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

from agent.safety import (
    DISK_TOOLS,
    NETWORK_TOOLS,
    PACKAGE_MANAGERS,
    Finding,
    Level,
    _flags,
    is_root_like,
    is_system_path,
)

D, C, N = Level.DESTRUCTIVE, Level.CATASTROPHIC, Level.NETWORK
FIND_EXEC = ("-exec", "-execdir", "-ok", "-okdir")
GIT_NETWORK = {"clone", "fetch", "pull", "push", "ls-remote", "submodule"}
NPM_INSTALL = {"install", "i", "add", "ci", "update"}


def command_findings(name: str, args: list[str], node: Any, argv: tuple[str, ...],
                     recurse: Callable[..., Iterator[Finding]]) -> Iterator[Finding]:
    flags, operands = _flags(args)

    def hit(level: Level, reason: str, rule: str | None = None) -> Finding:
        return Finding(level, reason, rule or name, node, argv)

    if name == "rm":
        recursive = bool(flags & {"-r", "-R", "--recursive"})
        bad = [t for t in operands if is_root_like(t)]
        if "--no-preserve-root" in flags:
            yield hit(C, "rm --no-preserve-root can delete the whole system")
        elif recursive and bad:
            yield hit(C, f"rm -r of {bad[0]} deletes everything under it")
        else:
            yield hit(D, f"rm deletes {' '.join(operands) or 'files'}")
    elif name in ("rmdir", "unlink", "shred", "truncate"):
        level = C if any(is_system_path(t) for t in operands) else D
        yield hit(level, f"{name} destroys {' '.join(operands) or 'files'}")
    elif name == "dd":
        out = [a[3:] for a in args if a.startswith("of=")]
        if any(o.startswith("/dev/") and o != "/dev/null" or is_system_path(o) for o in out):
            yield hit(C, f"dd writes to device {out[0]}")
        elif out and out != ["/dev/null"]:
            yield hit(D, f"dd overwrites {out[0]}")
    elif name.startswith("mkfs") or name in DISK_TOOLS:
        yield hit(C, f"{name} destroys a file system or stops the machine")
    elif name in ("mv", "cp"):
        if not flags & {"-n", "--no-clobber"} and "--update=none" not in args:
            level = C if operands and is_system_path(operands[-1]) else D
            yield hit(level, f"{name} may overwrite {operands[-1] if operands else 'files'} (no -n)")
        elif operands and is_system_path(operands[-1]):
            yield hit(C, f"{name} writes into {operands[-1]}")
    elif name == "sed":
        if any(f in flags for f in ("-i", "--in-place")):
            yield hit(D, "sed -i edits files in place", "sed-i")
    elif name == "perl":
        if "-i" in flags:
            yield hit(D, "perl -i edits files in place", "perl-i")
    elif name == "find":
        yield from _find(args, hit, recurse)
    elif name in ("chmod", "chown", "chgrp"):
        if flags & {"-R", "--recursive"}:
            targets = operands[1:]
            if any(is_root_like(t) or is_system_path(t) for t in targets):
                yield hit(C, f"{name} -R of {targets[0]} changes the whole system")
            else:
                yield hit(D, f"{name} -R changes every file under {' '.join(targets)}", f"{name}-R")
        elif any(is_system_path(t) for t in operands[1:]):
            yield hit(C, f"{name} of a system file")
    elif name in ("kill", "pkill", "killall"):
        yield hit(D, f"{name} stops processes")
    elif name == "tee":
        if any(is_system_path(t) for t in operands):
            yield hit(C, "tee writes to a system file")
        elif operands:
            yield hit(D, f"tee writes {' '.join(operands)}")
    elif name == "git":
        yield from _git(args, hit)
    elif name == "rsync":
        if any(_is_remote(a) for a in operands):
            yield hit(N, "rsync talks to a remote host", "rsync-net")
        if not flags & {"-n", "--dry-run"}:
            yield hit(D, "rsync overwrites (and with --delete removes) files at the destination")
    elif name in NETWORK_TOOLS:
        yield hit(N, f"{name} talks to other hosts")
    elif name in ("pip", "pip3", "pipx", "uv") and {"install", "download", "add"} & set(operands):
        yield hit(N, f"{name} install downloads packages")
    elif name.startswith("python") and args[:2] == ["-m", "pip"]:
        if {"install", "download"} & set(args[2:]):
            yield hit(N, "pip install downloads packages")
    elif name in PACKAGE_MANAGERS and {"install", "update", "upgrade", "add"} & set(operands):
        yield hit(N, f"{name} downloads packages")
    elif name in ("npm", "yarn", "pnpm") and (not operands or operands[0] in NPM_INSTALL):
        yield hit(N, f"{name} install downloads packages")


def _is_remote(arg: str) -> bool:
    if arg.startswith("rsync://"):
        return True
    head, sep, _ = arg.partition(":")
    return bool(sep) and bool(head) and "/" not in head


def _find(args: list[str], hit: Callable[..., Finding], recurse: Callable[..., Iterator[Finding]]) -> Iterator[Finding]:
    starts = []
    for arg in args:
        if arg.startswith(("-", "(", "!")):
            break
        starts.append(arg)
    root = any(is_root_like(s) and s not in (".", "./") for s in starts)
    if "-delete" in args:
        yield hit(C if root else D, f"find -delete removes matches under {' '.join(starts) or '.'}",
                  "find-delete")
    i = 0
    while i < len(args):
        if args[i] in FIND_EXEC:
            j = i + 1
            while j < len(args) and args[j] not in (";", "+"):
                j += 1
            inner = [a for a in args[i + 1:j]]
            for f in recurse(inner, None, True):
                level = C if root and f.level == D else f.level
                yield hit(level, f"find {args[i]}: {f.reason}", "find-exec" if level == D else f.rule)
            i = j
        i += 1


def _git(args: list[str], hit: Callable[..., Finding]) -> Iterator[Finding]:
    i = 0
    while i < len(args) and args[i].startswith("-"):  # git -C dir, git -c k=v
        i += 2 if args[i] in ("-C", "-c") else 1
    if i >= len(args):
        return
    sub, rest = args[i], args[i + 1:]
    flags, operands = _flags(rest)
    if sub in GIT_NETWORK:
        yield hit(N, f"git {sub} talks to a remote", "git-net")
    if sub == "reset" and "--hard" in flags:
        yield hit(D, "git reset --hard discards uncommitted changes", "git-reset")
    elif sub == "clean" and flags & {"-f", "--force"}:
        yield hit(D, "git clean -f deletes untracked files", "git-clean")
    elif sub == "push" and (flags & {"-f", "--force", "--force-with-lease", "--delete", "-d"}
                            or any(o.startswith("+") or o.startswith(":") for o in operands)):
        yield hit(D, "git push --force rewrites or deletes remote history", "git-push-force")
    elif sub == "branch" and ("-D" in flags or (flags & {"-d", "--delete"} and flags & {"-f", "--force"})):
        yield hit(D, "git branch -D deletes a branch even if unmerged", "git-branch-D")
    elif sub == "checkout" and ("--" in rest or "." in operands) and "-b" not in flags:
        yield hit(D, "git checkout -- discards changes to files", "git-discard")
    elif sub == "restore" and "--staged" not in flags:
        yield hit(D, "git restore discards changes to files", "git-discard")
    elif sub == "stash" and operands[:1] in (["drop"], ["clear"]):
        yield hit(D, f"git stash {operands[0]} deletes stashed changes", "git-stash")
