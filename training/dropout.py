"""LoRA dropout on the CPU with its mask drawn from uniform floats.

peft puts an ``nn.Dropout`` in front of every LoRA branch (``lora_dropout``).
On the CPU torch draws its mask with ``bernoulli_``, which on a 2-core AVX2
EPYC took 9.5 ms for the (1,300 x 576) input of one projection, against
4.7 ms for ``rand_like(x) >= p`` and the same scaling.  A training step of the
shipped config draws 420 such masks (7 projections x 30 layers, for the shared
prefix and for the rows), and ``bernoulli_`` was 14% of the step's time in
``torch.profiler``.  :class:`UniformDropout` is the same function: each element
is kept with probability ``1 - p`` (a float in [0, 1) is ``>= p`` with that
probability) and scaled by ``1 / (1 - p)``, zero otherwise, in training mode
only.  Only the random stream differs.  On CUDA torch's fused dropout kernel is
already fast, so the modules are swapped on the CPU only.
"""

from __future__ import annotations

from typing import Any

import torch


class UniformDropout(torch.nn.Module):
    """``nn.Dropout(p)`` with the keep-mask drawn as ``rand_like(x) >= p``."""

    def __init__(self, p: float) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability {p}: choose 0 <= p < 1")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.rand_like(x) >= self.p
        return x * keep * (1.0 / (1.0 - self.p))

    def extra_repr(self) -> str:
        return f"p={self.p}"


def set_lora_dropout(model: Any, kind: str = "uniform") -> int:
    """Make every LoRA branch's dropout (p > 0) in ``model`` a :class:`UniformDropout` (``kind`` "uniform") or
    torch's ``nn.Dropout`` ("torch"), keeping its p and train/eval mode; how many branches it changed."""
    if kind not in ("uniform", "torch"):
        raise ValueError(f"dropout kind {kind!r}: choose uniform or torch")
    kind_of = UniformDropout if kind == "uniform" else torch.nn.Dropout
    swapped = 0
    for module in model.modules():
        branches = getattr(module, "lora_dropout", None)
        if not isinstance(branches, torch.nn.ModuleDict):
            continue
        for name, dropout in list(branches.items()):
            p = getattr(dropout, "p", 0.0)
            if p > 0 and type(dropout) is not kind_of:
                branches[name] = kind_of(p).train(dropout.training)
                swapped += 1
    return swapped


def use_uniform_dropout(model: Any) -> int:
    """Swap every LoRA branch's ``nn.Dropout`` in ``model`` for :class:`UniformDropout`; how many were swapped."""
    return set_lora_dropout(model, "uniform")
