"""The report's training section, from the shipped adapter's manifest.

``summary(adapter_dir, out_dir)`` turns ``lora_adapter/manifest.json`` into the
report's Training record and draws the loss curve next to report.md.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.paths import shipped_adapter


def _size(folder: Path) -> str:
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return f"{total / 2**20:.1f} MB"


def loss_chart(curve: list[float], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3), dpi=120)
    ax.plot(range(1, len(curve) + 1), curve, lw=1, color="#888", label="per step")
    window = 10
    if len(curve) >= window:
        smooth = [sum(curve[i - window:i]) / window for i in range(window, len(curve) + 1)]
        ax.plot(range(window, len(curve) + 1), smooth, lw=2, color="#1f77b4", label=f"{window}-step mean")
    ax.set_xlabel("step")
    ax.set_ylabel("completion loss")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def _schedule(cfg: dict) -> str:
    """How the learning rate moved, in words: ``constant``, ``cosine decay to 0``, with any warmup."""
    name = cfg.get("lr_schedule", "constant")
    words = "constant" if name == "constant" else f"{name} decay to 0"
    warmup = cfg.get("warmup_steps")
    return f"{warmup} warmup steps, then {words}" if warmup else words


def summary(adapter_dir: Path | None = None, out_dir: Path | None = None) -> dict | None:
    """The Training record of ``adapter_dir`` (default: the shipped adapter), None without a manifest."""
    adapter_dir = adapter_dir if adapter_dir is not None else shipped_adapter()
    manifest_path = adapter_dir / "manifest.json"
    if not manifest_path.exists():
        return None
    m = json.loads(manifest_path.read_text(encoding="utf-8"))
    cfg = m.get("config", {})
    info = {
        "base_model": m.get("base_model"),
        "adapter": adapter_dir.name + "/",
        "adapter_size": _size(adapter_dir),
        "dataset": m.get("data_path"),
        "dataset_rows": m.get("data_rows"),
        "lora_rank": cfg.get("lora_r"),
        "optimizer": f"AdamW (β₁ {cfg.get('betas', [0.9, 0.98])[0]}, β₂ {cfg.get('betas', [0.9, 0.98])[1]})",
        "lr": cfg.get("learning_rate"),
        "lr_schedule": _schedule(cfg),
        "batch_size": cfg.get("batch_size"),
        "grad_accum": cfg.get("grad_accum"),
        "steps": m.get("steps"),
        "loss_start": m.get("loss_start"),
        "loss_end": m.get("loss_end"),
        "duration_s": m.get("wall_s"),
        "device": m.get("device"),
        "dtype": cfg.get("dtype") or "float32",
    }
    if out_dir is not None and m.get("loss_curve"):
        loss_chart(m["loss_curve"], out_dir / "loss.png")
        info["loss_chart"] = "loss.png"
    quality = (out_dir or adapter_dir.parent / "results") / "quality.json"
    if quality.exists():
        info["quality"] = json.loads(quality.read_text(encoding="utf-8"))
    return info


def for_run(meta, out_dir: Path) -> dict | None:
    """The training section for a run: the shipped adapter's, when the run's plans came from it
    (``model`` or ``model-fewshotK``; not the base alone, and not another ``--adapter``)."""
    uses_adapter = meta.source == "model" or meta.source.startswith("model-fewshot")
    return summary(out_dir=out_dir) if uses_adapter else None
