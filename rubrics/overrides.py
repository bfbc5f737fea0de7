"""Human overrides of automatic scores, kept with the score they replace.

``rubrics/overrides.yaml`` is a YAML list; ``fenrir override`` appends to it
(text appended at the end: existing entries and comments are never
rewritten).  An override is keyed to the case and the sha256 of the plan a
human reviewed: when the plan changes, the override is stale and is
reported, not applied.  Like inspect_ai's score edits, the automatic score
stays in the record.
"""

from __future__ import annotations

import fcntl
from datetime import datetime, timezone
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness.errors import SuiteError
from harness.paths import overrides_path
from rubrics.dimensions import Dimension


class Override(BaseModel):
    """One human decision about one score of one plan."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    case: str
    """Case id (or trace row id) the override is for."""
    plan_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    """sha256 of the exact plan text that was reviewed."""
    dimension: Dimension
    """plan, safe or answer."""
    score: int = Field(ge=0, le=2)
    """The score the reviewer gives."""
    automatic: int | None = Field(default=None, ge=0, le=2)
    """The automatic score it replaces (None: there was none, e.g. awaiting review)."""
    reason: str
    """Why: required, shown in reports."""
    reviewer: str
    """Who decided."""
    timestamp: str
    """When (UTC, ISO 8601)."""

    @field_validator("reason")
    @classmethod
    def _says_why(cls, value: str) -> str:
        if len(value.strip()) < 3:
            raise ValueError("is blank or too short (at least 3 characters besides spaces)")
        return value

    @field_validator("reviewer")
    @classmethod
    def _names_someone(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("is blank")
        return value


class Applied(BaseModel):
    """An override as it bears on one result."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    override: Override
    """The entry."""
    stale: bool
    """True when the plan changed since the review: reported, not applied."""


def _parse(text: str, path: Path) -> list[Override]:
    try:
        raw = yaml.safe_load(text) or []
    except yaml.YAMLError as exc:
        raise SuiteError(f"overrides file {path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, list):
        raise SuiteError(f"overrides file {path} must be a YAML list of overrides")
    out = []
    for i, entry in enumerate(raw, start=1):
        try:
            out.append(Override.model_validate(entry))
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "(entry)"
            raise SuiteError(f"overrides file {path}, entry {i}: {field}: {err['msg']} "
                             f"(fix or remove the entry; nothing was changed)") from None
    return out


def load_overrides(path: Path | None = None) -> list[Override]:
    """Every entry, validated; a malformed one fails loudly with its position and field.

    ``path`` defaults to ``rubrics/overrides.yaml`` (``$FENRIR_OVERRIDES``), read when called.
    """
    path = path or overrides_path()
    if not path.exists():
        return []
    return _parse(path.read_text(encoding="utf-8"), path)


HEADER = "# Human overrides of automatic scores: appended by `fenrir override`.\n"
"""The first line of an overrides file ``fenrir override`` starts."""


def append_override(override: Override, path: Path | None = None) -> None:
    """Append one entry: the file with it is validated before anything is written.

    Existing text is never rewritten; the append holds an exclusive lock, so two reviewers
    filing at once each add their entry whole.
    """
    path = path or overrides_path()
    text = yaml.safe_dump([override.model_dump()], sort_keys=False, allow_unicode=True, width=100)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        old = fh.read()
        added = (HEADER if not old else "\n" if not old.endswith("\n") else "") + text
        _parse(old + added, path)  # refuse to append to a broken file, or an entry that breaks it
        fh.write(added)


def make_override(case: str, plan_sha256: str, dimension: Dimension, score: int, automatic: int | None,
                  reason: str, reviewer: str) -> Override:
    try:
        return Override(case=case, plan_sha256=plan_sha256, dimension=dimension, score=score,
                        automatic=automatic, reason=reason, reviewer=reviewer,
                        timestamp=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(map(str, err["loc"]))
        fix = {"reason": "say why the score changes (--reason): it is kept with the override and shown in reports",
               "reviewer": "say who decides (--reviewer)"}.get(field, "")
        raise SuiteError(f"override for {case}: {field}: {err['msg']}" + (f"; {fix}" if fix else "")
                         + "; nothing was recorded") from None


def applicable(overrides: list[Override], case: str, plan_sha256: str) -> list[Applied]:
    """The overrides for a case: the latest per dimension for this plan, plus stale ones."""
    latest: dict[str, Override] = {}
    stale: list[Applied] = []
    for o in overrides:
        if o.case != case:
            continue
        if o.plan_sha256 == plan_sha256:
            latest[o.dimension] = o  # later entries win; earlier ones stay in the file as history
        else:
            stale.append(Applied(override=o, stale=True))
    return [Applied(override=o, stale=False) for o in latest.values()] + stale
