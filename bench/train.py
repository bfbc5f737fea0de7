"""Training throughput: LoRA variants and batch sizes on this machine's device, measured in one run.

Each variant loads the base through agent.model.load_model, adds the same LoRA
(training/default.yaml's settings) and trains on the same grounded rows as
``make train`` (listings, rows of one listing batched together), through the
training loop's own step: the batch prepared on the host, then a step that
never waits for the device.  Per (variant, batch size): one warm-up step, then
``--steps`` timed optimizer steps, one wait for the device at the end.
Printed: s/step, rows/s, tokens/s and the ratio of rows/s to the first
configuration; with ``--reference FILE`` (the ``--json`` of another run, e.g.
this machine's CPU), also the ratio to that run's rows/s at its batch size.
The configurations take turns (``--rounds``) so that background load on a
shared machine falls on all of them.

    python bench/train.py [--variants lora-bf16,qlora-4bit] [--batch-sizes 16,64]
                          [--layouts padding-free,padded] [--steps 4] [--rounds 1] [--threads N]
                          [--json OUT] [--reference CPU.json]
    python bench/train.py --make       # also time a full `make train`

Variants: lora-fp32 (float32 base), lora-bf16 (bfloat16 base), qlora-4bit (NF4
base via bitsandbytes; float32 compute on the CPU, bfloat16 on CUDA).
Dropouts (``--dropouts uniform,torch``): the LoRA dropout's mask drawn as
uniform floats (training.dropout, what training uses on the CPU) or by torch's
``nn.Dropout`` (bernoulli_, what peft builds; CUDA keeps it).
Layouts (training.loss): padding-free (the rows end to end after the shared
prefix, the config's default) or padded (every row padded to the batch's width).
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
from training.data import collate, grouped_batches, load_dataset, load_grounding  # noqa: E402
from training.loss import completion_loss_sum, prepare_batch  # noqa: E402
from training.train import bfloat16_in_hardware, build_model, cast_base, make_optimizer  # noqa: E402
from training.train import device_name as training_device_name  # noqa: E402

QUANTIZE = {"lora-fp32": "none", "lora-bf16": "none", "qlora-4bit": "4bit"}


def build(variant: str, config: TrainConfig):
    import torch

    loaded = load_model(base_model=config.base_model, quantize=QUANTIZE[variant], use_adapter=False)
    cast_base(loaded, "bfloat16" if variant == "lora-bf16" else None)
    torch.manual_seed(config.seed)
    model = build_model(loaded, config)
    params = [p for p in model.parameters() if p.requires_grad]
    return loaded, model, make_optimizer(params, config, loaded.device.type == "cuda")


def device_name(device) -> str:
    """The training manifest's device name, with torch's threads on the CPU."""
    import torch

    name = training_device_name(device)
    return name if device.type == "cuda" else f"{name} ({torch.get_num_threads()} threads)"


def run_steps(loaded, model, optimizer, batches, prefix_grad: bool) -> tuple[float, list[float]]:
    """Seconds for the batches' optimizer steps, waited for once at the end, and their losses."""
    import torch

    def sync() -> None:
        if loaded.device.type == "cuda":
            torch.cuda.synchronize(loaded.device)

    sync()
    started = time.perf_counter()
    losses = []
    for batch in batches:
        loss, n = completion_loss_sum(model, batch.to(loaded.device), prefix_grad)
        (loss / n).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.detach() / n)
    sync()
    elapsed = time.perf_counter() - started
    return elapsed, [float(x) for x in losses]


