"""What the fast path supports, read from a model folder's ``config.json``: exactly Llama, nothing else.

:func:`read_spec` turns a ``save_pretrained`` config into a :class:`LlamaSpec`
or raises :class:`Unsupported` naming the first thing the fast decoder does
not implement (another architecture, rope scaling, a quantization config,
biases, an unknown key...).  The loader then leaves the folder to transformers,
so an unsupported model is slower, never wrong.  Imports nothing heavy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import ModelError


class Unsupported(ModelError):
    """The folder holds something the fast path does not implement exactly; transformers loads it instead."""


# Keys of a Llama config.json that do not change what inference computes (bookkeeping, training, generation).
_INERT = frozenset({
    "architectures", "model_type", "transformers_version", "_name_or_path", "_model_name_or_path", "dtype",
    "torch_dtype", "bos_token_id", "eos_token_id", "pad_token_id", "unk_token_id", "initializer_range",
    "use_cache", "attention_dropout", "output_attentions", "output_hidden_states", "return_dict",
    "tie_word_embeddings", "max_position_embeddings", "pretraining_tp", "id2label", "label2id",
    "problem_type", "chunk_size_feed_forward", "is_encoder_decoder", "tokenizer_class", "task_specific_params",
    "finetuning_task", "_attn_implementation", "_attn_implementation_autoset",
})
# Keys that define the computation, checked below.
_SHAPE = frozenset({
    "hidden_size", "intermediate_size", "num_attention_heads", "num_key_value_heads", "num_hidden_layers",
    "head_dim", "vocab_size", "rms_norm_eps", "hidden_act", "attention_bias", "mlp_bias", "rope_parameters",
    "rope_theta", "rope_scaling",
})


@dataclass(frozen=True)
class LlamaSpec:
    """The shape of a Llama decoder, as the fast path computes it (float32, CPU)."""

    hidden_size: int
    """Width of the residual stream."""
    intermediate_size: int
    """Width of the SiLU MLP."""
    num_attention_heads: int
    """Query heads."""
    num_key_value_heads: int
    """Key/value heads (grouped-query attention when fewer than the query heads)."""
    num_hidden_layers: int
    """Decoder layers."""
    head_dim: int
    """Width of one attention head."""
    vocab_size: int
    """Rows of the embedding (and of the LM head)."""
    rms_norm_eps: float
    """Epsilon inside every RMSNorm."""
    rope_theta: float
    """Base of the rotary embedding frequencies (``rope_type: default``, no scaling)."""
    tie_word_embeddings: bool
    """The LM head is the embedding matrix (no ``lm_head.weight`` in the checkpoint)."""
    max_position_embeddings: int
    """Positions the model was trained for: the agent's context limit."""

    def weight_shapes(self) -> dict[str, tuple[int, ...]]:
        """Every tensor the checkpoint must hold, by its ``save_pretrained`` name, and its shape."""
        h, d = self.hidden_size, self.head_dim
        shapes: dict[str, tuple[int, ...]] = {"model.embed_tokens.weight": (self.vocab_size, h),
                                              "model.norm.weight": (h,)}
        if not self.tie_word_embeddings:
            shapes["lm_head.weight"] = (self.vocab_size, h)
        for i in range(self.num_hidden_layers):
            p = f"model.layers.{i}."
            shapes.update({
                p + "input_layernorm.weight": (h,),
                p + "post_attention_layernorm.weight": (h,),
                p + "self_attn.q_proj.weight": (self.num_attention_heads * d, h),
                p + "self_attn.k_proj.weight": (self.num_key_value_heads * d, h),
                p + "self_attn.v_proj.weight": (self.num_key_value_heads * d, h),
                p + "self_attn.o_proj.weight": (h, self.num_attention_heads * d),
                p + "mlp.gate_proj.weight": (self.intermediate_size, h),
                p + "mlp.up_proj.weight": (self.intermediate_size, h),
                p + "mlp.down_proj.weight": (h, self.intermediate_size),
            })
        return shapes


def _int(config: dict[str, Any], key: str) -> int:
    value = config.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise Unsupported(f"config {key}={value!r} is not a positive integer")
    return value


