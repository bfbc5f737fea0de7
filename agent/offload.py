"""Loading a base larger than the memory budget: accelerate's disk offload.

``--offload DIR`` (or ``FENRIR_OFFLOAD``) and ``--max-memory SIZE`` load the
base with ``device_map="auto"``: accelerate places whole decoder layers in
memory up to the budget (RAM on CPU, GPU 0 on CUDA) and leaves the rest on
disk; during each forward an offloaded layer's weights are read in, used and
dropped, so the answer is the same as fully in memory, only slower.

* Without ``--max-memory`` the budget is what accelerate finds free, so a base
  that fits is not offloaded at all.
* Weights already stored as safetensors are read from the checkpoint's own
  files (memory-mapped); ``DIR`` receives shards only for other formats.
  Without ``--offload`` a folder under ``cache_dir("offload")`` is used.
* An adapter is merged into the base on disk, one tensor at a time
  (:mod:`agent.merge`), and cached like any merge; the merged checkpoint then
  loads offloaded like the base.
* A 4-bit base is not offloaded (bitsandbytes' weights cannot go to disk).
"""

from __future__ import annotations

import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from harness.errors import ModelError
from harness.paths import cache_dir

_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)


def parse_memory(text: str) -> int:
    """Bytes in a size such as ``2GiB``, ``1.5GB``, ``500MiB`` or ``1048576``; a :class:`ModelError` otherwise."""
    match = _SIZE.match(text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise ModelError(f"--max-memory {text!r} is not a size; write e.g. 2GiB, 1.5GB or 500MiB")
    size = int(float(match.group(1)) * _UNITS[unit])
    if size < 1:
        raise ModelError(f"--max-memory {text!r}: the budget must be at least 1 byte")
    return size


@dataclass(frozen=True)
class Offload:
    """How a base is loaded when it may not fit in memory."""

    folder: Path
    """Where accelerate writes offloaded weights that are not safetensors (``--offload``)."""
    max_memory: int | None = None
    """Bytes the weights may take in memory (``--max-memory``); ``None``: what accelerate finds free."""


def resolve_offload(folder: str | Path | None, max_memory: str | None, revision: str) -> Offload | None:
    """The offload a load uses: ``None`` when neither a folder nor a budget was given."""
    if folder is None and max_memory is None:
        return None
    budget = parse_memory(max_memory) if max_memory is not None else None
    if folder is None:
        folder = cache_dir("offload") / re.sub(r"[^\w.-]", "_", revision)[:80]
    path = Path(folder).expanduser()
    if path.exists() and not path.is_dir():
        raise ModelError(f"--offload {path} exists and is not a folder; pass a folder for the offloaded weights")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"--offload {path}: cannot create the folder ({exc.strerror or exc}); "
                         "pass a writable folder") from exc
    return Offload(folder=path, max_memory=budget)


def load_kwargs(offload: Offload, cuda: bool) -> dict[str, Any]:
    """``from_pretrained`` (and ``PeftModel.from_pretrained``) arguments for an offloaded load."""
    if offload.max_memory is None:  # the same free memory for the base's plan and for peft's re-plan
        from accelerate.utils import get_max_memory

        budget: dict[Any, int] = {k: v for k, v in get_max_memory().items() if k in (0, "cpu")}
    else:
        budget = {0: offload.max_memory, "cpu": offload.max_memory} if cuda else {"cpu": offload.max_memory}
    return {"device_map": "auto", "offload_folder": str(offload.folder), "max_memory": budget}


def offloaded_modules(model: Any) -> tuple[str, ...]:
    """The modules accelerate left on disk (empty when the model is wholly in memory)."""
    device_map = getattr(model, "hf_device_map", None) or {}
    return tuple(name or "(the whole model)" for name, where in device_map.items() if where == "disk")


def execution_device(model: Any) -> Any:
    """Where a model's inputs go: GPU 0 or the CPU for a dispatched model, else its first weight's device."""
    import torch

    device_map = getattr(model, "hf_device_map", None)
    if device_map:
        for where in device_map.values():
            if isinstance(where, int):
                return torch.device("cuda", where)
            if str(where).startswith("cuda"):
                return torch.device(where)
        return torch.device("cpu")
    return next(model.parameters()).device


@contextmanager
def quiet_offload() -> Iterator[None]:
    """Silence accelerate's warning that weights were offloaded (it is what was asked for; the CLI says so once)."""
    logger = logging.getLogger("accelerate.big_modeling")  # "Some parameters are on the meta device ..."
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
