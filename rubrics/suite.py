"""Eval suites: cases with prompts, fixture variants and reference plans.

A suite is a YAML file (``rubrics/static.yaml``, ``rubrics/dynamic.yaml`` or
any path)::

    suite: static
    description: Eight prompts covering find, grep, tar, git, ...
    cases:
      - id: big-logs
        prompt: Find all .log files larger than 1 MB
        fixtures: [seed, seed-b]       # variants: the answer must hold on each
        kind: output                   # output | effect | preview
        reference: |
          $ find . -name '*.log' -size +1M
        compare: [unordered_lines, strip_dot_slash]   # declared looser comparators
        uninformative: false           # true: scored, but left out of means and the gate

A suite (or a case) may name extra Debian packages its plans need
(``image: {packages: [tree]}``): its cases then run in a derived image with
those on top of each fixture's own.

Validated on load; errors name the file, the case and the field.
"""

from __future__ import annotations

import hashlib
from enum import Enum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from harness.errors import SuiteError
from harness.paths import rubrics_dir
from harness.yamlfile import invalid_message, read_mapping
from sandbox.fixture import ImageSpec

BUILTIN_NAMES = ("static", "dynamic")


def builtin_suites() -> dict[str, Path]:
    """The shipped suites by name (``rubrics/static.yaml``, ``rubrics/dynamic.yaml``), found when called."""
    return {name: rubrics_dir() / f"{name}.yaml" for name in BUILTIN_NAMES}


class Kind(str, Enum):
    """What counts as the answer to a request."""

    OUTPUT = "output"
    """stdout is the answer, and nothing may change."""
    EFFECT = "effect"
    """the file-system change is the answer."""
    PREVIEW = "preview"
    """a destructive request answered as a dry run: stdout shows what would happen, nothing changes."""


class Comparator(str, Enum):
    """Looser ways a candidate may match the reference (worth Answer 1, not 2)."""

    UNORDERED_LINES = "unordered_lines"
    """stdout lines compared as a sorted list."""
    STRIP_DOT_SLASH = "strip_dot_slash"
    """a leading './' (or the fixture root) on each stdout line is ignored."""
    SQUEEZE_WHITESPACE = "squeeze_whitespace"
    """runs of spaces and tabs compare equal, leading/trailing blanks ignored."""
    ARCHIVE_CONTENTS = "archive_contents"
    """archives the plan creates are compared by their sorted member lists, not their bytes or names."""
    WC_NAME = "wc_name"
    """a line of numbers matches the same numbers followed by a name, as wc or du print it ('441 a.sh' ~ '441')."""
    TRAILING_SLASH = "trailing_slash"
    """a word ending in '/' matches the same word without it ('/usr/local/bin/' ~ '/usr/local/bin')."""
    RELATIVE_PATHS = "relative_paths"
    """a path matches the same path relative to the working directory ('/testbed/a' ~ 'testbed/a' from '/',
    '/testbed/a' ~ './a' ~ 'a' from '/testbed')."""
    MD5SUM_DASH = "md5sum_dash"
    """a checksum matches the same checksum followed by the '  -' md5sum and sha*sum print for standard input."""


MEANING_KEEPING = (Comparator.WC_NAME, Comparator.TRAILING_SLASH, Comparator.RELATIVE_PATHS, Comparator.MD5SUM_DASH)
"""Comparators under which two outputs still say the same thing: what ``fenrir judge`` uses by default, and what
imported InterCode cases declare (for Answer 1)."""


