"""A minimal Llama decoder for inference in plain torch: what ``LlamaForCausalLM`` computes, nothing else.

It computes what transformers' Llama computes, op for op where the numbers
depend on it (RMSNorm in float32, rotary cos/sin from ``rope_theta``, SiLU
MLP, tied or untied LM head), so its logits match to float rounding; see
``tests/agent/test_fast.py``.  It is called the way :mod:`agent.generate`
calls a transformers model::

    out = model(input_ids=, attention_mask=, position_ids=, cache=, use_cache=True, logits_to_keep=1)
    out.logits, out.cache

Attention is ``scaled_dot_product_attention`` with a boolean mask: causal,
padding masked out, and a query always sees itself, so a padded query (whose
output nobody reads) never turns into NaN and poisons the values of a later
layer.  The :class:`KVCache` writes into preallocated buffers instead of
concatenating on every step, and offers the two batch edits generation uses
(``batch_repeat_interleave``, ``batch_select_indices``).

Weights are plain tensors (no ``nn.Module``): a float32 checkpoint is mapped
from the file, not copied (see :mod:`agent.fast.weights`).  torch is imported
inside the functions, as everywhere in :mod:`agent`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

from agent.fast.config import LlamaSpec

if TYPE_CHECKING:
    import torch

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

    def update(self, layer: int, key: torch.Tensor, value: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Append ``key``/``value`` ``(batch, kv_heads, new, head_dim)``; return the layer's keys and values so far."""
        start, new = self.lengths[layer], key.shape[2]
        end = start + new
        buf_k, buf_v = self.keys[layer], self.values[layer]
        if buf_k is None or end > buf_k.shape[2]:
            batch, heads, _, dim = key.shape
            grown_k = key.new_empty((batch, heads, end + CACHE_HEADROOM, dim))
            grown_v = value.new_empty((batch, heads, end + CACHE_HEADROOM, dim))
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
                self.keys[i] = k.repeat_interleave(repeats, dim=0)
                self.values[i] = v.repeat_interleave(repeats, dim=0)

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        """Keep only the rows ``indices`` (finished rows leave the batch)."""
        for i, (k, v) in enumerate(zip(self.keys, self.values)):
            if k is not None:
                self.keys[i] = k.index_select(0, indices)
                self.values[i] = v.index_select(0, indices)


@dataclass(frozen=True)
class CausalLMOutput:
    """What a forward returns: the logits of the kept positions and the (updated) cache."""

    logits: Any
    """``(batch, positions kept, vocab)`` float32 logits."""
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


