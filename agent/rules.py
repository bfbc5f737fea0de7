"""Per-program rules of the safety classifier (the policy table is in :mod:`agent.safety`).

``command_findings(name, words, nested, recurse)`` looks at one simple command
after wrappers (env, nice, timeout, xargs...) are removed and yields a
:class:`~agent.levels.Finding` for everything that is not plainly safe, and a
guard finding for what is safe only in its no-clobber form.
"""

from __future__ import annotations

from typing import Callable, Iterator

from agent.levels import (
    COMPRESSORS,
    DISK_TOOLS,
    NETWORK_TOOLS,
    PACKAGE_MANAGERS,
    Finding,
    Level,
    split_flags,
    is_root_like,
    is_system_path,
)
from agent.shell import Word

S, D, C, N = Level.SAFE, Level.DESTRUCTIVE, Level.CATASTROPHIC, Level.NETWORK
FIND_EXEC = ("-exec", "-execdir", "-ok", "-okdir")
GIT_NETWORK = {"clone", "fetch", "pull", "push", "ls-remote", "submodule"}
GIT_BRANCH_FORCE = {"branch": {"-M", "-C", "-f", "--force"}, "checkout": {"-B"}, "switch": {"-C", "--force-create"}}
"""Per subcommand, the flags that create a branch over one that may exist (rule git-branch-D)."""
NPM_INSTALL = {"install", "i", "add", "ci", "update"}
TAR_VALUE_SHORT = set("bCfFgHIKLNTVX")
"""GNU tar short options that take a value (the rest of a cluster after one is that value)."""
TAR_ARCHIVE_SUFFIXES = (".tar", ".tgz", ".taz", ".tbz", ".tbz2", ".txz", ".tzst", ".tlz", ".gz", ".bz2", ".xz",
                        ".zst", ".lz", ".lzma", ".z", ".zip")
"""Names an archive tar -c writes may end with; any other name is most likely a source file the model put first."""
UNZIP_NO_WRITE = {"-l", "-v", "-t", "-z", "-Z", "-p", "-c"}
"""unzip modes that list, test or print instead of extracting."""

Recurse = Callable[[list[Word], bool], Iterator[Finding]]


def command_findings(name: str, words: list[Word], nested: bool, recurse: Recurse) -> Iterator[Finding]:
    args = [w.value for w in words[1:]]
    flags, operands = split_flags(args)

    def hit(level: Level, reason: str, rule: str | None = None, guard: bool = False) -> Finding:
        return Finding(level, reason, rule or name, tuple(words), guard=guard, nested=nested)

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
        yield from _copy(name, args, flags, operands, hit)
    elif name == "ln":
        target = _target(args, operands)
        if target and is_system_path(target):
            yield hit(C, f"ln writes into {target}")
        elif flags & {"-f", "--force"}:
            yield hit(D, f"ln -f replaces {target or 'the link'} if it exists", "force")
    elif name == "patch":
        if not flags & {"--dry-run", "-v", "--version", "--help"}:
            yield hit(D, "patch edits files in place", "patch")
    elif name == "sed":
        if any(f in flags for f in ("-i", "--in-place")):
            yield hit(D, "sed -i edits files in place", "sed-i")
    elif name == "perl":
        if "-i" in flags:
            yield hit(D, "perl -i edits files in place", "perl-i")
    elif name == "find":
        yield from _find(args, words, nested, hit, recurse)
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
        elif operands and not flags & {"-a", "--append"}:
            yield hit(D, f"tee overwrites {' '.join(operands)}")
    elif name == "tar":
        yield from _tar(args, hit)
    elif name == "unzip":
        if flags & UNZIP_NO_WRITE:
            return
        if "-o" in flags:
            yield hit(D, "unzip -o overwrites existing files", "unzip-o")
        elif "-n" not in flags:
            yield hit(S, "unzip made no-clobber (-n): never overwrites an existing file", "unzip", guard=True)
    elif name in COMPRESSORS:
        if flags & {"-f", "--force"} and not flags & {"-c", "--stdout", "-l", "--list", "-t", "--test"}:
            yield hit(D, f"{name} -f overwrites existing output files", "force")
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


def _target(args: list[str], operands: list[str]) -> str | None:
    """The destination of cp/mv/ln: ``-t DIR``, ``--target-directory=DIR`` or the last operand."""
    for i, arg in enumerate(args):
        if arg == "-t" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--target-directory="):
            return arg.split("=", 1)[1]
    return operands[-1] if operands else None


