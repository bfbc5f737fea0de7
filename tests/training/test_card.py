"""The model card written beside an adapter, rendered from recorded manifests (pure logic)."""

from __future__ import annotations

from pathlib import Path

from training.card import render_card
from training.manifest import Manifest

SHIPPED = Path(__file__).resolve().parents[2] / "lora_adapter" / "manifest.json"


def shipped() -> Manifest:
    return Manifest.model_validate_json(SHIPPED.read_text())


def test_the_card_says_what_the_manifest_knows():
    m = shipped()
    card = render_card(m)
    assert card.startswith(f"---\nbase_model: {m.base_model}\nlibrary_name: peft\n")
    assert "More Information Needed" not in card  # PEFT's blank template
    for f in m.data_files:
        assert f"`{f.path}`: {f.rows:,} rows" in card
    assert f"{m.steps} of {m.config['batch_size']} rows" in card
    assert f"exact match {m.eval.exact_match}/{m.eval.rows}" in card
    assert f"rank-{m.config['lora_r']} LoRA" in card and m.device in card


def test_credits_follow_the_data_and_the_base():
    m = shipped()
    card = render_card(m)
    assert "NL2Bash" in card and "MIT" in card and "tldr-pages" in card and "CC BY 4.0" in card
    templates_only = m.model_copy(update={"data_files": [f for f in m.data_files if "cli_qa" in f.path],
                                          "data_path": "data/cli_qa.jsonl"})
    card = render_card(templates_only)
    assert "NL2Bash" not in card and "tldr" not in card and "template rows" in card
    other = m.model_copy(update={"base_model": "someone/other-1B", "quantized": True, "eval": None})
    card = render_card(other)
    assert "a small model" in card and "4-bit NF4 (qLoRA)" in card
    assert "held-out |" not in card and "Apache" not in card


def test_base_weights_are_the_dtype_the_run_used():
    m = shipped()  # recorded before manifests named the dtype: the config's
    assert "| base weights | bfloat16;" in render_card(m)
    auto = m.model_copy(update={"config": {**m.config, "dtype": "auto"}, "dtype": "float32"})
    assert "| base weights | float32;" in render_card(auto)  # what auto resolved to, never "auto"