def _rms_norm(hidden: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """transformers' ``LlamaRMSNorm`` (float32 throughout here, so its casts are no-ops)."""
    import torch

    variance = hidden.pow(2).mean(-1, keepdim=True)
    return weight * (hidden * torch.rsqrt(variance + eps))


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    import torch

    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class FastLlama:
    """``LlamaForCausalLM`` for inference: float32 on CPU, its weights given as tensors by checkpoint name.

    ``config`` is the :class:`LlamaSpec` (``max_position_embeddings`` is what the agent reads of it).
    """

    def __init__(self, spec: LlamaSpec, weights: dict[str, torch.Tensor]) -> None:
        import torch

        self.config = spec
        self.embed_tokens = weights["model.embed_tokens.weight"]
        self.norm = weights["model.norm.weight"]
        self.lm_head = self.embed_tokens if spec.tie_word_embeddings else weights["lm_head.weight"]
        self.layers = [Layer.of(weights, i) for i in range(spec.num_hidden_layers)]
        dim = spec.head_dim
        # exactly transformers' compute_default_rope_parameters
        self.inv_freq = 1.0 / (spec.rope_theta ** (torch.arange(0, dim, 2, dtype=torch.float) / dim))
        self._tensors = weights
        self.prompt_cache: Any = None
        """Where the keys and values of prompt openings are saved between runs
        (:class:`agent.fast.promptcache.PromptCache`), or None."""

    # --- the bits of the nn.Module / PreTrainedModel interface the agent uses ---
    def parameters(self) -> Iterator[torch.Tensor]:
        seen: set[int] = set()
        for tensor in self._tensors.values():
            if id(tensor) not in seen:
                seen.add(id(tensor))
                yield tensor

    def named_parameters(self) -> Iterator[tuple[str, torch.Tensor]]:
        yield from self._tensors.items()

    def eval(self) -> FastLlama:
        return self

    @property
    def device(self) -> Any:
        return self.embed_tokens.device

    def __call__(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                 position_ids: torch.Tensor | None = None, cache: KVCache | None = None,
                 use_cache: bool = True, logits_to_keep: int = 0) -> CausalLMOutput:
        return self.forward(input_ids, attention_mask, position_ids, cache, use_cache, logits_to_keep)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                position_ids: torch.Tensor | None = None, cache: KVCache | None = None,
                use_cache: bool = True, logits_to_keep: int = 0) -> CausalLMOutput:
        """Logits of the last ``logits_to_keep`` positions (all when 0) of ``input_ids`` ``(batch, new)``.

        ``attention_mask`` ``(batch, past + new)`` marks real tokens (1) and padding (0) over the cached
        positions and the new ones; ``position_ids`` ``(batch, new)`` default to counting on from the cache.
        """
        import torch
        import torch.nn.functional as F

        spec = self.config
        batch, new = input_ids.shape
        if use_cache and cache is None:
            cache = KVCache(spec.num_hidden_layers)
        past = cache.length if cache is not None else 0
        if position_ids is None:
            position_ids = (torch.arange(new, device=input_ids.device) + past).unsqueeze(0).expand(batch, new)
        mask, causal = self._mask(attention_mask, batch, new, past, input_ids.device)
        # rotary embedding, as LlamaRotaryEmbedding computes it (attention_scaling 1.0 for the default rope)
        freqs = position_ids[..., None].float() * self.inv_freq.to(input_ids.device)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[:, None], emb.sin()[:, None]

        heads, kv_heads, dim, eps = spec.num_attention_heads, spec.num_key_value_heads, spec.head_dim, spec.rms_norm_eps
        groups = heads // kv_heads
        scale = dim ** -0.5
        hidden = F.embedding(input_ids, self.embed_tokens)
        for index, layer in enumerate(self.layers):
            x = _rms_norm(hidden, layer.input_layernorm, eps)
            q = F.linear(x, layer.q_proj).view(batch, new, heads, dim).transpose(1, 2)
            k = F.linear(x, layer.k_proj).view(batch, new, kv_heads, dim).transpose(1, 2)
            v = F.linear(x, layer.v_proj).view(batch, new, kv_heads, dim).transpose(1, 2)
            q = q * cos + _rotate_half(q) * sin
            k = k * cos + _rotate_half(k) * sin
            if cache is not None:
                k, v = cache.update(index, k, v)
            if new == 1 and groups > 1:
                # one query per row: its heads become the rows of their kv head's query block (no kv copies)
                out = F.scaled_dot_product_attention(q.reshape(batch, kv_heads, groups, dim), k, v,
                                                     attn_mask=mask, scale=scale)
            else:
                if groups > 1:
                    k = k.repeat_interleave(groups, dim=1)
                    v = v.repeat_interleave(groups, dim=1)
                out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal, scale=scale)
            out = out.reshape(batch, heads, new, dim).transpose(1, 2).reshape(batch, new, heads * dim)
            hidden = hidden + F.linear(out, layer.o_proj)
            x = _rms_norm(hidden, layer.post_attention_layernorm, eps)
            hidden = hidden + F.linear(F.silu(F.linear(x, layer.gate_proj)) * F.linear(x, layer.up_proj),
                                       layer.down_proj)
        if logits_to_keep:  # only the kept positions need the final norm and the LM head
            hidden = hidden[:, -logits_to_keep:].contiguous()
        hidden = _rms_norm(hidden, self.norm, eps)
        return CausalLMOutput(logits=F.linear(hidden, self.lm_head), cache=cache if use_cache else None)

    @staticmethod
    def _mask(attention_mask: torch.Tensor | None, batch: int, new: int, past: int,
              device: Any) -> tuple[torch.Tensor | None, bool]:
        """The boolean attention mask ``(batch, 1, new, past + new)`` (or none, with the causal flag).

        Query ``i`` (absolute index ``past + i``) sees key ``j`` when ``j <= past + i`` and ``j`` is not
        padding, and always sees itself.  Without padding the mask is left to SDPA where it can be
        (``is_causal``, or nothing for a single new token).
        """
        import torch

        total = past + new
        if attention_mask is not None and attention_mask.shape != (batch, total):
            raise ValueError(f"attention_mask of shape {tuple(attention_mask.shape)} does not cover the "
                             f"{past} cached and {new} new positions of {batch} rows")
        padded = attention_mask is not None and not bool(attention_mask.all())
        if not padded:
            if new == 1:
                return None, False
            if past == 0:
                return None, True
        query = torch.arange(new, device=device)[:, None] + past
        key = torch.arange(total, device=device)[None, :]
        mask = (key <= query)[None, None]
        if padded:
            mask = (mask & attention_mask.bool()[:, None, None, :]) | (key == query)
        return mask.expand(batch, 1, new, total), False
