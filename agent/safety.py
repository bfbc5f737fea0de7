"""Classify one shell command line by walking its bashlex AST.

Every simple command in the line is examined: inside pipelines, ``&&``/``;``
lists, subshells and brace groups, loops, function bodies, ``$(...)`` and
``<(...)`` substitutions, the strings of ``bash -c``/``sh -c``/``eval``
(re-parsed), and the command run by ``xargs`` or ``find -exec``.  Quoted text
is data: ``echo "rm -rf /"`` is safe.  The line's verdict is the worst finding.

Levels, worst last:

* ``safe``: reads, or creates new things (``mkdir``, ``touch``, ``tar -c``).
* ``network``: talks to other hosts (curl, ssh, pip install, git clone/push...).
* ``destructive``: deletes, overwrites or modifies existing data or processes:
  rm/rmdir/unlink/shred/truncate/dd, mv/cp without ``-n``, ``sed -i``/``perl -i``,
  ``find -delete``/``-exec rm``, ``chmod``/``chown -R``, git reset --hard /
  clean -f / push --force / branch -D / checkout -- ., kill/pkill/killall,
  and redirects to files.  Both ``>`` (truncate) and ``>>`` (append) count:
  a dry-run plan writes nothing, and an append changes an existing file too.
  Redirects to /dev/null, /dev/stdout, /dev/stderr and /dev/fd/* are fine.
* ``catastrophic``: rm -r of / ~ $HOME * . .. or a system folder,
  ``--no-preserve-root``, mkfs & co, dd to a device, fork bombs, a download
  piped to a shell, sudo/su/doas, writes to /dev/sd* or /etc/*, recursive
  chmod/chown of a root-like path.

A line bashlex cannot parse cannot be checked, so it is ``destructive`` with a
reason saying so (the plan shows it as a comment, never as a runnable line).

This module imports only bashlex and the standard library: the scoring
rubrics reuse it without docker or torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Iterator

import bashlex
import bashlex.errors


class Level(str, Enum):
    """How dangerous a command is, ordered safe < network < destructive < catastrophic."""

    SAFE = "safe"
    NETWORK = "network"
    DESTRUCTIVE = "destructive"
    CATASTROPHIC = "catastrophic"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Level.SAFE: 0, Level.NETWORK: 1, Level.DESTRUCTIVE: 2, Level.CATASTROPHIC: 3}


@dataclass(frozen=True)
class Finding:
    """One reason a line is not plainly safe."""

    level: Level
    reason: str
    rule: str
    """Rule id (``rm``, ``find-delete``, ``redirect``...): what a preview rewrite keys on."""
    node: Any = None
    """The bashlex node (command or redirect) in the line, or None when it sits in a re-parsed string."""
    argv: tuple[str, ...] = ()
    """The command's words with quotes removed (after unwrapping env/nice/...)."""


@dataclass(frozen=True)
class Verdict:
    """The worst finding of a line."""

    level: Level
    reason: str


SAFE = Verdict(Level.SAFE, "no destructive, network or privileged command")

SHELLS = {"sh", "bash", "zsh", "dash", "ksh", "fish"}
INTERPRETERS = SHELLS | {"python", "python3", "perl", "ruby", "node", "php"}
DOWNLOADERS = {"curl", "wget", "fetch"}
NETWORK_TOOLS = {"curl", "wget", "ssh", "scp", "sftp", "nc", "ncat", "netcat", "telnet", "ftp", "ping"}
PRIVILEGE = {"sudo", "su", "doas", "pkexec"}
DISK_TOOLS = {"mkswap", "mke2fs", "fdisk", "sfdisk", "parted", "wipefs", "shutdown", "reboot", "halt", "poweroff"}
PACKAGE_MANAGERS = {"apt", "apt-get", "yum", "dnf", "apk", "brew", "zypper", "pacman"}
SAFE_DEVICES = {"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty"}
ROOT_LIKE = {"/", "/*", "~", "~/*", "$HOME", "${HOME}", "$HOME/*", "${HOME}/*", "*", ".", "..", "./*", "../*", ".*"}
SYSTEM_DIRS = {"/etc", "/usr", "/bin", "/sbin", "/lib", "/lib64", "/boot", "/var", "/home", "/root", "/dev",
               "/proc", "/sys", "/opt", "/srv"}
# Wrappers that run their arguments as a command: name -> options that take a value.
WRAPPERS = {
    "env": {"-u", "-C", "-S"}, "nice": {"-n"}, "nohup": set(), "time": set(), "command": set(),
    "exec": set(), "builtin": set(), "stdbuf": {"-i", "-o", "-e"}, "ionice": {"-c", "-n"},
    "timeout": {"-s", "-k"},
}
XARGS_VALUE_OPTS = {"-I", "-n", "-P", "-d", "-L", "-s", "-a", "-E", "-i"}


