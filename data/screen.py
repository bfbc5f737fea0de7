"""Static checks on an imported command, before anything runs: why it must be dropped, if it must.

:func:`drop_reason` returns the first reason that applies, in this order:

* ``empty``          -- nothing left after filling/normalising;
* ``unparseable``    -- :func:`agent.safety.parse_shell` refuses it (or the program scan trips on it);
* ``outside-image``  -- it calls a program the sandbox image does not have
  (:func:`rubrics.score.unknown_programs` over ``sandbox.programs.programs``);
* ``catastrophic``   -- :func:`agent.safety.classify` says so;
* ``network``        -- it talks to other hosts (the sandbox has no network);
* ``interactive``    -- an interactive or never-ending program (``top``, ``watch``, ``less``,
  ``vi``, ``tail -f``, ``sleep 60``...), see :data:`INTERACTIVE`;
* ``reads-stdin``    -- a command that starts a pipeline (or stands alone) with no file operand and no
  ``<`` redirect, so it would read the terminal (``cat``, ``sort -u``, ``grep foo``, ``tr a b``,
  ``xargs rm``, ``read x``, ``python3``...), see :func:`reads_stdin`;
* ``unset-variable`` -- it expands a shell variable it never sets (``$dir``, ``$1``, ``${FILE}``):
  the request cannot have named its value, see :func:`unset_variables`.

Word splitting here is ``shlex`` with punctuation (the same splitting as ``data.verify``), so it does
not depend on which parser :mod:`agent.safety` uses.  The heuristics err towards dropping.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from enum import Enum

from agent.safety import Level, Unparseable, classify, parse_shell
from rubrics.score import unknown_programs


class Drop(str, Enum):
    """Why a candidate row was dropped (the keys of the summary's drop counts)."""

    EMPTY = "empty"
    UNPARSEABLE = "unparseable"
    OUTSIDE_IMAGE = "outside-image"
    CATASTROPHIC = "catastrophic"
    NETWORK = "network"
    INTERACTIVE = "interactive"
    READS_STDIN = "reads-stdin"
    UNSET_VARIABLE = "unset-variable"
    # later stages (data.external, data.tldr)
    BLOCKED = "blocked"
    """The agent's safety pass blocks a line of its plan."""
    RUN_FAILED = "run-failed"
    """It ran in the sandbox and failed (exit code, stderr, timeout, output cap)."""
    DUPLICATE = "duplicate"
    """Its request (normalised) is already in the data."""
    CONTAMINATED = "contaminated"
    """It near-duplicates an eval case (data.contamination)."""
    UNFILLABLE = "unfillable"
    """tldr: a placeholder has no filling rule, or no fixture has a fitting name."""
    UNNAMED = "unnamed"
    """tldr: the rewritten request cannot name every value the command uses."""
    NOT_READ_ONLY = "not-read-only"
    """It names a path outside the work tree (so it is not run) and its plan writes."""


@dataclass(frozen=True)
class Dropped:
    """A drop reason and its detail (the program, the variable, the error...)."""

    reason: Drop
    """The reason's key."""
    detail: str = ""
    """What exactly (one short phrase)."""


INTERACTIVE = frozenset({
    "top", "htop", "atop", "watch", "less", "more", "most", "pg", "vi", "vim", "view", "nvim", "nano", "emacs",
    "pico", "ed", "ex", "man", "info", "screen", "tmux", "mc", "passwd", "script", "login", "su", "agetty",
    "sulogin", "select", "vipw", "vigr", "visudo", "crontab", "slabtop", "tload", "vmstat", "iotop", "bc",
    "dc", "ftp", "telnet", "mesg", "wall", "write", "talk", "lesskey", "zless", "zmore", "bzless", "bzmore",
    "xzless", "xzmore", "lzless", "lzmore", "scriptlive", "scriptreplay", "stty", "tput", "reset", "clear",
    "setterm", "fg", "bg", "wait", "suspend", "logout", "exit", "exec", "fc", "cpan", "perldoc",
})
"""Programs that wait for a person, follow forever, or need a terminal."""
FOLLOW = {"tail": {"-f", "-F", "--follow"}, "dmesg": {"-w", "--follow"}, "journalctl": {"-f", "--follow"}}
"""Programs that only never end with one of these options."""
GIT_PROMPTS = {"add", "checkout", "reset", "restore", "stash", "commit", "clean", "rebase"}
"""git subcommands that ask the user with ``-p``/``-i`` (``--patch``/``--interactive``/``--edit``)."""
GIT_TOOLS = {"mergetool", "difftool", "gui", "citool", "gitk"}
LONG_SLEEP = 3.0
"""``sleep`` for longer than this many seconds is treated as never-ending."""

FILTERS: dict[str, str] = {
    "cat": "", "tac": "sbr", "nl": "bdfhinsvw", "rev": "", "wc": "",
    "sort": "kotST", "uniq": "fsw", "head": "nc", "tail": "ncs", "cut": "bcdf",
    "fold": "w", "fmt": "wpg", "md5sum": "", "sha1sum": "", "sha256sum": "",
    "sha512sum": "", "cksum": "", "base64": "w", "od": "AjNtw", "xxd": "cglos",
    "grep": "efmABCdD", "egrep": "efmABCdD", "fgrep": "efmABCdD", "sed": "efl",
    "awk": "Ffv", "gawk": "Ffv", "jq": "", "column": "csto", "expand": "t",
    "unexpand": "t", "gzip": "S", "gunzip": "S", "zcat": "", "bzip2": "",
    "bunzip2": "", "bzcat": "", "xz": "T", "unxz": "T", "xzcat": "",
    "split": "abln", "csplit": "bfn", "pr": "ehilnosw", "strings": "nt", "shuf": "in",
    "python": "cmW", "python3": "cmW", "perl": "eEIlM", "bash": "o", "sh": "o",
    "iconv": "ft", "tsort": "",
}
"""Programs that read stdin when given no file operand -> their short options that take a value."""
ALWAYS_STDIN = frozenset({"tr", "tee", "read", "readarray", "mapfile", "cpio", "sponge", "xargs"})
"""Programs that read stdin whatever their operands (xargs unless ``-a FILE``)."""
SCRIPTED = {"grep": {"-e", "-f", "--regexp", "--file"}, "egrep": {"-e", "-f", "--regexp", "--file"},
            "fgrep": {"-e", "-f", "--regexp", "--file"}, "sed": {"-e", "-f", "--expression", "--file"},
            "awk": {"-f", "--file"}, "gawk": {"-f", "--file"}, "jq": set()}
"""Filters whose first operand is their script or pattern, unless one of these options gives it."""
INTERPRETERS = {"python", "python3", "perl", "bash", "sh"}
"""Read a program from stdin when given neither a file nor one of :data:`RUN_OPTIONS`."""
RUN_OPTIONS = {"-c", "-m", "-e", "-E", "-V", "--version", "-h", "--help"}
RECURSIVE = {"-r", "-R", "--recursive", "--dereference-recursive"}
"""grep -r with no file searches the working directory, not stdin."""

SEPARATORS = {"|", "|&", "||", "&&", ";", "&", "(", ")", ";;", "\n", "{", "}"}
KEYWORDS = {"do", "then", "else", "elif", "if", "while", "until", "!", "time", "done", "fi", "esac"}
ENV_VARS = frozenset({
    "HOME", "USER", "LOGNAME", "PWD", "OLDPWD", "PATH", "SHELL", "RANDOM", "LINENO", "SECONDS", "HOSTNAME",
    "UID", "EUID", "PPID", "IFS", "LANG", "BASH", "BASH_VERSION", "BASHPID", "HOSTTYPE", "OSTYPE", "MACHTYPE",
    "SHLVL", "EPOCHSECONDS", "EPOCHREALTIME", "PIPESTATUS", "GROUPS", "FUNCNAME", "BASH_SOURCE", "REPLY",
})
"""Variables bash or the sandbox sets: expanding them is fine."""
_VAR = re.compile(r"\$(?:\{#?(?P<braced>[A-Za-z_][A-Za-z0-9_]*|[0-9@*#])|(?P<plain>[A-Za-z_][A-Za-z0-9_]*|[0-9@*#]))")
_ASSIGN = re.compile(r"(?:^|[\s;&|(`])(?:export\s+|local\s+|declare\s+(?:-\w+\s+)*|readonly\s+)?([A-Za-z_]\w*)(?:\[[^\]]*\])?\+?=")
_LOOP = re.compile(r"\b(?:for|select)\s+([A-Za-z_]\w*)\s+in\b|\bfor\s*\(\(\s*([A-Za-z_]\w*)")
_READ = re.compile(r"\b(?:read|readarray|mapfile)((?:\s+-[a-zA-Z]+(?:\s+(?!-)\S+)?)*)((?:\s+[A-Za-z_]\w*)+)")
_OUT_OF_TREE = re.compile(r"(?:~[\w.-]*|\$HOME|\$\{HOME\})(?:/\S*)?|/(?!dev/(?:null|stdout|stderr|zero|fd/))"
                          r"[\w.@+*?{}\[\],:=/-]*")


def tokens(command: str) -> list[str]:
    """Words and operators of a line (quotes removed); one token per word on a lexing error."""
    try:
        lex = shlex.shlex(command, posix=True, punctuation_chars="|&;<>()")
        lex.whitespace_split = True
        lex.commenters = ""
        return list(lex)
    except ValueError:
        return command.split()


def stages(command: str) -> list[tuple[bool, list[str]]]:
    """``(fed by a pipe, tokens)`` for each simple command of a line, keywords and redirections kept."""
    out: list[tuple[bool, list[str]]] = []
    current: list[str] = []
    fed = False
    for tok in tokens(command) + [";"]:
        if tok in SEPARATORS:
            if current:
                out.append((fed, current))
            current = []
            fed = tok in ("|", "|&")
        elif not current and tok in KEYWORDS:
            continue
        else:
            current.append(tok)
    return out


def _operands(argv: list[str], valued: str) -> tuple[list[str], set[str]]:
    """(operands, options) of an argv, skipping the values of short options in ``valued``."""
    operands: list[str] = []
    options: set[str] = set()
    skip = ended = False
    for arg in argv[1:]:
        if skip:
            skip = False
            continue
        if ended or not arg.startswith("-") or arg == "-":
            operands.append(arg)
        elif arg == "--":
            ended = True
        elif arg.startswith("--"):
            options.add(arg.split("=", 1)[0])
        else:
            for i, ch in enumerate(arg[1:]):
                options.add("-" + ch)
                if ch in valued:
                    skip = i == len(arg) - 2  # the value is the next word unless attached (-n5)
                    break
    return operands, options


REDIRECTS = {">", ">>", ">&", "&>", ">|", "&>>"}


def _without_redirects(words: list[str]) -> list[str]:
    """The words minus output redirections (``2> err``, ``>> log``) and their targets."""
    out: list[str] = []
    for i, w in enumerate(words):
        if w in REDIRECTS or (i and words[i - 1] in REDIRECTS):
            continue
        if re.fullmatch(r"\d", w) and i + 1 < len(words) and words[i + 1] in REDIRECTS:
            continue
        out.append(w)
    return out


def _program(words: list[str]) -> tuple[str, list[str]] | None:
    """A stage's program (its last path part) and argv, redirects and ``VAR=value`` prefixes removed."""
    argv = _without_redirects(words)
    while argv and re.fullmatch(r"[A-Za-z_]\w*=.*", argv[0]):
        argv = argv[1:]
    return (argv[0].rsplit("/", 1)[-1], argv) if argv else None


def reads_stdin(command: str) -> str | None:
    """The program that would read the terminal's stdin, or None."""
    for fed, words in stages(command):
        if fed or any(w in ("<", "<<", "<<<", "<&") for w in words):
            continue
        found = _program(words)
        if found is None:
            continue
        prog, argv = found
        if prog in ALWAYS_STDIN:
            if prog == "xargs" and ("-a" in argv or any(a.startswith("--arg-file") for a in argv)):
                continue
            return prog
        if prog not in FILTERS:
            continue
        operands, options = _operands(argv, FILTERS[prog])
        if "-" in operands:
            return prog
        if prog in INTERPRETERS:
            if not operands and not options & RUN_OPTIONS:
                return prog
            continue
        if prog in ("grep", "egrep", "fgrep") and options & RECURSIVE:
            continue
        if prog == "jq" and options & {"-n", "--null-input"}:
            continue
        script = 1 if prog in SCRIPTED and not options & SCRIPTED[prog] else 0
        if len(operands) <= script:
            return prog
    return None


def interactive(command: str) -> str | None:
    """The interactive or never-ending part of a line (a background job too: it outlives the plan), or None."""
    if "&" in tokens(command):
        return "a background job (&)"
    for _, words in stages(command):
        prog = words[0].rsplit("/", 1)[-1] if words else ""
        if prog in INTERACTIVE:
            return prog
        if prog == "git":
            args = words[1:]
            while args[:1] and args[0] in ("-C", "-c") and len(args) > 1:
                args = args[2:]
            if args[:1] and (args[0] in GIT_TOOLS or args[0] in GIT_PROMPTS and set(args[1:]) & {
                    "-p", "-i", "--patch", "--interactive", "--edit"}):
                return f"git {args[0]}"
        follow = FOLLOW.get(prog, set())
        hit = next((w for w in words[1:] if w in follow or (prog == "tail" and re.fullmatch(r"-[a-zA-Z]*[fF][a-zA-Z]*", w))), None)
        if hit:
            return f"{prog} {hit}"
        if prog == "sleep" and len(words) > 1:
            try:
                if float(words[1].rstrip("smhd")) * {"m": 60, "h": 3600, "d": 86400}.get(words[1][-1], 1) > LONG_SLEEP:
                    return f"sleep {words[1]}"
            except ValueError:
                continue
    return None


def _outside_single_quotes(command: str) -> str:
    """The line with single-quoted text (and backslash-escaped characters) blanked out."""
    out, quote, i = [], None, 0
    while i < len(command):
        ch = command[i]
        if quote == "'":
            if ch == "'":
                quote = None
            out.append(" ")
        elif ch == "\\" and i + 1 < len(command):
            out.append("  ")
            i += 1
        elif ch == "'" and quote is None:
            quote = "'"
            out.append(" ")
        else:
            if ch == '"':
                quote = None if quote == '"' else '"'
            out.append(ch)
        i += 1
    return "".join(out)


def unset_variables(command: str) -> list[str]:
    """Shell variables the line expands but never sets (positional parameters included)."""
    text = _outside_single_quotes(command)
    assigned = {m.group(1) for m in _ASSIGN.finditer(text)}
    assigned |= {name for m in _LOOP.finditer(text) for name in m.groups() if name}
    assigned |= {name for m in _READ.finditer(text) for name in m.group(2).split()}
    found = []
    for m in _VAR.finditer(text):
        name = m.group("braced") or m.group("plain")
        if name not in ENV_VARS and name not in assigned and not name.startswith(("LC_", "BASH_")) and name not in found:
            found.append(name)
    return found


NOT_PATHS = {"-perm", "-newermt", "-regex", "-iregex", "-printf", "-fprintf", "-d", "-F", "-t", "-e"}
"""Options whose value may start with ``/`` without being a path (``find -perm /222``, ``cut -d /``...)."""


def out_of_tree_paths(command: str) -> list[str]:
    """Absolute paths outside the work tree and home paths (``~``, ``$HOME``) the line names."""
    return [w for _, words in stages(command) for i, w in enumerate(words) if _OUT_OF_TREE.fullmatch(w)
            and w != "/work" and not w.startswith("/work/") and not (i and words[i - 1] in NOT_PATHS)]



READ_ONLY = frozenset({
    "find", "grep", "egrep", "fgrep", "zgrep", "cat", "zcat", "head", "tail", "wc", "ls", "du", "df", "stat", "file",
    "sort", "uniq", "cut", "awk", "gawk", "sed", "md5sum", "sha1sum", "sha256sum", "sha512sum", "cksum", "diff",
    "cmp", "comm", "tr", "xargs", "echo", "printf", "readlink", "realpath", "basename", "dirname", "tac", "nl",
    "od", "tar", "rev", "paste", "join", "fold", "column", "strings", "test", "[", "true", "date", "uname", "id",
    "whoami", "hostname", "pwd", "printenv", "env", "which", "type", "getent", "ps", "free", "uptime", "nproc",
    "lsblk", "mount", "findmnt", "dpkg", "locale", "xxd", "base64", "expr", "seq", "bc", "tee",
})
"""Programs a ``parsed`` row may call: they read (``tee``, ``mount``, ``tar``, ``sed``, ``find`` and ``xargs``
only in the read-only forms :func:`reads_only` allows)."""
_FIND_ACTIONS = {"-exec", "-execdir", "-ok", "-okdir"}


def reads_only(command: str) -> bool:
    """Every program of the line only reads: no redirect to a file, ``find`` without ``-delete``/``-fprint``
    and with ``-exec`` of a reader, ``xargs`` of a reader, ``sed`` without ``-i``, ``tar`` listing only,
    ``tee`` and ``mount`` with no operand."""
    words_all = tokens(command)
    if any(w in (">", ">>", ">|", "&>") and i + 1 < len(words_all) and words_all[i + 1] != "/dev/null"
           for i, w in enumerate(words_all)):
        return False
    for _, words in stages(command):
        found = _program(words)
        if found is None:
            continue
        prog, argv = found
        if prog not in READ_ONLY:
            return False
        words_ = [w.strip() for w in argv]  # an escaped space ("\\ -exec") leaves the option inside a word
        if prog == "find" and ({"-delete", "-fprint", "-fprintf", "-fls"} & set(words_) or any(
                w in _FIND_ACTIONS and (i + 1 >= len(words_) or words_[i + 1].rsplit("/", 1)[-1] not in READ_ONLY)
                for i, w in enumerate(words_))):
            return False
        if prog == "xargs":
            rest = [a for a in argv[1:] if not a.startswith("-")]
            if rest and rest[0].rsplit("/", 1)[-1] not in READ_ONLY - {"xargs"}:
                return False
        if prog == "sed" and any(a.startswith(("-i", "--in-place")) for a in argv[1:]):
            return False
        if prog == "tar" and (len(argv) < 2 or not re.fullmatch(r"-?-?[tvzjJf]*t[tvzjJf]*|--list", argv[1])):
            return False
        if prog in ("tee", "mount") and len(argv) > 1:
            return False
    return True


TYPOGRAPHIC = re.compile("[\u2018\u2019\u201c\u201d\u2013\u2014\u00a0]")
"""Curly quotes, en/em dashes and no-break spaces: copied from a web page, not shell syntax."""


def drop_reason(command: str, programs: frozenset[str]) -> Dropped | None:
    """Why ``command`` cannot become a training row (None: it passes every static check)."""
    if not command.strip():
        return Dropped(Drop.EMPTY)
    if TYPOGRAPHIC.search(command):
        return Dropped(Drop.UNPARSEABLE, "typographic quotes or dashes")
    try:
        parse_shell(command)
        missing = unknown_programs(command, programs)
    except (Unparseable, AttributeError, NotImplementedError) as exc:
        return Dropped(Drop.UNPARSEABLE, str(exc)[:80])
    if missing:
        return Dropped(Drop.OUTSIDE_IMAGE, " ".join(missing))
    verdict = classify(command)
    if verdict.level == Level.CATASTROPHIC:
        return Dropped(Drop.CATASTROPHIC, verdict.reason[:80])
    if verdict.level == Level.NETWORK:
        return Dropped(Drop.NETWORK, verdict.reason[:80])
    for reason, finder in ((Drop.INTERACTIVE, interactive), (Drop.READS_STDIN, reads_stdin)):
        found = finder(command)
        if found:
            return Dropped(reason, found)
    unset = unset_variables(command)
    if unset:
        return Dropped(Drop.UNSET_VARIABLE, " ".join("$" + v for v in unset))
    return None
