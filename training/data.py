"""Rows -> token ids and completion-only labels, in the agent's own chat format.

Each row is rendered exactly as the agent prompts at inference, zero-shot:
system prompt + the user turn, ending where the assistant speaks
(:func:`agent.prompt.render_prompt`).  With grounding (:class:`Grounding`) the
user turn starts with the listing of the fixture the row was generated and
checked on (``data/listings.json``, built by ``fenrir data listings`` with the
same code the agent uses on a real directory), then ``Request: ...``; a
seeded share of rows, and rows whose fixture has no listing (the eval
fixtures the hand-written rows were checked on), keep the bare request, as
``fenrir --no-context`` asks.  The completion follows, closed by the
end-of-turn token, which is what the chat template writes after an assistant
turn and what generation stops on.  Labels are ``-100`` everywhere except the
completion tokens and that end-of-turn token, so the loss is completion-only.

Batches are deterministic: the row order of each epoch is a shuffle seeded by
``(seed, epoch)``, epochs are concatenated, and consecutive rows form the
micro-batches (right padding, labels ``-100`` on padding).  With grounding,
:func:`grouped_batches` keeps rows of one listing together (in the shuffled
order), so a batch's shared prefix (system prompt + listing) is computed once;
the batches themselves are shuffled.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

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
    group: str = ""
    """The fixture whose listing heads the prompt ('' without a listing): rows of one group batch together."""

    @property
    def target_tokens(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE)


@dataclass(frozen=True)
class Grounding:
    """Which rows are prompted with a directory listing, and with which."""

    listings: dict[str, str] = field(default_factory=dict)
    """Fixture name -> listing text (``data/listings.json``)."""
    no_context_share: float = 0.0
    """Share of rows (chosen by a hash of the request) prompted without a listing."""
    sha256: str = ""
    """sha256 of the listings file."""

    def context_for(self, prompt: str, fixture: str) -> str | None:
        text = self.listings.get(fixture)
        if text is None:
            return None
        bucket = int(hashlib.sha256(f"no-context:{prompt}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        return None if bucket < self.no_context_share else text


def load_grounding(path: str | Path, no_context_share: float = 0.0) -> Grounding:
    """Read ``data/listings.json`` (``{"fixtures": {name: {"text", "sha256"}}}``)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        data = json.loads(raw)
        listings = {name: entry["text"] for name, entry in data["fixtures"].items()}
    except OSError as exc:
        raise DataError(f"cannot read the listings file {path}: {exc}; build it with `fenrir data listings`") from exc
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DataError(f"{path} is not a listings file ({exc!r}); rebuild it with `fenrir data listings`") from exc
    return Grounding(listings=listings, no_context_share=no_context_share, sha256=hashlib.sha256(raw).hexdigest())


@dataclass(frozen=True)
class Dataset:
    """Encoded rows plus what a manifest needs to name the data."""

    rows: list[EncodedRow]
    path: str
    """The data files, comma-separated."""
    sha256: str
    """sha256 of the data files' bytes (concatenated in order)."""
    files: tuple[tuple[str, str, int], ...] = ()
    """(path, sha256, rows) of each data file."""

    @property
    def truncated(self) -> int:
        return sum(r.truncated for r in self.rows)


def end_of_turn(tokenizer: Any) -> str:
    """The token the chat template closes an assistant turn with (``<|im_end|>`` for ChatML)."""
    token_id = tokenizer.convert_tokens_to_ids(END_OF_TURN)
    if isinstance(token_id, int) and token_id != tokenizer.unk_token_id:
        return END_OF_TURN
    return tokenizer.eos_token


def prompt_text(tokenizer: Any, request: str, context: str | None = None) -> str:
    """The zero-shot inference prompt for ``request`` (system + user, assistant turn opened)."""
    return render_prompt(tokenizer, build_messages(request, [], context))


def encode_row(tokenizer: Any, example: Example, max_length: int, grounding: Grounding | None = None) -> EncodedRow:
    """Token ids and completion-only labels for one row."""
    context = grounding.context_for(example.row.prompt, example.row.fixture) if grounding else None
    prompt_ids = tokenizer(prompt_text(tokenizer, example.row.prompt, context),
                           add_special_tokens=False)["input_ids"]
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
        group=example.row.fixture if context is not None else "",
    )


def load_dataset(paths: str | Path | Sequence[str | Path], tokenizer: Any, max_length: int,
                 grounding: Grounding | None = None) -> Dataset:
    """Read, validate (via :func:`agent.fewshot.load_examples`) and encode one or more JSONL files."""
    paths = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    rows: list[EncodedRow] = []
    files = []
    digest = hashlib.sha256()
    for path in paths:
        examples = load_examples(path)
        if not examples:
            raise DataError(f"{path} has no rows")
        raw = path.read_bytes()
        digest.update(raw)
        files.append((str(path), hashlib.sha256(raw).hexdigest(), len(examples)))
        rows += [encode_row(tokenizer, example, max_length, grounding) for example in examples]
    sha = files[0][1] if len(files) == 1 else digest.hexdigest()
    return Dataset(rows=rows, path=",".join(str(p) for p in paths), sha256=sha, files=tuple(files))


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


def grouped_batches(groups: Sequence[str], batch_size: int, seed: int) -> Iterator[list[int]]:
    """An endless stream of batches whose rows share a group (their listing), seeded.

    Each epoch takes the rows in :func:`epoch_order`, cuts every group's rows
    (in that order) into batches of ``batch_size`` (a group's last batch may be
    smaller), and yields the batches in an order shuffled by ``(seed, epoch)``.
    """
    epoch = 0
    while True:
        buckets: dict[str, list[int]] = {}
        for i in epoch_order(len(groups), seed, epoch):
            buckets.setdefault(groups[i], []).append(i)
        batches = [rows[k:k + batch_size] for _, rows in sorted(buckets.items())
                   for k in range(0, len(rows), batch_size)]
        random.Random(f"fenrir-batches:{seed}:{epoch}").shuffle(batches)
        yield from batches
        epoch += 1


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
