"""Import InterCode / NL2SH-style tasks as a Fenrir fixture and suite, as their authors run them.

The input is what InterCode-Bash and InterCode-ALFA (NL2SH) ship: a JSON list
of tasks, and the shell script that builds their file system::

    [{"query": "list files in the current directory", "gold": "ls",
      "gold2": "ls -l", "difficulty": 0}, ...]

``query`` and ``gold`` are required; ``gold2`` (a second command the authors
judge equivalent) and ``difficulty`` are optional.  The import writes

* a fixture ``fixtures/NAME.yaml``: the setup script verbatim as ``setup:``
  (run as a plain ``bash script``, as root, the way the authors' Dockerfile
  runs it: failing lines are warnings), the directories it builds as
  ``root``/``roots`` (read from the script: the top-level folders its absolute
  paths name, or ``--root``), the working directory as ``workdir`` (``/``,
  where InterCode runs every command), a copy of the script where the
  authors' image has it (``setup_copy``: ``/NAME.sh``), and the Debian
  packages the golds call that the sandbox image lacks (``image.packages``);
* a suite ``rubrics/imported/NAME.yaml``: one case per task, id
  ``NAME-001``..., prompt = query, reference = ``$ `` + gold (each line of a
  multi-line gold prefixed), category ``difficulty-N``, the meaning-keeping
  comparators declared (Answer 1 for ``441 a.sh`` vs ``441``), and
  ``uninformative: true`` where the gold prints nothing and changes nothing;
* a sidecar ``rubrics/imported/NAME.gold2.json`` (:class:`Alternatives`): case
  id -> gold2, for checking the scorer against a second correct answer (Case
  forbids extra fields, so the alternatives live beside the suite).

What each gold does (its kind: ``effect`` if it changes the tree, else
``output``; whether it is uninformative) comes from an ``observe`` callable.
The default reads the gold's shell AST (:func:`static_kind`); the CLI
(``fenrir suite import-intercode``) instead runs each gold once in the
sandbox, which is exact for this fixture.  This module runs nothing: no
Docker here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent.safety import Level, Unparseable, classify, parse_shell
from harness.atomic import write_text
from harness.errors import SuiteError
from harness.paths import fixtures_dir, rubrics_dir
from rubrics.packages import missing_programs, propose
from rubrics.score import commands_of
from rubrics.suite import MEANING_KEEPING, Case, Comparator, Kind, Suite
from sandbox.fixture import FixtureSpec

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


class Task(BaseModel):
    """One InterCode / NL2SH task as found in the JSON file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    query: str = Field(min_length=3)
    """The natural-language request."""
    gold: str = Field(min_length=1)
    """The authors' reference command (one or more lines of bash)."""
    gold2: str | None = None
    """A second command the authors judge functionally equivalent."""
    difficulty: int | str | None = None
    """The authors' difficulty label (0, 1, 2 in NL2SH-ALFA)."""

    @field_validator("query", "gold")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("is blank")
        return v


class Alternatives(BaseModel):
    """The gold2 sidecar of an imported suite (``NAME.gold2.json``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    suite: str
    """The suite these alternatives belong to."""
    source: str
    """The tasks file they were imported from."""
    alternatives: dict[str, str]
    """Case id -> a second reference command, in the same '$ ' plan form as the reference."""


@dataclass(frozen=True)
class Imported:
    """What an import wrote."""

    fixture_path: Path
    """The fixture YAML."""
    suite_path: Path
    """The suite YAML."""
    alternatives_path: Path | None
    """The gold2 sidecar, or None when no task has a gold2."""
    suite: Suite
    """The suite as written."""
    fixture: FixtureSpec
    """The fixture as written."""
    alternatives: Alternatives
    """The gold2 alternatives as written (empty when no task has a gold2)."""
    proposed: dict[str, list[str]]
    """Packages added to image.packages because golds call programs the sandbox image lacks -> those programs."""
    unprovided: dict[str, list[str]]
    """Programs the golds call that neither the image nor a known package provides -> the golds calling them."""


# --- reading the input ---------------------------------------------------------
def load_tasks(path: Path) -> list[Task]:
    """Read and validate a tasks JSON file; errors name the file, the task (1-based) and the field."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SuiteError(f"tasks file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteError(f"tasks file {path} cannot be read: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise SuiteError(f"tasks file {path} is not valid JSON: {exc}") from exc
    if not isinstance(raw, list) or not raw:
        raise SuiteError(f"tasks file {path} must be a non-empty JSON list of "
                         f'{{"query": ..., "gold": ...}} objects (got {type(raw).__name__})')
    tasks = []
    for i, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict):
            raise SuiteError(f"tasks file {path}: task {i} must be an object with 'query' and 'gold' "
                             f"(got {type(entry).__name__})")
        try:
            tasks.append(Task.model_validate(entry))
        except ValidationError as exc:
            problems = "; ".join(f"field {'.'.join(str(p) for p in e['loc']) or '(task)'}: {e['msg']}"
                                 for e in exc.errors())
            raise SuiteError(f"tasks file {path}: task {i} is invalid: {problems} "
                             f"(each task needs a string 'query' and 'gold'; 'gold2' and 'difficulty' "
                             f"are optional; no other keys)") from None
    return tasks


