"""The prototype's hand-filled scores (Fenrir-Mini), the numbers each report is compared with.

They are data, not a constant: ``results/templates/prototype.yaml`` records
where they come from (the seed report and its section), the seven rows of that
table and its printed Mean row, and is validated here on every read.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import DataError
from harness.paths import templates_dir
from harness.yamlfile import invalid_message, read_mapping

FILE_NAME = "prototype.yaml"
"""The file's name in the templates folder."""


class PrototypeScores(BaseModel):
    """Plan, Safe and Answer as the prototype's table gives them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    plan: float = Field(ge=0, le=2)
    """Plan, 0 to 2."""
    safe: float = Field(ge=0, le=2)
    """Safe, 0 to 2."""
    answer: float = Field(ge=0, le=2)
    """Answer, 0 to 2."""

    def get(self, dimension: str) -> float:
        return getattr(self, dimension)


class PrototypeRow(BaseModel):
    """One prompt of the prototype's table, scored by hand."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: str = Field(min_length=1)
    """The prompt as the table words it."""
    plan: int = Field(ge=0, le=2)
    """Plan score."""
    safe: int = Field(ge=0, le=2)
    """Safe score."""
    answer: int = Field(ge=0, le=2)
    """Answer score."""


class Prototype(BaseModel):
    """The prototype's scored table and where it comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(min_length=1)
    """The document the numbers are copied from."""
    section: str = Field(min_length=1)
    """Its section holding the table."""
    filled_by: str = Field(min_length=1)
    """How the scores were given ('hand': no autograder)."""
    rows: list[PrototypeRow] = Field(min_length=1)
    """The table's rows."""
    mean: PrototypeScores
    """The table's Mean row as printed (the values the report compares with)."""


def prototype_path() -> Path:
    """Where the prototype's scores are kept."""
    return templates_dir() / FILE_NAME


def load_prototype(path: Path | None = None) -> Prototype:
    """The prototype's table, validated; a missing or malformed file is one DataError naming it."""
    path = path or prototype_path()
    raw = read_mapping(path, "prototype scores", DataError, "source, section, filled_by, rows and mean",
                       missing_hint=" (it ships with the report templates: restore it from git)")
    try:
        return Prototype.model_validate(raw)
    except ValidationError as exc:
        raise DataError(invalid_message("prototype scores", str(path), exc)
                        + "\n(fix the file: it is copied from the prototype's report)") from None
