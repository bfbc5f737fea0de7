"""``TrainConfig``: every knob of a LoRA training run, from YAML and/or CLI flags.

The dataclass is the single source of truth (as in trl's ``ModelConfig``):
each field's ``metadata["help"]`` becomes the help of a ``fenrir train``
flag (see :mod:`harness.cli.train`), ``training/default.yaml`` sets the chosen
values, and flags override the YAML.  Unknown YAML keys are an error naming
the key, never silently ignored.  ``__post_init__`` checks ranges and paths.

The dataclass defaults are the prototype's documented starting point (AdamW
betas 0.9/0.98, constant LR 1.5e-4, LoRA rank 8 on the attention
projections); ``training/default.yaml`` holds the settings chosen by
measurement (see the comments there).

Pure factories: :func:`get_peft_config` (the ``peft.LoraConfig``) and
:func:`get_quantization_config` (delegating to :mod:`agent.model`).
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from agent.adapter import DEFAULT_ADAPTER_DIR
from agent.model import quantization_config, resolve_quantize
from harness.errors import TrainingError

QUANTIZE_CHOICES = ("none", "4bit")
DTYPE_CHOICES = ("auto", "float32", "bfloat16")
SCHEDULE_CHOICES = ("constant", "linear", "cosine")
ATTENTION = ("q_proj", "k_proj", "v_proj", "o_proj")


def _opt(default: Any, help: str, **extra: Any) -> Any:
    """A dataclass field whose help text becomes the CLI flag's help."""
    meta = {"help": help, **extra}
    if isinstance(default, (list, tuple)):
        return field(default=tuple(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class TrainConfig:
    """A LoRA (or 4-bit qLoRA) fine-tuning run of the agent's model on prompt/completion rows."""

    # --- data and output
    data: tuple[str, ...] = _opt(("data/cli_qa.jsonl",), "Training rows: JSONL files (prompt, completion, category, "
                                                         "fixture), comma-separated.")
    output: str = _opt(DEFAULT_ADAPTER_DIR, "Folder for the PEFT adapter, manifest.json and loss.jsonl.")
    eval_data: str | None = _opt(None, "Optional held-out rows: eval loss and greedy exact-match at the end.")
    listings: str | None = _opt(None, "Fixture listings (data/listings.json): each row's prompt starts with the "
                                      "listing of its fixture, as the agent is grounded. Unset: no listings.")
    no_context_share: float = _opt(0.0, "Share of rows trained without their listing (as fenrir --no-context asks).")
    # --- model
    base_model: str | None = _opt(None, "Base model id or local folder (default: the embedded SmolLM2-135M).")
    quantize: str | None = _opt(None, "Base weights: none or 4bit (NF4 qLoRA). Default: 4bit on CUDA, none on CPU.",
                                choices=QUANTIZE_CHOICES)
    dtype: str | None = _opt(None, "Compute dtype of the (unquantized) base weights: float32, bfloat16, or auto "
                                   "(bfloat16 where the device does it in hardware: CUDA, or a CPU with AVX512-BF16 "
                                   "or AMX; float32 elsewhere). LoRA weights and the optimizer stay float32. "
                                   "Default: float32 on CPU, bfloat16 on CUDA.",
                             choices=DTYPE_CHOICES)
    # --- LoRA
    lora_r: int = _opt(8, "LoRA rank.")
    lora_alpha: float = _opt(16.0, "LoRA alpha (the update is scaled by alpha / rank).")
    lora_dropout: float = _opt(0.05, "Dropout on the LoRA input during training.")
    target_modules: tuple[str, ...] = _opt(ATTENTION, "Comma-separated module names that get LoRA adapters.")
    # --- optimisation
    learning_rate: float = _opt(1.5e-4, "AdamW peak learning rate (reached after the warmup).")
    lr_schedule: str = _opt("constant", "After the warmup: constant (the prototype's), or linear / cosine decay to 0 "
                                        "at the last step (transformers' schedulers).", choices=SCHEDULE_CHOICES)
    betas: tuple[float, float] = _opt((0.9, 0.98), "AdamW betas, comma-separated.")
    weight_decay: float = _opt(0.0, "AdamW weight decay (LoRA weights only).")
    warmup_steps: int = _opt(0, "Linear warmup from 0 to the learning rate over this many optimizer steps.")
    batch_size: int = _opt(8, "Rows per micro-batch.")
    grad_accum: int = _opt(1, "Micro-batches per optimizer step.")
    max_steps: int | None = _opt(None, "Optimizer steps; when set it wins over epochs (the prototype ran 6).")
    epochs: float | None = _opt(1.0, "Passes over the data, rounded up to whole steps (used when max_steps is unset).")
    max_length: int = _opt(256, "Truncate each row (prompt + completion tokens) to this length.")
    prefix_grad: bool = _opt(True, "Backpropagate through the batch's shared prefix (system prompt + listing); "
                                   "off: its keys and values are computed without gradients (cheaper).")
    padding_free: bool = _opt(True, "Lay a batch's rows end to end after the shared prefix under a block mask "
                                    "instead of padding them to one width: the same loss, about half the work "
                                    "on grounded rows (training.loss).")
    # --- run
    seed: int = _opt(0, "Seed for the LoRA init, shuffling and dropout.")
    threads: int | None = _opt(None, "torch CPU threads (default: torch's own choice).")
    log_every: int = _opt(10, "Print the loss every N optimizer steps (every step goes to loss.jsonl).")
    save_every: int = _opt(50, "Write a checkpoint (OUTPUT/checkpoint.pt) every N optimizer steps, for "
                               "fenrir train --resume; 0: never. A finished run deletes it.")
    eval_max_new_tokens: int = _opt(96, "Generation budget for the held-out exact-match check.")

    def __post_init__(self) -> None:
        def bad(name: str, why: str) -> TrainingError:
            return TrainingError(f"training config: {name} {why}")

        if isinstance(self.data, (str, Path)):  # one file, or "a.jsonl,b.jsonl", given directly
            object.__setattr__(self, "data", tuple(p.strip() for p in str(self.data).split(",") if p.strip()))

        for name in ("lora_r", "batch_size", "grad_accum", "max_length", "log_every", "eval_max_new_tokens"):
            if getattr(self, name) < 1:
                raise bad(name, f"must be >= 1, got {getattr(self, name)}")
        if self.max_length < 32:
            raise bad("max_length", f"must be >= 32 (the system prompt alone is ~90 tokens), got {self.max_length}")
        if self.lora_alpha <= 0:
            raise bad("lora_alpha", f"must be > 0, got {self.lora_alpha}")
        if not 0.0 <= self.lora_dropout < 1.0:
            raise bad("lora_dropout", f"must be in [0, 1), got {self.lora_dropout}")
        if not 0.0 < self.learning_rate <= 1.0:
            raise bad("learning_rate", f"must be in (0, 1], got {self.learning_rate}")
        if len(self.betas) != 2 or not all(0.0 <= b < 1.0 for b in self.betas):
            raise bad("betas", f"must be two numbers in [0, 1), got {self.betas}")
        if self.weight_decay < 0:
            raise bad("weight_decay", f"must be >= 0, got {self.weight_decay}")
        if self.lr_schedule not in SCHEDULE_CHOICES:
            raise bad("lr_schedule", f"must be one of {', '.join(SCHEDULE_CHOICES)}, got {self.lr_schedule!r}")
        if self.warmup_steps < 0:
            raise bad("warmup_steps", f"must be >= 0, got {self.warmup_steps}")
        if self.max_steps is None and self.epochs is None:
            raise bad("max_steps", "or epochs must be set")
        if self.max_steps is not None and self.max_steps < 1:
            raise bad("max_steps", f"must be >= 1, got {self.max_steps}")
        if self.epochs is not None and self.epochs <= 0:
            raise bad("epochs", f"must be > 0, got {self.epochs}")
        if self.save_every < 0:
            raise bad("save_every", f"must be >= 0 (0: no checkpoints), got {self.save_every}")
        if self.threads is not None and self.threads < 1:
            raise bad("threads", f"must be >= 1, got {self.threads}")
        if self.quantize is not None and self.quantize not in QUANTIZE_CHOICES:
            raise bad("quantize", f"must be one of {', '.join(QUANTIZE_CHOICES)}, got {self.quantize!r}")
        if self.dtype is not None and self.dtype not in DTYPE_CHOICES:
            raise bad("dtype", f"must be one of {', '.join(DTYPE_CHOICES)}, got {self.dtype!r}")
        if self.dtype == "bfloat16" and self.quantize == "4bit":
            raise bad("dtype", "bfloat16 applies to an unquantized base; with --quantize 4bit leave it unset")
        if not self.target_modules or not all(m.strip() for m in self.target_modules):
            raise bad("target_modules", f"must name at least one module, got {self.target_modules}")
        if not self.data:
            raise bad("data", "must name at least one JSONL file")
        for path in self.data:
            if not Path(path).is_file():
                raise TrainingError(f"training data {path} not found (set data: in the config or pass --data)")
        if self.listings is not None and not Path(self.listings).is_file():
            raise TrainingError(f"listings {self.listings} not found (build it with `fenrir data listings`)")
        if not 0.0 <= self.no_context_share <= 1.0:
            raise bad("no_context_share", f"must be in [0, 1], got {self.no_context_share}")
        if self.eval_data is not None and not Path(self.eval_data).is_file():
            raise TrainingError(f"eval data {self.eval_data} not found (--eval-data)")
        if not str(self.output).strip():
            raise bad("output", "must be a folder path")

    # --- construction -----------------------------------------------------------
    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str = "config") -> "TrainConfig":
        """Build from plain values (YAML or flags), coercing types; unknown keys are an error."""
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = [k for k in values if k not in known]
        if unknown:
            raise TrainingError(
                f"{source}: unknown key {unknown[0]!r}"
                + (f" (and {', '.join(map(repr, unknown[1:]))})" if unknown[1:] else "")
                + f"; known keys: {', '.join(known)}"
            )
        hints = typing.get_type_hints(cls)
        coerced = {name: coerce(name, hints[name], value, source, known[name].metadata.get("choices", ()))
                   for name, value in values.items()}
        return cls(**coerced)

    @classmethod
    def load(cls, path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> "TrainConfig":
        """The YAML file's values (if any), then ``overrides`` (CLI flags) on top."""
        values: dict[str, Any] = {}
        if path is not None:
            values.update(read_yaml(Path(path)))
        given = {k: v for k, v in (overrides or {}).items() if v is not None}
        if "epochs" in given and "max_steps" not in given:
            values.pop("max_steps", None)  # --epochs on the command line beats max_steps from the file
        values.update(given)
        return cls.from_dict(values, source=str(path) if path is not None else "flags")

    def replace(self, **changes: Any) -> "TrainConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (tuples as lists), as recorded in the manifest."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    # --- derived ----------------------------------------------------------------
    def total_steps(self, n_rows: int) -> int:
        """Optimizer steps: ``max_steps``, else ``ceil(epochs * rows / (batch_size * grad_accum))``."""
        if self.max_steps is not None:
            return self.max_steps
        per_step = self.batch_size * self.grad_accum
        return max(1, math.ceil(self.epochs * n_rows / per_step))


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TrainingError(f"cannot read training config {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise TrainingError(f"{path}: not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise TrainingError(f"{path}: expected a mapping of config keys, got {type(data).__name__}")
    return data


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0], len(args) < len(typing.get_args(tp))
    return tp, False


def coerce(name: str, tp: Any, value: Any, source: str = "config", choices: tuple[str, ...] = ()) -> Any:
    """``value`` as the field's type; strings like ``"0.9,0.98"`` become tuples (CLI flags).

    ``null``/``none``/an empty string mean unset for optional fields, except
    where the string is one of the field's choices (``--quantize none`` asks
    for full precision; it does not mean "the default")."""
    base, optional = _unwrap_optional(tp)
    if isinstance(value, str) and value in choices:
        return value
    if value is None or (optional and isinstance(value, str) and value.lower() in ("null", "none", "")):
        if optional:
            return None
        raise TrainingError(f"{source}: {name} must not be null")
    try:
        if typing.get_origin(base) is tuple:
            args = typing.get_args(base)
            item = args[0]
            items = [s.strip() for s in value.split(",")] if isinstance(value, str) else list(value)
            return tuple(_scalar(item, v) for v in items)
        return _scalar(base, value)
    except (TypeError, ValueError) as exc:
        raise TrainingError(f"{source}: {name}: {exc}") from exc


def _scalar(tp: Any, value: Any) -> Any:
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ValueError(f"expected true or false, got {value!r}")
    if tp is int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(f"expected an integer, got {value!r}")
        return int(value)
    if tp is float:
        if isinstance(value, bool):
            raise ValueError(f"expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ValueError(f"expected a string, got {value!r}")
        return str(value)
    raise TypeError(f"unsupported field type {tp!r}")


def get_peft_config(config: TrainConfig) -> Any:
    """The ``peft.LoraConfig`` for a run (causal LM, no bias)."""
    from peft import LoraConfig

    return LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(config.target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )


def get_quantization_config(config: TrainConfig, cuda: bool) -> Any:
    """The bitsandbytes config the base is loaded with (``None`` for full precision)."""
    return quantization_config(resolve_quantize(config.quantize, cuda), cuda)
