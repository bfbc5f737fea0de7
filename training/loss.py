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
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from agent.generate import shared_prefix
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
    """(rows, width) 1 on tokens, 0 on padding; ``None`` when no row is padded."""
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

    def to(self, device: Any) -> "StepBatch":
        """The batch on ``device`` (pinned and copied without blocking on CUDA)."""
        if getattr(device, "type", str(device)) == "cpu":
            return self

        def move(t: Any) -> Any:
            return None if t is None else t.pin_memory().to(device, non_blocking=True)

        return StepBatch(move(self.input_ids), move(self.attention_mask), self.prefix, move(self.target_index),
                         move(self.targets), self.n_targets, self.n_tokens)


def prepare_batch(batch: dict[str, Any], shared: bool = True) -> StepBatch:
    """A collated CPU batch (``training.data.collate``) -> :class:`StepBatch` (``shared``: find the shared prefix)."""
    ids, mask, labels = batch["input_ids"], batch["attention_mask"], batch["labels"]
    if ids.device.type != "cpu":  # a batch handed over on the device: read it once here
        ids, mask, labels = ids.cpu(), mask.cpu(), labels.cpu()
    prefix = shared_prefix_length({"input_ids": ids, "attention_mask": mask, "labels": labels}) \
        if shared and ids.shape[0] > 1 else 0
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


def completion_loss_sum(model: Any, batch: dict[str, Any] | StepBatch, prefix_grad: bool = True) -> tuple[Any, int]:
    """Summed cross-entropy over the batch's target tokens, and their count.

    Two savings, neither changing the loss beyond float rounding (tested):

    * **Shared prefix.**  The rows' common start (the system prompt and the
      listing) runs once at batch size 1, with gradients, and its KV cache is
      repeated for every row.  Gradients through the repeat sum over the rows,
      exactly as if each row had its own copy.  (LoRA dropout on those
      positions is then drawn once per batch, not per row.)
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
    if prefix > 0:
        with contextlib.nullcontext() if prefix_grad else torch.no_grad():
            cache = decoder(input_ids=ids[:1, :prefix], use_cache=True).cache
        cache.batch_repeat_interleave(ids.shape[0])
        positions = torch.arange(prefix, ids.shape[1], device=ids.device).expand(ids.shape[0], -1)
        hidden = decoder(input_ids=ids[:, prefix:], attention_mask=mask, position_ids=positions,
                         cache=cache, use_cache=True).last_hidden_state
    else:
        hidden = decoder(input_ids=ids, attention_mask=mask).last_hidden_state
    predicting = hidden[:, :-1].reshape(-1, hidden.shape[-1]).index_select(0, batch.target_index)
    logits = causal_lm.get_output_embeddings()(predicting).float()
    loss = F.cross_entropy(logits, batch.targets, reduction="sum")
    return loss, batch.n_targets
