"""The model card (``README.md``) written beside a trained adapter, from its manifest.

PEFT's ``save_pretrained`` writes a blank template card; users of the adapter
want what it is, how it was trained (data with credits, steps, time, device)
and how well it did on the held-out rows, all of which the manifest knows.
The template is ``results/templates/model_card.md.j2``.
"""

from __future__ import annotations

import jinja2

from harness.paths import templates_dir
from training.manifest import Manifest

CARD_TEMPLATE = "model_card.md.j2"
PARAMETERS = {"HuggingFaceTB/SmolLM2-135M-Instruct": "135M", "TinyLlama/TinyLlama-1.1B-Chat-v1.0": "1.1B"}
"""Sizes the card names; any other base is 'a small' model."""
LICENCES = {"HuggingFaceTB/SmolLM2-135M-Instruct": "Apache 2.0", "TinyLlama/TinyLlama-1.1B-Chat-v1.0": "Apache 2.0"}
"""Licences of the bases the card names (others: see the base's own card)."""


def minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def render_card(manifest: Manifest) -> str:
    """The card's Markdown for the adapter ``manifest`` describes."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates_dir()), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    paths = [f.path for f in manifest.data_files] or manifest.data_path.split(",")
    config = manifest.config
    rows_seen = manifest.steps * config["batch_size"] * config.get("grad_accum", 1)
    return env.get_template(CARD_TEMPLATE).render(
        m=manifest, c=config, minutes=minutes,
        params=PARAMETERS.get(manifest.base_model, "small"), licence=LICENCES.get(manifest.base_model, ""),
        epochs=rows_seen / max(manifest.data_rows, 1),
        templates=any("cli_qa" in p for p in paths),
        external=any("external" in p for p in paths),
    )
