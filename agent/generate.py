"""Generation: greedy plans, one request at a time or batched, and sampled candidates.

Batched and one-at-a-time generation give identical tokens: greedy decoding,
padding masked out with positions counted over the attention mask, and
float32 on CPU.  A batch computes the prompts' shared prefix (the system
prompt) once; see :func:`_prefill`.

:func:`generate_candidates` decodes one prompt several times in one batch:
the first row greedily, the others sampled (temperature, nucleus), seeded, so
the same request gives the same candidates.  The prompt is then entirely a
shared prefix and is computed once.  Each candidate carries its mean
log-probability per token under the untempered model, for ranking.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from agent.fast import FastLlama
from agent.fast.llama import CausalLMOutput
from agent.fast.promptcache import prefix_kv
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
class Sampling:
    """How the candidates after the first (greedy) one are drawn."""

    temperature: float = 0.8
    """Softmax temperature of the sampled rows."""
    top_p: float = 0.95
    """Nucleus: sample only among the most likely tokens holding this much probability."""
    seed: int = 0
    """Seed of the sampling generator."""


@dataclass(frozen=True)
class Generation:
    """The raw completion of one prompt and its token counts."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    mean_logprob: float = 0.0
    """Mean log-probability per generated token under the model (no temperature applied)."""
    cached_tokens: int = 0
    """Prompt tokens whose keys and values were loaded from the prompt cache, not computed."""


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


class TorchLM:
    """A transformers (or PEFT) model called the way :class:`agent.fast.FastLlama` is: numpy arrays in,
    float32 numpy logits out, so one decoding loop serves both.  Inputs go to the model's device; its
    cache stays there (:class:`TorchCache`)."""

    def __init__(self, model: Any, device: Any) -> None:
        self.model, self.device = model, device

    def __call__(self, input_ids: Any, attention_mask: Any = None, position_ids: Any = None, cache: Any = None,
                 use_cache: bool = True, logits_to_keep: int = 0) -> Any:
        import torch

        kwargs: dict[str, Any] = {"use_cache": use_cache, "logits_to_keep": logits_to_keep}
        for name, value in (("attention_mask", attention_mask), ("position_ids", position_ids)):
            if value is not None:
                kwargs[name] = torch.from_numpy(np.ascontiguousarray(value)).to(self.device)
        if cache is not None:
            kwargs["cache"] = cache.inner
        with torch.inference_mode():
            out = self.model(input_ids=torch.from_numpy(np.ascontiguousarray(input_ids)).to(self.device), **kwargs)
            logits = out.logits.float().cpu().numpy()
        return CausalLMOutput(logits=logits, cache=TorchCache(out.cache, self.device) if use_cache else None)


class TorchCache:
    """A transformers cache with the batch edits of :class:`agent.fast.llama.KVCache`, indices as numpy."""

    def __init__(self, inner: Any, device: Any) -> None:
        self.inner, self.device = inner, device

    def batch_repeat_interleave(self, repeats: int) -> None:
        self.inner.batch_repeat_interleave(repeats)

    def batch_select_indices(self, indices: Any) -> None:
        import torch

        self.inner.batch_select_indices(torch.as_tensor(np.asarray(indices), device=self.device))


