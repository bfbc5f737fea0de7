"""Run every dataset row in the sandbox and check that it does what it claims.

A row carries no declared kind (``QARow`` forbids extra fields), so the claim
is read from the completion itself (:func:`claim_of`):

* **preview** -- the category is ``delete_preview`` or the plan says
  ``# preview only`` (or ``# to apply after review: ...``, the agent's own mark): it must print something and change nothing, and it may
  call no deleting program at all (``rm``, ``rmdir``, ``unlink``,
  ``shred``, ``find -delete``/``-exec rm``).
* **effect** -- a command that writes (``tar -c``, ``zip``, ``gzip``,
  ``git checkout -b``/``switch -c``/``branch NAME``, ``git add``/``commit``,
  ``python3 -m venv``, ``pip install``, ``mkdir``, ``cp``, ``mv``,
  ``chmod``, ``touch``, ``tar -x``): the tree must change, every path the
  command names as its product must appear among the changes (the archive,
  ``DIR/.git/refs/heads/NAME``, ``NAME/bin/python``, the installed package...)
  and nothing may be removed unless the command moves it.
* **output** -- everything else: it must print something non-empty and change
  nothing.

A git command that only refreshes the stat cache in ``.git/index`` (``git
diff`` does) has not changed the tree for these checks.

Every row must also exit 0 (or 1 when its last command is a comparer such as
``diff`` or ``cmp``, which says "they differ" that way), finish before its
timeout, not overflow its output cap, and write nothing to stderr -- except for
git and pip, which report progress there ("Switched to a new branch ...").

    failures = verify_rows(rows)          # [] when every row passes
    outcomes = check_rows(rows)           # per row: ran cleanly? verified? why not?
"""

from __future__ import annotations

import fnmatch
import posixpath
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import sandbox
from agent.fewshot import QARow, load_examples
from agent.check import COMPARERS
from agent.plan import APPLY_AFTER_REVIEW
from agent.safety import Unparseable, parse_shell
from harness.errors import FixtureError, PlanError, SandboxError, SandboxUnavailable
from rubrics.score import commands_of, script_of

CHATTY = frozenset({"git", "pip", "pip3"})
"""Programs whose progress messages on stderr are not a failure."""
DELETERS = frozenset({"rm", "rmdir", "unlink", "shred"})
"""Programs a preview may never call."""
PREVIEW_NOTE = APPLY_AFTER_REVIEW.strip()
"""How the agent's plan marks a destructive command it rewrote into a preview: the original
follows its preview as ``# to apply after review: ORIGINAL`` (agent.plan)."""
SANDBOX_ERROR = "sandbox error: "
"""Prefix of the reason when the sandbox itself failed on a row (e.g. it could not read back a file the
plan made unreadable); such a row fails, the run goes on."""
QUICK = 10.0
"""Timeout (seconds) for ordinary rows."""
SLOW = 90.0
"""Timeout for rows that create a virtual environment or install packages."""


@dataclass(frozen=True)
class Claim:
    """What a row's completion says it does, read from its commands."""

    kind: Literal["output", "effect", "preview"]
    """output: prints and changes nothing; effect: changes the tree; preview: a dry run."""
    creates: tuple[str, ...] = ()
    """fnmatch patterns of paths that must be added or modified (effect rows)."""
    removes: tuple[str, ...] = ()
    """fnmatch patterns of paths the row may remove (the source of an ``mv``)."""
    slow: bool = False
    """The row builds a venv or installs packages: it gets the long timeout."""


@dataclass(frozen=True)
class Failure:
    """A row that did not verify."""

    line: int
    """1-based line number of the row in its file (or position in the list)."""
    prompt: str
    """The row's request, to find it by eye."""
    reason: str
    """What went wrong, in one sentence."""

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}  [{self.prompt}]"


@dataclass
class _Acc:
    creates: list[str] = field(default_factory=list)
    removes: list[str] = field(default_factory=list)
    slow: bool = False
    effect: bool = False


def _pipeline_parts(command: str) -> list[list[str]]:
    """argv of each simple command in a line (pipelines, lists, loops and substitutions included)."""
    try:
        return [list(c.argv) for c in parse_shell(command).commands() if c.words]
    except Unparseable:
        return [command.split()]


def _git(argv: list[str], acc: _Acc) -> None:
    repo = "."
    args = argv[1:]
    while args[:1] == ["-C"] and len(args) > 1:
        repo = posixpath.normpath(posixpath.join(repo, args[1]))
        args = args[2:]
    if not args:
        return
    sub, rest = args[0], args[1:]
    refs = posixpath.normpath(posixpath.join(repo, ".git", "refs", "heads"))
    opts = [a for a in rest if a.startswith("-")]
    names = [a for a in rest if not a.startswith("-")]
    if sub in ("checkout", "switch") and {"-b", "-c", "-B", "-C"} & set(opts) and names:
        acc.effect = True
        acc.creates.append(f"{refs}/{names[0]}")
    elif sub == "branch" and names and not opts:
        acc.effect = True
        acc.creates.append(f"{refs}/{names[0]}")
    elif sub in ("add", "commit", "tag", "stash", "mv", "rm", "reset", "merge", "rebase", "init"):
        acc.effect = True
        acc.creates.append(posixpath.normpath(posixpath.join(repo, ".git")) + "/*")


