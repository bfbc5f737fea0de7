"""Rows -> token ids and completion-only labels, in the agent's own chat format.

Each row is rendered exactly as the agent prompts at inference, zero-shot:
system prompt + the user request, ending where the assistant speaks
(:func:`agent.prompt.render_prompt`).  The completion follows, closed by the
end-of-turn token, which is what the chat template writes after an assistant
turn and what generation stops on.  Labels are ``-100`` everywhere except the
completion tokens and that end-of-turn token, so the loss is completion-only.

Batches are deterministic: the row order of each epoch is a shuffle seeded by
``(seed, epoch)``, epochs are concatenated, and consecutive rows form the
micro-batches (right padding, labels ``-100`` on padding).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from agent.fewshot import Example, load_examples
from agent.prompt import build_messages, render_prompt
from harness.errors import DataError

IGNORE = -100
"""Label value that the cross-entropy loss skips."""
END_OF_TURN = "<|im_end|>"


@dataclass(frozen=True)
class EncodedRow:
    """One training row as token ids."""

    id: str
    """``<file stem>:<line>`` of the source row."""
    input_ids: tuple[int, ...]
    """Prompt tokens then completion tokens (+ end of turn), truncated to ``max_length``."""
    labels: tuple[int, ...]
    """``IGNORE`` on prompt tokens, the token id on completion tokens."""
    truncated: bool
    """True when the completion was cut to fit ``max_length``."""

    @property
    def target_tokens(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE)


@dataclass(frozen=True)
class Dataset:
    """Encoded rows plus what a manifest needs to name the data."""

    rows: list[EncodedRow]
    path: str
    sha256: str
    """sha256 of the data file's bytes."""

    @property
    def truncated(self) -> int:
        return sum(r.truncated for r in self.rows)


def end_of_turn(tokenizer: Any) -> str:
    """The token the chat template closes an assistant turn with (``<|im_end|>`` for ChatML)."""
    token_id = tokenizer.convert_tokens_to_ids(END_OF_TURN)
    if isinstance(token_id, int) and token_id != tokenizer.unk_token_id:
        return END_OF_TURN
    return tokenizer.eos_token


def prompt_text(tokenizer: Any, request: str) -> str:
    """The zero-shot inference prompt for ``request`` (system + user, assistant turn opened)."""
    return render_prompt(tokenizer, build_messages(request, []))


def encode_row(tokenizer: Any, example: Example, max_length: int) -> EncodedRow:
    """Token ids and completion-only labels for one row."""
    prompt_ids = tokenizer(prompt_text(tokenizer, example.row.prompt), add_special_tokens=False)["input_ids"]
    completion_ids = tokenizer(example.row.completion.strip() + end_of_turn(tokenizer),
                               add_special_tokens=False)["input_ids"]
    room = max_length - len(prompt_ids)
    if room < 1:
        raise DataError(
            f"{example.id}: the prompt alone is {len(prompt_ids)} tokens, more than max_length={max_length}; "
            "raise --max-length or shorten the request"
        )
    kept = completion_ids[:room]
    return EncodedRow(
        id=example.id,
        input_ids=tuple(prompt_ids + kept),
        labels=tuple([IGNORE] * len(prompt_ids) + kept),
        truncated=len(kept) < len(completion_ids),
    )


def load_dataset(path: str | Path, tokenizer: Any, max_length: int) -> Dataset:
    """Read, validate (via :func:`agent.fewshot.load_examples`) and encode a JSONL file."""
    path = Path(path)
    examples = load_examples(path)
    if not examples:
        raise DataError(f"{path} has no rows")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    rows = [encode_row(tokenizer, example, max_length) for example in examples]
    return Dataset(rows=rows, path=str(path), sha256=digest)


def epoch_order(n_rows: int, seed: int, epoch: int) -> list[int]:
    """The row order of one epoch: a shuffle seeded by ``(seed, epoch)`` only."""
    order = list(range(n_rows))
    random.Random(f"fenrir-train:{seed}:{epoch}").shuffle(order)
    return order


def micro_batches(n_rows: int, batch_size: int, seed: int) -> Iterator[list[int]]:
    """An endless stream of row-index batches: epoch orders concatenated, cut every ``batch_size``."""
    pending: list[int] = []
    epoch = 0
    while True:
        while len(pending) < batch_size:
            pending.extend(epoch_order(n_rows, seed, epoch))
            epoch += 1
        yield pending[:batch_size]
        pending = pending[batch_size:]


def collate(rows: list[EncodedRow], pad_id: int) -> dict[str, Any]:
    """Right-padded ``input_ids``, ``attention_mask`` and ``labels`` tensors."""
    import torch

    width = max(len(r.input_ids) for r in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    labels = torch.full((len(rows), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        n = len(row.input_ids)
        input_ids[i, :n] = torch.tensor(row.input_ids)
        labels[i, :n] = torch.tensor(row.labels)
        mask[i, :n] = 1
    return {"input_ids": input_ids, "attention_mask": mask, "labels": labels}
