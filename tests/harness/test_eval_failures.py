"""Failures no case can get past end the eval with one message, a non-zero status and nothing half made.

Each is run as a user runs it (a pytest subprocess, serial and under -n 2).  None
needs a Docker engine: the suite is refused at collection, the dead engine is a
socket where nothing listens (the machine's own engine is left alone), and the
reused run id is a recorded run.json.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.runner import RunMeta, RunStore

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def run_eval(results: Path, *args: str, **env_extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, FENRIR_RESULTS=str(results), FENRIR_OVERRIDES=str(results / "overrides.yaml"), **env_extra)
    env.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.run([sys.executable, "-m", "pytest", "tests/eval", "-q", "-p", "no:cacheprovider", *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def lines(done: subprocess.CompletedProcess) -> list[str]:
    return [ln for ln in (done.stdout + done.stderr).splitlines() if ln.strip()]


@pytest.mark.parametrize("workers", [[], ["-n", "2"]])
def test_a_suite_naming_an_unknown_fixture_is_refused_at_collection(tmp_path, workers):
    suite = tmp_path / "bad.yaml"
    suite.write_text("suite: bad\ncases:\n"
                     "  - {id: bad-ls, prompt: list the files, fixtures: [mini, no-such-fixture], kind: output, "
                     "reference: '$ ls'}\n")
    done = run_eval(tmp_path, "--suite", str(suite), "--run-id", "bad", *workers)
    assert done.returncode != 0
    out = done.stdout + done.stderr
    assert "suite bad, case bad-ls: unknown fixture 'no-such-fixture'" in out
    assert "Traceback" not in out and "pytest.UsageError" not in out and len(lines(done)) < 12, out
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("workers", [[], ["-n", "2"]])
def test_no_docker_engine_is_one_message_and_no_run_folder(tmp_path, workers):
    done = run_eval(tmp_path, "--suite", "static", "--run-id", "nd", *workers,
                    DOCKER_HOST=f"unix://{tmp_path}/nothing-listens.sock")
    assert done.returncode == 2, done.stdout
    out = done.stdout + done.stderr
    assert out.count("No Docker engine answers") == 1, out
    assert "sh sandbox/engine.sh" in out and "DOCKER_HOST" in out
    assert len(lines(done)) <= 6, out
    assert not (tmp_path / "runs" / "nd").exists()


def test_reusing_a_run_id_with_another_plan_source_says_which_and_how(tmp_path):
    store = RunStore("taken", tmp_path / "runs")
    store.save_meta(RunMeta(run_id="taken", created="2026-11-30T00:00:00+00:00", epoch=0.0, source="reference",
                            suites=["static"], image="fenrir-sandbox:x", image_digest="sha256:" + "0" * 64,
                            programs=["ls"]))
    done = run_eval(tmp_path, "--suite", "static", "--run-id", "taken", "--agent", "noop", "-n", "2")
    assert done.returncode == 2, done.stdout
    out = done.stdout + done.stderr
    assert "INTERNALERROR" not in out and "AssertionError" not in out, out
    assert (f"run taken was scored with plan source 'reference' ({store.meta_path}); it cannot resume with 'noop'. "
            "Pass a new --run-id (or none, for a fresh one), or resume it with --agent reference") in out
    assert sorted(p.name for p in store.dir.iterdir()) == ["run.json"]  # nothing scored into it


def test_resuming_a_run_under_another_runtime_says_which_and_how(tmp_path):
    store = RunStore("gvisor", tmp_path / "runs")
    store.save_meta(RunMeta(run_id="gvisor", created="2026-11-30T00:00:00+00:00", epoch=0.0, source="reference",
                            suites=["static"], image="fenrir-sandbox:x", image_digest="sha256:" + "0" * 64,
                            programs=["ls"], runtime="runsc"))
    done = run_eval(tmp_path, "--suite", "static", "--run-id", "gvisor")
    assert done.returncode == 2, done.stdout
    assert (f"run gvisor ran its plans under runsc ({store.meta_path}); it cannot resume under runc. Pass a new "
            f"--run-id (or none, for a fresh one), or resume it with --runtime runsc") in done.stdout + done.stderr
    assert sorted(p.name for p in store.dir.iterdir()) == ["run.json"]


def test_an_unknown_fenrir_runtime_is_a_usage_error(tmp_path):
    done = run_eval(tmp_path, "--suite", "static", FENRIR_RUNTIME="kata")
    assert done.returncode == 4
    assert "FENRIR_RUNTIME='kata' is no runtime Fenrir knows: give one of runc, runsc" in done.stderr
    assert not (tmp_path / "runs").exists()


@pytest.mark.docker
def test_runsc_on_an_engine_without_it_is_one_message_and_no_run_folder(tmp_path):
    from sandbox.runtimes import registered

    if "runsc" in registered():
        pytest.skip("the default engine has runsc registered: nothing to refuse")
    done = run_eval(tmp_path, "--suite", "static", "--run-id", "nr", "--runtime", "runsc", "-n", "2")
    assert done.returncode == 2, done.stdout
    out = done.stdout + done.stderr
    assert out.count("has no runtime 'runsc'") == 1 and "apt-get install runsc" in out, out
    assert not (tmp_path / "runs" / "nr").exists()


@pytest.mark.parametrize("how", ["option", "variable"])
def test_a_bad_engine_list_is_one_usage_error_and_no_run_folder(tmp_path, how):
    bad = "unix:///var/run/docker.sock,docker.example:2376"
    if how == "option":
        done = run_eval(tmp_path, "--suite", "static", "--run-id", "be", "-n", "2", "--engines", bad)
    else:
        done = run_eval(tmp_path, "--suite", "static", "--run-id", "be", "-n", "2", FENRIR_ENGINES=bad)
    assert done.returncode == 4, done.stdout  # pytest's usage error
    name = "--engines" if how == "option" else "FENRIR_ENGINES"
    assert lines(done) == [f"ERROR: {name}: 'docker.example:2376' is not a Docker endpoint Fenrir can use (it has "
                           f"no scheme); give a comma-separated list of unix:///path/to/docker.sock, tcp://host:port "
                           f"(TLS from DOCKER_TLS_VERIFY and DOCKER_CERT_PATH) or ssh://[user@]host[:port]"]
    assert not (tmp_path / "runs").exists()