def read_reference(path: Path) -> dict:
    """A ``--json`` of this script, or a training manifest (its loop's rows/s), as a reference run."""
    data = json.loads(path.read_text())
    if "train_s" in data:  # manifest.json of a `fenrir train` run
        batch = data["config"]["batch_size"] * data["config"].get("grad_accum", 1)
        variant = "qlora-4bit" if data["quantized"] else f"lora-{data['config'].get('dtype') or 'fp32'}"
        return {"device": f"{data['device']} (fenrir train, {path})",
                "results": [{"variant": variant, "batch_size": batch, "s_per_step": data["train_s"] / data["steps"],
                             "rows_per_s": data["steps"] * batch / data["train_s"]}]}
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(ROOT / "training" / "default.yaml"))
    parser.add_argument("--variants", default=None,
                        help=f"comma-separated: {', '.join(QUANTIZE)} (default: lora-bf16 on CUDA or a CPU that "
                             "does bfloat16 in hardware, lora-fp32 on one that emulates it)")
    parser.add_argument("--batch-sizes", default=None, help="comma-separated rows per step (default: the config's)")
    parser.add_argument("--layouts", default=None,
                        help="comma-separated: padding-free, padded (default: the config's padding_free)")
    parser.add_argument("--dropouts", default=None,
                        help="comma-separated LoRA dropout masks: uniform (training.dropout, what training uses on "
                             "the CPU), torch (peft's nn.Dropout, bernoulli_; what CUDA uses)")
    parser.add_argument("--steps", type=int, default=4, help="timed steps per configuration and round")
    parser.add_argument("--rounds", type=int, default=1, help="turns each configuration takes")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--reference", type=Path, default=None,
                        help="the --json of another run: print rows/s as a ratio to its first configuration")
    parser.add_argument("--make", action="store_true", help="also time `make train` into a temporary folder")
    parser.add_argument("--eval", type=int, default=None, metavar="ROWS",
                        help="instead: time the post-training held-out check (greedy exact match and loss) on the "
                             "first ROWS rows of the config's eval_data (0: all), with the shipped adapter; the "
                             "loss in file order against batched by listing")
    args = parser.parse_args()
    if args.eval is not None:
        return time_eval(TrainConfig.load(args.config), args.eval, args.threads)

    import torch

    from training.dropout import set_lora_dropout

    config = TrainConfig.load(args.config)
    if args.threads:
        torch.set_num_threads(args.threads)
    native = bfloat16_in_hardware(torch.cuda.is_available())
    variants = (args.variants or ("lora-bf16" if native else "lora-fp32")).split(",")
    if "lora-bf16" in variants and not native:
        print("note: this CPU has no bfloat16 arithmetic (AVX512-BF16 / AMX); torch emulates it, so lora-bf16 "
              "steps take many times longer than lora-fp32 here", file=sys.stderr)
    unknown = [v for v in variants if v not in QUANTIZE]
    if unknown:
        parser.error(f"--variants: unknown {', '.join(unknown)}; choose from {', '.join(QUANTIZE)}")
    sizes = [int(x) for x in args.batch_sizes.split(",")] if args.batch_sizes else [config.batch_size]
    layouts = (args.layouts or ("padding-free" if config.padding_free else "padded")).split(",")
    if set(layouts) - {"padding-free", "padded"}:
        parser.error(f"--layouts: unknown {', '.join(sorted(set(layouts) - {'padding-free', 'padded'}))}; "
                     "choose from padding-free, padded")
    dropouts = (args.dropouts or ("uniform" if not torch.cuda.is_available() else "torch")).split(",")
    if set(dropouts) - {"uniform", "torch"}:
        parser.error(f"--dropouts: unknown {', '.join(sorted(set(dropouts) - {'uniform', 'torch'}))}; "
                     "choose from uniform, torch")
    built = {v: build(v, config) for v in variants}
    loaded0 = next(iter(built.values()))[0]
    tokenizer = loaded0.tokenizer
    grounding = load_grounding(config.listings, config.no_context_share) if config.listings else None
    data = load_dataset(config.data, tokenizer, config.max_length, grounding)

    def batches_of(size: int, count: int, layout: str) -> list:
        stream = grouped_batches([r.group for r in data.rows], size, config.seed)
        out = []
        while len(out) < count:  # full batches only: a group's short last batch would flatter rows/s
            rows = next(stream)
            if len(rows) == size:
                out.append(prepare_batch(collate([data.rows[i] for i in rows], tokenizer.pad_token_id),
                                         padding_free=layout == "padding-free"))
        return out

    configs = [(v, b, lay, d) for v in variants for b in sizes for lay in layouts for d in dropouts]
    prepared = {(b, lay): batches_of(b, 1 + args.steps * args.rounds, lay) for b in sizes for lay in layouts}
    for v, b, lay, d in configs:  # warm-up: kernels chosen, memory allocated
        set_lora_dropout(built[v][1], d)
        run_steps(*built[v], prepared[(b, lay)][:1], config.prefix_grad)
    seconds = {c: 0.0 for c in configs}
    losses: dict = {c: [] for c in configs}
    for r in range(args.rounds):
        for v, b, lay, d in configs:
            chunk = prepared[(b, lay)][1 + r * args.steps:1 + (r + 1) * args.steps]
            set_lora_dropout(built[v][1], d)
            elapsed, values = run_steps(*built[v], chunk, config.prefix_grad)
            seconds[(v, b, lay, d)] += elapsed
            losses[(v, b, lay, d)] += values
    timed = args.steps * args.rounds
    results = []
    for v, b, lay, d in configs:
        batches = prepared[(b, lay)][1:1 + timed]
        tokens = sum(x.n_tokens for x in batches)
        s = seconds[(v, b, lay, d)]
        results.append({"variant": v, "batch_size": b, "layout": lay, "dropout": d, "s_per_step": round(s / timed, 4),
                        "rows_per_s": round(b * timed / s, 2), "tokens_per_s": round(tokens / s, 1),
                        "mean_tokens_per_row": round(tokens / (b * timed), 1),
                        "peak_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2)
                        if loaded0.device.type == "cuda" else None,
                        "losses": [round(x, 4) for x in losses[(v, b, lay, d)]]})
    device = device_name(loaded0.device)
    load = os.getloadavg()[0]
    print(f"{device}; {timed} timed steps per configuration ({args.rounds} rounds); load average {load:.1f}")
    reference = read_reference(args.reference) if args.reference else None
    ref_rate = reference["results"][0]["rows_per_s"] if reference else None
    print(f"{'variant':<11} {'batch':>5} {'layout':<12} {'dropout':<8} {'s/step':>8} {'rows/s':>8} {'tokens/s':>9} "
          f"{'vs first':>8}"
          + (f" {'vs ref':>8}" if reference else ""))
    for res in results:
        line = (f"{res['variant']:<11} {res['batch_size']:>5} {res['layout']:<12} {res['dropout']:<8} "
                f"{res['s_per_step']:8.3f} {res['rows_per_s']:8.1f} "
                f"{res['tokens_per_s']:9.0f} {res['rows_per_s'] / results[0]['rows_per_s']:7.2f}x")
        if reference:
            line += f" {res['rows_per_s'] / ref_rate:7.1f}x"
        print(line)
    if reference:
        first = reference["results"][0]
        print(f"reference: {reference['device']}, {first['variant']} batch {first['batch_size']}: "
              f"{first['s_per_step']:.2f} s/step, {ref_rate:.2f} rows/s")
    if args.json:
        args.json.write_text(json.dumps({"device": device, "load_average": load, "steps": timed,
                                         "config": args.config, "results": results}, indent=2) + "\n")

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
                  f"in the loop, {manifest['steps']} steps on {manifest['data_rows']} rows, {manifest['device']}")


