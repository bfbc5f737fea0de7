"""``fenrir train``: fine-tune a LoRA adapter; every TrainConfig field is a flag.

The flags are generated from :class:`training.config.TrainConfig`'s fields
(their metadata help text becomes the flag help), so a new config field is a
new flag with no change here.  Flags override the YAML given with --config.
"""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any, Callable

import click

from harness.errors import TrainingError
from training.config import TrainConfig, _unwrap_optional
from training.train import train as run_training


def _flag_type(tp: Any, meta: dict[str, Any]) -> Any:
    base, _ = _unwrap_optional(tp)
    if "choices" in meta:
        return click.Choice(meta["choices"])
    if typing.get_origin(base) is tuple:
        return str  # comma-separated; coerced by TrainConfig.from_dict
    if base is bool:
        return click.BOOL  # --prefix-grad false
    return {int: int, float: float, str: str}[base]


def config_options(command: Callable) -> Callable:
    """Add one ``--field-name`` option per TrainConfig field (default None = not given)."""
    hints = typing.get_type_hints(TrainConfig)
    for f in reversed(dataclasses.fields(TrainConfig)):
        default = f.default
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        help_text = f.metadata["help"] + (f" [default: {shown}]" if shown is not None else "")
        command = click.option(f"--{f.name.replace('_', '-')}", f.name, type=_flag_type(hints[f.name], f.metadata),
                               default=None, help=help_text)(command)
    return command


@click.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="YAML file of TrainConfig keys (e.g. training/default.yaml); flags override it.")
@click.option("--overwrite", is_flag=True, help="Replace a non-empty output folder.")
@click.option("--resume", is_flag=True,
              help="Continue the stopped run in --output from its checkpoint (written every --save-every steps); "
                   "give the same config and flags.")
@config_options
def train(config_path: str | None, overwrite: bool, resume: bool, **flags: Any) -> None:
    """Fine-tune a LoRA adapter for the agent on prompt/completion JSONL rows.

    \b
      fenrir train --config training/default.yaml
      fenrir train --config training/default.yaml --max-steps 20 --output /tmp/adapter
      fenrir train --data rows.jsonl --quantize 4bit --learning-rate 1e-3
      fenrir train --config training/default.yaml --resume   # after a Ctrl-C

    Writes the PEFT adapter, loss.jsonl (one line per step) and manifest.json
    into --output (default: lora_adapter, which the agent then uses).  The
    [default: ...] values below are the prototype's starting point; the
    settings chosen by measurement are in training/default.yaml (make train).
    """
    if config_path is not None and not Path(config_path).is_file():
        raise TrainingError(f"training config {config_path} not found")
    config = TrainConfig.load(config_path, overrides=flags)
    manifest = run_training(config, overwrite=overwrite, resume=resume, log=lambda m: click.echo(m, err=True))
    click.echo(f"{config.output}  loss {manifest.loss_start:.4f} -> {manifest.loss_end:.4f}  "
               f"steps {manifest.steps}  {manifest.wall_s:.0f} s")
