"""Resumable training: a checkpoint every ``save_every`` steps, and ``fenrir train --resume``.

``make train`` takes over an hour on a 2-core CPU, so a run must survive a
closed laptop or a Ctrl-C.  Every ``save_every`` optimizer steps the loop
writes ``OUTPUT/checkpoint.pt``: the LoRA weights, AdamW's and the
scheduler's state, every random generator's state (dropout draws), the loss
records so far and the time spent.  ``--resume`` loads it and carries on at
the next step, with the data stream advanced past the batches already used.
On the CPU (deterministic algorithms) a resumed run ends with the same loss
curve and the same adapter as one that was never stopped (tested).

A checkpoint is refused, with the differences named, when the run's config
(the settings that change what is learned), its data or its listings are not
the ones the checkpoint was written with.  The file is written beside itself
and renamed, so a crash while saving keeps the previous one; a finished run
deletes it (the output folder then holds only the adapter, as before).
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import TrainingError
from training.config import TrainConfig
from training.manifest import StepRecord

CHECKPOINT = "checkpoint.pt"
FORMAT = 1
RUN_ONLY = frozenset({"output", "log_every", "save_every", "eval_data", "eval_max_new_tokens", "threads"})
"""Config fields that do not change what is learned: a resumed run may set them differently."""


@dataclass(frozen=True)
class Resume:
    """Where a resumed run starts: after ``step``, with what was recorded up to it."""

    step: int
    steps: list[StepRecord]
    train_s: float
    """Seconds in the training loop up to the checkpoint (over every earlier part of the run)."""
    load_s: float
    wall_s: float
    resumed_at: list[int]
    state: dict[str, Any]


FRESH = Resume(step=0, steps=[], train_s=0.0, load_s=0.0, wall_s=0.0, resumed_at=[], state={})
"""A run that starts at the first step."""


def path(output: str | Path) -> Path:
    return Path(output) / CHECKPOINT


def _partial(output: str | Path) -> Path:
    """Where a checkpoint is written before it is renamed into place."""
    return Path(output) / (CHECKPOINT + ".partial")


def _learned(config: TrainConfig | dict[str, Any]) -> dict[str, Any]:
    values = config.to_dict() if isinstance(config, TrainConfig) else dict(config)
    return {k: v for k, v in values.items() if k not in RUN_ONLY}


def _rng_state() -> dict[str, Any]:
    import torch

    state: dict[str, Any] = {"python": random.getstate(), "torch": torch.get_rng_state()}
    try:
        import numpy as np
    except ImportError:  # numpy is optional here
        pass
    else:
        state["numpy"] = np.random.get_state()
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    import torch

    random.setstate(state["python"])
    torch.set_rng_state(state["torch"])
    if "numpy" in state:
        import numpy as np

        np.random.set_state(state["numpy"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(output: Path, *, step: int, config: TrainConfig, model: Any, optimizer: Any, scheduler: Any,
         steps: list[StepRecord], data_sha256: str, listings_sha256: str | None, train_s: float, load_s: float,
         wall_s: float, resumed_at: list[int]) -> Path:
    """Write the state after optimizer step ``step`` to ``OUTPUT/checkpoint.pt`` (atomically)."""
    import torch

    target = path(output)
    state = {
        "format": FORMAT,
        "step": step,
        "config": config.to_dict(),
        "data_sha256": data_sha256,
        "listings_sha256": listings_sha256,
        "lora": {name: p.detach().cpu() for name, p in model.named_parameters() if p.requires_grad},
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "rng": _rng_state(),
        "steps": [s.model_dump() for s in steps],
        "train_s": train_s,
        "load_s": load_s,
        "wall_s": wall_s,
        "resumed_at": list(resumed_at),
    }
    partial = _partial(output)
    torch.save(state, partial)
    os.replace(partial, target)
    return target


def load(output: Path, config: TrainConfig) -> Resume:
    """Read and check ``OUTPUT/checkpoint.pt`` for a run of ``config``; the data is checked by :func:`check_data`."""
    import torch

    target = path(output)
    if not target.is_file():
        raise TrainingError(f"--resume: no checkpoint in {output} ({CHECKPOINT} is written every save_every steps); "
                            "start the run without --resume")
    try:
        state = torch.load(target, map_location="cpu", weights_only=False)  # our own file: RNG states are tuples
        step = int(state["step"])
    except Exception as exc:  # noqa: BLE001 - a damaged file, whatever torch raises for it
        raise TrainingError(f"--resume: {target} cannot be read ({exc}); delete it and start the run again") from exc
    if state.get("format") != FORMAT:
        raise TrainingError(f"--resume: {target} is checkpoint format {state.get('format')}, this Fenrir writes "
                            f"{FORMAT}; start the run again without --resume")
    was, now = _learned(state["config"]), _learned(config)
    changed = sorted(k for k in was.keys() | now.keys() if was.get(k) != now.get(k))
    if changed:
        detail = ", ".join(f"{k} {was.get(k)!r} -> {now.get(k)!r}" for k in changed)
        raise TrainingError(f"--resume: the checkpoint in {output} is from another config ({detail}); resume with the "
                            "config it was written with, or start a new run with --overwrite")
    return Resume(step=step, steps=[StepRecord(**s) for s in state["steps"]], train_s=float(state["train_s"]),
                  load_s=float(state["load_s"]), wall_s=float(state["wall_s"]),
                  resumed_at=[*state["resumed_at"], step], state=state)


def check_data(resume: Resume, output: Path, data_sha256: str, listings_sha256: str | None) -> None:
    """Refuse to resume on other rows or listings than the checkpoint's."""
    for name, was, now in (("data", resume.state["data_sha256"], data_sha256),
                           ("listings", resume.state["listings_sha256"], listings_sha256)):
        if was != now:
            raise TrainingError(f"--resume: the {name} changed since the checkpoint in {output} was written "
                                f"(sha256 {str(was)[:12]} -> {str(now)[:12]}); start a new run with --overwrite")


def restore(resume: Resume, model: Any, optimizer: Any, scheduler: Any) -> None:
    """Put the checkpoint's LoRA weights, optimizer, schedule and random generators back."""
    import torch

    params = {name: p for name, p in model.named_parameters() if p.requires_grad}
    saved = resume.state["lora"]
    if params.keys() != saved.keys():
        raise TrainingError("--resume: the checkpoint's LoRA weights do not match this model's "
                            f"({len(saved)} saved, {len(params)} here); start a new run with --overwrite")
    with torch.no_grad():
        for name, p in params.items():
            p.copy_(saved[name].to(p.device))
    optimizer.load_state_dict(resume.state["optimizer"])
    scheduler.load_state_dict(resume.state["scheduler"])
    _set_rng_state(resume.state["rng"])


def remove(output: Path) -> None:
    """Delete the checkpoint of a finished run."""
    for leftover in (path(output), _partial(output)):
        leftover.unlink(missing_ok=True)