def _last_mode(args: list[str]) -> str | None:
    """mv's last of -f / -i / -n (the one that wins), as ``f``, ``i`` or ``n``."""
    last = None
    for arg in args:
        if arg == "--":
            break
        if arg in ("--force", "--interactive", "--no-clobber"):
            last = {"--force": "f", "--interactive": "i", "--no-clobber": "n"}[arg]
        elif arg.startswith("-") and not arg.startswith("--"):
            for ch in arg[1:]:
                if ch in "fin":
                    last = ch
    return last


def _copy(name: str, args: list[str], flags: set[str], operands: list[str],
          hit: Callable[..., Finding]) -> Iterator[Finding]:
    target = _target(args, operands)
    shown = target or "files"
    if target and is_system_path(target):
        yield hit(C, f"{name} writes into {target}")
        return
    no_clobber = any(a.startswith("--update=none") for a in args) or bool(flags & {"-b", "--backup"})
    if name == "cp":
        no_clobber = no_clobber or bool(flags & {"-n", "--no-clobber"})
    else:
        mode = _last_mode(args)
        if mode == "f":
            yield hit(D, f"mv -f overwrites {shown} if it exists", "force")
            return
        no_clobber = no_clobber or mode == "n"
    if not no_clobber:
        yield hit(S, f"{name} made no-clobber ({name} -n): never overwrites {shown}", name, guard=True)


def tar_options(args: list[str]) -> tuple[set[str], set[str]]:
    """tar's short option letters (clusters and an old-style key, each up to a letter taking a value)
    and its long options (without ``=value``)."""
    letters: set[str] = set()
    longs = {a.split("=", 1)[0] for a in args if a.startswith("--")}
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if (arg.startswith("-") and not arg.startswith("--")) or (i == 0 and not arg.startswith("-")):
            for ch in arg.lstrip("-"):
                letters.add(ch)
                if ch in TAR_VALUE_SHORT:
                    break
    return letters, longs


def _tar(args: list[str], hit: Callable[..., Finding]) -> Iterator[Finding]:
    """tar -x may overwrite files: guarded with --keep-old-files; tar -c -f A would replace an existing
    archive A: guarded by writing it through a noclobber redirect (see agent.preview)."""
    letters, longs = tar_options(args)
    if "c" in letters or "--create" in longs:
        archive = _tar_archive(args)
        if archive and archive != "-" and not archive.startswith("/dev/") \
                and not archive.lower().endswith(TAR_ARCHIVE_SUFFIXES):
            yield hit(D, f"tar -c would overwrite {archive} with an archive ({archive} does not look like one: "
                         "archive and files swapped?)", "tar-c-target")
        elif archive and archive != "-" and not archive.startswith("/dev/"):
            yield hit(S, f"tar -c made no-clobber (the archive goes through a noclobber redirect): never "
                         f"overwrites an existing {archive}", "tar-c", guard=True)
        return
    if not ("x" in letters or longs & {"--extract", "--get"}) or "O" in letters or "--to-stdout" in longs:
        return  # not extracting, or extracting to stdout
    if "U" in letters or longs & {"--overwrite", "--unlink-first", "--recursive-unlink"}:
        yield hit(D, "tar -x --overwrite replaces existing files", "force")
    elif "k" not in letters and not longs & {"--keep-old-files", "--skip-old-files"}:
        yield hit(S, "tar -x made no-clobber (--keep-old-files): never replaces an existing file", "tar-x",
                  guard=True)


def _tar_archive(args: list[str]) -> str | None:
    """The archive tar writes or reads (``-f A``, ``-czfA``, ``--file=A``, ``--file A``, old-style ``czf A``)."""
    at = tar_archive_at(args)
    return args[at[0]][len(at[1]):] if at else None


def tar_archive_at(args: list[str]) -> tuple[int, str] | None:
    """Where the archive is in tar's ``args``: (index of the arg holding it, the text before it in that arg).

    ``["-czf", "a.tgz", "d"]`` -> (1, ""); ``["-czfa.tgz", "d"]`` -> (0, "-czf"); ``["--file=a.tgz"]`` ->
    (0, "--file="); ``["czf", "a.tgz", "d"]`` -> (1, "").  None when there is no ``-f``."""
    for i, arg in enumerate(args):
        if arg == "--":
            return None
        if arg.startswith("--file="):
            return i, "--file="
        if arg == "--file":
            return (i + 1, "") if i + 1 < len(args) else None
        old_style = i == 0 and not arg.startswith("-")
        if not (old_style or (arg.startswith("-") and not arg.startswith("--"))):
            continue
        body = arg.lstrip("-")
        if old_style:  # the values follow the key, in the order of the letters that take one
            takers = [c for c in body if c in TAR_VALUE_SHORT]
            if "f" in takers and i + 1 + takers.index("f") < len(args):
                return i + 1 + takers.index("f"), ""
            continue
        for j, ch in enumerate(body):
            if ch in TAR_VALUE_SHORT:
                if ch != "f":
                    break
                if body[j + 1:]:
                    return i, arg[:len(arg) - len(body) + j + 1]
                return (i + 1, "") if i + 1 < len(args) else None
    return None


