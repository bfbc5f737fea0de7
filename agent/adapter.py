"""Which LoRA adapter a load applies, what it is (its digest, the base it was trained on), and the cache of
bases with an adapter merged in.

The adapter Fenrir ships is ``lora_adapter/`` beside the packages
(:func:`harness.paths.shipped_adapter`); ``./lora_adapter`` in the current
directory comes first.  A merged checkpoint is cached under
``cache_dir("merged")`` keyed by (base revision, adapter sha256, dtype); the
least recently used beyond :data:`MERGED_KEEP` are deleted.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from agent.digest import sha256_file
from harness.errors import ModelError
from harness.paths import cache_dir, shipped_adapter

DEFAULT_ADAPTER_DIR = "lora_adapter"
"""The adapter folder looked for in the current directory (and the name of the shipped one)."""


def resolve_adapter(adapter: str | Path | None) -> Path | None:
    """The adapter folder to use: explicit (must exist), else ``./lora_adapter`` if present,
    else the adapter shipped beside the packages (:func:`harness.paths.shipped_adapter`, if any)."""
    if adapter is None:
        for default in (Path(DEFAULT_ADAPTER_DIR), shipped_adapter()):
            if (default / "adapter_config.json").is_file():
                return default
        return None
    path = Path(adapter).expanduser()
    if not (path / "adapter_config.json").is_file():
        raise ModelError(f"adapter {path} not found (expected a PEFT folder with adapter_config.json)")
    return path


def adapter_sha256(path: Path) -> str:
    """sha256 over the adapter's files (names and contents, sorted by name)."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(path)).encode() + b"\0")
        digest.update(sha256_file(file).encode())
    return digest.hexdigest()


def check_adapter_base(path: Path, base_model_id: str) -> None:
    """Refuse an adapter trained on another base model."""
    try:
        config = json.loads((path / "adapter_config.json").read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read {path / 'adapter_config.json'}: {exc}") from exc
    trained_on = config.get("base_model_name_or_path")
    if trained_on != base_model_id:
        raise ModelError(
            f"adapter {path} was trained on base model {trained_on!r}, but the loaded base is "
            f"{base_model_id!r}; pass the matching --base-model or another --adapter"
        )


def merged_cache_dir(revision: str, adapter_digest: str, dtype: Any) -> Path:
    """Where the base with an adapter merged in is cached: one folder per (base revision, adapter, dtype)."""
    key = hashlib.sha256(f"{revision}:{adapter_digest}:{dtype}".encode()).hexdigest()[:24]
    return cache_dir("merged") / key


MERGED_KEEP = 3
"""Merged checkpoints kept in the cache (each a full copy of the base: 0.5 GB for the embedded
model); beyond this the least recently used are deleted, so retraining does not fill the disk."""
MERGED_GRACE_S = 600.0
"""A merged checkpoint used this recently is never deleted (another process may be loading it)."""


def prune_merged(keep: Path, now: float | None = None) -> list[Path]:
    """Delete the least recently used merged checkpoints beside ``keep`` beyond :data:`MERGED_KEEP`.

    Use is the mtime of a folder's ``fenrir-source.json`` (a load touches it);
    folders without it (incomplete, or another writer's temporary folder) are
    left alone, as is anything used within :data:`MERGED_GRACE_S`.  Returns the
    folders deleted.
    """
    now = time.time() if now is None else now
    entries = []
    for folder in keep.parent.iterdir():
        marker = folder / "fenrir-source.json"
        if folder != keep and not folder.name.startswith(".") and marker.is_file():
            entries.append((marker.stat().st_mtime, folder.name, folder))
    entries.sort(reverse=True)
    removed = []
    for used, _, folder in entries[max(0, MERGED_KEEP - 1):]:
        if now - used > MERGED_GRACE_S:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def mark_used(merged_dir: Path) -> None:
    """Touch a merged checkpoint's marker: the most recently used is pruned last."""
    try:
        os.utime(merged_dir / "fenrir-source.json")
    except OSError:
        pass
