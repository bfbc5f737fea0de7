"""The part of a Hugging Face tokenizer the agent uses, on the ``tokenizers`` library alone (no transformers).

:class:`FastTokenizer` reads a ``save_pretrained`` folder (``tokenizer.json``,
``tokenizer_config.json``, ``chat_template.jinja``) and behaves as
transformers' ``TokenizersBackend`` does for the calls :mod:`agent` makes:

* ``tokenizer(text_or_texts, add_special_tokens=False)["input_ids"]``;
* ``decode(ids, skip_special_tokens=True)`` (``clean_up_tokenization_spaces``
  honoured as transformers does: never on a BPE model);
* ``apply_chat_template(messages, tokenize=False, add_generation_prompt=True)``,
  rendered with jinja2 the way transformers renders it (sandboxed, trim/lstrip
  blocks, loop controls, ``raise_exception``, ``tojson``, the special tokens as
  variables);
* ``convert_tokens_to_ids``, the special tokens and their ids, ``padding_side``.

:meth:`FastTokenizer.from_folder` raises :class:`~agent.fast.config.Unsupported`
for a folder whose tokenizer transformers would change on load (special
tokens missing from ``tokenizer.json``, legacy special-token files, a tokenizer
class with its own constructor, keys it does not know), so the fast path only
takes folders it reproduces exactly.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment
from tokenizers import Tokenizer, processors

from agent.fast.config import Unsupported

SPECIAL = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
"""The named special tokens, in transformers' order (the chat template sees those that are set)."""

_CLASSES = ("TokenizersBackend", "PreTrainedTokenizerFast")
"""Tokenizer classes that take ``tokenizer.json`` as it is (others rebuild or patch it in their constructor)."""

_KNOWN = frozenset(SPECIAL) | {
    "backend", "tokenizer_class", "is_local", "local_files_only", "model_max_length", "name_or_path",
    "clean_up_tokenization_spaces", "clean_up_tokenization_spaces_for_bpe_even_though_it_will_corrupt_output",
    "added_tokens_decoder", "chat_template", "padding_side", "truncation_side", "model_input_names",
    "split_special_tokens", "add_bos_token", "add_eos_token", "extra_special_tokens",
    "additional_special_tokens", "errors", "processor_class", "add_prefix_space",
}
"""tokenizer_config.json keys whose effect :class:`FastTokenizer` reproduces (or that change nothing here)."""


