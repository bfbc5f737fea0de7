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
        with torch.inference_mode():
            out = model.generate(
                **enc,
                max_new_tokens=decoding.max_new_tokens,
                do_sample=False,
                num_beams=1,
                eos_token_id=stop,
                pad_token_id=tokenizer.pad_token_id,
            )
        width = enc["input_ids"].shape[1]
        for row, mask in zip(out, enc["attention_mask"]):
            new = row[width:].tolist()
            cut = next((i for i, tok in enumerate(new) if tok in stop), len(new))
            results.append(Generation(
                text=tokenizer.decode(new[:cut], skip_special_tokens=True),
                prompt_tokens=int(mask.sum()),
                completion_tokens=cut + (1 if cut < len(new) else 0),
            ))
    return results
