"""The fast inference path: a Llama checkpoint folder loaded without transformers, peft or bitsandbytes.

``fenrir "REQUEST"`` is a new process every time, and importing transformers'
model code costs more than the model's whole answer (torch 0.8 s, then
transformers and its Llama module with ``torch.distributed.tensor`` another
1.8 s).  For the configuration the agent ships, an unquantized Llama on CPU
(the embedded SmolLM2, or it with the adapter merged in), this package is
all inference needs:

* :mod:`agent.fast.config`: which configs are supported, exactly;
* :mod:`agent.fast.llama`: the decoder and its KV cache;
* :mod:`agent.fast.tokenizer`: the tokenizer and chat template.

:func:`load_fast` returns ``None`` for anything else, and the caller loads
the folder with transformers.  Training and 4-bit never come here.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from agent.fast.config import LlamaSpec, Unsupported, read_spec
from agent.fast.llama import FastLlama
from agent.fast.tokenizer import FastTokenizer

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

__all__ = ["FastLlama", "FastTokenizer", "Unsupported", "check_folder", "load_fast", "load_weights"]

_DTYPES = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}


def load_weights(path: Path, spec: LlamaSpec) -> dict[str, torch.Tensor]:
    """The checkpoint's tensors as float32, checked against ``spec``: every expected name, shape and a float
    dtype, nothing else.  A float32 file is memory-mapped, not copied (pages are read as the first forward
    touches them); float16/bfloat16 are widened to float32 as transformers does when loading in float32."""
    import torch
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        weights = load_file(path)
    except (OSError, SafetensorError) as exc:
        raise Unsupported(f"cannot read {path}: {exc}") from exc
    expected = spec.weight_shapes()
    if set(weights) != set(expected):
        missing, extra = sorted(set(expected) - set(weights)), sorted(set(weights) - set(expected))
        raise Unsupported(f"{path}: tensors missing {missing[:3]} / not implemented {extra[:3]}")
    for name, tensor in weights.items():
        if tuple(tensor.shape) != expected[name]:
            raise Unsupported(f"{path}: {name} has shape {tuple(tensor.shape)}, the config says {expected[name]}")
        if tensor.dtype not in (torch.float32, torch.float16, torch.bfloat16):
            raise Unsupported(f"{path}: {name} is {tensor.dtype}, not a float checkpoint")
        if tensor.dtype != torch.float32:
            weights[name] = tensor.float()
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