def _content(value: Any) -> str | None:
    """A special token as written in tokenizer_config.json: a string or a serialized AddedToken."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return value["content"]
    raise Unsupported(f"special token {value!r} is neither a string nor an AddedToken")


def _chat_template(folder: Path, config: dict[str, Any]) -> str:
    """``chat_template.jinja``, else tokenizer_config.json's single ``chat_template`` string (transformers' order)."""
    if (folder / "additional_chat_templates").exists() or (folder / "chat_template.json").exists():
        raise Unsupported("named or legacy chat templates are not implemented by the fast path")
    path = folder / "chat_template.jinja"
    if path.is_file():
        return path.read_text(encoding="utf-8")
    template = config.get("chat_template")
    if not isinstance(template, str):
        raise Unsupported(f"{folder} has no chat template (chat_template.jinja or a chat_template string)")
    return template


def _compile(template: str) -> Any:
    """The template compiled as transformers compiles chat templates (its sandbox, filters and globals)."""
    def raise_exception(message: str) -> None:
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x: Any, ensure_ascii: bool = False, indent: Any = None, separators: Any = None,
               sort_keys: bool = False) -> str:
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format: str) -> str:
        return datetime.now().strftime(format)

    class TemplateDict:
        """``dict`` without its attributes (transformers' restricted global)."""

        def __call__(self, *args: Any, **kwargs: Any) -> dict:
            return dict(*args, **kwargs)

        def fromkeys(self, *args: Any, **kwargs: Any) -> dict:
            return dict.fromkeys(*args, **kwargs)

    class TemplateNamespace(jinja2.utils.Namespace):
        """A jinja namespace refusing underscore-prefixed attributes (transformers' restricted global)."""

        def __init__(*args: Any, **kwargs: Any) -> None:
            self, args = args[0], args[1:]
            attrs = dict(*args, **kwargs)
            for name in attrs:
                TemplateNamespace._check_name(name)
            jinja2.utils.Namespace.__init__(self, attrs)

        def __setitem__(self, name: str, value: Any) -> None:
            TemplateNamespace._check_name(name)
            jinja2.utils.Namespace.__setitem__(self, name, value)

        @staticmethod
        def _check_name(name: Any) -> None:
            if isinstance(name, str) and name.startswith("_"):
                raise jinja2.exceptions.SecurityError(
                    f"Chat templates cannot store underscore-prefixed attributes on a namespace, but got {name!r}.")

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    env.globals["dict"] = TemplateDict()
    env.globals["namespace"] = TemplateNamespace
    return env.from_string(template)


def _read_config(folder: Path) -> dict[str, Any]:
    """tokenizer_config.json, when every key in it is one :class:`FastTokenizer` reproduces."""
    try:
        config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise Unsupported(f"cannot read {folder / 'tokenizer_config.json'}: {exc}") from exc
    if not isinstance(config, dict):
        raise Unsupported(f"{folder / 'tokenizer_config.json'} is not a JSON object")
    if config.get("tokenizer_class", "TokenizersBackend") not in _CLASSES:
        raise Unsupported(f"tokenizer_class {config.get('tokenizer_class')!r} has its own constructor")
    unknown = sorted(set(config) - _KNOWN)
    if unknown:
        raise Unsupported(f"tokenizer_config keys {unknown} are not implemented by the fast path")
    for legacy in ("special_tokens_map.json", "added_tokens.json"):
        if (folder / legacy).exists():
            raise Unsupported(f"legacy {legacy} is not implemented by the fast path")
    if config.get("split_special_tokens"):
        raise Unsupported("split_special_tokens is not implemented by the fast path")
    return config


def _check_added_tokens(backend: Any, config: dict[str, Any]) -> None:
    """transformers adds the special tokens tokenizer.json lacks, and applies ``added_tokens_decoder``;
    here they must already be in tokenizer.json, as they are."""
    added = backend.get_added_tokens_decoder()
    special = {t.content for t in added.values() if t.special}
    extra = config.get("extra_special_tokens", config.get("additional_special_tokens")) or []
    if not isinstance(extra, list):
        raise Unsupported(f"extra_special_tokens {extra!r} is not a list")
    for token in [_content(config.get(n)) for n in SPECIAL] + [_content(t) for t in extra]:
        if token is not None and token not in special:
            raise Unsupported(f"special token {token!r} is not a special token of tokenizer.json")
    for index, token in (config.get("added_tokens_decoder") or {}).items():
        mine = added.get(int(index))
        if not isinstance(token, dict) or mine is None or any(
                getattr(mine, key) != token.get(key, getattr(mine, key))
                for key in ("content", "special", "lstrip", "rstrip", "normalized", "single_word")):
            raise Unsupported(f"added token {index} {token!r} differs from tokenizer.json")


def _set_post_processor(backend: Any, config: dict[str, Any]) -> None:
    """transformers' ``update_post_processor``: done when the config sets add_bos/add_eos_token or
    tokenizer.json has no post-processor (what ``add_special_tokens=True`` adds)."""
    if "add_bos_token" not in config and "add_eos_token" not in config and backend.post_processor is not None:
        return
    bos, eos = config.get("add_bos_token", False), config.get("add_eos_token", False)
    bos_t, eos_t = _content(config.get("bos_token")), _content(config.get("eos_token"))
    if bos and bos_t is None or eos and eos_t is None:
        raise Unsupported("add_bos_token/add_eos_token without the token")
    single = f"{(bos_t + ':0 ') if bos else ''}$A:0{(' ' + eos_t + ':0') if eos else ''}"
    pair = f"{single}{(' ' + bos_t + ':1') if bos else ''} $B:1{(' ' + eos_t + ':1') if eos else ''}"
    tokens = [(t, backend.token_to_id(t)) for t, on in ((bos_t, bos), (eos_t, eos)) if on]
    backend.post_processor = processors.TemplateProcessing(single=single, pair=pair, special_tokens=tokens)


class FastTokenizer:
    """A ``tokenizers.Tokenizer`` with the special tokens, chat template and decoding rules of its folder."""

    def __init__(self, backend: Any, config: dict[str, Any], chat_template: str) -> None:
        self._backend = backend
        self.chat_template = chat_template
        self._template = _compile(chat_template)
        for name in SPECIAL:
            setattr(self, name, _content(config.get(name)))
        self.padding_side: str = config.get("padding_side", "right")
        self.model_max_length = config.get("model_max_length")
        self.clean_up_tokenization_spaces = bool(config.get("clean_up_tokenization_spaces", False))
        self._force_cleanup = bool(config.get("clean_up_tokenization_spaces_for_bpe_even_though_it_will_corrupt_output"))
        self._is_bpe = type(backend.model).__name__ == "BPE"

    @classmethod
    def from_folder(cls, folder: Path) -> FastTokenizer:
        """The tokenizer of a ``save_pretrained`` folder, or :class:`Unsupported` when transformers would differ."""
        config = _read_config(folder)
        template = _chat_template(folder, config)
        try:
            backend = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except Exception as exc:  # tokenizers raises a bare Exception for a bad file
            raise Unsupported(f"cannot read {folder / 'tokenizer.json'}: {exc}") from exc
        if backend.get_vocab_size() > 100_000:
            raise Unsupported("vocabularies over 100k tokens get a pre-tokenizer patch in transformers")
        backend.no_truncation()
        backend.no_padding()
        backend.encode_special_tokens = False
        _check_added_tokens(backend, config)
        _set_post_processor(backend, config)
        try:
            return cls(backend, config, template)
        except jinja2.exceptions.TemplateSyntaxError as exc:  # e.g. transformers' own {% generation %} tag
            raise Unsupported(f"the chat template does not compile without transformers: {exc}") from exc

    # --- ids ---
    def convert_tokens_to_ids(self, tokens: str | list[str] | None) -> int | list[int] | None:
        """The id of a token (of each token of a list); unknown tokens map to the unk id, as in transformers."""
        if tokens is None:
            return None
        if isinstance(tokens, str):
            index = self._backend.token_to_id(tokens)
            return index if index is not None else self.unk_token_id
        return [self.convert_tokens_to_ids(t) for t in tokens]

    def _id(self, token: str | None) -> int | None:
        return None if token is None else self.convert_tokens_to_ids(token)

    @property
    def bos_token_id(self) -> int | None:
        return self._id(self.bos_token)

    @property
    def eos_token_id(self) -> int | None:
        return self._id(self.eos_token)

    @property
    def unk_token_id(self) -> int | None:
        return None if self.unk_token is None else self._backend.token_to_id(self.unk_token)

    @property
    def pad_token_id(self) -> int | None:
        return self._id(self.pad_token)

    @property
    def special_tokens_map(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in SPECIAL if getattr(self, name) is not None}

    def __len__(self) -> int:
        return self._backend.get_vocab_size(with_added_tokens=True)

    # --- text <-> ids ---
    def __call__(self, text: str | list[str], add_special_tokens: bool = True) -> dict[str, Any]:
        """``{"input_ids", "attention_mask"}`` of a text (lists) or of each text of a list (lists of lists)."""
        batched = isinstance(text, (list, tuple))
        if batched and not all(isinstance(t, str) for t in text) or not batched and not isinstance(text, str):
            raise TypeError(f"text must be a str or a list of str, not {type(text).__name__}")
        encodings = self._backend.encode_batch(list(text) if batched else [text], add_special_tokens=add_special_tokens)
        ids = [e.ids for e in encodings]
        masks = [e.attention_mask for e in encodings]
        return {"input_ids": ids, "attention_mask": masks} if batched else \
            {"input_ids": ids[0], "attention_mask": masks[0]}

    def decode(self, token_ids: Any, skip_special_tokens: bool = False) -> str:
        if hasattr(token_ids, "tolist"):
            token_ids = token_ids.tolist()
        if isinstance(token_ids, int):
            token_ids = [token_ids]
        text = self._backend.decode(list(token_ids), skip_special_tokens=skip_special_tokens)
        if self.clean_up_tokenization_spaces and (not self._is_bpe or self._force_cleanup):
            for before, after in ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"),
                                  (" n't", "n't"), (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")):
                text = text.replace(before, after)
        return text

    def apply_chat_template(self, conversation: list[dict[str, Any]], tokenize: bool = True,
                            add_generation_prompt: bool = False) -> str | list[int]:
        """The conversation rendered with the model's chat template (token ids when ``tokenize``)."""
        if not conversation:
            raise ValueError("Cannot apply chat template to an empty conversation. Provide at least one message.")
        messages = []
        for message in conversation:
            if not isinstance(message, dict):
                raise TypeError(f"Chat messages should be dicts, but got {message!r}.")
            messages.append({k: v for k, v in message.items() if v is not None})
        text = self._template.render(messages=messages, tools=None, documents=None,
                                     add_generation_prompt=add_generation_prompt, **self.special_tokens_map)
        return self(text, add_special_tokens=False)["input_ids"] if tokenize else text
