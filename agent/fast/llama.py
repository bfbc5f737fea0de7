"""A minimal Llama decoder for inference in numpy: what ``LlamaForCausalLM`` computes, nothing else.

It computes what transformers' Llama computes, op for op where the numbers
depend on it (RMSNorm in float32, rotary cos/sin from ``rope_theta``, SiLU
MLP, tied or untied LM head), so its logits match to float rounding; see
``tests/agent/test_fast.py``.  It is called the way :mod:`agent.generate`
calls a model, with numpy arrays::

    out = model(input_ids=, attention_mask=, position_ids=, cache=, use_cache=True, logits_to_keep=1)
    out.logits, out.cache

Why numpy and not torch: ``fenrir "REQUEST"`` is a new process every time,
and importing torch costs ~1.5 s of a ~4.5 s checked plan on a 2-core CPU,
while numpy imports in ~0.1 s and its BLAS (OpenBLAS) multiplies float32
matrices as fast as torch's here (a decode step is bound by reading the
weights from memory either way; ``bench/agent.py --paths``).

Attention is a masked softmax: causal, padding masked out, and a query
always sees itself, so a padded query (whose output nobody reads) never turns
into NaN and poisons the values of a later layer.  The :class:`KVCache`
writes into preallocated buffers instead of concatenating on every step, and
offers the two batch edits generation uses (``batch_repeat_interleave``,
``batch_select_indices``).

Weights are plain read-only arrays mapped from the checkpoint file, not
copied (see :func:`agent.fast.load_weights`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from agent.cpu import inference_threads
from agent.fast.config import LlamaSpec

CACHE_HEADROOM = 128
"""Free positions a cache buffer gets when it grows: a whole answer (``max_new_tokens`` 96) decodes
without copying the cache again."""


class KVCache:
    """Keys and values of every layer, ``(batch, kv_heads, capacity, head_dim)`` buffers filled up to ``length``."""

    def __init__(self, layers: int) -> None:
        self.keys: list[Any] = [None] * layers
        self.values: list[Any] = [None] * layers
        self.lengths = [0] * layers
        self.reused = 0
        """Leading positions loaded from the prompt cache (:mod:`agent.fast.promptcache`), not computed."""

    @property
    def length(self) -> int:
        """Positions held (those of layer 0; every layer holds as many after a forward)."""
        return self.lengths[0]

    def get_seq_length(self) -> int:
        return self.length

    def update(self, layer: int, key: np.ndarray, value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Append ``key``/``value`` ``(batch, kv_heads, new, head_dim)``; return the layer's keys and values so far."""
        start, new = self.lengths[layer], key.shape[2]
        end = start + new
        buf_k, buf_v = self.keys[layer], self.values[layer]
        if buf_k is None or end > buf_k.shape[2]:
            batch, heads, _, dim = key.shape
            grown_k = np.empty((batch, heads, end + CACHE_HEADROOM, dim), dtype=key.dtype)
            grown_v = np.empty((batch, heads, end + CACHE_HEADROOM, dim), dtype=value.dtype)
            if start:
                grown_k[:, :, :start] = buf_k[:, :, :start]
                grown_v[:, :, :start] = buf_v[:, :, :start]
            self.keys[layer], self.values[layer] = buf_k, buf_v = grown_k, grown_v
        buf_k[:, :, start:end] = key
        buf_v[:, :, start:end] = value
        self.lengths[layer] = end
        return buf_k[:, :, :end], buf_v[:, :, :end]

    def batch_repeat_interleave(self, repeats: int) -> None:
        """Repeat every row ``repeats`` times in place (a shared prefix computed once, for each row)."""
        for i, (k, v) in enumerate(zip(self.keys, self.values)):
            if k is not None:
                self.keys[i] = np.repeat(k, repeats, axis=0)
                self.values[i] = np.repeat(v, repeats, axis=0)

    def batch_select_indices(self, indices: Any) -> None:
        """Keep only the rows ``indices`` (finished rows leave the batch)."""
        indices = np.asarray(indices)
        for i, (k, v) in enumerate(zip(self.keys, self.values)):
            if k is not None:
                self.keys[i] = k[indices]
                self.values[i] = v[indices]


