"""The training loop: LoRA on the agent's own model, a plain deterministic torch loop.

* The base comes from :func:`agent.model.load_model` (``use_adapter=False``),
  the one loader the agent uses, so the adapter's recorded base id and the
  4-bit settings (NF4, and the AVX512-BF16 repacking workaround) match
  inference exactly.
* LoRA via peft on ``config.target_modules``; on a 4-bit base the model first
  goes through ``peft.prepare_model_for_kbit_training`` (no gradient
  checkpointing: the model is small and it would only cost time).
* AdamW(``betas``, ``weight_decay``) over the LoRA weights; the learning
  rate rises linearly over ``warmup_steps``, then stays constant (the
  prototype's schedule) or decays linearly / by a cosine to 0 at the last
  step (``lr_schedule``; transformers' schedulers).
* One optimizer step = ``grad_accum`` micro-batches; the loss is the mean
  over every completion token of the step (summed cross-entropy divided by the
  step's target-token count), so accumulation does not reweight short rows.
* Seeded (python, numpy when present, torch) and, on CPU,
  ``torch.use_deterministic_algorithms``: the same data and config give the
  same loss curve (see tests/training/test_train.py for the tolerance).

Outputs in ``config.output``: the PEFT adapter, ``loss.jsonl`` (one line per
optimizer step, appended as training runs) and ``manifest.json``; while the
run lasts, ``checkpoint.pt`` every ``save_every`` steps, which ``resume``
continues from (:mod:`training.checkpoint`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import platform
import random
import shutil
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from tqdm.auto import tqdm

from agent.cpu import cpu_computes_bfloat16
from agent.fewshot import load_examples
from agent.generate import Decoding, generate
from agent.model import load_model, quiet_libraries
from agent.prompt import SYSTEM_PROMPT
from harness.errors import TrainingError
from training import checkpoint
from training.card import render_card
from training.config import TrainConfig, get_peft_config
from training.data import Dataset, Grounding, collate, grouped_batches, load_dataset, load_grounding, prompt_text
from training.loss import completion_loss_sum, prepare_batch
from training.manifest import DataFile, EvalRecord, Manifest, StepRecord, library_versions

Log = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def prepare_output(output: Path, overwrite: bool) -> None:
    """Refuse a non-empty output folder unless ``overwrite``; then start it empty."""
    if output.exists() and not output.is_dir():
        raise TrainingError(f"output {output} exists and is not a folder")
    if output.is_dir() and any(output.iterdir()):
        if not overwrite:
            stopped = "; it holds a stopped run's checkpoint: --resume continues it" \
                if checkpoint.path(output).is_file() else ""
            raise TrainingError(f"output folder {output} already exists and is not empty{stopped}; "
                                "pass --overwrite to replace it, or choose another --output")
        shutil.rmtree(output)
    output.mkdir(parents=True, exist_ok=True)


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    try:
        import numpy as np
    except ImportError:  # numpy is optional here
        pass
    else:
        np.random.seed(seed)
    torch.manual_seed(seed)


@contextmanager
def torch_settings(threads: int | None, deterministic: bool) -> Iterator[None]:
    """Thread count and deterministic algorithms for the run, restored afterwards."""
    import torch

    old_threads = torch.get_num_threads()
    old_det = torch.are_deterministic_algorithms_enabled()
    if threads is not None:
        torch.set_num_threads(threads)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.set_num_threads(old_threads)
        torch.use_deterministic_algorithms(old_det)


def bfloat16_in_hardware(cuda: bool) -> bool:
    """Whether the device does bfloat16 arithmetic itself (a CUDA device that supports it, or this CPU: agent.cpu)."""
    import torch

    return torch.cuda.is_bf16_supported() if cuda else cpu_computes_bfloat16()


def compute_dtype(requested: str | None, loaded: Any, log: Log = _stderr) -> str | None:
    """The dtype the base is cast to for ``requested`` (``None``: as loaded; always for a 4-bit base).

    ``auto`` is bfloat16 where the device does it in hardware (a CUDA device
    that supports it, a CPU with AVX512-BF16 or AMX) and float32 elsewhere.
    An explicit bfloat16 on a CPU without it is kept, with a warning: torch
    emulates it there, and a step takes many times longer (agent.cpu).
    """
    if loaded.quantized or requested is None:
        return None
    if requested == "float32":
        return requested
    native = bfloat16_in_hardware(loaded.device.type == "cuda")
    if requested == "auto":
        return "bfloat16" if native else "float32"
    if not native:
        log("warning: dtype bfloat16 on a device without bfloat16 arithmetic (on a CPU: no AVX512-BF16 or AMX); "
            "torch emulates it and each step takes many times longer than in float32. "
            "Set dtype: auto (or --dtype auto) to use float32 here")
    return requested


def cast_base(loaded: Any, dtype: str | None) -> None:
    """Put an unquantized base in the configured compute dtype (``None``: as loaded).

    bfloat16 on CPU roughly halves a step (bench/train.py); LoRA weights are
    created afterwards in float32 (peft's ``autocast_adapter_dtype``), so the
    optimizer state and the saved adapter stay float32 either way.
    """
    import torch

    if dtype is None or loaded.quantized:
        return
    loaded.model.to(getattr(torch, dtype))


def build_model(loaded: Any, config: TrainConfig) -> Any:
    """The base wrapped with fresh LoRA adapters (seeded), in train mode."""
    from training.dropout import use_uniform_dropout

    with quiet_libraries():
        from peft import get_peft_model, prepare_model_for_kbit_training

        model = loaded.model
        if loaded.quantized:
            model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
        try:
            model = get_peft_model(model, get_peft_config(config))
        except ValueError as exc:  # e.g. a target module the base does not have
            raise TrainingError(f"cannot add LoRA to {loaded.base_model_id}: {exc}") from exc
    if loaded.device.type == "cpu":  # the same dropout, its mask drawn twice as fast (training.dropout)
        use_uniform_dropout(model)
    model.train()
    return model


def make_optimizer(params: list[Any], config: TrainConfig, cuda: bool) -> Any:
    """AdamW over the LoRA weights as ``config`` says; the fused kernel on CUDA (one launch a step)."""
    import torch

    return torch.optim.AdamW(params, lr=config.learning_rate, betas=tuple(config.betas),
                             weight_decay=config.weight_decay, fused=True if cuda else None)


def make_scheduler(optimizer: Any, config: TrainConfig, total_steps: int) -> Any:
    """The learning-rate schedule: warmup, then constant or a linear / cosine decay to 0."""
    from transformers import get_scheduler

    name = "constant_with_warmup" if config.lr_schedule == "constant" else config.lr_schedule
    return get_scheduler(name, optimizer, num_warmup_steps=config.warmup_steps, num_training_steps=total_steps)


def pace(step: int, total: int, elapsed_s: float) -> str:
    """Seconds a step so far and the time the remaining steps will take at that pace, for the log line.

    ``make train`` runs with tqdm's bar off, so the log is where a user sees how long is left
    (on a CPU without bfloat16 arithmetic the shipped config takes hours).
    """
    per_step = elapsed_s / max(step, 1)
    left = round(per_step * max(total - step, 0))
    hours, rest = divmod(left, 3600)
    clock = f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"
    return f"{per_step:.2f} s/step, {clock} left"


def eval_loss(model: Any, dataset: Dataset, pad_id: int, batch_size: int, by_listing: bool = True) -> float:
    """Mean completion-token loss over every row, without dropout (``by_listing``: rows batched by listing,
    :func:`listing_batches`; else in file order)."""
    import torch

    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    device = next(model.parameters()).device
    with torch.no_grad():
        groups = [row.group for row in dataset.rows] if by_listing else [""] * len(dataset.rows)
        for chunk in listing_batches(groups, batch_size):
            batch = {k: v.to(device) for k, v in collate([dataset.rows[i] for i in chunk], pad_id).items()}
            loss, n = completion_loss_sum(model, batch)
            total += float(loss)
            count += n
    if was_training:
        model.train()
    return total / max(count, 1)


def listing_batches(groups: list[str], batch_size: int) -> list[list[int]]:
    """Every index once, in batches of up to ``batch_size`` whose rows share a group (their listing), in file order
    within a group.

    A batch of one listing computes the system prompt and the listing once for all its rows (the shared prefix
    of ``completion_loss_sum``); in file order a batch of the held-out rows mixed fixtures and every row ran its
    own ~500-token listing.
    """
    members: dict[str, list[int]] = {}
    for i, group in enumerate(groups):
        members.setdefault(group, []).append(i)
    return [rows[start:start + batch_size] for rows in members.values() for start in range(0, len(rows), batch_size)]


def normalize_plan(text: str) -> str:
    """Lines stripped, blank lines dropped: what exact-match compares."""
    return "\n".join(" ".join(line.split()) for line in text.strip().splitlines() if line.strip())


def exact_match(loaded: Any, model: Any, path: str, max_new_tokens: int, grounding: Grounding | None = None,
                ) -> tuple[int, int, list[dict[str, str]]]:
    """Greedy zero-shot generations for the rows of ``path`` (grounded like training); (matches, rows, samples),
    the samples in file order.  :func:`agent.generate.generate` batches rows of one listing together itself."""
    examples = load_examples(path)
    prompts = [prompt_text(loaded.tokenizer, e.row.prompt,
                           grounding.listings.get(e.row.fixture) if grounding else None) for e in examples]
    was_training = model.training
    model.eval()
    outs = generate(dataclasses.replace(loaded, model=model), prompts,
                    Decoding(max_new_tokens=max_new_tokens, batch_size=16))
    if was_training:
        model.train()
    samples = [{"id": e.id, "expected": e.row.completion, "got": o.text} for e, o in zip(examples, outs)]
    hits = sum(normalize_plan(s["expected"]) == normalize_plan(s["got"]) for s in samples)
    return hits, len(samples), samples


def train(config: TrainConfig, overwrite: bool = False, log: Log = _stderr, resume: bool = False) -> Manifest:
    """Train a LoRA adapter as ``config`` says; returns the manifest written beside it.

    ``resume``: carry on from the checkpoint in ``config.output`` instead of
    starting over (the same config and data; :mod:`training.checkpoint`).
    """
    import torch

    output = Path(config.output)
    if resume and overwrite:
        raise TrainingError("--resume continues the run in the output folder and --overwrite deletes it: "
                            "pass one of them")
    resumed = checkpoint.load(output, config) if resume else None
    if resumed is None:
        prepare_output(output, overwrite)
    started = time.perf_counter()
    cuda = torch.cuda.is_available()
    with torch_settings(config.threads, deterministic=not cuda):
        seed_everything(config.seed)
        loaded = load_model(base_model=config.base_model, quantize=config.quantize, use_adapter=False)
        dtype = compute_dtype(config.dtype, loaded, log)
        cast_base(loaded, dtype)
        tokenizer = loaded.tokenizer
        grounding = load_grounding(config.listings, config.no_context_share) if config.listings else None
        dataset = load_dataset(config.data, tokenizer, config.max_length, grounding)
        listings_sha = grounding.sha256 if grounding else None
        if resumed is not None:
            checkpoint.check_data(resumed, output, dataset.sha256, listings_sha)
        held_grounding = Grounding(grounding.listings, 0.0, grounding.sha256) if grounding else None
        holdout = load_dataset(config.eval_data, tokenizer, config.max_length, held_grounding) if config.eval_data else None
        total_steps = config.total_steps(len(dataset.rows))
        model = build_model(loaded, config)
        params = [p for p in model.parameters() if p.requires_grad]
        if not params:
            raise TrainingError("no trainable parameters after adding LoRA; check --target-modules")
        optimizer = make_optimizer(params, config, cuda)
        scheduler = make_scheduler(optimizer, config, total_steps)
        device = loaded.device
        pad_id = tokenizer.pad_token_id
        stream = grouped_batches([r.group for r in dataset.rows], config.batch_size, config.seed)
        first = 1
        steps: list[StepRecord] = []
        if resumed is not None:
            checkpoint.restore(resumed, model, optimizer, scheduler)
            for _ in range(resumed.step * config.grad_accum):  # the batches the earlier part trained on
                next(stream)
            first, steps = resumed.step + 1, list(resumed.steps)
            (output / "loss.jsonl").write_text("".join(s.model_dump_json() + "\n" for s in steps), encoding="utf-8")
        earlier = resumed or checkpoint.FRESH
        loop_started = time.perf_counter() - earlier.train_s  # elapsed_s in loss.jsonl runs on over the parts
        load_s = earlier.load_s + time.perf_counter() - started
        log(f"training {sum(p.numel() for p in params):,} LoRA weights on {len(dataset.rows)} rows "
            f"({dataset.truncated} truncated), {total_steps} steps, device {device}"
            f"{', 4-bit base' if loaded.quantized else ''}"
            f"{f'; resumed after step {resumed.step}' if resumed else ''}")
        # On CUDA the losses stay on the device and are read every log_every steps (one wait for the GPU
        # then, not one a step); on the CPU every step is read and written as it ends.
        read_every = 1 if device.type == "cpu" else config.log_every
        pending: list[tuple[int, float, int, float, Any]] = []  # step, lr, tokens, elapsed, loss on the device
        loss_file = (output / "loss.jsonl").open("a", encoding="utf-8")
        bar = tqdm(total=total_steps, initial=first - 1, desc="train", unit="step", dynamic_ncols=True)

        def read_losses() -> None:
            values = torch.stack([p[4] for p in pending]).tolist() if pending else []
            for (step, lr, tokens, elapsed, _), value in zip(pending, values):
                if not math.isfinite(value):
                    raise TrainingError(f"the loss became {value} at step {step}; lower --learning-rate")
                record = StepRecord(step=step, loss=round(value, 6), lr=lr, tokens=tokens, elapsed_s=elapsed)
                steps.append(record)
                loss_file.write(record.model_dump_json() + "\n")
                if step % config.log_every == 0 or step == total_steps:
                    bar.write(f"step {step}/{total_steps}  loss {value:.4f}  lr {lr:.2e}  "
                              f"{pace(step, total_steps, elapsed)}", file=sys.stderr)
            loss_file.flush()
            if values:
                bar.set_postfix(loss=f"{values[-1]:.4f}")
            pending.clear()

        last_saved = 0

        def save_checkpoint(step: int) -> None:
            nonlocal last_saved
            read_losses()  # the records up to this step go into the checkpoint
            train_so_far = time.perf_counter() - loop_started
            checkpoint.save(output, step=step, config=config, model=model, optimizer=optimizer, scheduler=scheduler,
                            steps=steps, data_sha256=dataset.sha256, listings_sha256=listings_sha,
                            train_s=train_so_far, load_s=load_s,
                            wall_s=earlier.wall_s + time.perf_counter() - started, resumed_at=earlier.resumed_at)
            last_saved = step

        try:
            for step in range(first, total_steps + 1):
                chunks = [prepare_batch(collate([dataset.rows[i] for i in next(stream)], pad_id),
                                        padding_free=config.padding_free)
                          for _ in range(config.grad_accum)]
                n_targets = sum(c.n_targets for c in chunks)
                step_loss: Any = 0.0
                for chunk in chunks:
                    loss_sum, _ = completion_loss_sum(model, chunk.to(device), config.prefix_grad)
                    (loss_sum / n_targets).backward()
                    step_loss = step_loss + loss_sum.detach() / n_targets
                lr = scheduler.get_last_lr()[0]
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                pending.append((step, lr, sum(c.n_tokens for c in chunks),
                                round(time.perf_counter() - loop_started, 3), step_loss))
                bar.update(1)
                if len(pending) >= read_every or step == total_steps:
                    read_losses()
                if config.save_every and step % config.save_every == 0 and step < total_steps:
                    save_checkpoint(step)
        except KeyboardInterrupt:
            saved = checkpoint.path(output)
            log(f"interrupted: {saved} holds step {last_saved or earlier.step}; `fenrir train --resume` with the same "
                "flags continues from there" if saved.is_file() else "interrupted before the first checkpoint "
                f"(save_every {config.save_every}): nothing to resume")
            raise
        finally:
            bar.close()
            loss_file.close()
        train_s = time.perf_counter() - loop_started
        evaluation = None
        if holdout is not None:
            hits, total, samples = exact_match(loaded, model, config.eval_data, config.eval_max_new_tokens,
                                               held_grounding)
            evaluation = EvalRecord(path=config.eval_data, rows=total,
                                    loss=round(eval_loss(model, holdout, pad_id, config.batch_size), 6),
                                    exact_match=hits, samples=samples)
            log(f"held-out: loss {evaluation.loss:.4f}, exact match {hits}/{total}")
        model.save_pretrained(str(output), save_embedding_layers=False)  # no hub lookup of the base config
        manifest = Manifest(
            base_model=loaded.base_model_id,
            base_revision=loaded.revision,
            quantized=loaded.quantized,
            dtype="nf4" if loaded.quantized else dtype or str(next(loaded.model.parameters()).dtype).removeprefix("torch."),
            data_path=dataset.path,
            data_sha256=dataset.sha256,
            data_files=[DataFile(path=p, sha256=h, rows=n) for p, h, n in dataset.files],
            listings_sha256=grounding.sha256 if grounding else None,
            grounded_rows=sum(1 for r in dataset.rows if r.group),
            data_rows=len(dataset.rows),
            truncated_rows=dataset.truncated,
            system_prompt_sha256=hashlib.sha256(SYSTEM_PROMPT.encode()).hexdigest(),
            config=config.to_dict(),
            steps=total_steps,
            loss_start=steps[0].loss,
            loss_end=steps[-1].loss,
            loss_curve=[s.loss for s in steps],
            load_s=round(load_s, 2),
            train_s=round(train_s, 2),
            wall_s=round(earlier.wall_s + time.perf_counter() - started, 2),
            resumed_at=earlier.resumed_at,
            tokens=sum(s.tokens for s in steps),
            device=device_name(device),
            threads=torch.get_num_threads(),
            deterministic=torch.are_deterministic_algorithms_enabled(),
            versions=library_versions(),
            platform=platform.platform(),
            eval=evaluation,
        )
    (output / "manifest.json").write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    (output / "README.md").write_text(render_card(manifest), encoding="utf-8")  # over PEFT's blank card
    checkpoint.remove(output)  # the run is done: the folder holds the adapter only
    log(f"saved adapter to {output}: loss {manifest.loss_start:.4f} -> {manifest.loss_end:.4f} "
        f"in {manifest.steps} steps, {manifest.train_s:.0f} s training, {manifest.wall_s:.0f} s in all")
    return manifest


def device_name(device: Any) -> str:
    """How a manifest names the device: ``cuda:NAME`` or ``cpu:PROCESSOR xCORES``."""
    import torch

    if device.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(device)}"
    return f"cpu:{platform.processor() or platform.machine()} x{os.cpu_count()}"