def is_root_like(target: str) -> bool:
    """``/``, ``~``, ``$HOME``, ``*``, ``.``, ``..`` or a top-level system folder."""
    trimmed = target.rstrip("/") or "/"
    return target in ROOT_LIKE or trimmed in ROOT_LIKE or trimmed in SYSTEM_DIRS


def is_system_path(path: str) -> bool:
    """A block device or a file under /etc (writing there is catastrophic)."""
    devices = ("/dev/sd", "/dev/hd", "/dev/vd", "/dev/nvme", "/dev/mmcblk", "/dev/disk", "/dev/mem", "/dev/xvd")
    return path.startswith(devices) or path == "/etc" or path.startswith(("/etc/", "/boot/"))


def _flags(args: list[str]) -> tuple[set[str], list[str]]:
    """Split args into short-flag letters / long options and operands (``--`` ends options)."""
    flags: set[str] = set()
    operands: list[str] = []
    ended = False
    for arg in args:
        if ended or not arg.startswith("-") or arg == "-":
            operands.append(arg)
        elif arg == "--":
            ended = True
        elif arg.startswith("--"):
            flags.add(arg.split("=", 1)[0])
        else:
            flags.update("-" + ch for ch in arg[1:])
    return flags, operands


class Unparseable(ValueError):
    """bashlex could not parse a line (its own errors, unsupported syntax, or its internal bugs)."""


# bashlex signals unsupported syntax with NotImplementedError and trips over some
# malformed input with AttributeError/IndexError/TypeError; all mean "cannot check".
_BASHLEX_ERRORS = (bashlex.errors.ParsingError, NotImplementedError, AttributeError, IndexError, TypeError,
                   AssertionError, RecursionError)


def parse_shell(text: str) -> list[Any]:
    """bashlex's trees for ``text``; raises :class:`Unparseable`."""
    try:
        return bashlex.parse(text)
    except _BASHLEX_ERRORS as exc:
        raise Unparseable(str(exc) or type(exc).__name__) from exc


_parse = parse_shell


def findings(line: str) -> list[Finding]:
    """Every finding in ``line``; raises :class:`Unparseable`."""
    out: list[Finding] = []
    for tree in _parse(line):
        out.extend(_walk(tree, nested=False))
    return out


def classify(line: str) -> Verdict:
    """The verdict of one command line (unparseable lines are destructive)."""
    try:
        found = findings(line)
    except Unparseable as exc:
        return Verdict(Level.DESTRUCTIVE, f"cannot be parsed, so cannot be checked: {exc}")
    return worst(found)


def worst(found: list[Finding]) -> Verdict:
    if not found:
        return SAFE
    top = max(found, key=lambda f: f.level.rank)
    return Verdict(top.level, top.reason)


# --- the walk -----------------------------------------------------------------
def _walk(node: Any, nested: bool) -> Iterator[Finding]:
    kind = node.kind
    if kind == "command":
        yield from _command(node, nested)
    elif kind == "pipeline":
        commands = [p for p in node.parts if p.kind != "pipe"]
        for part in commands:
            yield from _walk(part, nested)
        yield from _download_to_shell(commands, nested)
    elif kind == "function":
        yield from _fork_bomb(node)
        for part in node.parts:
            yield from _walk(part, nested)
    elif kind == "compound":
        for part in node.list:
            yield from _walk(part, nested)
        for redirect in getattr(node, "redirects", []) or []:
            yield from _redirect(redirect, nested)
    elif kind in ("list", "if", "for", "while", "until"):
        for part in node.parts:
            yield from _walk(part, nested)
    elif kind in ("word", "assignment"):
        for part in getattr(node, "parts", []) or []:
            yield from _walk(part, nested)
    elif kind in ("commandsubstitution", "processsubstitution"):
        yield from _walk(node.command, nested)


def _command_names(node: Any) -> Iterator[str]:
    """First words of every simple command under ``node``."""
    if node.kind == "command":
        words = [p.word for p in node.parts if p.kind == "word"]
        if words:
            yield words[0].rsplit("/", 1)[-1]
    for attr in ("parts", "list"):
        for part in getattr(node, attr, []) or []:
            if hasattr(part, "kind"):
                yield from _command_names(part)
    if node.kind in ("commandsubstitution", "processsubstitution"):
        yield from _command_names(node.command)


