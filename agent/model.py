"""The one place that yields ``(tokenizer, model)`` for the agent and for training.

The base comes from :mod:`agent.base` (the embedded SmolLM2-135M-Instruct,
converted once from its GGUF and cached; a hub id; a local folder), the
adapter from :mod:`agent.adapter` (explicit, ``./lora_adapter``, or the one
Fenrir ships), after checking it was trained on this base.

Optionally the base is quantized to 4-bit NF4 (bitsandbytes), or loaded with
the layers that do not fit a memory budget left on disk (:mod:`agent.offload`),
and a PEFT LoRA adapter is applied on top.  Prompts are written with the
base's own chat template: a tokenizer without one is refused.  On a
full-precision base the adapter is merged into the weights, and the merged
model is cached under ``cache_dir("merged")`` keyed by (base revision,
adapter sha256, dtype): later loads read it as a plain checkpoint, without
importing peft or merging again (the default agent loads in ~0.2 s instead
of ~1.6 s).

For inference (``fast=True``: the agent's callers) an unquantized Llama on
CPU, alone or with its merge cached, is loaded by :mod:`agent.fast` on numpy,
without importing torch or transformers at all (a new ``fenrir`` process:
~0.4 s for imports and load instead of ~3 s).  The sha256 of the GGUF and of the adapter's
files are remembered across processes (:mod:`agent.digest`).

Heavy imports (torch, transformers, peft, bitsandbytes) happen inside the
functions so that importing :mod:`agent` stays cheap.
"""

from __future__ import annotations

import logging
import os
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Literal

from agent.adapter import adapter_sha256, check_adapter_base, mark_used, merged_cache_dir, prune_merged, resolve_adapter
from agent.cpu import apply_torch_threads, cuda_available
from agent.base import quiet_progress, resolve_base, save_atomically
from agent.fast import load_fast
from agent.fast.promptcache import attach as attach_prompt_cache
from agent.merge import merge_into_cache
from agent.offload import Offload, execution_device, load_kwargs, offloaded_modules, quiet_offload, resolve_offload
from harness.errors import ModelError
from harness.paths import cache_dir

Quantize = Literal["none", "4bit"]
Implementation = Literal["transformers", "fast"]


@dataclass(frozen=True)
class LoadedModel:
    """A ready-to-generate model and everything a trace needs to name it."""

    tokenizer: Any
    """The Hugging Face tokenizer, or :class:`agent.fast.FastTokenizer` (padding side left, pad token set)."""
    model: Any
    """The causal LM in eval mode: the adapter merged into its weights, or a ``PeftModel``
    wrapping the base when the adapter is kept apart (4-bit base, or ``merge=False``), or
    :class:`agent.fast.FastLlama` (``implementation == "fast"``)."""
    base_model_id: str
    """``EMBEDDED_ID`` for the embedded model, else the hub id or local path."""
    revision: str
    """Content identity of the base: ``sha256:<hex>`` of the GGUF, or the hub commit."""
    adapter_sha256: str | None
    """sha256 over the adapter folder's files, or ``None`` without an adapter."""
    adapter_path: str | None
    """The adapter folder that was applied, or ``None``."""
    quantized: bool
    """True when the base weights are 4-bit NF4 (bitsandbytes)."""
    merged: bool = False
    """True when the adapter's LoRA deltas were added into the base weights (inference only)."""
    implementation: Implementation = "transformers"
    """What runs the model: ``transformers`` (a ``PreTrainedModel``/``PeftModel`` and its tokenizer), or
    ``fast`` (:mod:`agent.fast`: inference only, no transformers imported)."""
    offloaded: tuple[str, ...] = ()
    """Modules whose weights stay on disk and are read in at every forward (:mod:`agent.offload`);
    empty when the whole model is in memory."""

    @property
    def device(self) -> Any:
        """Where inputs go (the CPU or GPU 0; an offloaded model's weights may be on the meta device)."""
        return execution_device(self.model)


def resolve_quantize(requested: str | None, cuda: bool) -> Quantize:
    """The quantization a load uses: what was asked for, else 4bit on CUDA and none on CPU."""
    if requested is None:
        return "4bit" if cuda else "none"
    if requested not in ("none", "4bit"):
        raise ModelError(f"quantize {requested!r}: choose none or 4bit")
    return requested  # type: ignore[return-value]


def quantization_config(quantize: Quantize, cuda: bool) -> Any:
    """The bitsandbytes config for ``quantize`` (``None`` for full precision)."""
    if quantize == "none":
        return None
    import torch
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16 if cuda else torch.float32,
    )


