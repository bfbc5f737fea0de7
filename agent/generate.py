"""Greedy generation, one request at a time or batched.

Batched and one-at-a-time generation give identical tokens: greedy decoding,
padding masked out with positions counted over the attention mask, and
float32 on CPU.  A batch computes the prompts' shared prefix (the system
prompt) once; see :func:`_prefill`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.model import LoadedModel


@dataclass(frozen=True)
class Decoding:
    """Decoding settings, recorded in every trace."""

    max_new_tokens: int = 128
    batch_size: int = 16
    do_sample: bool = False
    stop_strings: tuple[str, ...] = ("\n\n",)
    """A blank line ends a plan: what follows is prose, and stopping there keeps batches short."""
    stop_loops: bool = True
    """Stop a row whose last tokens repeat one pattern (``-o -o -o ...``); see :func:`_ends_in_loop`."""


@dataclass(frozen=True)
class Generation:
    """The raw completion of one prompt and its token counts."""

    text: str
    prompt_tokens: int
    completion_tokens: int


def _stop_ids(tokenizer: Any) -> list[int]:
    ids = {tokenizer.eos_token_id}
    im_end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    if isinstance(im_end, int) and im_end != tokenizer.unk_token_id:
        ids.add(im_end)
    return sorted(i for i in ids if i is not None)


MAX_PERIOD = 24


def _repeats(period: int) -> int:
    """Copies of a pattern that count as a loop: 4 for 1..3 tokens, 3 for longer ones."""
    return 4 if period <= 3 else 3


def _ends_in_loop(tokens: list[int]) -> bool:
    """True when ``tokens`` end with one pattern of 1..24 tokens repeated (as LoopStop)."""
    for period in range(1, MAX_PERIOD + 1):
        span = _repeats(period) * period
        if len(tokens) < span:
            break
        tail = tokens[-span:]
        if tail[period:] == tail[:-period]:
            return True
    return False


def _finished(tokens: list[int], text: str, stop: list[int], decoding: Decoding) -> bool:
    if tokens[-1] in stop or len(tokens) >= decoding.max_new_tokens:
        return True
    if any(s in text for s in decoding.stop_strings):
        return True
    return decoding.stop_loops and _ends_in_loop(tokens)


def shared_prefix(rows: list[list[int]]) -> int:
    """Length of the token prefix all ``rows`` share, leaving at least one token of each row after it."""
    if len(rows) < 2:
        return 0
    limit = min(len(r) for r in rows) - 1
    first = rows[0]
    n = 0
    while n < limit and all(r[n] == first[n] for r in rows):
        n += 1
    return n


def _prefill(model: Any, rows: list[list[int]], pad_id: int, device: Any) -> tuple[Any, Any]:
    """Run the prompts through the model; return the output (logits of each row's last token) and the mask.

    The prefix every row shares (the system prompt, in practice) is computed
    once, at batch size 1, and its KV cache repeated for each row; the rows'
    remaining tokens follow, padded in the middle::

        [shared prefix][pads][row suffix]     mask 1..1 0..0 1..1

    with positions counted over the mask, so each row sees exactly its own
    prompt at its own positions, as it would alone.
    """
    import torch

    prefix = shared_prefix(rows)
    width = max(len(r) for r in rows) - prefix
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), prefix + width), dtype=torch.long)
    mask[:, :prefix] = 1
    for i, row in enumerate(rows):
        suffix = row[prefix:]
        ids[i, width - len(suffix):] = torch.tensor(suffix)
        mask[i, prefix + width - len(suffix):] = 1
    ids, mask = ids.to(device), mask.to(device)
    positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)[:, prefix:]
    cache = None
    if prefix:
        shared = torch.tensor([rows[0][:prefix]], device=device)
        cache = model(input_ids=shared, use_cache=True, logits_to_keep=1).cache
        cache.batch_repeat_interleave(len(rows))
    # logits_to_keep=1: only the last position's logits are needed (saves the LM head on the prompt)
    out = model(input_ids=ids, attention_mask=mask, position_ids=positions, cache=cache, use_cache=True,
                logits_to_keep=1)
    return out, mask


def _decode_batch(loaded: LoadedModel, rows: list[list[int]], decoding: Decoding, stop: list[int]) -> list[list[int]]:
    """Greedy decoding of the prompts ``rows`` (token ids) that drops each row as soon as it finishes.

    ``model.generate`` keeps finished rows in the batch until the last one
    stops, so one long row makes every row pay for its steps.  Here the KV
    cache, mask and positions of finished rows are cut away (DynamicCache's
    ``batch_select_indices``), so a batch step costs only the rows still
    writing.  Positions follow the attention mask, so a row gets the same
    tokens alone or in any batch.
    """
    import torch

    model, tokenizer = loaded.model, loaded.tokenizer
    generated: list[list[int]] = [[] for _ in rows]
    alive = list(range(len(rows)))
    with torch.inference_mode():
        out, mask = _prefill(model, rows, tokenizer.pad_token_id, loaded.device)
        while True:
            cache = out.cache
            nxt = out.logits[:, -1, :].argmax(-1)
            keep = []
            for j, row in enumerate(alive):
                generated[row].append(int(nxt[j]))
                text = tokenizer.decode(generated[row], skip_special_tokens=True)
                if not _finished(generated[row], text, stop, decoding):
                    keep.append(j)
            if not keep:
                return generated
            if len(keep) < len(alive):
                index = torch.tensor(keep, device=mask.device)
                cache.batch_select_indices(index)
                mask, nxt = mask[index], nxt[index]
                alive = [alive[j] for j in keep]
            mask = torch.cat([mask, mask.new_ones((len(alive), 1))], dim=1)
            position = mask.sum(-1, keepdim=True) - 1
            out = model(input_ids=nxt[:, None], attention_mask=mask, position_ids=position,
                        cache=cache, use_cache=True, logits_to_keep=1)


def generate(loaded: LoadedModel, prompts: list[str], decoding: Decoding = Decoding()) -> list[Generation]:
    """Greedy completions of already-rendered chat prompts, in batches of ``decoding.batch_size``."""
    tokenizer = loaded.tokenizer
    stop = _stop_ids(tokenizer)
    results: list[Generation] = []
    for start in range(0, len(prompts), max(1, decoding.batch_size)):
        rows = tokenizer(prompts[start:start + decoding.batch_size], add_special_tokens=False)["input_ids"]
        for tokens, prompt in zip(_decode_batch(loaded, rows, decoding, stop), rows):
            body = tokens[:-1] if tokens and tokens[-1] in stop else tokens
            text = tokenizer.decode(body, skip_special_tokens=True)
            for s in decoding.stop_strings:
                if s in text:
                    text = text[:text.index(s)]
            results.append(Generation(text=text, prompt_tokens=len(prompt), completion_tokens=len(tokens)))
    return results
