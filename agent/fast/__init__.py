"""The fast inference path: a Llama checkpoint folder loaded without torch, transformers, peft or bitsandbytes.

``fenrir "REQUEST"`` is a new process every time, and importing the model
libraries costs more than the model's whole answer (torch ~1.5 s, then
transformers and its Llama module another 1.8 s).  For the configuration the
agent ships, an unquantized Llama on CPU (the embedded SmolLM2, or it with
the adapter merged in), this package is all inference needs, on numpy:

* :mod:`agent.fast.config`: which configs are supported, exactly;
* :mod:`agent.fast.llama`: the decoder and its KV cache;
* :mod:`agent.fast.tokenizer`: the tokenizer and chat template;
* :mod:`agent.fast.promptcache`: the keys and values of prompt openings, kept between runs.

:func:`load_fast` returns ``None`` for anything else, and the caller loads
the folder with transformers.  Training and 4-bit never come here.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import numpy as np

from agent.fast.config import LlamaSpec, Unsupported, read_spec
from agent.fast.llama import FastLlama
from agent.fast.tokenizer import FastTokenizer

log = logging.getLogger(__name__)

__all__ = ["FastLlama", "FastTokenizer", "Unsupported", "check_folder", "load_fast", "load_weights",
           "read_safetensors"]

_DTYPES = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "BF16": np.dtype("<u2")}
"""The safetensors dtypes a checkpoint may hold, as numpy reads them (bfloat16 as its raw bits)."""


def read_safetensors(path: Path) -> dict[str, tuple[np.ndarray, str]]:
    """Every tensor of a safetensors file, by name: ``(array mapped from the file, safetensors dtype)``.
    Float dtypes only (bfloat16 comes as its raw uint16 bits); anything else is :class:`Unsupported`.

    safetensors' own numpy loader copies every tensor into memory (0.5 GB for the
    embedded model, read before the first token); the format is an 8-byte header
    length, a JSON header of names, dtypes, shapes and byte offsets, then the
    data, so mapping it is a few lines.  Pages are read as the first forward
    touches them, and the page cache shares them between processes."""
    try:
        with open(path, "rb") as handle:
            size = int.from_bytes(handle.read(8), "little")
            header = json.loads(handle.read(size))
        # a plain array over the mapping (it keeps the mapping alive): slices of a np.memmap are memmaps too,
        # and creating one costs ~40 us, which a decode step would pay ~400 times
        data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + size).view(np.ndarray)
        tensors = {}
        for name, info in header.items():
            if name == "__metadata__":
                continue
            if info["dtype"] not in _DTYPES:
                raise Unsupported(f"{path}: {name} is {info['dtype']}, not a float checkpoint")
            begin, end = info["data_offsets"]
            array = data[begin:end].view(_DTYPES[info["dtype"]]).reshape(tuple(info["shape"]))
            tensors[name] = (array, info["dtype"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise Unsupported(f"cannot read {path}: {exc}") from exc
    return tensors


def as_float32(array: np.ndarray, dtype: str) -> np.ndarray:
    """float32 as it is; float16 widened; bfloat16 (uint16 bits) widened by shifting its bits into the top
    half of a float32, which is what bfloat16 is (exact, as torch's ``.float()``)."""
    if dtype == "F32":
        return array
    if dtype == "F16":
        return array.astype(np.float32)
    return (array.astype(np.uint32) << 16).view(np.float32)


def load_weights(path: Path, spec: LlamaSpec) -> dict[str, np.ndarray]:
    """The checkpoint's tensors as float32 arrays, checked against ``spec``: every expected name, shape and a
    float dtype, nothing else.  A float32 file is memory-mapped, not copied; float16/bfloat16 are widened to
    float32 as transformers does when loading in float32."""
    tensors = read_safetensors(path)
    expected = spec.weight_shapes()
    if set(tensors) != set(expected):
        missing, extra = sorted(set(expected) - set(tensors)), sorted(set(tensors) - set(expected))
        raise Unsupported(f"{path}: tensors missing {missing[:3]} / not implemented {extra[:3]}")
    weights = {}
    for name, (array, dtype) in tensors.items():
        if tuple(array.shape) != expected[name]:
            raise Unsupported(f"{path}: {name} has shape {tuple(array.shape)}, the config says {expected[name]}")
        weights[name] = as_float32(array, dtype)
    return weights


def check_folder(folder: Path) -> LlamaSpec:
    """The spec of a folder the fast path can load, or :class:`Unsupported` saying why not (cheap: no weights)."""
    if sys.byteorder != "little":
        raise Unsupported("safetensors files are little-endian; this machine is not")
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors"):
        if not (folder / name).is_file():
            raise Unsupported(f"{folder} has no {name} (the fast path reads one-file checkpoints)")
    return read_spec(folder)


def load_fast(folder: str | Path) -> tuple[FastTokenizer, FastLlama] | None:
    """``(tokenizer, model)`` of a ``save_pretrained`` Llama folder, in float32 on CPU, without transformers;
    ``None`` (and a debug log saying why) when the folder holds anything the fast path does not reproduce
    exactly, so the caller loads it with transformers instead."""
    folder = Path(folder)
    try:
        spec = check_folder(folder)
        tokenizer = FastTokenizer.from_folder(folder)
        model = FastLlama(spec, load_weights(folder / "model.safetensors", spec))
    except Unsupported as exc:
        log.debug("fast path declines %s: %s", folder, exc)
        return None
    return tokenizer, model

