"""Training test fixtures: small JSONL files cut from the real data."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "cli_qa.jsonl"


@pytest.fixture
def rows_file(tmp_path):
    """Write the first ``n`` rows of data/cli_qa.jsonl (optionally the same rows repeated) to a file."""

    def make(n: int, name: str = "rows.jsonl") -> Path:
        lines = [line for line in DATA.read_text().splitlines() if line.strip()][:n]
        assert len(lines) == n
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n")
        return path

    return make


@pytest.fixture(scope="session")
def tokenizer():
    """The embedded model's tokenizer (from the converted cache; no weights loaded)."""
    from transformers import AutoTokenizer

    from agent.base import ensure_embedded_cache

    folder, _ = ensure_embedded_cache()
    return AutoTokenizer.from_pretrained(folder, local_files_only=True)


def write_rows(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path
