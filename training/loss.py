"""The completion-only loss of a batch, with the batch prepared on the host first.

A training step on CUDA is bound by what the host does between kernels, not
by arithmetic (a step of 16 grounded rows is about a millisecond of matrix
work on an H200).  So everything that needs a value from the batch is worked
out on the CPU copy of it, before the tensors move, and the step itself
launches kernels without ever waiting for one:

* the shared prefix (system prompt + listing) is measured on the CPU tensors;
* the positions where a target is predicted become an index tensor (not a
  boolean mask: indexing a CUDA tensor with a mask waits for the GPU to count
  it), moved with the batch;
* the batch is pinned and copied with ``non_blocking`` on CUDA;
* no row without padding gets an attention mask (transformers checks a given
  mask for padding, which waits on the GPU).

On the CPU the result is the same function as before (tested against the
loss over full logits).

**Padding-free layout** (``prepare_batch(..., padding_free=True)``, what
training uses): the rows' own parts after the shared prefix are laid end to
end in one sequence, each with its own positions, and a block mask lets every
token see the prefix and the earlier tokens of its own row only (TRL's
``padding_free``, with the prefix kept once).  Grounded rows are short after a
long listing, and rows of one batch differ in length, so the padded layout
spent about half of the suffix positions on padding (measured over the first
520 batches of ``make train``: 666,106 positions for 345,752 tokens) and
repeated the prefix's keys and values for every row.  The loss and gradients
are the same function as the padded layout's (tested).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from agent.generate import shared_prefix
from harness.errors import TrainingError
from training.data import IGNORE


def shared_prefix_length(batch: dict[str, Any]) -> int:
    """Leading positions every row shares, as tokens, unmasked and without targets.

    Every training row starts with the same system prompt (and, grounded, the
    same listing), so a batch can compute it once.  The token prefix is the
    agent's own :func:`agent.generate.shared_prefix`; here it also stops one
    short of the first target, so that the first target is predicted from the
    suffix, and must lie in every row's unpadded part.
    """
    ids, labels, mask = batch["input_ids"], batch["labels"], batch["attention_mask"]
    length = shared_prefix([row[keep.bool()].tolist() for row, keep in zip(ids, mask)])
    if not bool(mask[:, :length].all()):  # padding inside the prefix: positions would not line up
        return 0
    has_target = (labels != IGNORE).any(0)
    first_target = int(has_target.long().argmax()) if bool(has_target.any()) else ids.shape[1]
    return max(0, min(length, first_target - 1))


@dataclass(frozen=True)
class StepBatch:
    """One micro-batch as the loss needs it; every number that steers the computation is known on the host."""

    input_ids: Any
    """(rows, width) token ids, right-padded."""
    attention_mask: Any
    """(rows, width) 1 on tokens, 0 on padding; ``None`` when no row is padded.  Padding-free: the
    (1, 1, suffix, prefix + suffix) boolean block mask, ``True`` where a token may attend."""
    prefix: int
    """Leading positions computed once for all rows (0: none)."""
    target_index: Any
    """Flat indices into the (rows x (width - prefix - 1)) predicting positions where a target follows."""
    targets: Any
    """The target token at each of those positions."""
    n_targets: int
    """How many targets (the loss's denominator over a step)."""
    n_tokens: int
    """Unpadded tokens in the batch."""
    position_ids: Any = None
    """Padding-free only: (1, suffix) the position of each packed token in its own row; ``None`` when padded."""

    @property
    def padding_free(self) -> bool:
        """Whether the rows are laid end to end after the prefix (``input_ids`` is then one row)."""
        return self.position_ids is not None

    def to(self, device: Any) -> "StepBatch":
        """The batch on ``device`` (pinned and copied without blocking on CUDA)."""
        if getattr(device, "type", str(device)) == "cpu":
            return self

        def move(t: Any) -> Any:
            return None if t is None else t.pin_memory().to(device, non_blocking=True)

        return StepBatch(move(self.input_ids), move(self.attention_mask), self.prefix, move(self.target_index),
                         move(self.targets), self.n_targets, self.n_tokens, move(self.position_ids))


def prepare_batch(batch: dict[str, Any], shared: bool = True, padding_free: bool = False) -> StepBatch:
    """A collated CPU batch (``training.data.collate``) -> :class:`StepBatch`.

    ``shared``: find the shared prefix and compute it once; ``padding_free``:
    lay the rows end to end after it instead of padding them to one width.
    """
    ids, mask, labels = batch["input_ids"], batch["attention_mask"], batch["labels"]
    if ids.device.type != "cpu":  # a batch handed over on the device: read it once here
        ids, mask, labels = ids.cpu(), mask.cpu(), labels.cpu()
    prefix = shared_prefix_length({"input_ids": ids, "attention_mask": mask, "labels": labels}) \
        if shared and ids.shape[0] > 1 else 0
    if padding_free:
        return _padding_free(ids, mask, labels, prefix)
    following = labels[:, prefix + 1:]  # the target predicted at each remaining position but the last
    keep = (following != IGNORE).reshape(-1)
    padded = not bool(mask.all())
    return StepBatch(
        input_ids=ids,
        attention_mask=mask if padded else None,
        prefix=prefix,
        target_index=keep.nonzero().squeeze(1),
        targets=following.reshape(-1)[keep],
        n_targets=int(keep.sum()),
        n_tokens=int(mask.sum()),
    )


def _padding_free(ids: Any, mask: Any, labels: Any, prefix: int) -> StepBatch:
    """The rows' parts after ``prefix`` laid end to end, with their positions, block mask and targets."""
    import torch

    lengths = mask.sum(1).tolist()
    pieces, positions, owners, target_index, targets = [ids[0, :prefix]], [], [], [], []
    offset = 0
    for row, length in enumerate(lengths):
        pieces.append(ids[row, prefix:length])
        positions.append(torch.arange(prefix, length))
        owners.append(torch.full((length - prefix,), row))
        following = labels[row, prefix + 1:length]  # the target each of the row's tokens but its last predicts
        keep = (following != IGNORE).nonzero().squeeze(1)
        target_index.append(keep + offset)
        targets.append(following[keep])
        offset += length - prefix
    owner = torch.cat(owners)
    order = torch.arange(offset)
    own_row = (owner[:, None] == owner[None, :]) & (order[None, :] <= order[:, None])  # causal within a row
    block = torch.cat([torch.ones(offset, prefix, dtype=torch.bool), own_row], dim=1)
    target = torch.cat(target_index)
    return StepBatch(
        input_ids=torch.cat(pieces)[None],
        attention_mask=block[None, None],
        prefix=prefix,
        target_index=target,
        targets=torch.cat(targets),
        n_targets=int(target.numel()),
        n_tokens=int(mask.sum()),
        position_ids=torch.cat(positions)[None],
    )


def completion_loss_sum(model: Any, batch: dict[str, Any] | StepBatch, prefix_grad: bool = True) -> tuple[Any, int]:
    """Summed cross-entropy over the batch's target tokens, and their count.

    Three savings, none changing the loss beyond float rounding (tested):

    * **Shared prefix.**  The rows' common start (the system prompt and the
      listing) runs once at batch size 1, with gradients, and its KV cache is
      repeated for every row.  Gradients through the repeat sum over the rows,
      exactly as if each row had its own copy.  (LoRA dropout on those
      positions is then drawn once per batch, not per row.)
    * **No padding** (a batch prepared ``padding_free``): the rows run as one
      sequence after the prefix, under a block mask (module docstring).
    * **LM head on targets only.**  The head (576 x 49k for SmolLM2: a fifth of
      the FLOPs per token) runs only where a target token is predicted, not on
      the prompt and padding, and no float32 logits are made for them.

    With ``prefix_grad=False`` the shared prefix runs without gradients: the
    LoRA weights still shape its keys and values, but learn only from the
    rows' own positions (cheaper when the prefix is a long directory listing).

    ``batch`` is a :class:`StepBatch` already on the model's device (the
    training loop's way: nothing here waits for the GPU) or a collated dict,
    prepared here.
    """
    import torch
    import torch.nn.functional as F

    if not isinstance(batch, StepBatch):
        batch = prepare_batch(batch).to(next(model.parameters()).device)
    causal_lm = model.get_base_model() if hasattr(model, "get_base_model") else model
    decoder = causal_lm.get_decoder()
    ids, mask, prefix = batch.input_ids, batch.attention_mask, batch.prefix
    cache = None
    if prefix > 0:
        with contextlib.nullcontext() if prefix_grad else torch.no_grad():
            cache = decoder(input_ids=ids[:1, :prefix], use_cache=True).cache
    if batch.padding_free:  # one sequence of rows after the prefix: every position is a row's own
        hidden = decoder(input_ids=ids[:, prefix:], attention_mask=block_mask(causal_lm, mask),
                         position_ids=batch.position_ids, cache=cache, use_cache=cache is not None).last_hidden_state[0]
    elif cache is not None:
        cache.batch_repeat_interleave(ids.shape[0])
        positions = torch.arange(prefix, ids.shape[1], device=ids.device).expand(ids.shape[0], -1)
        hidden = decoder(input_ids=ids[:, prefix:], attention_mask=mask, position_ids=positions,
                         cache=cache, use_cache=True).last_hidden_state[:, :-1].flatten(0, 1)
    else:
        hidden = decoder(input_ids=ids, attention_mask=mask).last_hidden_state[:, :-1].flatten(0, 1)
    logits = causal_lm.get_output_embeddings()(hidden.index_select(0, batch.target_index)).float()
    return F.cross_entropy(logits, batch.targets, reduction="sum"), batch.n_targets


MASKED_ATTENTION = ("sdpa", "eager")
"""Attention implementations that take the padding-free layout's 4D block mask."""


def block_mask(causal_lm: Any, mask: Any) -> Any:
    """The padding-free block mask as ``causal_lm``'s attention takes it: boolean for SDPA, additive for eager."""
    import torch

    kind = causal_lm.config._attn_implementation
    if kind == "sdpa":
        return mask
    if kind == "eager":  # adds the mask to the scores
        dtype = causal_lm.get_output_embeddings().weight.dtype
        return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(~mask, torch.finfo(dtype).min)
    raise TrainingError(f"the padding-free layout needs {' or '.join(MASKED_ATTENTION)} attention, and this model "
                        f"uses {kind}; train with --padding-free false")
