"""What a training run writes beside its adapter: ``loss.jsonl`` lines and ``manifest.json``."""

from __future__ import annotations

import importlib.metadata as md
import sys
from typing import Any

from pydantic import BaseModel, ConfigDict


class StepRecord(BaseModel):
    """One optimizer step, one line of ``loss.jsonl``."""

    model_config = ConfigDict(extra="forbid")

    step: int
    """Optimizer step, from 1."""
    loss: float
    """Mean cross-entropy over the step's completion tokens (before the update)."""
    lr: float
    """Learning rate the step's update used."""
    tokens: int
    """Non-padding tokens the step processed (prompt + completion)."""
    elapsed_s: float
    """Seconds since the training loop started."""


class EvalRecord(BaseModel):
    """The held-out check at the end of a run (``--eval-data``)."""

    model_config = ConfigDict(extra="forbid")

    path: str
    rows: int
    loss: float
    """Mean completion-token loss on the held-out rows (no dropout)."""
    exact_match: int
    """Rows whose greedy zero-shot plan equals the reference (whitespace-normalised lines)."""
    samples: list[dict[str, str]]
    """Per row: id, expected and generated text."""


class DataFile(BaseModel):
    """One training data file."""

    model_config = ConfigDict(extra="forbid")

    path: str
    sha256: str
    """sha256 of its bytes."""
    rows: int


class Manifest(BaseModel):
    """Everything needed to say what an adapter is and to reproduce it."""

    model_config = ConfigDict(extra="forbid")

    base_model: str
    """Base model id as agent.model records it (and as adapter_config.json names it)."""
    base_revision: str
    """Content identity of the base (``sha256:`` of the embedded GGUF, or the hub commit)."""
    quantized: bool
    """True when the base was 4-bit NF4 during training (qLoRA)."""
    dtype: str | None = None
    """The base weights' dtype in training (float32 / bfloat16, or nf4 for a 4-bit base); null in older manifests."""
    data_path: str
    """The training files, comma-separated."""
    data_sha256: str
    """sha256 of the training file's bytes (of all files' bytes in order, when several)."""
    data_files: list[DataFile] = []
    """Each training file with its sha256 and row count."""
    listings_sha256: str | None = None
    """sha256 of the fixture listings the prompts were grounded in (null: no listings)."""
    grounded_rows: int = 0
    """Rows whose prompt started with their fixture's listing."""
    data_rows: int
    truncated_rows: int
    """Rows whose completion was cut at max_length."""
    system_prompt_sha256: str
    """sha256 of agent.prompt.SYSTEM_PROMPT as trained on: inference must use the same prompt."""
    config: dict[str, Any]
    """The full TrainConfig of the run."""
    steps: int
    loss_start: float
    loss_end: float
    loss_curve: list[float]
    """Per-step training loss (the same numbers as loss.jsonl)."""
    load_s: float
    """Seconds to load the base, the data and build the LoRA model (summed over a resumed run's parts)."""
    train_s: float
    """Seconds in the optimizer loop (a resumed run: up to each part's last checkpoint, plus the last part)."""
    wall_s: float
    """Seconds for the whole run, held-out check and saving included (counted as train_s is)."""
    resumed_at: list[int] = []
    """Steps after which the run was resumed from a checkpoint (fenrir train --resume); empty: one go."""
    tokens: int
    """Non-padding tokens processed by the loop."""
    device: str
    threads: int
    deterministic: bool
    """Whether torch.use_deterministic_algorithms was on (CPU runs)."""
    versions: dict[str, str]
    platform: str
    eval: EvalRecord | None = None


def library_versions() -> dict[str, str]:
    versions = {"python": sys.version.split()[0]}
    for name in ("torch", "transformers", "peft", "bitsandbytes", "fenrir"):
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            versions[name] = "absent"
    return versions
