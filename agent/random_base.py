"""Random-weight base models of real architectures, saved as local model folders.

No model hub is reachable here, so the ``--base-model`` path (load, train an
adapter, plan, offload) is proven on folders made locally: a model of the
right family and shape with random weights, and a byte-level BPE tokenizer
trained on the repository's own requests, carrying the family's special
tokens and chat template.  The tests use tiny ones; ``bench/base_model.py``
times a TinyLlama-1.1B-shaped one.  Random weights say nothing about plan
quality: only about loading, shapes, templates and speed.  The agent itself
never imports this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from agent.prompt import SYSTEM_PROMPT
from harness.paths import data_dir

Family = Literal["llama", "qwen2"]

ZEPHYR_TEMPLATE = (
    "{% for message in messages %}\n"
    "{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n"
    "{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n"
    "{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n"
    "{% endif %}\n"
    "{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n"
    "{% endfor %}"
)
"""TinyLlama-1.1B-Chat-v1.0's chat template (zephyr style: ``<|user|>`` ... ``</s>``)."""

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
"""The ChatML turns Qwen2-Instruct's template writes (without its default system prompt and tools)."""

# family -> (special tokens, bos, eos, chat template)
_TOKENS: dict[str, tuple[list[str], str | None, str, str]] = {
    "llama": (["<unk>", "<s>", "</s>"], "<s>", "</s>", ZEPHYR_TEMPLATE),
    "qwen2": (["<|endoftext|>", "<|im_start|>", "<|im_end|>"], None, "<|im_end|>", CHATML_TEMPLATE),
}


@dataclass(frozen=True)
class RandomBase:
    """The shape of a random-weight base model."""

    family: Family
    """``llama`` (TinyLlama's architecture and zephyr chat template) or ``qwen2`` (ChatML)."""
    layers: int = 2
    """Decoder layers."""
    hidden: int = 64
    """Width of the residual stream."""
    intermediate: int = 128
    """Width of the MLP."""
    heads: int = 4
    """Query heads."""
    kv_heads: int = 2
    """Key/value heads (grouped-query attention when fewer than ``heads``)."""
    vocab: int = 1024
    """Rows of the embedding; the tokenizer is trained to at most this many tokens."""
    max_positions: int = 2048
    """Context length the config declares (the agent's prompt budget)."""
    chat_template: bool = True
    """False: the tokenizer has no chat template (to test the error a base without one gets)."""
    corpus: tuple[str, ...] = ("cli_qa.jsonl",)
    """JSONL files of ``data/`` whose prompts and completions the tokenizer is trained on."""

    def parameters(self) -> int:
        """Weights in the model (embedding and LM head untied)."""
        head_dim = self.hidden // self.heads
        attention = self.hidden * head_dim * (2 * self.heads + 2 * self.kv_heads)
        mlp = 3 * self.hidden * self.intermediate
        return self.layers * (attention + mlp + 2 * self.hidden) + 2 * self.vocab * self.hidden + self.hidden


TINYLLAMA_1B = RandomBase("llama", layers=22, hidden=2048, intermediate=5632, heads=32, kv_heads=4, vocab=32000,
                          corpus=("cli_qa.jsonl", "external.jsonl"))
"""TinyLlama-1.1B-Chat-v1.0's shape (1.1 B weights).  Its tokenizer learns ~10,700 tokens from both files
(TinyLlama's has 32,000), so a prompt takes somewhat more tokens than with the real one."""


def corpus(files: tuple[str, ...] = ("cli_qa.jsonl",)) -> list[str]:
    """Text the tokenizer is trained on: the system prompt and the requests and plans of ``files`` (in ``data/``)."""
    texts = [SYSTEM_PROMPT]
    for name in files:
        for line in (data_dir() / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                texts += [row["prompt"], row["completion"]]
    return texts


def build_tokenizer(family: Family, vocab: int, chat_template: bool = True,
                    files: tuple[str, ...] = ("cli_qa.jsonl",)) -> Any:
    """A byte-level BPE tokenizer (any text round-trips) with the family's special tokens and chat template."""
    from transformers import PreTrainedTokenizerFast

    specials, bos, eos, template = _TOKENS[family]
    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab, special_tokens=specials, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    backend.train_from_iterator(corpus(files), trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, bos_token=bos, eos_token=eos,
                                        unk_token="<unk>" if family == "llama" else None,
                                        pad_token="<|endoftext|>" if family == "qwen2" else None)
    if chat_template:
        tokenizer.chat_template = template
    return tokenizer


def _config(spec: RandomBase, tokenizer: Any) -> Any:
    from transformers import LlamaConfig, Qwen2Config

    common = dict(vocab_size=spec.vocab, hidden_size=spec.hidden, intermediate_size=spec.intermediate,
                  num_hidden_layers=spec.layers, num_attention_heads=spec.heads, num_key_value_heads=spec.kv_heads,
                  max_position_embeddings=spec.max_positions, tie_word_embeddings=False,
                  eos_token_id=tokenizer.eos_token_id)
    if spec.family == "llama":
        return LlamaConfig(bos_token_id=tokenizer.bos_token_id, rms_norm_eps=1e-5, **common)
    return Qwen2Config(rms_norm_eps=1e-6, **common)


def save_random_base(spec: RandomBase, folder: Path | str, seed: int = 0, dtype: str = "float32") -> Path:
    """Save a random-weight model of ``spec`` with its tokenizer to ``folder`` (``save_pretrained``); returns it."""
    import torch
    from transformers import AutoModelForCausalLM

    folder = Path(folder)
    tokenizer = build_tokenizer(spec.family, spec.vocab, spec.chat_template, spec.corpus)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(_config(spec, tokenizer), dtype=getattr(torch, dtype))
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
