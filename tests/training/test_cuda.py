"""Training on CUDA uses the quantization asked for (``fenrir train --quantize none`` once loaded 4-bit there).

Skipped without CUDA (CI has none).  Self-contained, so that it runs on a GPU
machine without the rest of the suite's fixtures or the harness plugin:

    python -m pytest --noconftest -p no:cacheprovider tests/training/test_cuda.py
"""

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

pytestmark = [pytest.mark.gpu, pytest.mark.model, pytest.mark.slow,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]

DATA = Path(__file__).resolve().parents[2] / "data" / "cli_qa.jsonl"


@pytest.mark.parametrize(("quantize", "expected"), [("none", False), ("4bit", True), (None, True)],
                         ids=["none", "4bit", "default"])
def test_cuda_training_uses_the_quantization_asked_for(quantize, expected, tmp_path):
    if expected:
        pytest.importorskip("bitsandbytes")
    from agent.model import load_model
    from training.config import TrainConfig
    from training.train import train

    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(DATA.read_text().splitlines(keepends=True)[:4]))
    out = tmp_path / "adapter"
    config = TrainConfig(data=str(rows), output=str(out), max_steps=2, batch_size=2, max_length=128,
                         learning_rate=2e-3, quantize=quantize, seed=0)
    manifest = train(config, log=lambda m: None)
    saved = json.loads((out / "manifest.json").read_text())
    assert manifest.quantized is expected and saved["quantized"] is expected
    assert saved["device"].startswith("cuda:")
    assert all(x == x for x in manifest.loss_curve) and len(manifest.loss_curve) == 2

    loaded = load_model(quantize=quantize, use_adapter=False)  # what the run trained on
    kinds = {type(m).__name__ for m in loaded.model.modules()}
    assert ("Linear4bit" in kinds) is expected
    assert loaded.device.type == "cuda"
