"""The prompt cache: keys and values of a prompt's opening, kept on disk for the next ``fenrir`` run.

Every ``fenrir "REQUEST"`` is a new process, and most of its prompt is what
the previous run in the same directory already computed: the system prompt
and the directory listing (up to ~620 tokens) come before the request.
Computing them is the largest part of a plan's time on a CPU (1.2 s of a
5.2 s checked plan on a 2-core AVX2 machine for a 600-token prompt).  So,
as llama.cpp's ``--prompt-cache`` does, the keys and values of the prompt's
leading tokens are saved after a run and the next run that starts with the
same tokens loads them instead of computing them again.

Exactness: the cache never changes a plan.  :func:`prefix_kv` computes any
prompt opening in pieces of :data:`CHUNK` tokens that start at multiples of
:data:`CHUNK`, cached or not, and only whole pieces are saved.  A piece is
then always computed from the same tokens with the same shapes after the same
keys and values, so a loaded piece holds exactly the numbers a fresh run would
compute (tested bit for bit in ``tests/agent/test_promptcache.py``; a forward
over 600 tokens at once differs from one over 500 + 100 in the last bits,
which can change a sampled candidate).  The pieces cost ~7% more than one
forward over a 620-token prompt (256-token pieces; 128 cost 25%, 64 cost 50%,
measured on the 2-core AVX2 machine).  The thread count never changes a bit
(:class:`agent.fast.llama.Workers`), so entries are shared across them.

Entries live in ``cache_dir("prompts", KEY)``, one folder per model (base
revision, adapter, numpy's version, the decoder's source, :data:`CHUNK`), each a safetensors file of
the keys, values and token ids of one prompt opening; the
:data:`KEEP` most recently used are kept (~27 MB each for a 600-token opening
of the embedded model).  ``FENRIR_PROMPT_CACHE=0`` turns the cache off (the
pieces stay, so plans are the same).  A damaged or foreign file is skipped
and replaced, never trusted: its token ids and shapes are checked on load.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from agent.fast.llama import CACHE_HEADROOM, KVCache

if TYPE_CHECKING:
    from agent.fast.llama import FastLlama

log = logging.getLogger(__name__)

CHUNK = 256
"""Tokens per piece of a prompt opening; pieces start at multiples of it."""
KEEP = 8
"""Entries kept per model; the least recently used beyond these are deleted."""
KEEP_MODELS = 2
"""Model folders kept (this one and the most recently used other), so a retrained adapter's old
entries do not stay on disk forever."""
MODEL_GRACE_S = 600.0
"""A model folder changed this recently is never deleted (another process may be using it)."""
FORMAT = "2"
"""Version of the entry format (part of the folder key)."""
SUFFIX = ".safetensors"


def enabled() -> bool:
    """False when ``FENRIR_PROMPT_CACHE=0`` is set."""
    return os.environ.get("FENRIR_PROMPT_CACHE", "1") != "0"


def folder_key(revision: str, adapter_sha256: str | None) -> str:
    """The folder name of one model's entries: its weights, the numerics (numpy's version, which names the
    BLAS its wheel bundles, and the decoder's own source, :mod:`agent.fast.llama`) and the piece size."""
    from agent.fast import llama

    decoder = hashlib.sha256(Path(llama.__file__).read_bytes()).hexdigest()
    text = f"{revision}:{adapter_sha256}:{np.__version__}:{decoder}:{CHUNK}:{FORMAT}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def common_prefix(a: list[int], b: list[int]) -> int:
    """Length of the longest common prefix of two token lists."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


class PromptCache:
    """The entries of one model: look up the longest saved opening of a prompt, save a new one."""

    def __init__(self, folder: Path, keep: int = KEEP) -> None:
        self.folder = Path(folder)
        self.keep = keep
        self._tokens: dict[Path, list[int] | None] = {}
        """Token ids read from each entry (an entry's name is the hash of its tokens, so they never
        change): lookup reads them, a save's pruning reuses them."""

    def entries(self) -> list[Path]:
        """Entry files, most recently used first."""
        try:
            files = [p for p in self.folder.iterdir() if p.name.endswith(SUFFIX) and not p.name.startswith(".")]
        except OSError:
            return []
        stamped = []
        for path in files:
            try:
                stamped.append((path.stat().st_mtime, path.name, path))
            except OSError:  # deleted by another process meanwhile
                continue
        return [p for _, _, p in sorted(stamped, reverse=True)]

    def saved_tokens(self, path: Path) -> list[int] | None:
        """The token ids an entry holds (read once from its header and one small tensor); None when
        unreadable."""
        from safetensors import safe_open

        if path not in self._tokens:
            try:
                with safe_open(str(path), framework="numpy") as f:
                    self._tokens[path] = f.get_tensor("tokens").tolist()
            except Exception as exc:  # noqa: BLE001 - a damaged entry is skipped, not trusted
                log.debug("prompt cache: skipping %s: %s", path, exc)
                self._tokens[path] = None
        return self._tokens[path]

    def lookup(self, tokens: list[int]) -> tuple[int, Path | None]:
        """The entry sharing the most whole pieces with ``tokens``, and how many tokens of it to use."""
        best, where = 0, None
        for path in self.entries():
            saved = self.saved_tokens(path)
            if saved is None:
                continue
            usable = common_prefix(saved, tokens) // CHUNK * CHUNK
            if usable > best:
                best, where = usable, path
        return best, where

    def load(self, path: Path, length: int, layers: int) -> KVCache | None:
        """The first ``length`` positions of an entry as a :class:`KVCache`; None when it cannot be read."""
        from safetensors.numpy import load_file

        try:
            tensors = load_file(str(path))
            cache = KVCache(layers)
            for i in range(layers):
                k, v = tensors[f"k.{i}"], tensors[f"v.{i}"]
                if k.shape[2] < length or v.shape != k.shape or k.shape[0] != 1:
                    raise ValueError(f"layer {i} holds {tuple(k.shape)}, 1 row of {length} positions wanted")
                # buffers of the capacity a fresh run's would have here, so what follows runs on the same shapes
                batch, heads, _, dim = k.shape
                for buffers, saved in ((cache.keys, k), (cache.values, v)):
                    buffers[i] = np.empty((batch, heads, length + CACHE_HEADROOM, dim), dtype=saved.dtype)
                    buffers[i][:, :, :length] = saved[:, :, :length]
                cache.lengths[i] = length
        except Exception as exc:  # noqa: BLE001 - fall back to computing the opening
            log.debug("prompt cache: cannot load %s: %s", path, exc)
            return None
        try:
            os.utime(path)  # most recently used
        except OSError:
            pass
        return cache

    def save(self, tokens: list[int], cache: KVCache) -> Path | None:
        """Save the first ``len(tokens)`` positions of ``cache`` (whole pieces) as an entry; prune old ones.

        Written to a temporary file and renamed, so a reader never sees half an entry.  An entry whose tokens
        the new one extends is deleted (the new one serves every prompt it served)."""
        from safetensors.numpy import save_file

        length = len(tokens)
        name = hashlib.sha256(",".join(map(str, tokens)).encode()).hexdigest()[:32] + SUFFIX
        target = self.folder / name
        tensors = {"tokens": np.asarray(tokens, dtype=np.int64)}
        for i, (k, v) in enumerate(zip(cache.keys, cache.values)):
            tensors[f"k.{i}"] = np.ascontiguousarray(k[:, :, :length])
            tensors[f"v.{i}"] = np.ascontiguousarray(v[:, :, :length])
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=SUFFIX)
            os.close(fd)
            try:
                save_file(tensors, tmp)
                os.replace(tmp, target)
                self._tokens[target] = list(tokens)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        except OSError as exc:  # a full or read-only cache costs time, never the plan
            log.debug("prompt cache: cannot save %s: %s", target, exc)
            return None
        self._prune(target, tokens)
        return target

    def _prune(self, newest: Path, tokens: list[int]) -> None:
        """Delete entries beyond :attr:`keep`, damaged ones, and those ``tokens`` extends."""
        kept = 0
        for path in self.entries():
            if path == newest:
                continue
            drop = kept + 1 >= self.keep
            if not drop:
                saved = self.saved_tokens(path)
                drop = saved is None or (len(saved) <= len(tokens) and tokens[:len(saved)] == saved)
            if drop:
                try:
                    self._tokens.pop(path, None)
                    path.unlink()
                except OSError:
                    pass
            else:
                kept += 1


