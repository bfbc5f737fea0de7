"""The vocabulary of the safety pass: levels, findings, verdicts and the word sets.

:mod:`agent.safety` (the walk over a line) and :mod:`agent.rules` (what each
program does) both build on this module; neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from agent.shell import Redirect, Word


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
    """One reason a line is not plainly safe, or one guard it needs to be."""

    level: Level
    """How bad it is."""
    reason: str
    """One sentence for the plan and the trace."""
    rule: str
    """Rule id (``rm``, ``find-delete``, ``redirect``, ``mv``...): what a rewrite keys on."""
    words: tuple[Word, ...] = ()
    """The command's words from the program on (wrappers like ``env``/``nice`` skipped)."""
    redirect: Redirect | None = None
    """The redirect, for ``redirect`` findings."""
    guard: bool = False
    """Safe only in its no-clobber form (``mv -n``, ``set -C; ... > f``): the line must be rewritten to it."""
    nested: bool = False
    """Sits in a string re-parsed from ``bash -c``/``eval``: its spans are not the line's, so no rewrite."""

    @property
    def argv(self) -> tuple[str, ...]:
        return tuple(w.value for w in self.words)


@dataclass(frozen=True)
class Verdict:
    """The worst finding of a line."""

    level: Level
    """The worst level found."""
    reason: str
    """Its reason."""


SAFE = Verdict(Level.SAFE, "no destructive, network or privileged command")

SHELLS = {"sh", "bash", "zsh", "dash", "ksh", "fish"}
INTERPRETERS = SHELLS | {"python", "python3", "perl", "ruby", "node", "php"}
DOWNLOADERS = {"curl", "wget", "fetch"}
NETWORK_TOOLS = {"curl", "wget", "ssh", "scp", "sftp", "nc", "ncat", "netcat", "telnet", "ftp", "ping"}
PRIVILEGE = {"sudo", "su", "doas", "pkexec"}
DISK_TOOLS = {"mkswap", "mke2fs", "fdisk", "sfdisk", "parted", "wipefs", "shutdown", "reboot", "halt", "poweroff"}
PACKAGE_MANAGERS = {"apt", "apt-get", "yum", "dnf", "apk", "brew", "zypper", "pacman"}
COMPRESSORS = {"gzip", "gunzip", "bzip2", "bunzip2", "xz", "unxz", "zstd", "unzstd", "lzma", "unlzma"}
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


def program(word: str) -> str:
    """``/usr/bin/rm`` -> ``rm``."""
    return word.rsplit("/", 1)[-1]


def is_root_like(target: str) -> bool:
    """``/``, ``~``, ``$HOME``, ``*``, ``.``, ``..`` or a top-level system folder."""
    trimmed = target.rstrip("/") or "/"
    return target in ROOT_LIKE or trimmed in ROOT_LIKE or trimmed in SYSTEM_DIRS


def is_system_path(path: str) -> bool:
    """A block device or a file under /etc (writing there is catastrophic)."""
    devices = ("/dev/sd", "/dev/hd", "/dev/vd", "/dev/nvme", "/dev/mmcblk", "/dev/disk", "/dev/mem", "/dev/xvd")
    return path.startswith(devices) or path == "/etc" or path.startswith(("/etc/", "/boot/"))


def split_flags(args: list[str]) -> tuple[set[str], list[str]]:
    """Split args into short-flag letters / long options and operands (``--`` ends options)."""
    found: set[str] = set()
    operands: list[str] = []
    ended = False
    for arg in args:
        if ended or not arg.startswith("-") or arg == "-":
            operands.append(arg)
        elif arg == "--":
            ended = True
        elif arg.startswith("--"):
            found.add(arg.split("=", 1)[0])
        else:
            found.update("-" + ch for ch in arg[1:])
    return found, operands


def unwrap(words: list[Word]) -> list[Word]:
    """Drop env/nice/nohup/timeout/... wrappers (and VAR=value for env)."""
    while words and program(words[0].value) in WRAPPERS:
        name = program(words[0].value)
        rest = words[1:]
        while rest and (rest[0].value.startswith("-") or (name == "env" and "=" in rest[0].value)):
            rest = rest[2:] if rest[0].value in WRAPPERS[name] else rest[1:]
        if name == "timeout" and rest:
            rest = rest[1:]  # the duration
        words = rest
    return words


def xargs_start(args: list[str]) -> int:
    """Index in ``args`` (xargs' arguments) where the command it runs starts (``len(args)``: none, echo)."""
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] in XARGS_VALUE_OPTS else 1
    return min(i, len(args))