def _tar(argv: list[str], acc: _Acc) -> None:
    args = argv[1:]
    old_style = bool(args) and not args[0].startswith("-")  # tar czf OUT DIR
    short = [a for i, a in enumerate(args) if (a.startswith("-") and not a.startswith("--")) or (i == 0 and old_style)]
    flags = "".join(a.lstrip("-") for a in short)
    if "c" in flags or "x" in flags:
        acc.effect = True
    if "c" in flags:
        acc.creates += [args[i + 1] for i, a in enumerate(args) if a in short and a.endswith("f") and i + 1 < len(args)]
    if "x" in flags:
        target = args[args.index("-C") + 1] if "-C" in args[:-1] else "."
        acc.creates.append(posixpath.normpath(target) + "/*")


def _claim_argv(argv: list[str], acc: _Acc) -> None:
    prog, args = argv[0], [a for a in argv[1:] if not a.startswith("-")]
    base = posixpath.basename(prog)
    if prog == "git":
        _git(argv, acc)
    elif prog == "tar":
        _tar(argv, acc)
    elif prog == "zip" and len(args) >= 2:
        acc.effect = True
        acc.creates.append(args[0] if args[0].endswith(".zip") else args[0] + ".zip")
    elif prog in ("gzip", "bzip2", "xz") and not {"-l", "-t", "-c", "-d"} & set(argv):
        acc.effect = True
        suffix = {"gzip": ".gz", "bzip2": ".bz2", "xz": ".xz"}[prog]
        acc.creates += [a + suffix for a in args]
    elif prog.startswith("python") and argv[1:3] == ["-m", "venv"] and len(argv) > 3:
        acc.effect = acc.slow = True
        acc.creates.append(posixpath.normpath(argv[-1]) + "/bin/python*")
    elif base in ("pip", "pip3") and argv[1:2] == ["install"]:
        acc.effect = acc.slow = True
        env = posixpath.dirname(posixpath.dirname(prog)) if "/" in prog else ""
        for pkg in (a for a in args[1:] if a != "-r"):
            stem = pkg.split("=")[0].split("<")[0].split(">")[0].replace("-", "_").lower()
            acc.creates.append(f"{env}/lib/python*/site-packages/{stem}/*".lstrip("/"))
    elif prog in ("mkdir", "touch"):
        acc.effect = True
        acc.creates += [posixpath.normpath(a) for a in args]
    elif prog in ("cp", "mv") and len(args) >= 2:
        acc.effect = True
        *sources, dest = args
        for src in sources:
            name = posixpath.basename(posixpath.normpath(src))
            acc.creates.append(f"{{{posixpath.normpath(dest)},{posixpath.normpath(dest)}/{name}}}")
            if prog == "mv":
                acc.removes.append(posixpath.normpath(src))
    elif prog == "chmod" and len(args) >= 2:
        acc.effect = True
        acc.creates += [posixpath.normpath(a) for a in args[1:]]
    elif prog == "sed" and any(a.startswith("-i") for a in argv[1:]):
        acc.effect = True
        acc.creates.append(posixpath.normpath(argv[-1]))


def claim_of(row: QARow) -> Claim:
    """Read what a row claims from its category and commands."""
    acc = _Acc()
    for command in commands_of(row.completion):
        for argv in _pipeline_parts(command):
            _claim_argv(argv, acc)
    if row.category == "delete_preview" or "# preview only" in row.completion or PREVIEW_NOTE in row.completion:
        return Claim("preview")
    if acc.effect:
        return Claim("effect", tuple(acc.creates), tuple(acc.removes), acc.slow)
    return Claim("output")


def _matches(pattern: str, paths: list[str]) -> bool:
    if pattern.startswith("{") and pattern.endswith("}"):
        return any(_matches(p, paths) for p in pattern[1:-1].split(","))
    return any(fnmatch.fnmatchcase(p, pattern) or p == pattern for p in paths)


def _last_program(row: QARow) -> str:
    commands = commands_of(row.completion)
    parts = _pipeline_parts(commands[-1]) if commands else []
    return posixpath.basename(parts[-1][0]) if parts else ""


def _programs(row: QARow) -> set[str]:
    return {posixpath.basename(argv[0]) for c in commands_of(row.completion) for argv in _pipeline_parts(c)}


def run_problem(row: QARow, ex) -> str | None:
    """Why an Execution did not run cleanly (timeout, exit code, output cap, stderr), or None."""
    if ex.timed_out:
        return f"timed out after {ex.limits.timeout:g} s"
    if ex.exit_code != 0 and not (ex.exit_code == 1 and _last_program(row) in COMPARERS and not ex.stderr.strip()):
        return f"exit code {ex.exit_code}: {ex.stderr.strip()[:200]}"
    if ex.output_truncated:
        return "output went past the sandbox cap"
    if ex.stderr.strip() and not _programs(row) & CHATTY:
        return f"wrote to stderr: {ex.stderr.strip()[:200]}"
    return None


