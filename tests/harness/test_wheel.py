"""A plain ``pip install .`` (a wheel, not editable) gives a ``fenrir`` and a pytest plugin that find their files.

The wheel is built from a copy of the checkout and installed without its
dependencies into a fresh virtual environment outside the repository; the
environment borrows this one's libraries through a ``.pth`` line (a path so
added is not a site folder, so the editable install's finder there never
runs).  Every command then runs from a folder outside the repository, so only
the installed copy can answer.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

from harness.paths import package_root
from rubrics.suite import load_suite

LEFT_OUT = {".venv", ".git", "__pycache__", "build", "logs", ".cache", ".pytest_cache", "runs", "screenshots",
            "tests", "bench"}
"""Folders of a checkout no wheel is built from (results/runs can be large)."""


def _copy_ignoring(folder: str, names: list[str]) -> set[str]:
    return {n for n in names if n in LEFT_OUT or n.endswith(".egg-info")}


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """The environment of a fenrir installed from its wheel, and a work folder outside the repository."""
    root = tmp_path_factory.mktemp("wheel")
    source, wheels, venv, work = root / "source", root / "wheels", root / "venv", root / "work"
    shutil.copytree(package_root(), source, ignore=_copy_ignoring)
    # no build isolation: the setuptools installed here (torch depends on it) builds the wheel, offline
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels),
                    str(source)], check=True, capture_output=True, timeout=300)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    (wheel,) = wheels.glob("fenrir-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                   check=True, capture_output=True, timeout=300)
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             check=True, capture_output=True, text=True).stdout.strip()
    (Path(purelib) / "fenrir-test-dependencies.pth").write_text(
        "\n".join(site.getsitepackages()) + "\n")
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "FENRIR_RESULTS", "FENRIR_OVERRIDES")}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", TQDM_DISABLE="1")
    return {"python": python, "fenrir": venv / "bin" / "fenrir", "site": Path(purelib), "work": work, "env": env}


def _run(installed: dict, *command: str | Path) -> str:
    done = subprocess.run([str(c) for c in command], cwd=installed["work"], env=installed["env"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{command}: {done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.stdout


def _python(installed: dict, code: str) -> str:
    return _run(installed, installed["python"], "-c", code)


def test_the_installed_copy_is_the_one_imported(installed):
    where = _python(installed, "import agent, data, harness, rubrics, sandbox, training\n"
                               "print(*{m.__file__.rsplit('/', 2)[0] for m in (agent, data, harness, rubrics, "
                               "sandbox, training)})")
    assert where.split() == [str(installed["site"])]
    assert _python(installed, "from harness.paths import is_checkout; print(is_checkout())").strip() == "False"


def test_fenrir_runs_and_lists_the_shipped_fixtures(installed):
    assert "Commands:" in _run(installed, installed["fenrir"], "--help")
    assert _run(installed, installed["fenrir"], "--version").strip().endswith("0.1.0")
    listed = {line.split()[0] for line in _run(installed, installed["fenrir"], "fixtures", "list").splitlines()[2:]}
    assert listed == {p.stem for p in (package_root() / "fixtures").glob("*.yaml")}


def test_the_shipped_files_are_found_beside_the_packages(installed):
    site_dir = installed["site"]
    found = _python(installed, "from harness import paths\n"
                               "for f in (paths.fixtures_dir, paths.rubrics_dir, paths.templates_dir, paths.data_dir, "
                               "paths.sandbox_context, paths.shipped_adapter):\n"
                               "    print(f())\n"
                               "from agent.adapter import resolve_adapter\nprint(resolve_adapter(None))\n"
                               "from agent.fewshot import load_examples\nprint(len(load_examples()))\n"
                               "from data.contamination import all_suites\nprint(*[p.name for p in all_suites()])\n")
    lines = found.splitlines()
    assert lines[:7] == [str(site_dir / p) for p in ("fixtures", "rubrics", "results/templates", "data",
                                                     "sandbox/image", "lora_adapter", "lora_adapter")]
    assert int(lines[7]) == len((package_root() / "data" / "cli_qa.jsonl").read_text().splitlines())
    assert lines[8].split() == ["static.yaml", "dynamic.yaml", "icalfa-fs1.yaml"]
    # the same bytes as the checkout's: the image's build context, the templates, the adapter, the data
    for folder in ("fixtures", "sandbox/image", "results/templates", "lora_adapter", "rubrics/imported"):
        compared = filecmp.dircmp(package_root() / folder, site_dir / folder, ignore=["__pycache__"])
        assert not (compared.left_only or compared.right_only or compared.diff_files), (folder, compared.report())
    context = [p for p in (package_root() / "sandbox" / "image").rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    modes = {p: p.stat().st_mode & 0o111 for p in context}  # hashed into the image tag, with the bytes
    assert modes == {p: (site_dir / p.relative_to(package_root())).stat().st_mode & 0o111 for p in context}
    shipped = [p for pattern in ("data/*.json*", "rubrics/*.yaml", "training/*.yaml")
               for p in package_root().glob(pattern) if p.name != "overrides.yaml"]
    assert len(shipped) >= 10 and all(filecmp.cmp(p, site_dir / p.relative_to(package_root()), shallow=False)
                                      for p in shipped)
    assert not (site_dir / "rubrics" / "overrides.yaml").exists()  # the user's file, not shipped


def test_the_pytest_plugin_loads_and_collects_a_suite(installed):
    (installed["work"] / "test_eval.py").write_text((package_root() / "tests" / "eval" / "test_eval.py").read_text())
    assert "--suite=SUITE" in _run(installed, installed["python"], "-m", "pytest", "-p", "harness.plugin", "--help")
    collected = _run(installed, installed["python"], "-m", "pytest", "-p", "harness.plugin", "-p", "no:cacheprovider",
                     "--co", "-q", "--suite", "static", "test_eval.py")
    ids = [line.split("[", 1)[1].rstrip("]") for line in collected.splitlines() if line.startswith("test_eval.py::")]
    assert ids == [c.id for c in load_suite(package_root() / "rubrics" / "static.yaml").cases]
