"""A LoRA adapter merged into a base checkpoint on disk, one tensor at a time.

For a base loaded offloaded to disk (:mod:`agent.offload`) the usual merge,
peft's ``merge_and_unload`` on the loaded model, needs every weight in memory
at once, and peft's own support for an offloaded base copies the base's whole
safetensors file into memory and onto a path relative to the current
directory.  Here the merged checkpoint is written instead as the usual one
would be (every tensor in the load dtype, ``W + (B @ A) * alpha / r`` on each
adapted linear layer, the operation ``merge_and_unload`` performs), reading
one base tensor at a time and writing shards of at most :data:`SHARD_BYTES`,
so memory holds one shard.  Only plain LoRA on linear layers is merged (what
``fenrir train`` writes); anything else is refused by name.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from filelock import FileLock

from harness.errors import ModelError

SHARD_BYTES = 1 << 30
"""Largest output shard: what the merge holds in memory at once."""
_PREFIX = "base_model.model."
_COPIED_SUFFIXES = (".json", ".jinja", ".txt", ".model")
"""Config and tokenizer files copied beside the merged weights."""


def _lora_settings(adapter: Path) -> float:
    """The adapter's scaling (alpha / r), after refusing what this merge does not compute."""
    try:
        config = json.loads((adapter / "adapter_config.json").read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read {adapter / 'adapter_config.json'}: {exc}") from exc
    unsupported = [key for key in ("use_dora", "rank_pattern", "alpha_pattern", "fan_in_fan_out", "lora_bias")
                   if config.get(key)]
    if config.get("peft_type") != "LORA" or unsupported:
        raise ModelError(f"adapter {adapter} cannot be merged into an offloaded base (peft_type "
                         f"{config.get('peft_type')!r}, {', '.join(unsupported) or 'no options'}); "
                         "load it without --offload/--max-memory")
    r, alpha = config["r"], config["lora_alpha"]
    return alpha / math.sqrt(r) if config.get("use_rslora") else alpha / r


def _base_files(source: Path) -> list[Path]:
    index = source / "model.safetensors.index.json"
    if index.is_file():
        names = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        return [source / name for name in names]
    if (source / "model.safetensors").is_file():
        return [source / "model.safetensors"]
    raise ModelError(f"{source} has no safetensors weights (model.safetensors or its index); an adapter is merged "
                     "into an offloaded base only from safetensors: load it without --offload/--max-memory")


def merge_on_disk(source: Path, adapter: Path, target: Path, dtype: Any) -> None:
    """Write ``source``'s checkpoint with ``adapter`` merged in, in ``dtype``, to the (new, empty) folder ``target``."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    scaling = _lora_settings(adapter)
    lora = load_file(adapter / "adapter_model.safetensors")
    pairs: dict[str, tuple[Any, Any]] = {}
    for key in lora:
        if key.endswith(".lora_A.weight"):
            module = key.removeprefix(_PREFIX).removesuffix(".lora_A.weight")
            pairs[module + ".weight"] = (lora[key], lora[key.replace(".lora_A.", ".lora_B.")])
        elif not key.endswith(".lora_B.weight"):
            raise ModelError(f"adapter {adapter}: tensor {key} is not a LoRA A/B matrix; "
                             "load it without --offload/--max-memory")
    target.mkdir(parents=True, exist_ok=True)
    shards: list[dict[str, Any]] = [{}]
    sizes = [0]
    weight_map: dict[str, int] = {}
    written: list[str] = []

    def flush() -> None:
        name = f"shard-{len(written):05d}.safetensors"
        save_file(shards[-1], str(target / name), metadata={"format": "pt"})
        written.append(name)
        shards[-1], sizes[-1] = {}, 0

    for path in _base_files(source):
        with safe_open(str(path), framework="pt") as fh:
            for key in fh.keys():
                tensor = fh.get_tensor(key)
                if tensor.is_floating_point():
                    tensor = tensor.to(dtype)
                if key in pairs:
                    a, b = pairs.pop(key)
                    delta = (b.float() @ a.float()) * scaling
                    if delta.shape != tensor.shape:
                        raise ModelError(f"adapter {adapter}: {key} has shape {tuple(tensor.shape)} in the base but "
                                         f"{tuple(delta.shape)} in the adapter; it was trained on another base")
                    tensor = (tensor + delta.to(tensor.dtype)).contiguous()
                if sizes[-1] and sizes[-1] + tensor.nbytes > SHARD_BYTES:
                    flush()
                shards[-1][key] = tensor
                sizes[-1] += tensor.nbytes
                weight_map[key] = len(written)
    if pairs:
        raise ModelError(f"adapter {adapter} adapts {sorted(pairs)[0]}, which {source} does not have; "
                         "it was trained on another base")
    flush()
    if len(written) == 1:
        (target / written[0]).rename(target / "model.safetensors")
    else:
        total = sum((target / name).stat().st_size for name in written)
        index = {"metadata": {"total_size": total}, "weight_map": {k: written[i] for k, i in weight_map.items()}}
        (target / "model.safetensors.index.json").write_text(json.dumps(index, indent=1) + "\n")
    for path in source.iterdir():
        if (path.is_file() and path.suffix in _COPIED_SUFFIXES and path.name != "model.safetensors.index.json"
                and path.name != "fenrir-source.json"):
            shutil.copyfile(path, target / path.name)


def merge_into_cache(source: Path, adapter: Path, target: Path, dtype: Any, about: dict[str, str]) -> None:
    """:func:`merge_on_disk` into the cache folder ``target``, atomically and once across processes.

    Written into a temporary folder beside ``target`` and renamed into place;
    ``fenrir-source.json`` (``about``: what was merged) marks it complete, as
    :mod:`agent.model` marks the merges it caches.
    """
    with FileLock(str(target) + ".lock"):
        if (target / "fenrir-source.json").is_file():
            return
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            merge_on_disk(source, adapter, tmp, dtype)
            (tmp / "fenrir-source.json").write_text(json.dumps({**about, "merged": "on disk"}) + "\n")
            tmp.chmod(0o755)
            shutil.rmtree(target, ignore_errors=True)
            os.rename(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
