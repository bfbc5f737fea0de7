"""Importing InterCode / NL2SH tasks: the pure import, its errors, and one real scoring run."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.errors import SuiteError
from rubrics.intercode import (Alternatives, alternatives_path, import_intercode, load_alternatives, static_kind,
                               with_copy)
from rubrics.suite import Kind, load_suite
from sandbox.fixture import load_spec

SETUP = """#!/bin/bash
rm -rf /testbed/
mkdir -p /testbed/docs
echo 'alpha' > /testbed/docs/a.txt
echo -e 'beta\\ngamma' > /testbed/b.txt
"""

TASKS = [
    {"query": "count the text files", "gold": "find /testbed -name '*.txt' | wc -l",
     "gold2": "find . -type f -name '*.txt' | wc -l", "difficulty": 0},
    {"query": "copy docs/a.txt to docs/c.txt", "gold": "cp /testbed/docs/a.txt /testbed/docs/c.txt",
     "difficulty": 1},
    {"query": "show the first line of the setup script, then list docs",
     "gold": "head -n 1 setup.sh\nls docs", "gold2": "sed -n 1p setup.sh; ls docs"},
]


def write_input(tmp_path: Path, tasks=TASKS, setup: str = SETUP) -> tuple[Path, Path]:
    tasks_json, setup_sh = tmp_path / "tasks.json", tmp_path / "setup.sh"
    tasks_json.write_text(tasks if isinstance(tasks, str) else json.dumps(tasks), encoding="utf-8")
    setup_sh.write_text(setup, encoding="utf-8")
    return tasks_json, setup_sh


def run_import(tmp_path: Path, **kw):
    tasks_json, setup_sh = write_input(tmp_path)
    return import_intercode(tasks_json, setup_sh, "/testbed", "mini-ic", suite_out=tmp_path / "out" / "mini-ic.yaml",
                            fixture_out=tmp_path / "out" / "fixture.yaml", **kw)


# --- the pure import ----------------------------------------------------------------
def test_import_writes_a_valid_suite_fixture_and_gold2_sidecar(tmp_path):
    done = run_import(tmp_path)
    suite = load_suite(done.suite_path)
    fixture = load_spec(done.fixture_path)
    fixture_ref = str((tmp_path / "out" / "fixture.yaml").resolve())  # not in fixtures/: cases name it by path

    assert fixture.name == "mini-ic" and fixture.root == "/testbed" and not fixture.files
    assert fixture.setup.startswith(SETUP)
    assert suite.suite == "mini-ic"
    assert [c.model_dump(mode="json") for c in suite.cases] == [
        {"id": "mini-ic-001", "prompt": "count the text files", "fixtures": [fixture_ref], "kind": "output",
         "reference": "$ find /testbed -name '*.txt' | wc -l\n", "compare": [], "category": "difficulty-0"},
        {"id": "mini-ic-002", "prompt": "copy docs/a.txt to docs/c.txt", "fixtures": [fixture_ref], "kind": "effect",
         "reference": "$ cp /testbed/docs/a.txt /testbed/docs/c.txt\n", "compare": [], "category": "difficulty-1"},
        {"id": "mini-ic-003", "prompt": "show the first line of the setup script, then list docs",
         "fixtures": [fixture_ref], "kind": "output", "reference": "$ head -n 1 setup.sh\n$ ls docs\n",
         "compare": [], "category": ""},
    ]
    assert done.alternatives_path == tmp_path / "out" / "mini-ic.gold2.json"
    assert load_alternatives(done.suite_path) == Alternatives(suite="mini-ic", source="tasks.json", alternatives={
        "mini-ic-001": "$ find . -type f -name '*.txt' | wc -l\n",
        "mini-ic-003": "$ sed -n 1p setup.sh; ls docs\n"})


def test_yaml_is_readable_block_text(tmp_path):
    done = run_import(tmp_path)
    text = done.fixture_path.read_text()
    assert text.startswith("name: mini-ic\ndescription: ")
    assert "root: /testbed\nsetup: |\n  #!/bin/bash\n  rm -rf /testbed/\n" in text
    assert "  reference: |\n    $ head -n 1 setup.sh\n    $ ls docs\n" in done.suite_path.read_text()


def test_no_copy_setup_keeps_the_script_verbatim(tmp_path):
    assert load_spec(run_import(tmp_path, copy_setup=False).fixture_path).setup == SETUP


def test_the_setup_copy_is_byte_identical_even_with_the_marker_inside(tmp_path):
    setup = SETUP + "echo FENRIR_SETUP_EOF > $ROOT/marker\n"
    root = tmp_path / "tree"
    root.mkdir()
    script = with_copy(setup.replace("/testbed", str(root)), str(root), "setup.sh")
    done = subprocess.run(["bash", "-c", script], env={"ROOT": str(root), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (root / "setup.sh").read_text() == setup.replace("/testbed", str(root))
    assert (root / "setup.sh").stat().st_mode & 0o777 == 0o755
    assert (root / "marker").read_text() == "FENRIR_SETUP_EOF\n"


@pytest.mark.parametrize("gold, kind", [
    ("ls -la", Kind.OUTPUT),
    ("grep -o 'the' f | wc -l", Kind.OUTPUT),
    ("find . -name '*.c' -exec wc -l {} +", Kind.OUTPUT),
    ("time echo hello", Kind.OUTPUT),  # bashlex could not parse `time`; tree-sitter-bash does
    ("echo $((1 + 2)) 2>/dev/null", Kind.OUTPUT),
    ("[[ -f setup.sh ]] && head -n 3 setup.sh", Kind.OUTPUT),
    ("diff <(sort a) <(sort b)", Kind.OUTPUT),
    ("echo 'unterminated", Kind.OUTPUT),  # cannot be read: nothing to go on
    ("mkdir /testbed/new", Kind.EFFECT),
    ("touch a.txt", Kind.EFFECT),
    ("echo hi > out.txt", Kind.EFFECT),  # a new file: safe for agent.safety, still an effect
    ("echo hi >> notes.txt", Kind.EFFECT),
    ("mv a.txt b.txt", Kind.EFFECT),
    ("for f in *.txt; do cp \"$f\" \"$f.bak\"; done", Kind.EFFECT),
    ("cat > f.txt <<'EOF'\nhi\nEOF", Kind.EFFECT),
    ("tar -czf logs.tgz /var/log", Kind.EFFECT),
    ("find . -name '*.php' -exec chmod 755 {} \\;", Kind.EFFECT),
    ("openssl enc -aes-256-cbc -in f -pass pass:p -out f.enc", Kind.EFFECT),
    ("find /testbed -name '*.tmp' -delete", Kind.EFFECT),
])
def test_static_kind(gold, kind):
    assert static_kind(gold) == kind


# --- errors ------------------------------------------------------------------------
@pytest.mark.parametrize("tasks, needles", [
    ('{"query": "list files", "gold": "ls"}', ["tasks.json", "JSON list", "dict"]),
    ("[]", ["tasks.json", "non-empty JSON list"]),
    ("[{\"query\": \"list files\", \"gold\": \"ls\"},", ["tasks.json", "not valid JSON"]),
    ([{"query": "list files", "gold": "ls"}, {"query": "print the date"}], ["tasks.json", "task 2", "field gold"]),
    ([{"query": "list files", "gold": 42}], ["tasks.json", "task 1", "field gold", "string"]),
    ([{"query": "list files", "gold": "ls", "answer": "x"}], ["tasks.json", "task 1", "field answer"]),
    (["ls"], ["tasks.json", "task 1", "object"]),
    ([{"query": "list files", "gold": " \n "}], ["tasks.json", "task 1", "field gold", "blank"]),
])
def test_malformed_tasks_name_the_file_task_and_field(tmp_path, tasks, needles):
    tasks_json, setup_sh = write_input(tmp_path, tasks=tasks)
    with pytest.raises(SuiteError) as err:
        import_intercode(tasks_json, setup_sh, suite_out=tmp_path / "s.yaml", fixture_out=tmp_path / "f.yaml")
    for needle in needles:
        assert needle in str(err.value)
    assert not (tmp_path / "s.yaml").exists() and not (tmp_path / "f.yaml").exists()


def test_missing_or_empty_inputs_and_bad_names(tmp_path):
    tasks_json, setup_sh = write_input(tmp_path)
    out = {"suite_out": tmp_path / "s.yaml", "fixture_out": tmp_path / "f.yaml"}
    with pytest.raises(SuiteError, match=r"tasks file .*nope\.json does not exist"):
        import_intercode(tmp_path / "nope.json", setup_sh, **out)
    with pytest.raises(SuiteError, match=r"setup script .*nope\.sh does not exist"):
        import_intercode(tasks_json, tmp_path / "nope.sh", **out)
    setup_sh.write_text("  \n")
    with pytest.raises(SuiteError, match=r"setup script .*setup\.sh is empty"):
        import_intercode(tasks_json, setup_sh, **out)
    setup_sh.write_text(SETUP)
    with pytest.raises(SuiteError, match=r"name 'Bad Name' is not allowed.*--name"):
        import_intercode(tasks_json, setup_sh, name="Bad Name", **out)
    with pytest.raises(SuiteError, match=r"root.*'relative'"):
        import_intercode(tasks_json, setup_sh, root="relative", **out)


def test_refuses_to_overwrite_without_force(tmp_path):
    first = run_import(tmp_path)
    before = first.suite_path.read_text()
    first.suite_path.write_text("edited by hand\n")
    with pytest.raises(SuiteError) as err:
        run_import(tmp_path)
    assert str(first.suite_path) in str(err.value) and "--force" in str(err.value)
    assert first.suite_path.read_text() == "edited by hand\n"
    assert run_import(tmp_path, force=True).suite_path.read_text() == before


def test_force_removes_a_stale_gold2_sidecar(tmp_path):
    done = run_import(tmp_path)
    assert alternatives_path(done.suite_path).exists()
    tasks_json, setup_sh = write_input(tmp_path, tasks=[{k: v for k, v in t.items() if k != "gold2"} for t in TASKS])
    again = import_intercode(tasks_json, setup_sh, name="mini-ic", suite_out=done.suite_path,
                             fixture_out=done.fixture_path, force=True)
    assert again.alternatives_path is None and not alternatives_path(done.suite_path).exists()


def test_cli_static_kinds(tmp_path):
    from harness.cli import main

    tasks_json, setup_sh = write_input(tmp_path)
    args = ["suite", "import-intercode", str(tasks_json), "--setup", str(setup_sh), "--name", "mini-ic",
            "--suite-out", str(tmp_path / "s.yaml"), "--fixture-out", str(tmp_path / "f.yaml"), "--kind-from", "static"]
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 0, done.output
    assert f"wrote suite   {tmp_path / 's.yaml'} (3 cases: 2 output, 1 effect; kinds from the static)" in done.output
    assert f"wrote gold2   {tmp_path / 's.gold2.json'} (2 alternatives)" in done.output
    assert "run it: pytest tests/eval --suite " in done.output
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 1 and "already exist" in again.output and "--force" in again.output


# --- against the real sandbox --------------------------------------------------------
@pytest.mark.docker
def test_references_score_2_2_2_and_other_tasks_golds_do_not(tmp_path):
    from harness.cli.suite import _GoldRuns
    from harness.runner import Evaluator, RunMeta, RunStore, day_epoch
    from sandbox.image import ensure_image, programs

    gold_runs = _GoldRuns()
    done = run_import(tmp_path, kind_for=gold_runs.kind_for)
    suite = load_suite(done.suite_path)
    assert [c.kind for c in suite.cases] == [Kind.OUTPUT, Kind.EFFECT, Kind.OUTPUT]
    assert gold_runs.failed == [] and gold_runs.silent == []

    image = ensure_image()
    meta = RunMeta(run_id="ic", created=datetime.now(timezone.utc).isoformat(), epoch=day_epoch(), source="test",
                   suites=[suite.suite], image=image.tag, image_digest=image.digest, programs=sorted(programs(image)))
    ev = Evaluator(RunStore("ic", root=tmp_path / "runs"), meta, overrides_path=tmp_path / "no-overrides.yaml")

    for case in suite.cases:
        scores = ev.evaluate(suite.suite, case, case.reference, "reference").scores
        assert (scores.plan, scores.safe, scores.answer) == (2, 2, 2), case.id
    run = ev.store.load_case("mini-ic-003")[2][0]
    assert run.reference.stdout == "#!/bin/bash\na.txt\n"  # the setup copy is in the root, as in InterCode

    cases = list(suite.cases)
    for i, case in enumerate(cases):
        wrong = cases[(i + 1) % len(cases)].reference
        assert ev.evaluate(suite.suite, case, wrong, "cross").scores.answer == 0, case.id

    gold2 = load_alternatives(done.suite_path).alternatives
    assert ev.evaluate(suite.suite, cases[2], gold2["mini-ic-003"], "gold2").scores.answer == 2
