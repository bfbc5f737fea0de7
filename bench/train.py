"""Training throughput: fp32 LoRA vs bf16 LoRA vs 4-bit qLoRA, measured in one run.

Each variant loads the base through agent.model.load_model, adds the same LoRA
(training/default.yaml's settings) and runs the same micro-batches: one
warm-up step, then ``--steps`` timed optimizer steps.  Printed: s/step,
tokens/s and each variant's ratio to fp32.  The machine may be shared, so
the variants are interleaved step by step (round robin) to expose them to the
same background load.

    .venv/bin/python bench/train.py [--steps 4] [--batch-size 8] [--threads N]
    .venv/bin/python bench/train.py --make       # also time a full `make train`

Without ``--make`` it prints the wall time recorded in the last default
training's manifest (``lora_adapter/manifest.json``) when there is one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout's packages
os.environ.setdefault("TQDM_DISABLE", "1")

from agent.model import load_model  # noqa: E402
from training.config import TrainConfig  # noqa: E402
from training.data import collate, load_dataset, micro_batches  # noqa: E402
from training.train import build_model, cast_base, completion_loss_sum  # noqa: E402


def build(variant: str, config):
    import torch

    loaded = load_model(base_model=config.base_model, quantize="4bit" if variant == "qlora-4bit" else "none",
                        use_adapter=False)
    cast_base(loaded, "bfloat16" if variant == "lora-bf16" else None)
    torch.manual_seed(config.seed)
    model = build_model(loaded, config)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, betas=tuple(config.betas))
    return loaded, model, optimizer


def step(model, optimizer, batch) -> float:
    loss, n = completion_loss_sum(model, batch)
    (loss / n).backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return float(loss.detach()) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(ROOT / "training" / "default.yaml"))
    parser.add_argument("--steps", type=int, default=4, help="timed steps per variant (after one warm-up)")
    parser.add_argument("--batch-size", type=int, default=None, help="rows per step (default: the config's)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--variants", default="lora-fp32,lora-bf16,qlora-4bit")
    parser.add_argument("--make", action="store_true", help="also time `make train` into a temporary folder")
    args = parser.parse_args()

    import torch

    config = TrainConfig.load(args.config)
    if args.batch_size:
        config = config.replace(batch_size=args.batch_size)
    if args.threads:
        torch.set_num_threads(args.threads)
    variants = args.variants.split(",")
    built = {v: build(v, config) for v in variants}
    tokenizer = next(iter(built.values()))[0].tokenizer
    data = load_dataset(config.data, tokenizer, config.max_length)
    stream = micro_batches(len(data.rows), config.batch_size, config.seed)
    batches = [collate([data.rows[i] for i in next(stream)], tokenizer.pad_token_id) for _ in range(args.steps + 1)]
    tokens = sum(int(b["attention_mask"].sum()) for b in batches[1:])
    times = {v: 0.0 for v in variants}
    losses = {v: [] for v in variants}
    for i, batch in enumerate(batches):
        for v in variants:
            loaded, model, optimizer = built[v]
            moved = {k: t.to(loaded.device) for k, t in batch.items()}
            t0 = time.perf_counter()
            losses[v].append(step(model, optimizer, moved))
            if i > 0:
                times[v] += time.perf_counter() - t0
    print(f"threads {torch.get_num_threads()}, batch {config.batch_size} rows, {args.steps} timed steps, "
          f"{tokens} tokens each variant; load average {os.getloadavg()[0]:.1f}")
    print(f"{'variant':<12} {'s/step':>8} {'tokens/s':>9} {'vs fp32':>8}  losses")
    ref = times.get("lora-fp32")
    for v in variants:
        ratio = f"{ref / times[v]:.2f}x" if ref else "-"
        print(f"{v:<12} {times[v] / args.steps:8.2f} {tokens / times[v]:9.0f} {ratio:>8}  "
              + " ".join(f"{x:.3f}" for x in losses[v]))

    if args.make:
        out = Path("/tmp") / f"fenrir-bench-train-{os.getpid()}"
        t0 = time.perf_counter()
        subprocess.run(["make", "-C", str(ROOT), "train", f"TRAIN_ARGS=--output {out} --overwrite"], check=True)
        manifest = json.loads((out / "manifest.json").read_text())
        print(f"make train: {time.perf_counter() - t0:.0f} s wall ({manifest['train_s']:.0f} s in the loop, "
              f"{manifest['steps']} steps, loss {manifest['loss_start']:.3f} -> {manifest['loss_end']:.3f})")
    else:
        last = ROOT / config.output / "manifest.json"
        if last.is_file():
            manifest = json.loads(last.read_text())
            print(f"last default training ({last}): {manifest['wall_s']:.0f} s wall, {manifest['train_s']:.0f} s "
                  f"in the loop, {manifest['steps']} steps on {manifest['data_rows']} rows")


if __name__ == "__main__":
    main()