def claim_problem(row: QARow, claim: Claim, ex) -> str | None:
    """Why a cleanly run Execution does not bear out the row's claim, or None when it does."""
    programs = _programs(row)
    changes = [c for c in ex.changes if not ("git" in programs and c.path.endswith(".git/index") and c.kind == "modified")]
    changed = [c.path for c in changes if c.kind != "removed"]
    removed = [c.path for c in changes if c.kind == "removed"]
    if claim.kind in ("output", "preview"):
        if claim.kind == "preview" and (programs & DELETERS or any("-delete" in c for c in commands_of(row.completion))):
            return f"a preview calls a deleting program ({', '.join(sorted(programs & DELETERS)) or '-delete'})"
        if changes:
            return f"{claim.kind} row changed the tree: {', '.join(c.path for c in changes[:5])}"
        if not ex.stdout.strip():
            return f"{claim.kind} row printed nothing"
        return None
    if not changes:
        return "effect row changed nothing"
    for pattern in claim.creates:
        if not _matches(pattern, changed):
            return f"expected {pattern} to appear, changes were: {', '.join(changed[:5]) or 'none'}"
    unexpected = [p for p in removed if not any(_matches(r, [p]) or p.startswith(r.strip('{}') + "/")
                                                for r in claim.removes)]
    if unexpected:
        return f"removed {', '.join(unexpected[:5])} which the row does not claim to remove"
    return None


def judge(row: QARow, claim: Claim, ex) -> str | None:
    """Why an Execution does not bear out the row's claim, or None when it does."""
    return run_problem(row, ex) or claim_problem(row, claim, ex)


@dataclass(frozen=True)
class Outcome:
    """How one row fared when run on its fixture."""

    ran_clean: bool
    """It exited 0 within its limits and wrote no stderr (chatty tools aside)."""
    reason: str | None
    """None: it also did what it claims (verified); otherwise why not, in one sentence."""

    @property
    def verified(self) -> bool:
        return self.ran_clean and self.reason is None


def check_rows(rows: list[QARow], *, workers: int = 4, timeout: float | None = None,
               fresh: bool = False) -> list[Outcome]:
    """Run each row on its fixture and say how it fared, in row order.

    Rows are batched by fixture (each fixture is materialised once, before the
    threads start) and run on the process-wide warm pool, ``workers`` at a time.
    ``timeout`` replaces the ordinary rows' limit (``QUICK``); rows that build a
    venv or install packages keep ``SLOW``.  ``fresh``: every row gets the tree
    laid out anew, its relative mtimes measured from the row's own start (the
    sandbox's ``epoch``), so a row that tests minutes-old mtimes, access or
    status-change times answers the same whenever it runs and whatever ran
    before it (about 0.05 s more per row).
    """
    outcomes: dict[int, Outcome] = {}
    for fixture in sorted({r.fixture for r in rows}):
        try:
            sandbox.load_fixture(fixture)
        except FixtureError as exc:
            for i, r in enumerate(rows):
                if r.fixture == fixture:
                    outcomes[i] = Outcome(False, f"fixture {fixture!r}: {exc}")
    usable = sorted((i for i in range(len(rows)) if i not in outcomes), key=lambda i: (rows[i].fixture, i))

    def check(i: int) -> tuple[int, Outcome]:
        row = rows[i]
        claim = claim_of(row)
        script = script_of(row.completion)
        if not script.strip():
            return i, Outcome(False, "the completion has no `$ ` command")
        limits = sandbox.Limits(timeout=SLOW if claim.slow else (timeout or QUICK))
        try:
            ex = sandbox.run(script, row.fixture, limits, epoch=time.time() if fresh else None)
        except PlanError as exc:
            return i, Outcome(False, f"the sandbox refused the plan: {exc}")
        except SandboxUnavailable:
            raise
        except SandboxError as exc:  # the pool has discarded that container; the next row gets a fresh one
            return i, Outcome(False, f"{SANDBOX_ERROR}{exc}")
        problem = run_problem(row, ex)
        if problem:
            return i, Outcome(False, problem)
        return i, Outcome(True, claim_problem(row, claim, ex))

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for i, outcome in pool.map(check, usable):
            outcomes[i] = outcome
    return [outcomes[i] for i in range(len(rows))]


def verify_rows(rows: list[QARow], *, workers: int = 4, first_line: int = 1) -> list[Failure]:
    """Run each row on its fixture; a Failure for every row that does not do what it claims."""
    return [Failure(i + first_line, row.prompt, outcome.reason)
            for i, (row, outcome) in enumerate(zip(rows, check_rows(rows, workers=workers)))
            if outcome.reason is not None]


def verify_file(path: Path | str, *, workers: int = 4) -> tuple[int, list[Failure]]:
    """Verify every row of a JSONL file: (number of rows, failures with file line numbers)."""
    examples = load_examples(path)
    lines = [int(e.id.rsplit(":", 1)[1]) for e in examples]
    found = verify_rows([e.row for e in examples], workers=workers)
    return len(examples), [Failure(lines[f.line - 1], f.prompt, f.reason) for f in found]