def _rope_theta(config: dict[str, Any]) -> float:
    """``rope_parameters`` (transformers 5) or the legacy ``rope_theta``; only the default rope, unscaled."""
    params = config.get("rope_parameters")
    if params is not None:
        if not isinstance(params, dict) or set(params) != {"rope_type", "rope_theta"}:
            raise Unsupported(f"rope_parameters {params!r}: only {{rope_type: default, rope_theta}} is implemented")
        if params["rope_type"] != "default":
            raise Unsupported(f"rope_type {params['rope_type']!r}: only the default rope is implemented")
        theta = params["rope_theta"]
        if config.get("rope_theta", theta) != theta:
            raise Unsupported(f"rope_theta {config['rope_theta']!r} disagrees with rope_parameters {params!r}")
    else:
        theta = config.get("rope_theta", 10000.0)
    if config.get("rope_scaling") is not None:
        raise Unsupported(f"rope_scaling {config['rope_scaling']!r}: only the default rope is implemented")
    if not isinstance(theta, (int, float)) or isinstance(theta, bool) or theta <= 0:
        raise Unsupported(f"rope_theta {theta!r} is not a positive number")
    return float(theta)


def parse_spec(config: dict[str, Any]) -> LlamaSpec:
    """The :class:`LlamaSpec` of a ``config.json`` dict, or :class:`Unsupported` saying why not."""
    if config.get("architectures") != ["LlamaForCausalLM"] or config.get("model_type") != "llama":
        raise Unsupported(f"architecture {config.get('architectures')!r} ({config.get('model_type')!r}): "
                          "the fast path implements LlamaForCausalLM only")
    unknown = sorted(set(config) - _INERT - _SHAPE)
    if unknown:
        raise Unsupported(f"config keys {unknown} are not implemented by the fast path")
    if config.get("hidden_act", "silu") != "silu":
        raise Unsupported(f"hidden_act {config['hidden_act']!r}: only silu is implemented")
    for key in ("attention_bias", "mlp_bias"):
        if config.get(key, False):
            raise Unsupported(f"{key}: biases are not implemented by the fast path")
    if config.get("pretraining_tp", 1) != 1:
        raise Unsupported(f"pretraining_tp {config['pretraining_tp']!r}: only 1 is implemented")
    heads = _int(config, "num_attention_heads")
    kv_heads = _int(config, "num_key_value_heads") if config.get("num_key_value_heads") is not None else heads
    hidden = _int(config, "hidden_size")
    head_dim = _int(config, "head_dim") if config.get("head_dim") is not None else hidden // heads
    if heads % kv_heads or head_dim % 2:
        raise Unsupported(f"{heads} query heads over {kv_heads} kv heads of width {head_dim} do not group evenly")
    eps = config.get("rms_norm_eps", 1e-6)
    if not isinstance(eps, (int, float)) or isinstance(eps, bool) or eps <= 0:
        raise Unsupported(f"rms_norm_eps {eps!r} is not a positive number")
    return LlamaSpec(
        hidden_size=hidden,
        intermediate_size=_int(config, "intermediate_size"),
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        num_hidden_layers=_int(config, "num_hidden_layers"),
        head_dim=head_dim,
        vocab_size=_int(config, "vocab_size"),
        rms_norm_eps=float(eps),
        rope_theta=_rope_theta(config),
        tie_word_embeddings=bool(config.get("tie_word_embeddings", False)),  # LlamaConfig's default
        max_position_embeddings=_int(config, "max_position_embeddings")
        if config.get("max_position_embeddings") is not None else 2048,
    )


def read_spec(folder: Path) -> LlamaSpec:
    """:func:`parse_spec` of ``folder/config.json``."""
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise Unsupported(f"cannot read {folder / 'config.json'}: {exc}") from exc
    if not isinstance(config, dict):
        raise Unsupported(f"{folder / 'config.json'} is not a JSON object")
    if config.get("quantization_config") is not None:
        raise Unsupported("a quantized checkpoint (quantization_config) is not implemented by the fast path")
    return parse_spec(config)
