"""Agent test fixtures: the embedded model is loaded once per session."""

import os

import pytest

os.environ.setdefault("TQDM_DISABLE", "1")


@pytest.fixture(scope="session")
def loaded():
    """The embedded SmolLM2 model (converts the GGUF into the cache on first use)."""
    from agent.model import load_model

    return load_model(use_adapter=False)
