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
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "manual.pdf").write_bytes(b"%PDF-1.4\n")
    result = CliRunner().invoke(main, ["--max-new-tokens", "24", "--cwd", str(tmp_path),
                                       "Find PDF files larger than 1 MB"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines and all(line.startswith(("$ ", "# ")) for line in lines)
    (record,) = [json.loads(line) for line in trace.read_text().splitlines()]
    assert record["request"] == "Find PDF files larger than 1 MB"
    assert record["plan_text"] == result.output.strip()
    from agent.ask import ADAPTER_FEWSHOT_K, DEFAULT_CANDIDATES, DEFAULT_FEWSHOT_K

    k = ADAPTER_FEWSHOT_K if record["adapter_sha256"] else DEFAULT_FEWSHOT_K  # the measured best for each
    assert record["decoding"]["fewshot_k"] == k and len(record["fewshot_ids"]) == k
    rounds = record["check"]["rounds"]  # 2 when none of the first 4 ran cleanly
    assert record["decoding"]["candidates"] == DEFAULT_CANDIDATES * rounds and record["decoding"]["do_sample"]
    assert record["completion_tokens"] > 0
    # grounded in --cwd: the listing is identified in the trace, never stored
    context = record["context"]
    assert context["directory"] == str(tmp_path.resolve()) and context["entries"] == 2
    assert len(context["sha256"]) == 64 and context["tokens"] > 0 and "manual.pdf" not in json.dumps(context)
    # checked: a '#' line says on what, and the trace has every candidate
    check = record["check"]
    assert len(check["candidates"]) == DEFAULT_CANDIDATES * rounds
    assert lines[0].startswith(("# checked on a copy of", "# not checked:"))


@pytest.mark.model
def test_a_second_request_in_a_directory_loads_the_prompt_opening_from_the_cache(tmp_path, monkeypatch):
    trace = tmp_path / "trace.jsonl"
    monkeypatch.setenv("FENRIR_TRACE", str(trace))
    project = tmp_path / "project"
    for i in range(40):
        (project / f"module_{i:02d}").mkdir(parents=True)
        (project / f"module_{i:02d}" / f"handler_number_{i:02d}.py").write_text("")
    for request in ("list the python files", "count the python files"):
        result = CliRunner().invoke(main, ["--no-check", "--max-new-tokens", "8", "--cwd", str(project), request])
        assert result.exit_code == 0, result.output
    first, second = [json.loads(line) for line in trace.read_text().splitlines()]
    from agent.fast.promptcache import CHUNK

    assert first["prompt_tokens"] > CHUNK
    assert CHUNK <= second["cached_prompt_tokens"] < second["prompt_tokens"]


@pytest.mark.model
def test_no_check_and_no_context_give_the_greedy_plan_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("FENRIR_TRACE", str(tmp_path / "t.jsonl"))
    result = CliRunner().invoke(main, ["--json", "--no-check", "--no-context", "--max-new-tokens", "16",
                                       "list the python files"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["context"] is None and record["check"] is None
    assert record["decoding"]["candidates"] == 1 and not record["decoding"]["do_sample"]
    assert not record["plan_text"].startswith("# checked")


@pytest.mark.model
def test_an_unwritable_trace_still_prints_the_plan(tmp_path, monkeypatch):
    blocked = tmp_path / "ro"
    blocked.mkdir()
    (blocked / "trace.jsonl").mkdir()  # a folder where the file should be: cannot be appended to, even as root
    monkeypatch.setenv("FENRIR_TRACE", str(blocked / "trace.jsonl"))
    result = CliRunner().invoke(main, ["--no-check", "--max-new-tokens", "16", "list files"])
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].startswith(("$ ", "# "))  # the plan came first
    assert "the plan above was not logged" in result.stderr and "--no-log" in result.stderr


def test_limits_on_the_request_and_few_shot_are_clear_usage_errors():
    long = CliRunner().invoke(main, ["--no-log", "x" * 3000])
    assert long.exit_code == 2 and "3,000 characters" in long.output and "at most 2,000" in long.output
    many = CliRunner().invoke(main, ["--no-log", "--fewshot", "1000", "list files"])
    assert many.exit_code == 2 and "1000 is not in the range 0<=x<=16" in many.output
    assert "Traceback" not in long.output + many.output


def test_a_request_that_is_not_utf8_gets_a_message():
    done = subprocess.run([sys.executable, "-c", "from harness.cli import main; main()", "--no-log",
                           b"list caf\xe9 files"], capture_output=True, timeout=60)
    err = done.stderr.decode()
    assert done.returncode == 2 and "not valid UTF-8" in err and "\\xe9" in err and "Traceback" not in err


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