def prefix_kv(model: FastLlama, tokens: list[int], store: PromptCache | None) -> KVCache:
    """Keys and values of ``tokens`` (one row), computed in :data:`CHUNK`-aligned pieces, loaded from
    ``store`` as far as it holds them and saved back there when new whole pieces were computed."""
    layers = model.config.num_hidden_layers
    start, cache = 0, None
    if store is not None and len(tokens) >= CHUNK:
        usable, path = store.lookup(tokens)
        if path is not None:
            cache = store.load(path, usable, layers)
            start = usable if cache is not None else 0
    for begin in range(start, len(tokens), CHUNK):
        piece = np.asarray([tokens[begin:begin + CHUNK]], dtype=np.int64)
        cache = model(input_ids=piece, cache=cache, use_cache=True, logits_to_keep=1).cache
    whole = len(tokens) // CHUNK * CHUNK
    if store is not None and whole > start:
        store.save(tokens[:whole], cache)
    cache.reused = start
    return cache


def prune_models(keep: Path, now: float | None = None) -> list[Path]:
    """Delete the folders of other models (or older numerics) beside ``keep`` beyond the
    :data:`KEEP_MODELS` most recently used, unless used within :data:`MODEL_GRACE_S`; returns them."""
    import shutil
    import time

    now = time.time() if now is None else now
    folders = []
    try:
        for folder in keep.parent.iterdir():
            if folder != keep and folder.is_dir() and not folder.name.startswith("."):
                folders.append((folder.stat().st_mtime, folder.name, folder))
    except OSError:
        return []
    folders.sort(reverse=True)
    gone = [f for mtime, _, f in folders[KEEP_MODELS - 1:] if now - mtime > MODEL_GRACE_S]
    for folder in gone:
        shutil.rmtree(folder, ignore_errors=True)
    return gone


def attach(model: Any, revision: str, adapter_sha256: str | None, folder: Path) -> None:
    """Give a fast model its prompt cache under ``folder`` (nothing when ``FENRIR_PROMPT_CACHE=0``), and
    prune the folders of models no longer used."""
    if not enabled():
        model.prompt_cache = None
        return
    model.prompt_cache = PromptCache(folder / folder_key(revision, adapter_sha256))
    try:  # a folder's mtime is when a process last used it
        model.prompt_cache.folder.mkdir(parents=True, exist_ok=True)
        os.utime(model.prompt_cache.folder)
    except OSError:
        pass
    prune_models(model.prompt_cache.folder)