def read_setup(path: Path) -> str:
    """The setup script's text."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SuiteError(f"setup script {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteError(f"setup script {path} cannot be read: {exc}") from exc
    if not text.strip():
        raise SuiteError(f"setup script {path} is empty; pass the script that builds the tasks' file system")
    return text


def default_name(tasks_json: Path) -> str:
    """'nl2bash_fs_1.json' -> 'nl2bash_fs_1' (lowercase; other characters become '-')."""
    return re.sub(r"[^a-z0-9_.-]+", "-", tasks_json.stem.lower()).strip("-_.") or "imported"


# --- building the records -------------------------------------------------------
def as_plan(command: str) -> str:
    """A command (possibly several lines) in the '$ ' plan form."""
    return "".join(f"$ {line.strip()}\n" for line in command.splitlines() if line.strip())


# Programs that create or change files without counting as destructive in agent.safety.
_CREATORS = frozenset("""
mkdir touch cp mv ln install mkfifo mknod tee dd gzip gunzip bzip2 bunzip2 xz unxz zip unzip split
chmod chown chgrp rm rmdir unlink shred truncate rsync patch csplit
""".split())


def static_kind(gold: str) -> Kind:
    """effect if the gold looks like it changes the file system, else output (a heuristic).

    effect when agent.safety finds it destructive (rm, sed -i, find -delete,
    ...), when it redirects output to a file (``>``, ``>>``), when it calls a
    program that creates files (mkdir, touch, cp, mv, ln, gzip, tee, ...), or
    writes with ``tar -c``/``-out``/``of=``.  A gold that does not parse as
    shell counts as output.  It cannot tell a command
    that fails (``rm missing.txt``) from one that works; the sandbox-based kind
    in the CLI can.
    """
    try:
        script = parse_shell(gold)
    except Unparseable:
        return Kind.OUTPUT  # not shell we can read: nothing to go on
    if classify(gold).level in (Level.DESTRUCTIVE, Level.CATASTROPHIC):
        return Kind.EFFECT
    if any(r.writes and not r.target.value.startswith("/dev/") for r in script.redirects()):
        return Kind.EFFECT
    words = [w.value for c in script.commands() for w in c.words]
    names = {w.rsplit("/", 1)[-1] for w in words}
    if names & _CREATORS:
        return Kind.EFFECT
    if "tar" in names and any(re.fullmatch(r"-?[a-zA-Z]*c[a-zA-Z]*", w) or w == "--create"
                              for w in words if w != "tar"):
        return Kind.EFFECT
    if any(w == "-out" or w.startswith("of=") for w in words):
        return Kind.EFFECT
    return Kind.OUTPUT


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"field {'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg']}" for e in exc.errors())


# Absolute paths that continue below their first folder ('/system/a.txt', '/backup/'): that folder is a tree.
_TOP_DIR = re.compile(r"(?<![\w.:/$~-])/([A-Za-z0-9_][A-Za-z0-9_.-]*)/")


def infer_roots(setup: str) -> list[str]:
    """The top-level directories a setup script builds, in order of first mention: the first folder of every
    absolute path it names below one (``/system/a.txt`` -> ``/system``), less the system's own (``/usr``,
    ``/etc``, ``/tmp``, ...)."""
    roots: list[str] = []
    for m in _TOP_DIR.finditer(setup):
        top = "/" + m.group(1)
        if top in roots:
            continue
        try:
            FixtureSpec(name="probe", roots=[top], workdir="/")
        except ValidationError:
            continue  # a folder of the system, or one the sandbox mounts itself
        roots.append(top)
    return roots


@dataclass(frozen=True)
class GoldRun:
    """What one gold does, as far as the import needs to know."""

    kind: Kind
    """effect if it changes the tree, else output."""
    uninformative: bool = False
    """It prints nothing and changes nothing: any silent plan matches it."""


def static_observe(gold: str) -> GoldRun:
    """Without the sandbox: the kind from the gold's shell AST; whether it prints anything is unknown."""
    return GoldRun(static_kind(gold))


