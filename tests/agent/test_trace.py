"""Trace records: fields, and concurrent appends from several processes."""

import json
import subprocess
import sys

from agent.plan import parse_plan
from agent.trace import DecodingRecord, LineVerdict, TraceRecord, append_trace


def make_record(request: str = "list files", raw: str = "$ ls\n$ rm a") -> TraceRecord:
    plan = parse_plan(raw)
    return TraceRecord(
        timestamp="2026-01-01T00:00:00.000+00:00", request=request, raw_output=raw, plan=plan,
        plan_text=plan.render(),
        verdicts=[LineVerdict(command=l.original, level=l.level, action=l.action, reason=l.reason)
                  for l in plan.lines if l.original],
        base_model="HuggingFaceTB/SmolLM2-135M-Instruct", base_revision="sha256:abc", adapter_sha256=None,
        quantized=False, fewshot_ids=["cli_qa:1"],
        decoding=DecodingRecord(do_sample=False, max_new_tokens=8, fewshot_k=1),
        latency_s=0.5, prompt_tokens=10, completion_tokens=3,
    )


def test_record_fields_round_trip(tmp_path):
    path = append_trace(make_record(), tmp_path / "logs" / "trace.jsonl")
    (line,) = path.read_text().splitlines()
    data = json.loads(line)
    assert set(data) == set(TraceRecord.model_fields)
    assert [v["level"] for v in data["verdicts"]] == ["safe", "destructive"]
    assert data["plan_text"] == "$ ls\n$ ls -d -- a\n# to apply after review: rm a"
    assert TraceRecord.model_validate(data) == make_record()


def test_trace_path_env_and_append(tmp_path, monkeypatch):
    monkeypatch.setenv("FENRIR_TRACE", str(tmp_path / "t.jsonl"))
    append_trace(make_record("one"))
    append_trace(make_record("two"))
    lines = (tmp_path / "t.jsonl").read_text().splitlines()
    assert [json.loads(l)["request"] for l in lines] == ["one", "two"]


WRITER = """
import sys
from tests_agent_trace_helper import make_record
from agent.trace import append_trace
big = "x" * 70000
for i in range(int(sys.argv[2])):
    append_trace(make_record(f"{sys.argv[1]}-{i}", "$ echo " + big), sys.argv[3])
"""


def test_concurrent_appends_never_interleave(tmp_path):
    # Records larger than a pipe buffer / page, written by 4 processes at once.
    helper = tmp_path / "tests_agent_trace_helper.py"
    helper.write_text(open(__file__).read().split("WRITER =")[0])
    target = tmp_path / "trace.jsonl"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, f"p{n}", "15", str(target)],
                              env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
             for n in range(4)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    lines = target.read_text().splitlines()
    assert len(lines) == 60
    requests = sorted(json.loads(line)["request"] for line in lines)
    assert requests == sorted(f"p{n}-{i}" for n in range(4) for i in range(15))