class Case(BaseModel):
    """One prompt to score."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    """Unique id (lowercase, digits, '-', '_', '.'): the pytest id and the key in baselines and overrides."""
    prompt: str = Field(min_length=3)
    """The request as a user would type it."""
    fixtures: list[str] = Field(min_length=1)
    """Fixture variants; the answer must hold on each."""
    kind: Kind
    """output, effect or preview."""
    reference: str
    """The reference plan, in the agent's format ('$ ' command lines, '#' comments)."""
    compare: list[Comparator] = Field(default_factory=list)
    """Declared looser comparators."""
    category: str = ""
    """What the prompt exercises (find, grep, tar, git, ...)."""
    uninformative: bool = False
    """The reference prints nothing and changes nothing, so any silent plan matches it: the case is scored but
    left out of means and the gate (set at import and named by the oracle check; also detected when scoring)."""
    image: ImageSpec | None = None
    """Extra Debian packages the case's plans run with, on top of each fixture's (a suite's ``image`` lands here)."""

    @property
    def packages(self) -> tuple[str, ...]:
        """The extra Debian packages, sorted."""
        return tuple(sorted(self.image.packages)) if self.image else ()

    @field_validator("reference")
    @classmethod
    def _has_command(cls, v: str) -> str:
        if not any(line.strip().startswith("$ ") for line in v.splitlines()):
            raise ValueError("reference must contain at least one '$ ' command line")
        return v

    @property
    def fingerprint(self) -> str:
        """Changes whenever anything that affects the case's scores changes (``uninformative`` does not;
        ``image`` only when set, so fingerprints from before it existed stay put)."""
        skip = {"uninformative"} | ({"image"} if self.image is None else set())
        return hashlib.sha256(self.model_dump_json(exclude=skip).encode()).hexdigest()[:16]


class Suite(BaseModel):
    """A named list of cases."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    suite: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    """Suite name (static, dynamic, or an imported suite's name)."""
    description: str = ""
    """What the suite is for."""
    image: ImageSpec | None = None
    """Extra Debian packages every case's plans run with (merged into each case's ``image``)."""
    cases: list[Case] = Field(min_length=1)
    """The cases, in report order."""

    @model_validator(mode="after")
    def _suite_image(self) -> "Suite":
        if self.image and self.image.packages:
            merged = []
            for case in self.cases:
                packages = sorted(set(case.packages) | set(self.image.packages))
                merged.append(case.model_copy(update={"image": ImageSpec(packages=packages)}))
            object.__setattr__(self, "cases", merged)
        return self


def _where(raw: dict, loc: list) -> str:
    """A pydantic error location, with cases named by their id."""
    where = ".".join(str(p) for p in loc) or "(top level)"
    cases = raw.get("cases")
    if len(loc) >= 2 and loc[0] == "cases" and isinstance(loc[1], int) and isinstance(cases, list):
        case = cases[loc[1]] if loc[1] < len(cases) else None
        case_id = case.get("id") if isinstance(case, dict) else None
        field = ".".join(str(p) for p in loc[2:]) or "(the case)"
        where = f"case {case_id or '#' + str(loc[1] + 1)!s}: {field}"
    return where


def load_suite(path: str | Path) -> Suite:
    """Read and validate one suite file."""
    path = Path(path)
    raw = read_mapping(path, "suite", SuiteError, "'suite:' and 'cases:'",
                       missing_hint=f" (built-in suites: {', '.join(BUILTIN_NAMES)})")
    try:
        suite = Suite.model_validate(raw)
    except ValidationError as exc:
        raise SuiteError(invalid_message("suite", str(path), exc, lambda loc: _where(raw, loc))) from None
    seen: set[str] = set()
    for case in suite.cases:
        if case.id in seen:
            raise SuiteError(f"suite {path}: case id {case.id!r} appears twice")
        seen.add(case.id)
    return suite


def resolve_suites(selector: str) -> list[Suite]:
    """'static', 'dynamic', 'all' or a path (comma-separated for several)."""
    suites: list[Suite] = []
    for part in (p.strip() for p in selector.split(",") if p.strip()):
        if part == "all":
            suites += [load_suite(p) for p in builtin_suites().values()]
        elif part in BUILTIN_NAMES:
            suites.append(load_suite(builtin_suites()[part]))
        else:
            suites.append(load_suite(part))
    ids: dict[str, str] = {}
    for suite in suites:
        for case in suite.cases:
            if case.id in ids and ids[case.id] != suite.suite:
                raise SuiteError(f"case id {case.id!r} is in both suite {ids[case.id]} and suite {suite.suite}; "
                                 f"case ids must be unique across the suites of one run")
            ids[case.id] = suite.suite
    return suites