def _is_remote(arg: str) -> bool:
    if arg.startswith("rsync://"):
        return True
    head, sep, _ = arg.partition(":")
    return bool(sep) and bool(head) and "/" not in head


def _find(args: list[str], words: list[Word], nested: bool, hit: Callable[..., Finding],
          recurse: Recurse) -> Iterator[Finding]:
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
            for f in recurse(words[i + 2:j + 1], nested):
                if f.guard:
                    yield f  # `-exec mv {} d \;` -> `-exec mv -n {} d \;`
                    continue
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
    flags, operands = split_flags(rest)
    if sub in GIT_NETWORK:
        yield hit(N, f"git {sub} talks to a remote", "git-net")
    if sub == "reset" and "--hard" in flags:
        yield hit(D, "git reset --hard discards uncommitted changes", "git-reset")
    elif sub == "clean" and not flags & {"-n", "--dry-run"}:
        # Without -f git refuses only while clean.requireForce is true (its default); a user's config,
        # or `git -c clean.requireForce=false`, makes it delete untracked files too.
        yield hit(D, "git clean -f deletes untracked files" if flags & {"-f", "--force"}
                  else "git clean deletes untracked files wherever clean.requireForce is false", "git-clean")
    elif sub == "push" and (flags & {"-f", "--force", "--force-with-lease", "--delete", "-d"}
                            or any(o.startswith("+") or o.startswith(":") for o in operands)):
        yield hit(D, "git push --force rewrites or deletes remote history", "git-push-force")
    elif sub == "branch" and ("-D" in flags or (flags & {"-d", "--delete"} and flags & {"-f", "--force"})):
        yield hit(D, "git branch -D deletes a branch even if unmerged", "git-branch-D")
    elif forcing := sorted(flags & GIT_BRANCH_FORCE.get(sub, set())):
        yield hit(D, f"git {sub} {forcing[0]} moves or replaces a branch that may exist", "git-branch-D")
    elif sub in ("checkout", "switch") and flags & {"-f", "--force", "--discard-changes"}:
        yield hit(D, f"git {sub} --force discards uncommitted changes", "git-force-switch")
    elif sub == "checkout" and ("--" in rest or "." in operands or len(operands) >= 2) \
            and not flags & {"-b", "--orphan"}:  # `git checkout TREE PATH...` overwrites PATH
        yield hit(D, "git checkout -- discards changes to files", "git-discard")
    elif sub == "restore" and (not flags & {"--staged", "-S"} or flags & {"--worktree", "-W"}):
        yield hit(D, "git restore discards changes to files", "git-discard")
    elif sub == "stash" and operands[:1] in (["drop"], ["clear"]):
        yield hit(D, f"git stash {operands[0]} deletes stashed changes", "git-stash")
    elif sub == "rm" and not flags & {"--cached", "-n", "--dry-run"}:
        yield hit(D, f"git rm deletes {' '.join(operands) or 'files'} from the working tree", "git-rm")
    elif sub == "mv" and flags & {"-f", "--force"} and not flags & {"-n", "--dry-run"}:
        yield hit(D, "git mv -f replaces the destination if it exists", "git-mv")
    elif sub == "tag" and flags & {"-d", "--delete", "-f", "--force"}:
        yield hit(D, "git tag -d/-f deletes or replaces a tag (tags keep no reflog)", "git-tag")
    elif sub == "apply" and not flags & {"--check", "--stat", "--numstat", "--summary", "--cached"}:
        yield hit(D, "git apply edits files in place", "git-apply")
    elif sub == "prune" and not flags & {"-n", "--dry-run"}:
        yield hit(D, "git prune deletes unreachable objects for good", "git-prune")
    elif sub == "reflog" and operands[:1] in (["expire"], ["delete"]) and not flags & {"-n", "--dry-run"}:
        yield hit(D, f"git reflog {operands[0]} drops the entries that recover lost commits", "git-reflog")
    elif (sub == "gc" and any(a.startswith("--prune") and a != "--no-prune" for a in rest)) \
            or (sub == "update-ref" and "-d" in flags) or sub in ("filter-branch", "filter-repo") \
            or (sub == "worktree" and operands[:1] == ["remove"]):
        # no standard preview: blocked
        yield hit(D, f"git {sub} deletes history or files that cannot be recovered", "git-history")
