"""The report's training section: what it says about the adapter a run's plans came from.

:class:`Training` is the section's record.  ``fenrir report --training FILE``
reads one from JSON (:func:`load_training`); otherwise :func:`for_run` builds
it from the shipped adapter's ``lora_adapter/manifest.json`` when the run's
plans came from that adapter, with bench/quality.py's ``results/quality.json``
when there is one.  The loss curve is drawn as ``loss.png`` beside report.md
by the renderer (:mod:`harness.report.render`).
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from harness.errors import DataError
from harness.paths import results_dir, shipped_adapter
from harness.runner import RunMeta

LOSS_CHART = "loss.png"
"""File name of the loss curve beside report.md."""


class Training(BaseModel):
    """What the report says about the adapter a run's plans came from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_model: str | None = None
    """Base model id or folder."""
    adapter: str | None = None
    """Adapter folder."""
    adapter_size: str | None = None
    """Adapter size on disk, as text (e.g. '75 MB')."""
    dataset: str | None = None
    """Training data file."""
    dataset_rows: int | None = None
    """Rows in it."""
    lora_rank: int | None = None
    """LoRA rank."""
    optimizer: str | None = None
    """Optimizer name and settings."""
    lr: float | None = None
    """Learning rate."""
    lr_schedule: str | None = None
    """Schedule name (constant, cosine, ...)."""
    batch_size: int | None = None
    """Examples per step."""
    grad_accum: int | None = None
    """Gradient accumulation steps."""
    steps: int | None = None
    """Optimizer updates."""
    epochs: float | None = None
    """Passes over the data."""
    loss_start: float | None = None
    """Training loss at the first step."""
    loss_end: float | None = None
    """Training loss at the last step."""
    duration_s: float | None = None
    """Wall time of the training run."""
    device: str | None = None
    """What it ran on."""
    dtype: str | None = None
    """Compute dtype of the base weights during training (LoRA weights are float32)."""
    loss_chart: str | None = None
    """File name of the loss-curve PNG beside report.md."""
    loss_curve: list[float] | None = None
    """Training loss per optimizer step; drawn as ``loss_chart`` when both are given."""
    quality: dict | None = None
    """bench/quality.py's results/quality.json: suite means per configuration, held-out accuracy."""


def _training_error(where: str, exc: ValidationError) -> DataError:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or "(summary)"
    return DataError(f"{where}: {field}: {err['msg']} (known fields: {', '.join(Training.model_fields)})")


def training_from(value: Training | dict | None) -> Training | None:
    """A Training from a mapping (validated), or the value itself."""
    if value is None or isinstance(value, Training):
        return value
    try:
        return Training.model_validate(value)
    except ValidationError as exc:
        raise _training_error("training summary", exc) from None


def load_training(path: Path) -> Training:
    """A training summary from a JSON file."""
    try:
        return Training.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"training summary {path} does not exist") from None
    except ValidationError as exc:
        raise _training_error(f"training summary {path}", exc) from None


def _json(path: Path, what: str, fix: str) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{what} {path} cannot be read ({exc}): {fix}") from None
    if not isinstance(data, dict):
        raise DataError(f"{what} {path} must hold a JSON object: {fix}")
    return data


def _size(folder: Path) -> str:
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return f"{total / 2**20:.1f} MB"


def _schedule(cfg: dict) -> str:
    """How the learning rate moved, in words: ``constant``, ``cosine decay to 0``, with any warmup."""
    name = cfg.get("lr_schedule", "constant")
    words = "constant" if name == "constant" else f"{name} decay to 0"
    warmup = cfg.get("warmup_steps")
    return f"{warmup} warmup steps, then {words}" if warmup else words


def summary(adapter_dir: Path | None = None, quality: Path | None = None) -> Training | None:
    """The training section of an adapter folder's ``manifest.json`` (None when it has none).

    ``quality`` defaults to ``quality.json`` in the results folder; it is added when it exists.
    """
    adapter_dir = adapter_dir or shipped_adapter()
    manifest_path = adapter_dir / "manifest.json"
    if not manifest_path.exists():
        return None
    m = _json(manifest_path, "adapter manifest", "train the adapter again (make train) or restore it from git")
    cfg = m.get("config", {})
    betas = cfg.get("betas", [0.9, 0.98])
    curve = m.get("loss_curve") or None
    quality = quality or results_dir() / "quality.json"
    return training_from({
        "base_model": m.get("base_model"),
        "adapter": adapter_dir.name + "/",
        "adapter_size": _size(adapter_dir),
        "dataset": m.get("data_path"),
        "dataset_rows": m.get("data_rows"),
        "lora_rank": cfg.get("lora_r"),
        "optimizer": f"AdamW (β₁ {betas[0]}, β₂ {betas[1]})",
        "lr": cfg.get("learning_rate"),
        "lr_schedule": _schedule(cfg),
        "batch_size": cfg.get("batch_size"),
        "grad_accum": cfg.get("grad_accum"),
        "steps": m.get("steps"),
        "loss_start": m.get("loss_start"),
        "loss_end": m.get("loss_end"),
        "duration_s": m.get("wall_s"),
        "device": m.get("device"),
        "dtype": cfg.get("dtype") or "float32",
        "loss_chart": LOSS_CHART if curve else None,
        "loss_curve": curve,
        "quality": _json(quality, "quality summary", "run python bench/quality.py again, or delete it")
        if quality.exists() else None,
    })


def for_run(meta: RunMeta) -> Training | None:
    """The training section for a run: the shipped adapter's, when the run's plans came from it
    (``model`` or ``model-fewshotK``; not the base alone, and not another ``--adapter``)."""
    uses_adapter = meta.source == "model" or meta.source.startswith("model-fewshot")
    return summary() if uses_adapter else None
