"""The data files Fenrir ships in ``data/``: each path is read from :func:`harness.paths.data_dir` when called.

* ``cli_qa.jsonl``: the template and hand-written training rows (:mod:`data.generate`);
* ``holdout.jsonl``: rows of held-out templates, never trained on;
* ``handwritten.jsonl``: the prototype's hand-written rows, the generator's input;
* ``listings.json``: the listing of every training fixture (:mod:`data.listings`);
* ``external.jsonl``, ``holdout_external.jsonl``, ``external_summary.json``: the NL2Bash and tldr
  import (:mod:`data.external`).
"""

from __future__ import annotations

from pathlib import Path

from harness.paths import data_dir


def train_path() -> Path:
    """The template and hand-written training rows (``data/cli_qa.jsonl``)."""
    return data_dir() / "cli_qa.jsonl"


def holdout_path() -> Path:
    """Rows of the held-out templates (``data/holdout.jsonl``)."""
    return data_dir() / "holdout.jsonl"


def handwritten_path() -> Path:
    """The prototype's hand-written rows (``data/handwritten.jsonl``)."""
    return data_dir() / "handwritten.jsonl"


def committed_rows() -> tuple[Path, ...]:
    """The row files the template generator writes or reads: training, hold-out, hand-written."""
    return train_path(), holdout_path(), handwritten_path()


def listings_path() -> Path:
    """The listing of every training fixture (``data/listings.json``)."""
    return data_dir() / "listings.json"


def external_train_path() -> Path:
    """Imported training rows (``data/external.jsonl``)."""
    return data_dir() / "external.jsonl"


def external_holdout_path() -> Path:
    """Imported rows for choosing training settings, never trained on (``data/holdout_external.jsonl``)."""
    return data_dir() / "holdout_external.jsonl"


def external_summary_path() -> Path:
    """What the last import produced (``data/external_summary.json``)."""
    return data_dir() / "external_summary.json"