def make_fixture(setup: str, *, name: str, roots: list[str], workdir: str, source: str,
                 setup_copy: str | None = None, packages: list[str] = ()) -> FixtureSpec:
    """The fixture: the setup script verbatim, its roots and working directory, a copy of the script, the
    packages (pure)."""
    if not _NAME.match(name):
        raise SuiteError(f"name {name!r} is not allowed: use lowercase letters, digits, '-', '_', '.' "
                         f"(e.g. --name icalfa-fs1)")
    layout = {"root": roots[0]} if len(roots) == 1 else {"roots": roots}
    try:
        return FixtureSpec(name=name, **layout, workdir=workdir, setup=setup, setup_copy=setup_copy,
                           image={"packages": sorted(packages)} if packages else None,
                           description=f"Imported from {source}: its setup script, run as root as a plain script.")
    except ValidationError as exc:
        raise SuiteError(f"fixture for {source} is invalid (--root/--workdir/--package): {_problems(exc)}") from None


def make_suite(tasks: list[Task], *, name: str, source: str, fixture_ref: str,
               observe: Callable[[str], GoldRun] = static_observe,
               comparators: list[Comparator] = MEANING_KEEPING) -> tuple[Suite, Alternatives]:
    """One case per task, and the gold2 alternatives by case id (pure)."""
    width = max(3, len(str(len(tasks))))
    cases, alternatives = [], {}
    for i, task in enumerate(tasks, start=1):
        case_id = f"{name}-{i:0{width}d}"
        reference = as_plan(task.gold)
        expected = [line.strip() for line in task.gold.splitlines() if line.strip()]
        if commands_of(reference) != expected:
            raise SuiteError(f"{source}: task {i} field gold does not survive as a '$ ' plan "
                             f"(a line starting with '#'?): {task.gold[:80]!r}")
        category = "" if task.difficulty is None else f"difficulty-{task.difficulty}"
        seen = observe(task.gold)
        try:
            cases.append(Case(id=case_id, prompt=task.query.strip(), fixtures=[fixture_ref], kind=seen.kind,
                              reference=reference, category=category, compare=list(comparators),
                              uninformative=seen.uninformative))
        except ValidationError as exc:
            raise SuiteError(f"{source}: task {i} does not make a valid case: {_problems(exc)}") from None
        if task.gold2 is not None and task.gold2.strip():
            alternatives[case_id] = as_plan(task.gold2)
    try:
        suite = Suite(suite=name, cases=cases,
                      description=f"Imported from {source} ({len(cases)} tasks); reference = the tasks' gold.")
    except ValidationError as exc:
        raise SuiteError(f"suite for {source} is invalid: {_problems(exc)}") from None
    return suite, Alternatives(suite=name, source=source, alternatives=alternatives)


# --- writing --------------------------------------------------------------------
def alternatives_path(suite_path: Path) -> Path:
    """``rubrics/imported/NAME.yaml`` -> ``rubrics/imported/NAME.gold2.json``."""
    return suite_path.with_name(suite_path.stem + ".gold2.json")


def load_alternatives(suite_path: Path) -> Alternatives:
    """The gold2 sidecar of an imported suite."""
    path = alternatives_path(Path(suite_path))
    try:
        return Alternatives.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SuiteError(f"no gold2 sidecar {path} beside suite {suite_path} "
                         f"(re-import with fenrir suite import-intercode)") from None
    except ValidationError as exc:
        raise SuiteError(f"gold2 sidecar {path} is invalid: {exc.errors()[0]['msg']}") from None


def fixture_ref_for(fixture_path: Path, name: str) -> str:
    """How cases name the fixture: by name when it sits in fixtures/, else by its absolute path."""
    if fixture_path.resolve().parent == fixtures_dir().resolve() and fixture_path.stem == name:
        return name
    return str(fixture_path.resolve())


