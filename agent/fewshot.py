"""In-context examples: load ``data/cli_qa.jsonl`` and pick the k most similar.

Similarity is TF-IDF cosine over lower-cased word tokens (standard library
only).  The request itself is never an example: rows whose normalised prompt
equals the normalised request are excluded, so an eval prompt that is also
in the data cannot leak its own answer.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

from harness.errors import DataError
from harness.jsonlfile import read_records
from harness.paths import data_dir

TOKEN = re.compile(r"[a-z0-9]+")


class QARow(BaseModel):
    """One request -> plan example."""

    model_config = ConfigDict(extra="forbid")

    prompt: str
    """The natural-language request."""
    completion: str
    """The reference plan: ``$ cmd`` lines and ``# comments``."""
    category: str
    """Command family (find, grep, tar, git, delete_preview...)."""
    fixture: str
    """Fixture the completion was run on (``seed`` for most hand-written rows); for ``parsed`` rows, the
    fixture whose names the row uses.  Always a fixture in ``fixtures/``."""
    source: Literal["handwritten", "template", "nl2bash", "tldr"] = "template"
    """Where the row comes from: written by hand for the prototype, a ``data.templates`` template, an
    NL2Bash pair (MIT) or a tldr-pages example (CC BY 4.0), both imported by ``data.external``."""
    check: Literal["executed+verified", "executed", "parsed"] = "executed+verified"
    """How the row was checked: ``executed+verified`` ran cleanly in the sandbox and did what it claims
    (``data.verify``); ``executed`` ran cleanly (exit 0, no stderr, no limit hit) but the claim check did
    not pass (e.g. it printed nothing); ``parsed`` was not run, because no fixture can answer it (it names
    a path outside the work tree, ``/var/log``, ``~/Downloads``), but it parses, passes every static check
    (``data.screen``) and its plan only reads (``data.external``)."""

    @field_validator("prompt", "completion", "category", "fixture")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


@dataclass(frozen=True)
class Example:
    """A row and its id (``<file stem>:<line number>``), as used in prompts and traces."""

    id: str
    row: QARow


def normalize(text: str) -> str:
    """Lower-case word tokens joined by single spaces (punctuation and case ignored)."""
    return " ".join(TOKEN.findall(text.lower()))


def default_data() -> Path:
    """The training rows the agent draws its in-context examples from (``data/cli_qa.jsonl``)."""
    return data_dir() / "cli_qa.jsonl"


def load_examples(path: Path | str | None = None) -> list[Example]:
    """Read and validate a JSONL file (default: :func:`default_data`); a bad row is a DataError naming
    file, line and field."""
    path = Path(path) if path is not None else default_data()
    return [Example(id=f"{path.stem}:{number}", row=row)
            for number, row in read_records(path, QARow, "request/plan row", DataError)]


class Selector:
    """TF-IDF index over example prompts."""

    def __init__(self, examples: list[Example]) -> None:
        self.examples = examples
        self._norm = [normalize(e.row.prompt) for e in examples]
        docs = [Counter(n.split()) for n in self._norm]
        df = Counter(tok for doc in docs for tok in doc)
        n = len(docs)
        self._idf = {tok: math.log((1 + n) / (1 + count)) + 1.0 for tok, count in df.items()}
        self._vectors = [self._vector(doc) for doc in docs]

    def _vector(self, counts: Counter[str]) -> dict[str, float]:
        vec = {tok: c * self._idf.get(tok, math.log(1 + len(self.examples)) + 1.0) for tok, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {tok: v / norm for tok, v in vec.items()}

    def similarity(self, request: str) -> list[float]:
        query = self._vector(Counter(normalize(request).split()))
        return [sum(w * vec.get(tok, 0.0) for tok, w in query.items()) for vec in self._vectors]

    def select(self, request: str, k: int) -> list[Example]:
        """The k most similar examples, best first, never the request itself."""
        if k <= 0:
            return []
        key = normalize(request)
        scores = self.similarity(request)
        order = sorted(range(len(self.examples)), key=lambda i: (-scores[i], i))
        return [self.examples[i] for i in order if self._norm[i] != key][:k]
