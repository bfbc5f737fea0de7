"""Greedy generation, one request at a time or batched with left padding.

Batched and one-at-a-time generation give identical tokens: greedy decoding,
left padding with an attention mask (transformers derives position ids from
it), the pad token set to the end-of-turn token, and float32 on CPU.
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


def _decode_batch(loaded: LoadedModel, enc: Any, decoding: Decoding, stop: list[int]) -> list[list[int]]:
    """Greedy decoding that drops each row from the batch as soon as it finishes.

    ``model.generate`` keeps finished rows in the batch until the last one
    stops, so one long row makes every row pay for its steps.  Here the KV
    cache, mask and positions of finished rows are cut away (DynamicCache's
    ``batch_select_indices``), so a batch step costs only the rows still
    writing.  Positions follow the attention mask as transformers derives
    them, so a row gets the same tokens alone or in any batch.
    """
    import torch

    model, tokenizer = loaded.model, loaded.tokenizer
    ids, mask = enc["input_ids"], enc["attention_mask"]
    positions = (mask.long().cumsum(-1) - 1).masked_fill(mask == 0, 1)
    generated: list[list[int]] = [[] for _ in range(ids.shape[0])]
    alive = list(range(ids.shape[0]))
    with torch.inference_mode():
        # logits_to_keep=1: only the last position's logits are needed (saves the LM head on the prompt)
        out = model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True, logits_to_keep=1)
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
                index = torch.tensor(keep, device=ids.device)
                cache.batch_select_indices(index)
                mask, nxt = mask[index], nxt[index]
                alive = [alive[j] for j in keep]
            mask = torch.cat([mask, mask.new_ones((len(alive), 1))], dim=1)
            position = (mask.long().sum(-1, keepdim=True) - 1)
            out = model(input_ids=nxt[:, None], attention_mask=mask, position_ids=position,
                        cache=cache, use_cache=True, logits_to_keep=1)


def generate(loaded: LoadedModel, prompts: list[str], decoding: Decoding = Decoding()) -> list[Generation]:
    """Greedy completions of already-rendered chat prompts, in batches of ``decoding.batch_size``."""
    tokenizer = loaded.tokenizer
    tokenizer.padding_side = "left"
    stop = _stop_ids(tokenizer)
    results: list[Generation] = []
    for start in range(0, len(prompts), max(1, decoding.batch_size)):
        chunk = prompts[start:start + decoding.batch_size]
        enc = tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=False).to(loaded.device)
        for tokens, mask in zip(_decode_batch(loaded, enc, decoding, stop), enc["attention_mask"]):
            body = tokens[:-1] if tokens and tokens[-1] in stop else tokens
            text = tokenizer.decode(body, skip_special_tokens=True)
            for s in decoding.stop_strings:
                if s in text:
                    text = text[:text.index(s)]
            results.append(Generation(text=text, prompt_tokens=int(mask.sum()), completion_tokens=len(tokens)))
    return results