@dataclass(frozen=True)
class CausalLMOutput:
    """What a forward returns: the logits of the kept positions and the (updated) cache."""

    logits: Any
    """``(batch, positions kept, vocab)`` float32 logits (a numpy array)."""
    cache: KVCache | None
    """The cache holding every position seen so far; ``None`` when ``use_cache=False``."""


@dataclass(frozen=True)
class Layer:
    """One decoder layer's weights (``model.layers.<i>.<checkpoint name>.weight``)."""

    input_layernorm: Any
    """RMSNorm weight before attention (``input_layernorm``)."""
    post_attention_layernorm: Any
    """RMSNorm weight before the MLP (``post_attention_layernorm``)."""
    q_proj: Any
    """Query projection (``self_attn.q_proj``)."""
    k_proj: Any
    """Key projection (``self_attn.k_proj``)."""
    v_proj: Any
    """Value projection (``self_attn.v_proj``)."""
    o_proj: Any
    """Attention output projection (``self_attn.o_proj``)."""
    gate_proj: Any
    """MLP gate, through SiLU (``mlp.gate_proj``)."""
    up_proj: Any
    """MLP up projection (``mlp.up_proj``)."""
    down_proj: Any
    """MLP down projection (``mlp.down_proj``)."""

    @classmethod
    def of(cls, weights: dict[str, Any], index: int) -> Layer:
        prefix = f"model.layers.{index}."
        where = {"q_proj": "self_attn.", "k_proj": "self_attn.", "v_proj": "self_attn.", "o_proj": "self_attn.",
                 "gate_proj": "mlp.", "up_proj": "mlp.", "down_proj": "mlp."}
        return cls(**{name: weights[f"{prefix}{where.get(name, '')}{name}.weight"]
                      for name in cls.__dataclass_fields__})


def _rms_norm(hidden: np.ndarray, weight: np.ndarray, eps: float) -> np.ndarray:
    """transformers' ``LlamaRMSNorm`` (float32 throughout here, so its casts are no-ops)."""
    variance = np.mean(np.square(hidden), axis=-1, keepdims=True)
    return weight * (hidden * (1.0 / np.sqrt(variance + np.float32(eps))))


def _rotate_half(x: np.ndarray) -> np.ndarray:
    half = x.shape[-1] // 2
    return np.concatenate((-x[..., half:], x[..., :half]), axis=-1)