def _download_to_shell(commands: list[Any], nested: bool) -> Iterator[Finding]:
    seen_download = False
    for command in commands:
        names = set(_command_names(command))
        if seen_download and names & (INTERPRETERS | PRIVILEGE):
            yield Finding(Level.CATASTROPHIC, "pipes a download into a shell", "download-shell",
                          None if nested else command)
        seen_download = seen_download or bool(names & DOWNLOADERS)


def _fork_bomb(node: Any) -> Iterator[Finding]:
    name = node.name.word
    body = node.body
    calls = [n for n in _command_names(body) if n == name]
    text = body.dump()
    if calls and ("PipelineNode" in text or "op='&'" in text):
        yield Finding(Level.CATASTROPHIC, f"fork bomb: function {name!r} spawns itself", "fork-bomb")


def _redirect(node: Any, nested: bool) -> Iterator[Finding]:
    if node.type not in (">", ">>", ">|", "&>", ">&", "&>>") or not hasattr(node.output, "word"):
        return
    target = node.output.word
    if target in SAFE_DEVICES or target.startswith("/dev/fd/") or target.isdigit():
        return
    if is_system_path(target) or target.startswith("/dev/"):
        yield Finding(Level.CATASTROPHIC, f"writes to system path {target}", "redirect")
        return
    what = "appends to" if node.type in (">>", "&>>") else "overwrites"
    yield Finding(Level.DESTRUCTIVE, f"{what} file {target} (redirect {node.type})", "redirect",
                  None if nested else node)


def _command(node: Any, nested: bool) -> Iterator[Finding]:
    words = []
    for part in node.parts:
        if part.kind == "redirect":
            yield from _redirect(part, nested)
        elif part.kind in ("word", "assignment"):
            yield from _walk(part, nested)  # substitutions inside words
            if part.kind == "word":
                words.append(part)
    argv = [w.word for w in words]
    # `$(curl ...)` as the command, or `bash <(curl ...)`: downloaded text gets executed.
    runs = words[:1] if not argv or argv[0].rsplit("/", 1)[-1] not in INTERPRETERS else words
    if any(p.kind in ("commandsubstitution", "processsubstitution") and set(_command_names(p)) & DOWNLOADERS
           for w in runs for p in getattr(w, "parts", []) or []):
        yield Finding(Level.CATASTROPHIC, "runs downloaded text as a command", "download-shell")
    yield from _argv(argv, None if nested else node, nested)


def _unwrap(argv: list[str]) -> list[str]:
    """Drop env/nice/nohup/timeout/... wrappers (and VAR=value for env)."""
    while argv and argv[0].rsplit("/", 1)[-1] in WRAPPERS:
        name = argv[0].rsplit("/", 1)[-1]
        rest = argv[1:]
        while rest and (rest[0].startswith("-") or (name == "env" and "=" in rest[0])):
            rest = rest[2:] if rest[0] in WRAPPERS[name] else rest[1:]
        if name == "timeout" and rest:
            rest = rest[1:]  # the duration
        argv = rest
    return argv


def _argv(argv: list[str], node: Any, nested: bool) -> Iterator[Finding]:
    argv = _unwrap(argv)
    if not argv:
        return
    name = argv[0].rsplit("/", 1)[-1]
    args = argv[1:]
    ctx = (node, tuple(argv))
    if name in PRIVILEGE:
        yield Finding(Level.CATASTROPHIC, f"{name} runs a command with elevated privileges", "privilege", *ctx)
        yield from _argv([a for a in args if not a.startswith("-")], None, True)
        return
    if name in SHELLS or name == "eval":
        yield from _shell_string(name, args)
        if name in SHELLS and args and not args[0].startswith("-"):
            return  # runs a script file: not inspectable, treated like any program
        return
    if name == "xargs":
        inner = _xargs_command(args)
        for f in _argv(inner, None, True):
            yield Finding(f.level, f"xargs {f.reason}", "xargs" if f.level == Level.DESTRUCTIVE else f.rule,
                          node, tuple(argv))
        return
    from agent.rules import command_findings

    yield from command_findings(name, args, node, tuple(argv), _argv)


def _xargs_command(args: list[str]) -> list[str]:
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] in XARGS_VALUE_OPTS else 1
    return args[i:] or ["echo"]


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
            return
    try:
        trees = _parse(script)
    except Unparseable as exc:
        yield Finding(Level.DESTRUCTIVE, f"{name} runs a string that cannot be checked: {exc}", "unparsed")
        return
    for tree in trees:
        for f in _walk(tree, nested=True):
            yield Finding(f.level, f"{name} -c: {f.reason}" if name != "eval" else f"eval: {f.reason}", f.rule)
