"""Import InterCode / NL2SH-style tasks as a Fenrir fixture and suite.

The input is what InterCode-Bash and InterCode-ALFA (NL2SH) ship: a JSON list
of tasks, and the shell script that builds their file system::

    [{"query": "list files in the current directory", "gold": "ls",
      "gold2": "ls -l", "difficulty": 0}, ...]

``query`` and ``gold`` are required; ``gold2`` (a second command the authors
judge equivalent) and ``difficulty`` are optional.  The import writes

* a fixture ``fixtures/NAME.yaml``: ``root`` (default /testbed) and the setup
  script verbatim as ``setup:`` (it runs as root in a throwaway container of
  the sandbox image, like the authors' Dockerfile RUN step), followed by a
  heredoc that leaves a copy of the script in ``root``, where the authors'
  image has it and the tasks read it (``--no-copy-setup`` to leave it out);
* a suite ``rubrics/imported/NAME.yaml``: one case per task, id
  ``NAME-001``..., prompt = query, reference = ``$ `` + gold (each line of a
  multi-line gold prefixed), category ``difficulty-N``;
* a sidecar ``rubrics/imported/NAME.gold2.json`` (:class:`Alternatives`): case
  id -> gold2, for checking the scorer against a second correct answer (Case
  forbids extra fields, so the alternatives live beside the suite).

Each case's kind (``effect`` if the gold changes the tree, else ``output``) is
decided by a ``kind_of`` callable.  The default, :func:`static_kind`, reads
the gold's shell AST; the CLI (``fenrir suite import-intercode``) instead runs
each gold once in the sandbox and looks at its file-system diff, which is
exact for this fixture.  This module runs nothing: no Docker here.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent.safety import Level, Unparseable, classify, parse_shell
from harness.errors import SuiteError
from rubrics.score import commands_of
from rubrics.suite import RUBRICS_DIR, Case, Kind, Suite
from sandbox.fixture import FIXTURES_DIR, FixtureSpec

IMPORTED_DIR = RUBRICS_DIR / "imported"
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


def with_copy(setup: str, root: str, filename: str) -> str:
    """``setup``, then lines that leave a copy of it at ``root/filename`` (mode 0755).

    InterCode's images COPY the setup script into the working directory and
    many tasks read it (``head -n 5 setup_nl2b_fs_1.sh``).  Our plans run in
    ``root``, and the script usually starts with ``rm -rf ROOT``, so a copy in
    ``files:`` would be deleted: it is written at the end of the setup instead.
    """
    marker = "FENRIR_SETUP_EOF"
    while marker in setup:
        marker += "_"
    target = shlex.quote(f"{root.rstrip('/')}/{filename}")
    body = setup if setup.endswith("\n") else setup + "\n"
    return (f"{body}\n# --- added by fenrir suite import-intercode: the tasks read this script from the "
            f"working directory\ncat > {target} <<'{marker}'\n{body}{marker}\nchmod 755 {target}\n")


def make_fixture(setup: str, *, name: str, root: str, source: str) -> FixtureSpec:
    """The fixture: the setup script (verbatim, or :func:`with_copy`), run in ``root`` (pure)."""
    if not _NAME.match(name):
        raise SuiteError(f"name {name!r} is not allowed: use lowercase letters, digits, '-', '_', '.' "
                         f"(e.g. --name icalfa-fs1)")
    try:
        return FixtureSpec(name=name, root=root, setup=setup,
                           description=f"Imported from {source}: its setup script, run as root.")
    except ValidationError as exc:
        raise SuiteError(f"fixture for {source} is invalid: {_problems(exc)}") from None


def make_suite(tasks: list[Task], *, name: str, source: str, fixture_ref: str,
               kind_of: Callable[[str], Kind] = static_kind) -> tuple[Suite, Alternatives]:
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
        try:
            cases.append(Case(id=case_id, prompt=task.query.strip(), fixtures=[fixture_ref],
                              kind=kind_of(task.gold), reference=reference, category=category))
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
    if fixture_path.resolve().parent == FIXTURES_DIR.resolve() and fixture_path.stem == name:
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


def import_intercode(tasks_json: Path, setup_sh: Path, root: str = "/testbed", name: str | None = None, *,
                     suite_out: Path | None = None, fixture_out: Path | None = None, force: bool = False,
                     copy_setup: bool = True,
                     kind_of: Callable[[str], Kind] | None = None,
                     kind_for: Callable[[FixtureSpec], Callable[[str], Kind]] | None = None) -> Imported:
    """Write the fixture, the suite and its gold2 sidecar for an InterCode-style tasks file.

    ``kind_for(fixture_spec) -> kind_of`` (the CLI's: runs each gold in the
    sandbox) or ``kind_of(gold)`` decides each case's kind; default
    :func:`static_kind`.  With ``copy_setup`` the fixture also holds the setup
    script under its own name in ``root`` (see :func:`with_copy`).  Existing
    files are refused unless ``force``; nothing is written until every task
    has become a valid case.
    """
    tasks_json, setup_sh = Path(tasks_json), Path(setup_sh)
    name = name or default_name(tasks_json)
    suite_path = Path(suite_out) if suite_out else IMPORTED_DIR / f"{name}.yaml"
    fixture_path = Path(fixture_out) if fixture_out else FIXTURES_DIR / f"{name}.yaml"
    side_path = alternatives_path(suite_path)
    if not force:
        exists = [str(p) for p in (fixture_path, suite_path, side_path) if p.exists()]
        if exists:
            raise SuiteError(f"{', '.join(exists)} already exist(s); pass --force to overwrite "
                             f"(or --name/--suite-out/--fixture-out to write elsewhere)")
    tasks = load_tasks(tasks_json)
    setup = read_setup(setup_sh)
    source = tasks_json.name
    if copy_setup:
        setup = with_copy(setup, root, setup_sh.name)
    fixture = make_fixture(setup, name=name, root=root, source=source)
    if kind_for is not None:
        kind_of = kind_for(fixture)
    suite, alts = make_suite(tasks, name=name, source=source, fixture_ref=fixture_ref_for(fixture_path, name),
                             kind_of=kind_of or static_kind)

    fixture_path.parent.mkdir(parents=True, exist_ok=True)
    suite_path.parent.mkdir(parents=True, exist_ok=True)
    fixture_path.write_text(_dump({"name": name, "description": fixture.description, "root": fixture.root,
                                   "setup": fixture.setup}), encoding="utf-8")
    suite_path.write_text(_dump(suite.model_dump(mode="json", exclude_defaults=True)), encoding="utf-8")
    written_side = None
    if alts.alternatives:
        side_path.write_text(alts.model_dump_json(indent=1) + "\n", encoding="utf-8")
        written_side = side_path
    elif side_path.exists():
        side_path.unlink()  # --force over an import that had alternatives: do not leave stale ones
    return Imported(fixture_path=fixture_path, suite_path=suite_path, alternatives_path=written_side,
                    suite=suite, fixture=fixture, alternatives=alts)