def time_eval(config: TrainConfig, rows: int, threads: int | None) -> None:
    """The held-out check of ``fenrir train``: training.train.exact_match (generation sorts its prompts by
    listing itself) and eval_loss in file order and batched by listing."""
    import tempfile

    import torch

    from training.data import Grounding
    from training.train import eval_loss, exact_match

    if threads:
        torch.set_num_threads(threads)
    loaded = load_model(fast=False)  # the shipped adapter, merged: the same function as the PEFT model in eval mode
    grounding = load_grounding(config.listings, 0.0) if config.listings else None
    held = Grounding(grounding.listings, 0.0, grounding.sha256) if grounding else None
    lines = [line for line in Path(ROOT / config.eval_data).read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "eval.jsonl"
        path.write_text("\n".join(lines[:rows] if rows else lines) + "\n")
        dataset = load_dataset([str(path)], loaded.tokenizer, config.max_length, held)
        t0 = time.perf_counter()
        hits, total, _ = exact_match(loaded, loaded.model, str(path), config.eval_max_new_tokens, held)
        generate_s = time.perf_counter() - t0
        losses = {}
        for by_listing in (False, True):
            t0 = time.perf_counter()
            loss = eval_loss(loaded.model, dataset, loaded.tokenizer.pad_token_id, config.batch_size, by_listing)
            losses[by_listing] = (time.perf_counter() - t0, loss)
    print(f"{device_name(loaded.device)}; load average {os.getloadavg()[0]:.1f}; held-out check of {config.eval_data}")
    print(f"exact match: {hits}/{total} in {generate_s:.1f} s")
    print(f"{'loss order':<11} {'s':>8} {'loss':>8}")
    for by_listing, (loss_s, loss) in losses.items():
        print(f"{'by listing' if by_listing else 'file':<11} {loss_s:8.1f} {loss:8.4f}")
    print(f"loss batched by listing: {losses[False][0] / losses[True][0]:.2f}x faster than in file order")


if __name__ == "__main__":
    main()