def _disable_avx512bf16_repack(model: Any) -> None:
    """Keep bitsandbytes from repacking 4-bit weights on AVX512-BF16 CPUs.

    After a no-grad forward, ``Linear4bit`` repacks its weights into a CPU
    kernel layout and LoRA training then silently gets no gradients.
    """
    import bitsandbytes as bnb

    for module in model.modules():
        if isinstance(module, bnb.nn.Linear4bit):
            module.support_avx512bf16_for_cpu = False


@contextmanager
def quiet_libraries() -> Iterator[None]:
    """Silence library notices that ask nothing of a Fenrir user, around model loading and peft calls.

    bitsandbytes logs on import that its optional ``kernels`` package is missing
    (its own CPU fallback is what runs, and on AVX512-BF16 CPUs we switch that
    path off anyway; that logger stays at ERROR for the rest of the process);
    peft still reads transformers' ``is_gradient_checkpointing``, which warns
    that it was renamed (silenced only inside the block).
    """
    logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning)
        yield


def load_model(
    base_model: str | None = None,
    adapter: str | Path | None = None,
    quantize: Quantize | None = None,
    use_adapter: bool = True,
    merge: bool = True,
    fast: bool = False,
    offload: str | Path | None = None,
    max_memory: str | None = None,
) -> LoadedModel:
    """Load tokenizer + model (+ adapter).  ``quantize=None`` means 4bit on CUDA, none on CPU.

    With ``merge`` (the default) an adapter on a full-precision base is merged
    into the weights (``merge_and_unload``): the same function, without the
    extra LoRA matmuls on every forward.  A 4-bit base keeps the adapter
    apart (merging would re-quantize the deltas away); pass ``merge=False``
    for the ``PeftModel`` itself.

    ``fast`` asks for a model to generate with, not to train: an unquantized
    base on CPU, alone or with its adapter's merge already cached, is then
    loaded by :mod:`agent.fast` (no torch, transformers, peft or bitsandbytes
    imported where the machine has no GPU device; ``implementation == "fast"``).  Anything the fast path does not
    reproduce exactly, and the first load with a new adapter (which merges it
    with peft and caches the merge), goes through transformers as without it.
    Training and anything that needs a ``PreTrainedModel`` leave it off;
    ``FENRIR_FAST=0`` in the environment turns it off everywhere.

    ``offload`` (a folder) and/or ``max_memory`` (a size, e.g. ``2GiB``) load a
    base that may not fit in memory with accelerate's disk offload
    (:mod:`agent.offload`): always through transformers, an adapter merged on
    disk one tensor at a time (:mod:`agent.merge`) into the merge cache, never
    with a 4-bit base.
    """
    # the default adapter belongs to the embedded base: another --base-model gets none implicitly
    implicit_ok = adapter is not None or base_model is None
    adapter_path = resolve_adapter(adapter) if use_adapter and implicit_ok else None
    source, base_id, revision = resolve_base(base_model)
    if adapter_path is not None:
        check_adapter_base(adapter_path, base_id)
    cuda = cuda_available()  # without importing torch where the machine has no GPU device at all
    quantize = resolve_quantize(quantize, cuda)
    low_memory = resolve_offload(offload, max_memory, revision)
    if low_memory is not None and quantize == "4bit":
        raise ModelError("--quantize 4bit cannot be combined with --offload/--max-memory (bitsandbytes' 4-bit "
                         "weights cannot be offloaded to disk); use 4-bit alone, or offload the unquantized base")
    dtype = "torch.bfloat16" if cuda else "torch.float32"  # torch's names: torch is imported only off the fast path
    # A merged adapter is cached as a plain checkpoint: later loads skip peft and the merge.
    adapter_digest = adapter_sha256(adapter_path) if adapter_path is not None else None
    merged_dir = None
    if adapter_digest is not None and merge and quantize == "none":
        merged_dir = merged_cache_dir(revision, adapter_digest, dtype)
    cached = merged_dir is not None and (merged_dir / "fenrir-source.json").is_file()
    if low_memory is not None and adapter_path is not None:
        if merged_dir is None:
            raise ModelError("an offloaded base takes its adapter merged: leave merge on, or drop --offload/--max-memory")
        if not cached:  # peft's merge needs every weight in memory at once: merge on disk, tensor by tensor
            merge_into_cache(Path(source), adapter_path, merged_dir, _torch_dtype(dtype),
                             {"base": base_id, "revision": revision, "adapter": str(adapter_path),
                              "adapter_sha256": adapter_digest or ""})
            prune_merged(merged_dir)
            cached = True
    identity = {"base_model_id": base_id, "revision": revision, "adapter_sha256": adapter_digest,
                "adapter_path": str(adapter_path) if adapter_path is not None else None,
                "quantized": quantize != "none", "merged": merged_dir is not None}
    fast = fast and os.environ.get("FENRIR_FAST", "1") != "0"
    if fast and not cuda and quantize == "none" and (adapter_path is None or cached) and low_memory is None:
        pair = load_fast(merged_dir if cached else source)
        if pair is not None:
            tokenizer, model = pair
            tokenizer.padding_side = "left"
            if tokenizer.pad_token is None:
                tokenizer.pad_token = tokenizer.eos_token
            if cached:
                mark_used(merged_dir)
            attach_prompt_cache(model, revision, adapter_digest, cache_dir("prompts"))
            return LoadedModel(tokenizer=tokenizer, model=model, implementation="fast", **identity)
    tokenizer, model = _load_with_transformers(source, base_id, revision, adapter_path, adapter_digest, quantize,
                                               cuda, _torch_dtype(dtype), merged_dir, cached, low_memory)
    return LoadedModel(tokenizer=tokenizer, model=model, offloaded=offloaded_modules(model), **identity)