def _silu(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # exp(-x) overflows to inf for very negative x: silu is then -0.0
        return x / (np.float32(1.0) + np.exp(-x))


PARTS = 2
"""Pieces the largest matrix products are cut into along their output features (``o_proj``,
``down_proj``, the LM head), so that two cores can share them; see :class:`Workers`."""
PARALLEL_ROWS = 32
"""Token rows from which a forward hands its pieces to the worker threads.  Below it (a decode step)
the products are bound by reading the weights from memory, and handing them over cost more than a
second thread gained (a 4-row step: ~160 ms against ~110 ms on the 2-core machine), so the pieces run
one after another on the calling thread: the same calls, the same numbers.  The LM head's halves
always go to the threads (a 113 MB product: 17 ms on two threads against 24 ms on one)."""


class Workers:
    """Runs a forward's independent matrix products on ``threads`` threads, with numbers that do not depend
    on ``threads``.

    OpenBLAS, numpy's BLAS, gives a product different last bits with 1 and 2
    threads (measured: a 256x576 by 576x1536 product), and the thread count
    varies (cores, ``OMP_NUM_THREADS``; torch's follows the load average), so a
    plan would depend on where and how it ran, and a prompt-cache entry would
    not hold what a fresh run computes.  So BLAS always runs single-threaded, and the parallelism is
    ours: a fixed list of products per step (q | k | v, gate | up, halves of
    the others), each one BLAS call with fixed shapes, run on whatever threads
    there are.  Every product is then computed by the same call whatever the
    thread count, and gives the same bits.
    """

    def __init__(self, threads: int) -> None:
        from threadpoolctl import ThreadpoolController

        self.threads = max(1, threads)
        self._blas = ThreadpoolController().select(user_api="blas")
        self._pool = None
        if self.threads > 1:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(self.threads - 1, thread_name_prefix="fenrir-blas")

    def single_threaded_blas(self) -> Any:
        """Context in which BLAS calls use one thread each (restored after)."""
        return self._blas.limit(limits=1)

    def run(self, tasks: list[Any], parallel: bool) -> list[Any]:
        """The results of ``tasks`` (callables), on the pool when ``parallel`` and there is one."""
        if not parallel or self._pool is None:
            return [task() for task in tasks]
        futures = [self._pool.submit(task) for task in tasks[1:]]
        first = tasks[0]()
        return [first] + [future.result() for future in futures]

    def linear(self, x: np.ndarray, weights: list[np.ndarray], parallel: bool) -> list[np.ndarray]:
        """``x @ w.T`` over the last axis for each of ``weights``, as independent products."""
        flat = x.reshape(-1, x.shape[-1])
        outs = self.run([lambda w=w: flat @ w.T for w in weights], parallel)
        return [out.reshape(*x.shape[:-1], w.shape[0]) for out, w in zip(outs, weights)]

    def split_linear(self, x: np.ndarray, weight: np.ndarray, parallel: bool) -> np.ndarray:
        """``x @ weight.T`` over the last axis, computed as :data:`PARTS` products of consecutive output features
        written side by side (always the same pieces, so the same numbers on any number of threads)."""
        flat = x.reshape(-1, x.shape[-1])
        out = np.empty((flat.shape[0], weight.shape[0]), dtype=np.float32)
        step = -(-weight.shape[0] // PARTS)
        bounds = [(start, min(start + step, weight.shape[0])) for start in range(0, weight.shape[0], step)]
        self.run([lambda a=a, b=b: np.matmul(flat, weight[a:b].T, out=out[:, a:b]) for a, b in bounds], parallel)
        return out.reshape(*x.shape[:-1], weight.shape[0])


def _softmax(scores: np.ndarray) -> np.ndarray:
    """Softmax over the last axis; masked scores are -inf, and every row has at least one that is not."""
    scores = scores - scores.max(axis=-1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=-1, keepdims=True)
    return scores


class FastLlama:
    """``LlamaForCausalLM`` for inference: float32 on CPU, its weights given as arrays by checkpoint name.

    ``config`` is the :class:`LlamaSpec` (``max_position_embeddings`` is what the agent reads of it).
    """

    def __init__(self, spec: LlamaSpec, weights: dict[str, np.ndarray], threads: int | None = None) -> None:
        self.config = spec
        self.workers = Workers(inference_threads() if threads is None else threads)
        self.embed_tokens = weights["model.embed_tokens.weight"]
        self.norm = weights["model.norm.weight"]
        self.lm_head = self.embed_tokens if spec.tie_word_embeddings else weights["lm_head.weight"]
        self.layers = [Layer.of(weights, i) for i in range(spec.num_hidden_layers)]
        dim = spec.head_dim
        # transformers' compute_default_rope_parameters, in float32
        self.inv_freq = (1.0 / (spec.rope_theta ** (np.arange(0, dim, 2, dtype=np.float32) / dim))).astype(np.float32)
        self._tensors = weights
        self.prompt_cache: Any = None
        """Where the keys and values of prompt openings are saved between runs
        (:class:`agent.fast.promptcache.PromptCache`), or None."""

    # --- the bits of the nn.Module / PreTrainedModel interface the agent uses ---
    def parameters(self) -> Iterator[np.ndarray]:
        seen: set[int] = set()
        for tensor in self._tensors.values():
            if id(tensor) not in seen:
                seen.add(id(tensor))
                yield tensor

    def named_parameters(self) -> Iterator[tuple[str, np.ndarray]]:
        yield from self._tensors.items()

    def eval(self) -> FastLlama:
        return self

    @property
    def device(self) -> str:
        return "cpu"

    def __call__(self, input_ids: Any, attention_mask: Any = None, position_ids: Any = None,
                 cache: KVCache | None = None, use_cache: bool = True, logits_to_keep: int = 0) -> CausalLMOutput:
        return self.forward(input_ids, attention_mask, position_ids, cache, use_cache, logits_to_keep)

    def forward(self, input_ids: Any, attention_mask: Any = None, position_ids: Any = None,
                cache: KVCache | None = None, use_cache: bool = True, logits_to_keep: int = 0) -> CausalLMOutput:
        """Logits of the last ``logits_to_keep`` positions (all when 0) of ``input_ids`` ``(batch, new)``.

        ``attention_mask`` ``(batch, past + new)`` marks real tokens (1) and padding (0) over the cached
        positions and the new ones; ``position_ids`` ``(batch, new)`` default to counting on from the cache.
        """
        spec = self.config
        input_ids = np.asarray(input_ids)
        batch, new = input_ids.shape
        if use_cache and cache is None:
            cache = KVCache(spec.num_hidden_layers)
        past = cache.length if cache is not None else 0
        if position_ids is None:
            position_ids = np.broadcast_to(np.arange(new) + past, (batch, new))
        mask = self._mask(None if attention_mask is None else np.asarray(attention_mask), batch, new, past)
        # rotary embedding, as LlamaRotaryEmbedding computes it (attention_scaling 1.0 for the default rope)
        freqs = np.asarray(position_ids)[..., None].astype(np.float32) * self.inv_freq
        emb = np.concatenate((freqs, freqs), axis=-1)
        cos, sin = np.cos(emb)[:, None], np.sin(emb)[:, None]

        heads, kv_heads, dim, eps = spec.num_attention_heads, spec.num_key_value_heads, spec.head_dim, spec.rms_norm_eps
        groups = heads // kv_heads
        scale = np.float32(dim ** -0.5)
        work, parallel = self.workers, batch * new >= PARALLEL_ROWS
        hidden = self.embed_tokens[input_ids]
        with work.single_threaded_blas():
            for index, layer in enumerate(self.layers):
                x = _rms_norm(hidden, layer.input_layernorm, eps)
                q, k, v = work.linear(x, [layer.q_proj, layer.k_proj, layer.v_proj], parallel)
                q = q.reshape(batch, new, heads, dim).transpose(0, 2, 1, 3)
                k = k.reshape(batch, new, kv_heads, dim).transpose(0, 2, 1, 3)
                v = v.reshape(batch, new, kv_heads, dim).transpose(0, 2, 1, 3)
                q = q * cos + _rotate_half(q) * sin
                k = k * cos + _rotate_half(k) * sin
                if cache is not None:
                    k, v = cache.update(index, k, v)
                total = k.shape[2]
                # the query heads of one kv head are stacked as rows of one block: no copies of keys or values
                scores = (q.reshape(batch, kv_heads, groups * new, dim) * scale) @ k.transpose(0, 1, 3, 2)
                if mask is not None:
                    scores = scores.reshape(batch, kv_heads, groups, new, total)
                    scores = np.where(mask, scores, np.float32(-np.inf))
                    scores = scores.reshape(batch, kv_heads, groups * new, total)
                out = _softmax(scores) @ v
                out = out.reshape(batch, heads, new, dim).transpose(0, 2, 1, 3).reshape(batch, new, heads * dim)
                hidden = hidden + work.split_linear(out, layer.o_proj, parallel)
                x = _rms_norm(hidden, layer.post_attention_layernorm, eps)
                gate, up = work.linear(x, [layer.gate_proj, layer.up_proj], parallel)
                hidden = hidden + work.split_linear(_silu(gate) * up, layer.down_proj, parallel)
            if logits_to_keep:  # only the kept positions need the final norm and the LM head
                hidden = hidden[:, -logits_to_keep:]
            hidden = _rms_norm(hidden, self.norm, eps)
            logits = work.split_linear(hidden, self.lm_head, parallel=True)
        return CausalLMOutput(logits=logits, cache=cache if use_cache else None)

    @staticmethod
    def _mask(attention_mask: np.ndarray | None, batch: int, new: int, past: int) -> np.ndarray | None:
        """The boolean attention mask ``(batch, 1, 1, new, past + new)`` (heads broadcast), or None when every
        query sees every key (one new token, no padding).

        Query ``i`` (absolute index ``past + i``) sees key ``j`` when ``j <= past + i`` and ``j`` is not
        padding, and always sees itself.
        """
        total = past + new
        if attention_mask is not None and attention_mask.shape != (batch, total):
            raise ValueError(f"attention_mask of shape {tuple(attention_mask.shape)} does not cover the "
                             f"{past} cached and {new} new positions of {batch} rows")
        padded = attention_mask is not None and not bool(attention_mask.all())
        if not padded and new == 1:
            return None
        query = np.arange(new)[:, None] + past
        key = np.arange(total)[None, :]
        mask = key <= query
        if padded:
            mask = (mask[None] & attention_mask.astype(bool)[:, None, :]) | (key == query)[None]
        else:
            mask = np.broadcast_to(mask[None], (batch, new, total))
        return mask[:, None, None]
