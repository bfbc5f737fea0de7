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


def _loop_stopper(width: int) -> Any:
    """A per-row stopping criterion for degenerate loops in the generated tokens.

    A row stops once its last generated tokens repeat a period ``p`` (1..24
    tokens; 4 copies for p <= 3, 3 copies above: digits are single tokens, so
    ``-u 192.168.1.1`` is a 13-token pattern).  It looks only at the row's own generated tokens, so batched and
    one-at-a-time generation stop at the same place.  Without it one looping
    row keeps a whole batch decoding until ``max_new_tokens``.
    """
    import torch
    from transformers import StoppingCriteria

    class LoopStop(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            new = input_ids[:, width:]
            done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
            for period in range(1, MAX_PERIOD + 1):
                span = _repeats(period) * period
                if new.shape[1] < span:
                    break
                tail = new[:, -span:]
                done |= (tail[:, period:] == tail[:, :-period]).all(dim=1)
            return done

    return LoopStop()


def generate(loaded: LoadedModel, prompts: list[str], decoding: Decoding = Decoding()) -> list[Generation]:
    """Greedy completions of already-rendered chat prompts, in batches of ``decoding.batch_size``."""
    import torch

    tokenizer, model = loaded.tokenizer, loaded.model
    tokenizer.padding_side = "left"
    stop = _stop_ids(tokenizer)
    results: list[Generation] = []
    for start in range(0, len(prompts), max(1, decoding.batch_size)):
        chunk = prompts[start:start + decoding.batch_size]
        enc = tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=False).to(loaded.device)
        criteria = None
        if decoding.stop_loops:
            from transformers import StoppingCriteriaList

            criteria = StoppingCriteriaList([_loop_stopper(enc["input_ids"].shape[1])])
        with torch.inference_mode():
            out = model.generate(
                **enc,
                max_new_tokens=decoding.max_new_tokens,
                do_sample=False,
                num_beams=1,
                eos_token_id=stop,
                pad_token_id=tokenizer.pad_token_id,
                stop_strings=list(decoding.stop_strings) or None,
                tokenizer=tokenizer,
                stopping_criteria=criteria,
            )
        width = enc["input_ids"].shape[1]
        for row, mask in zip(out, enc["attention_mask"]):
            new = row[width:].tolist()
            cut = next((i for i, tok in enumerate(new) if tok in stop), len(new))
            while cut and new[cut - 1] == tokenizer.pad_token_id:  # rows stopped by a stop string
                cut -= 1
            text = tokenizer.decode(new[:cut], skip_special_tokens=True)
            # An end-of-turn token counts as generated; padding after an early stop does not.
            by_stop_string = any(text.endswith(s) for s in decoding.stop_strings)
            stopped_early = by_stop_string or (decoding.stop_loops and _ends_in_loop(new[:cut]))
            results.append(Generation(
                text=text.rstrip("\n") if by_stop_string else text,
                prompt_tokens=int(mask.sum()),
                completion_tokens=cut + (1 if cut < len(new) and not stopped_early else 0),
            ))
    return results