def _torch_dtype(name: str) -> Any:
    """The torch dtype named ``name`` (``torch.float32``), importing torch (with the threads
    :func:`agent.cpu.configure_threads` chose)."""
    import torch

    apply_torch_threads()
    return getattr(torch, name.removeprefix("torch."))


def check_chat_template(tokenizer: Any, base_id: str, source: str) -> None:
    """Refuse a base whose tokenizer has no chat template: the agent and training prompt through it."""
    if getattr(tokenizer, "chat_template", None):
        return
    raise ModelError(
        f"base model {base_id!r} has no chat template (its tokenizer in {source} sets none), and Fenrir writes "
        "every prompt with the model's own template. Use the model's chat/instruct variant, or add one: a "
        f"chat_template.jinja file in {source} (or a \"chat_template\" string in its tokenizer_config.json)")


def _load_with_transformers(source: str, base_id: str, revision: str, adapter_path: Path | None,
                            adapter_digest: str | None, quantize: Quantize, cuda: bool, dtype: Any,
                            merged_dir: Path | None, cached: bool, offload: Offload | None = None) -> tuple[Any, Any]:
    """The tokenizer and model through transformers (and peft for an adapter not merged yet)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kwargs: dict[str, Any] = {"local_files_only": True}
    bnb = quantization_config(quantize, cuda)
    if bnb is not None:
        kwargs["quantization_config"] = bnb
        kwargs["device_map"] = {"": 0} if cuda else {"": "cpu"}
    else:
        kwargs["dtype"] = dtype
        if offload is not None:
            kwargs.update(load_kwargs(offload, cuda))
        elif cuda:
            kwargs["device_map"] = {"": 0}
    try:
        with quiet_progress(), quiet_libraries():
            tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
    except (OSError, ValueError, ImportError) as exc:
        raise ModelError(f"cannot load the tokenizer of base model {base_id!r} from {source}: {exc}") from exc
    check_chat_template(tokenizer, base_id, source)
    try:
        with quiet_progress(), quiet_libraries(), quiet_offload():
            model = AutoModelForCausalLM.from_pretrained(merged_dir if cached else source, **kwargs)
    except (OSError, ValueError, ImportError) as exc:
        raise ModelError(f"cannot load base model {base_id!r} from {source}: {exc}") from exc
    if bnb is not None:
        _disable_avx512bf16_repack(model)
    model.config._name_or_path = base_id  # what PEFT records as base_model_name_or_path
    model.name_or_path = base_id
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if adapter_path is not None and not cached:
        try:
            with quiet_libraries():
                from peft import PeftModel

                model = PeftModel.from_pretrained(model, str(adapter_path))
        except (OSError, ValueError, RuntimeError) as exc:
            raise ModelError(f"cannot apply adapter {adapter_path}: {exc}") from exc
        if merged_dir is not None:
            model = model.merge_and_unload()
            try:
                save_atomically(model, tokenizer, merged_dir,
                                 {"base": base_id, "revision": revision, "adapter": str(adapter_path),
                                  "adapter_sha256": adapter_digest})
                prune_merged(merged_dir)
            except OSError:  # a read-only cache only costs the next load its merge
                pass
    elif cached:
        mark_used(merged_dir)
    model.eval()
    return tokenizer, model
