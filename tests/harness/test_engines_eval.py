"""The eval over several engines, run as users run it (pytest subprocesses): the main engine and e2.

Each run gets a cache of its own for executions (fixtures, programs and image
locks are shared), so every plan really runs on the engine its worker is
bound to.  e2 is stopped by its own pid file only (conftest.ExtraEngine).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from harness.paths import cache_dir
from rubrics.suite import load_suite
from sandbox.endpoints import home

pytestmark = [pytest.mark.docker, pytest.mark.engines, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
CASES = 16


def slow_suite(tmp_path: Path) -> Path:
    """CASES cases on 'mini' whose references take a moment each, so a run is still going when e2 stops."""
    path = tmp_path / "slow.yaml"
    path.write_text("suite: slow\ncases:\n" + "".join(
        f"  - {{id: slow-{i:02d}, prompt: list {i} things slowly, fixtures: [mini], kind: output, "
        f"reference: '$ sleep 0.3; ls -la | head -n {i + 2}'}}\n" for i in range(CASES)))
    return path


def fresh_cache(tmp_path: Path) -> Path:
    """A cache whose executions folder is empty; the rest is the usual cache's."""
    cache = tmp_path / "cache"
    if not cache.exists():
        cache.mkdir(parents=True)
        for part in ("fixtures", "programs", "images", "digests"):
            (cache / part).symlink_to(cache_dir(part))
    return cache


def start_eval(tmp_path: Path, engines: str | None, *args: str) -> subprocess.Popen:
    env = dict(os.environ, FENRIR_RESULTS=str(tmp_path), FENRIR_OVERRIDES=str(tmp_path / "overrides.yaml"),
               FENRIR_CACHE=str(fresh_cache(tmp_path)))
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("FENRIR_ENGINES", None)
    if engines is not None:
        env["FENRIR_ENGINES"] = engines
    return subprocess.Popen([sys.executable, "-m", "pytest", "tests/eval", "-q", "-p", "no:cacheprovider",
                             "--no-reports", "--agent", "reference", "--baseline", str(tmp_path / "baseline.json"),
                             "--update-baseline", *args], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def finish(process: subprocess.Popen) -> str:
    out, _ = process.communicate(timeout=600)
    return out


def results(tmp_path: Path, run_id: str) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text())
            for p in (tmp_path / "runs" / run_id / "cases").glob("*/result.json")}


def wait_for(condition, what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_scores_are_the_same_on_one_engine_and_on_two(tmp_path, extra_engine):
    main = home()
    one = start_eval(tmp_path / "one", None, "--suite", "static", "--run-id", "one")
    two = start_eval(tmp_path / "two", f"{main},{extra_engine.url}", "--suite", "static", "--run-id", "two",
                     "-n", "2")
    out_one, out_two = finish(one), finish(two)
    assert one.returncode == 0 and two.returncode == 0, out_one + out_two
    alone, spread = results(tmp_path / "one", "one"), results(tmp_path / "two", "two")
    assert sorted(alone) == sorted(spread) and len(alone) == len(load_suite(REPO / "rubrics" / "static.yaml").cases)
    for case_id, result in alone.items():
        assert spread[case_id]["judgement"] == result["judgement"], case_id  # scores, reasons, per variant
        assert result["engine"] == main and result["retries"] == spread[case_id]["retries"] == []
    assert {r["engine"] for r in spread.values()} == {main, extra_engine.url}  # gw0 on main, gw1 on e2
    count = Counter(r["engine"] for r in spread.values())
    assert "engines: " + ", ".join(f"{e} {n} case(s)" for e, n in sorted(count.items())) in out_two.splitlines()


def test_an_engine_stopped_mid_run_loses_no_case_and_its_retries_are_recorded(tmp_path, extra_engine):
    main, e2 = home(), extra_engine.url
    run = start_eval(tmp_path, f"{main},{e2}", "--suite", str(slow_suite(tmp_path)), "--run-id", "stop", "-n", "2")
    wait_for(lambda: any(r["engine"] == e2 for r in results(tmp_path, "stop").values()), "a case scored on e2")
    extra_engine.stop(signal.SIGKILL)  # the connection to e2 drops at once, mid-case
    out = finish(run)
    assert run.returncode == 0, out
    scored = results(tmp_path, "stop")
    assert len(scored) == CASES, out
    assert all(r["judgement"]["scores"] == {"plan": 2, "safe": 2, "answer": 2} for r in scored.values()), out
    retried = {case_id: r for case_id, r in scored.items() if r["retries"]}
    assert retried, out  # the case running on e2 when it stopped, and any queued behind it
    for r in retried.values():
        assert r["engine"] == main and {t["engine"] for t in r["retries"]} == {e2}
    count = sum(len(r["retries"]) for r in retried.values())
    assert (f"{count} infrastructure retr{'y' if count == 1 else 'ies'} in {len(retried)} case(s): engine {e2} "
            f"lost; their work was done again on the remaining engines") in out


def test_with_no_engine_left_the_run_stops_once_and_resumes(tmp_path, extra_engine):
    e2 = extra_engine.url
    suite = str(slow_suite(tmp_path))
    run = start_eval(tmp_path, e2, "--suite", suite, "--run-id", "alone")
    wait_for(lambda: len(results(tmp_path, "alone")) >= 2, "two cases scored on e2")
    extra_engine.stop(signal.SIGKILL)
    out = finish(run)
    assert run.returncode == 2, out
    assert out.count("no Docker engine left") == 1 and "Traceback" not in out, out
    assert f"The cases scored so far are kept in {tmp_path / 'runs' / 'alone'}: rerun with --run-id alone" in out
    kept = results(tmp_path, "alone")
    assert 2 <= len(kept) < CASES
    extra_engine.start()
    again = start_eval(tmp_path, e2, "--suite", suite, "--run-id", "alone")
    out = finish(again)
    assert again.returncode == 0, out
    assert len(results(tmp_path, "alone")) == CASES
    assert all(results(tmp_path, "alone")[case_id] == r for case_id, r in kept.items())  # resumed, not redone