def _prefill(model: Any, rows: list[list[int]], pad_id: int) -> tuple[Any, np.ndarray, int]:
    """Run the prompts through the model; return the output (logits of each row's last token), the mask,
    and how many prefix tokens the prompt cache supplied.

    The prefix every row shares (the system prompt, in practice) is computed
    once, at batch size 1, and its KV cache repeated for each row; the rows'
    remaining tokens follow, padded in the middle::

        [shared prefix][pads][row suffix]     mask 1..1 0..0 1..1

    with positions counted over the mask, so each row sees exactly its own
    prompt at its own positions, as it would alone.  On the fast path a lone
    prompt's prefix is all of it but its last token, and the prefix goes
    through :func:`agent.fast.promptcache.prefix_kv` (aligned pieces, loaded
    from and saved to the prompt cache, the same numbers either way).
    ``model`` is a :class:`FastLlama` or a :class:`TorchLM`.

    Identical rows (one prompt's candidates, several prompts to a batch) are
    computed once and their cache and logits copied: the same numbers, since
    a row's numbers do not depend on the others in its batch.
    """
    distinct: dict[tuple[int, ...], int] = {}
    copies = [distinct.setdefault(tuple(row), len(distinct)) for row in rows]
    if len(distinct) < len(rows):
        out, mask, reused = _prefill(model, [list(row) for row in distinct], pad_id)
        out.cache.batch_select_indices(np.asarray(copies))
        return CausalLMOutput(logits=out.logits[copies], cache=out.cache), mask[copies], reused
    prefix = shared_prefix(rows)
    if len(rows) == 1 and isinstance(model, FastLlama):  # one prompt: all but its last token can be cached
        prefix = len(rows[0]) - 1
    width = max(len(r) for r in rows) - prefix
    ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), prefix + width), dtype=np.int64)
    mask[:, :prefix] = 1
    for i, row in enumerate(rows):
        suffix = row[prefix:]
        ids[i, width - len(suffix):] = suffix
        mask[i, prefix + width - len(suffix):] = 1
    positions = mask.cumsum(-1) - 1
    positions[mask == 0] = 1
    positions = positions[:, prefix:]
    cache, reused = None, 0
    if prefix:
        if isinstance(model, FastLlama):  # aligned pieces, kept between runs (agent.fast.promptcache)
            cache = prefix_kv(model, rows[0][:prefix], model.prompt_cache)
            reused = cache.reused
        else:
            shared = np.asarray([rows[0][:prefix]], dtype=np.int64)
            cache = model(input_ids=shared, use_cache=True, logits_to_keep=1).cache
        cache.batch_repeat_interleave(len(rows))
    # logits_to_keep=1: only the last position's logits are needed (saves the LM head on the prompt)
    out = model(input_ids=ids, attention_mask=mask, position_ids=positions, cache=cache, use_cache=True,
                logits_to_keep=1)
    return out, mask, reused


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Log-probabilities over the last axis (float32 logits; computed in float64)."""
    shifted = logits.astype(np.float64) - logits.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def nucleus_sample(logits: np.ndarray, temperature: float, top_p: float, rng: np.random.Generator) -> int:
    """One token drawn from ``softmax(logits / temperature)`` restricted to its nucleus: the most likely
    tokens, in order, up to the first whose preceding ones already hold ``top_p`` of the probability.
    One uniform number from ``rng`` per draw, so a seed fixes the draw."""
    probs = np.exp(log_softmax(logits / max(temperature, 1e-4)))
    # Only tokens of probability >= (1 - top_p) / vocabulary can be in the nucleus: the tokens more likely
    # than one with probability p hold at least 1 - vocabulary * p, past top_p below that.  Sorting just
    # those (halved for rounding) gives the full sort's leading tokens in the same order, ~50x faster.
    candidates = np.flatnonzero(probs >= (1.0 - top_p) / probs.size / 2)
    order = candidates[np.argsort(-probs[candidates], kind="stable")]
    ordered = probs[order]
    cumulative = np.cumsum(ordered)
    size = max(1, int(np.count_nonzero(cumulative - ordered <= top_p)))
    point = rng.random() * cumulative[size - 1]
    return int(order[min(int(np.searchsorted(cumulative[:size], point, side="right")), size - 1)])


def _pick(logits: np.ndarray, rows: list[int], samplers: list[Any] | None, sampling: Sampling | None) -> np.ndarray:
    """The next token of each alive row: argmax, or a nucleus sample drawn with the row's own
    generator (``samplers[row]``; None for greedy rows), so a row's samples do not depend on
    which other rows share its batch."""
    nxt = logits.argmax(-1)
    if samplers is None or sampling is None:
        return nxt
    for j, row in enumerate(rows):
        if samplers[row] is not None:
            nxt[j] = nucleus_sample(logits[j], sampling.temperature, sampling.top_p, samplers[row])
    return nxt


def _decode_batch(loaded: LoadedModel, rows: list[list[int]], decoding: Decoding, stop: list[int],
                  sampling: Sampling | None = None, sampled: list[int] | None = None,
                  ) -> tuple[list[list[int]], list[float], int]:
    """Decoding of the prompts ``rows`` (token ids) that drops each row as soon as it finishes.

    ``model.generate`` keeps finished rows in the batch until the last one
    stops, so one long row makes every row pay for its steps.  Here the KV
    cache, mask and positions of finished rows are cut away
    (``batch_select_indices``), so a batch step costs only the rows still
    writing.  Positions follow the attention mask, so a row gets the same
    tokens alone or in any batch.  Greedy, except the rows listed in
    ``sampled``: row ``i`` is then the ``sampled[i]``-th sample (0: greedy), drawn
    with a numpy generator seeded ``sampling.seed + sampled[i]``.  Returns the tokens
    and the summed log-probability of each row.
    """
    model, tokenizer = loaded.model, loaded.tokenizer
    if not isinstance(model, FastLlama):
        model = TorchLM(model, loaded.device)
    generated: list[list[int]] = [[] for _ in rows]
    logprob = [0.0] * len(rows)
    alive = list(range(len(rows)))
    samplers = None
    if sampling is not None and sampled is not None:
        samplers = [np.random.default_rng(sampling.seed + k) if k else None for k in sampled]
    out, mask, reused = _prefill(model, rows, tokenizer.pad_token_id)
    while True:
        cache = out.cache
        logits = np.asarray(out.logits[:, -1, :], dtype=np.float32)
        nxt = _pick(logits, alive, samplers, sampling)
        chosen = log_softmax(logits)[np.arange(len(alive)), nxt]
        keep = []
        for j, row in enumerate(alive):
            generated[row].append(int(nxt[j]))
            logprob[row] += float(chosen[j])
            text = tokenizer.decode(generated[row], skip_special_tokens=True)
            if not _finished(generated[row], text, stop, decoding):
                keep.append(j)
        if not keep:
            return generated, logprob, reused
        if len(keep) < len(alive):
            index = np.asarray(keep)
            cache.batch_select_indices(index)
            mask, nxt = mask[index], nxt[index]
            alive = [alive[j] for j in keep]
        mask = np.concatenate([mask, np.ones((len(alive), 1), dtype=mask.dtype)], axis=1)
        position = mask.sum(-1, keepdims=True) - 1
        out = model(input_ids=nxt[:, None], attention_mask=mask, position_ids=position,
                    cache=cache, use_cache=True, logits_to_keep=1)


def _finish(tokenizer: Any, tokens: list[int], prompt: list[int], logprob: float, stop: list[int],
            decoding: Decoding, cached: int = 0) -> Generation:
    body = tokens[:-1] if tokens and tokens[-1] in stop else tokens
    text = tokenizer.decode(body, skip_special_tokens=True)
    for s in decoding.stop_strings:
        if s in text:
            text = text[:text.index(s)]
    return Generation(text=text, prompt_tokens=len(prompt), completion_tokens=len(tokens),
                      mean_logprob=logprob / max(len(tokens), 1), cached_tokens=cached)


def generate(loaded: LoadedModel, prompts: list[str], decoding: Decoding = Decoding()) -> list[Generation]:
    """Greedy completions of already-rendered chat prompts, in batches of ``decoding.batch_size``."""
    tokenizer = loaded.tokenizer
    stop = _stop_ids(tokenizer)
    encoded = tokenizer(prompts, add_special_tokens=False)["input_ids"]
    results: list[Generation | None] = [None] * len(prompts)
    order = prefix_order(encoded)
    size = max(1, decoding.batch_size)
    for start in range(0, len(order), size):
        chunk = order[start:start + size]
        rows = [encoded[i] for i in chunk]
        tokens, logprobs, cached = _decode_batch(loaded, rows, decoding, stop)
        for i, t, p, lp in zip(chunk, tokens, rows, logprobs):
            results[i] = _finish(tokenizer, t, p, lp, stop, decoding, cached)
    return results  # type: ignore[return-value]


def prefix_order(rows: list[list[int]]) -> list[int]:
    """The rows' indices with rows sorted by their tokens, so that prompts sharing an opening (the system
    prompt and one directory listing) share batches: a batch computes the opening its rows share once
    (:func:`_prefill`), and in the callers' order a batch of held-out requests about several fixtures
    shared only the system prompt.  Stable: equal prompts keep their order."""
    return sorted(range(len(rows)), key=lambda i: rows[i])


def generate_candidates(loaded: LoadedModel, prompts: list[str], n: int, sampling: Sampling,
                        decoding: Decoding = Decoding(), first: int = 0) -> list[list[Generation]]:
    """``n`` completions of each prompt: the greedy one first, then ``n - 1`` samples.

    The prompts' rows share batches (``decoding.batch_size`` rows at a time, a
    prompt's rows never split); sample ``k`` of a prompt is drawn with its own
    generator seeded ``sampling.seed + k``, so it is the same whatever else is
    in the batch.  ``first`` > 0 continues a series: candidates ``first`` to
    ``first + n - 1``, all samples, drawn with the seeds a single call for
    ``first + n`` candidates gives them.
    """
    tokenizer = loaded.tokenizer
    stop = _stop_ids(tokenizer)
    n = max(1, n)
    encoded = tokenizer(prompts, add_special_tokens=False)["input_ids"]
    per_batch = max(1, decoding.batch_size // n)
    out: list[list[Generation]] = [[] for _ in prompts]
    order = prefix_order(encoded)
    for start in range(0, len(order), per_batch):
        chunk = order[start:start + per_batch]
        rows = [list(encoded[i]) for i in chunk for _ in range(n)]
        sampled = [k for _ in chunk for k in range(first, first + n)]
        tokens, logprobs, cached = _decode_batch(loaded, rows, decoding, stop, sampling, sampled)
        gens = [_finish(tokenizer, t, r, lp, stop, decoding, cached) for t, r, lp in zip(tokens, rows, logprobs)]
        for j, i in enumerate(chunk):
            out[i] = gens[j * n:(j + 1) * n]
    return out