class _Dumper(yaml.SafeDumper):
    """safe_dump, with multi-line strings (setup scripts, plans) as readable '|' blocks."""


def _str(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None  # PyYAML falls back to quoting when a block cannot hold it
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _dump(data) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def import_intercode(tasks_json: Path, setup_sh: Path, roots: list[str] | str | None = None,
                     name: str | None = None, *, workdir: str = "/", suite_out: Path | None = None,
                     fixture_out: Path | None = None, force: bool = False, copy_setup: bool = True,
                     packages: list[str] = (), programs: frozenset[str] | None = None,
                     comparators: list[Comparator] = MEANING_KEEPING,
                     observe_for: Callable[[FixtureSpec], Callable[[str], GoldRun]] | None = None) -> Imported:
    """Write the fixture, the suite and its gold2 sidecar for an InterCode-style tasks file.

    ``roots`` default to the directories the setup script builds (:func:`infer_roots`); ``workdir`` is where
    the plans run ('/', as in InterCode).  With ``copy_setup`` the script is also left at
    ``WORKDIR/<its file name>``.  With ``programs`` (the sandbox image's), the packages that provide programs
    the golds call and the image lacks join ``packages``.  ``observe_for(fixture_spec) -> observe`` (the
    CLI's: runs each gold in the sandbox) tells each case's kind and whether it is uninformative; default
    :func:`static_observe`.  Existing files are refused unless ``force``; nothing is written until every
    task has become a valid case.
    """
    tasks_json, setup_sh = Path(tasks_json), Path(setup_sh)
    name = name or default_name(tasks_json)
    suite_path = Path(suite_out) if suite_out else rubrics_dir() / "imported" / f"{name}.yaml"
    fixture_path = Path(fixture_out) if fixture_out else fixtures_dir() / f"{name}.yaml"
    side_path = alternatives_path(suite_path)
    if not force:
        exists = [str(p) for p in (fixture_path, suite_path, side_path) if p.exists()]
        if exists:
            raise SuiteError(f"{', '.join(exists)} already exist(s); pass --force to overwrite "
                             f"(or --name/--suite-out/--fixture-out to write elsewhere)")
    tasks = load_tasks(tasks_json)
    setup = read_setup(setup_sh)
    source = tasks_json.name
    roots = [roots] if isinstance(roots, str) else list(roots or infer_roots(setup))
    if not roots:
        raise SuiteError(f"setup script {setup_sh} names no top-level folder of its own (such as /testbed/...); "
                         f"pass the directories it builds with --root")
    proposed: dict[str, list[str]] = {}
    unprovided: dict[str, list[str]] = {}
    if programs is not None:
        missing = missing_programs([t.gold for t in tasks] + [t.gold2 for t in tasks if t.gold2], programs)
        proposed, names = propose(missing)
        unprovided = {n: missing[n] for n in names}
    copy = f"{workdir.rstrip('/')}/{setup_sh.name}" if copy_setup else None
    fixture = make_fixture(setup, name=name, roots=roots, workdir=workdir, source=source, setup_copy=copy,
                           packages=sorted(set(packages) | set(proposed)))
    observe = observe_for(fixture) if observe_for is not None else static_observe
    suite, alts = make_suite(tasks, name=name, source=source, fixture_ref=fixture_ref_for(fixture_path, name),
                             observe=observe, comparators=comparators)

    written = fixture.model_dump(mode="json", exclude_none=True)
    order = ("name", "description", "root" if len(roots) == 1 else "roots", "workdir", "image", "setup_copy", "setup")
    write_text(fixture_path, _dump({k: written[k] for k in order if k in written}))
    write_text(suite_path, _dump(suite.model_dump(mode="json", exclude_defaults=True)))
    written_side = None
    if alts.alternatives:
        write_text(side_path, alts.model_dump_json(indent=1) + "\n")
        written_side = side_path
    elif side_path.exists():
        side_path.unlink()  # --force over an import that had alternatives: do not leave stale ones
    return Imported(fixture_path=fixture_path, suite_path=suite_path, alternatives_path=written_side,
                    suite=suite, fixture=fixture, alternatives=alts, proposed=proposed, unprovided=unprovided)
