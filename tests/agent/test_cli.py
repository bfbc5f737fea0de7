"""The ``fenrir`` default command through click's CliRunner."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from harness.cli import main


def test_empty_request_is_a_usage_error():
    result = CliRunner().invoke(main, ["ask", "  "])
    assert result.exit_code == 2
    assert "request is empty" in result.output


def test_model_error_is_a_clean_message_and_exit_1():
    result = CliRunner().invoke(main, ["--no-log", "--base-model", "TinyLlama/TinyLlama-1.1B-Chat-v1.0", "hi"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: base model 'TinyLlama/TinyLlama-1.1B-Chat-v1.0' is not available")
    assert "Traceback" not in result.output


def test_missing_adapter_exit_1(tmp_path):
    result = CliRunner().invoke(main, ["--no-log", "--adapter", str(tmp_path / "none"), "hi"])
    assert result.exit_code == 1 and "adapter" in result.output and "not found" in result.output


@pytest.mark.model
def test_plan_is_printed_and_traced(tmp_path, monkeypatch):
    trace = tmp_path / "logs" / "trace.jsonl"
    monkeypatch.setenv("FENRIR_TRACE", str(trace))
    result = CliRunner().invoke(main, ["--max-new-tokens", "24", "Find PDF files larger than 1 MB"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines and all(line.startswith(("$ ", "# ")) for line in lines)
    (record,) = [json.loads(line) for line in trace.read_text().splitlines()]
    assert record["request"] == "Find PDF files larger than 1 MB"
    assert record["plan_text"] == result.output.strip()
    from agent.ask import ADAPTER_FEWSHOT_K, DEFAULT_FEWSHOT_K

    k = ADAPTER_FEWSHOT_K if record["adapter_sha256"] else DEFAULT_FEWSHOT_K  # the measured best for each
    assert record["decoding"] == {"do_sample": False, "max_new_tokens": 24, "fewshot_k": k}
    assert len(record["fewshot_ids"]) == k and record["completion_tokens"] > 0


@pytest.mark.model
def test_json_and_no_log(tmp_path, monkeypatch):
    trace = tmp_path / "trace.jsonl"
    monkeypatch.setenv("FENRIR_TRACE", str(trace))
    result = CliRunner().invoke(main, ["--json", "--no-log", "--fewshot", "1", "--max-new-tokens", "8", "count words in a.txt"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["decoding"]["fewshot_k"] == 1 and len(record["fewshot_ids"]) == 1
    assert not trace.exists()


def test_agent_never_imports_sandbox_or_docker():
    code = (
        "import sys, agent.ask, agent.plan, agent.safety, agent.preview, agent.rules, agent.trace, "
        "agent.model, agent.fewshot, agent.generate\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('sandbox', 'docker')]\n"
        "assert not bad, bad\n"
        "heavy = [m for m in ('torch', 'transformers') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_safety_imports_neither_torch_nor_docker():
    code = "import sys, agent.safety, agent.preview\nassert not {'torch', 'docker', 'transformers'} & set(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)
