"""Importing InterCode / NL2SH tasks: the pure import, its errors, and real scoring runs.

The InterCode-style inputs here are of our own making, shaped as the published ones are (fs-1 is the only
one on disk): trees under /testbed, under /system, or under /workspace and /backup; golds run from '/' with
relative paths; setup scripts with lines that fail.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.errors import SuiteError
from data.intercode import (Alternatives, alternatives_path, import_intercode, infer_roots, load_alternatives,
                               static_kind)
from rubrics.suite import MEANING_KEEPING, Kind, load_suite
from sandbox.fixture import load_spec

SETUP = """#!/bin/bash
rm -rf /testbed/
mkdir -p /testbed/docs
echo 'alpha' > /testbed/docs/a.txt
echo -e 'beta\\ngamma' > /testbed/b.txt
"""

TASKS = [
    {"query": "count the text files", "gold": "find /testbed -name '*.txt' | wc -l",
     "gold2": "find testbed -type f -name '*.txt' | wc -l", "difficulty": 0},
    {"query": "copy docs/a.txt to docs/c.txt", "gold": "cp /testbed/docs/a.txt /testbed/docs/c.txt",
     "difficulty": 1},
    {"query": "show the first line of the setup script, then list docs",
     "gold": "head -n 1 setup.sh\nls testbed/docs", "gold2": "sed -n 1p setup.sh; ls /testbed/docs"},
]
COMPARE = [c.value for c in MEANING_KEEPING]


def write_input(tmp_path: Path, tasks=TASKS, setup: str = SETUP) -> tuple[Path, Path]:
    tasks_json, setup_sh = tmp_path / "tasks.json", tmp_path / "setup.sh"
    tasks_json.write_text(tasks if isinstance(tasks, str) else json.dumps(tasks), encoding="utf-8")
    setup_sh.write_text(setup, encoding="utf-8")
    return tasks_json, setup_sh


def run_import(tmp_path: Path, **kw):
    tasks_json, setup_sh = write_input(tmp_path)
    return import_intercode(tasks_json, setup_sh, name="mini-ic", suite_out=tmp_path / "out" / "mini-ic.yaml",
                            fixture_out=tmp_path / "out" / "fixture.yaml", **kw)


# --- the pure import ----------------------------------------------------------------
def test_import_writes_a_valid_suite_fixture_and_gold2_sidecar(tmp_path):
    done = run_import(tmp_path)
    suite = load_suite(done.suite_path)
    fixture = load_spec(done.fixture_path)
    fixture_ref = str((tmp_path / "out" / "fixture.yaml").resolve())  # not in fixtures/: cases name it by path

    # as the authors run it: the script verbatim, its tree, commands from '/', the script copied there
    assert (fixture.name, fixture.root, fixture.roots, fixture.workdir) == ("mini-ic", "/testbed", None, "/")
    assert fixture.setup == SETUP and fixture.setup_copy == "/setup.sh" and not fixture.files and fixture.image is None
    assert suite.suite == "mini-ic"
    common = {"fixtures": [fixture_ref], "compare": COMPARE, "uninformative": False, "image": None}
    assert [c.model_dump(mode="json") for c in suite.cases] == [
        {"id": "mini-ic-001", "prompt": "count the text files", "kind": "output",
         "reference": "$ find /testbed -name '*.txt' | wc -l\n", "category": "difficulty-0", **common},
        {"id": "mini-ic-002", "prompt": "copy docs/a.txt to docs/c.txt", "kind": "effect",
         "reference": "$ cp /testbed/docs/a.txt /testbed/docs/c.txt\n", "category": "difficulty-1", **common},
        {"id": "mini-ic-003", "prompt": "show the first line of the setup script, then list docs",
         "kind": "output", "reference": "$ head -n 1 setup.sh\n$ ls testbed/docs\n", "category": "", **common},
    ]
    assert done.alternatives_path == tmp_path / "out" / "mini-ic.gold2.json"
    assert load_alternatives(done.suite_path) == Alternatives(suite="mini-ic", source="tasks.json", alternatives={
        "mini-ic-001": "$ find testbed -type f -name '*.txt' | wc -l\n",
        "mini-ic-003": "$ sed -n 1p setup.sh; ls /testbed/docs\n"})
    assert done.proposed == {} and done.unprovided == {}  # no image programs given: nothing proposed


def test_yaml_is_readable_block_text(tmp_path):
    done = run_import(tmp_path)
    text = done.fixture_path.read_text()
    assert text.startswith("name: mini-ic\ndescription: ")
    assert "root: /testbed\nworkdir: /\nsetup_copy: /setup.sh\nsetup: |\n  #!/bin/bash\n  rm -rf /testbed/\n" in text
    assert "  reference: |\n    $ head -n 1 setup.sh\n    $ ls testbed/docs\n" in done.suite_path.read_text()


def test_options_set_roots_workdir_packages_and_no_copy(tmp_path):
    done = run_import(tmp_path, copy_setup=False, workdir="/testbed", packages=["tree"], comparators=[])
    fixture = load_spec(done.fixture_path)
    assert (fixture.setup, fixture.setup_copy, fixture.workdir) == (SETUP, None, "/testbed")
    assert fixture.packages == ("tree",)
    assert all(c.compare == [] for c in load_suite(done.suite_path).cases)
    two = run_import(tmp_path, roots=["/testbed", "/backup"], force=True)
    assert load_spec(two.fixture_path).roots == ["/testbed", "/backup"]


def test_packages_are_proposed_for_programs_the_image_lacks(tmp_path):
    tasks = TASKS + [{"query": "show the tree", "gold": "tree /testbed", "gold2": "pstree; frobnicate -x"}]
    tasks_json, setup_sh = write_input(tmp_path, tasks=tasks)
    image_programs = frozenset({"find", "wc", "cp", "head", "ls", "sed"})
    done = import_intercode(tasks_json, setup_sh, name="mini-ic", suite_out=tmp_path / "s.yaml",
                            fixture_out=tmp_path / "f.yaml", programs=image_programs)
    assert done.proposed == {"psmisc": ["pstree"], "tree": ["tree"]}
    assert done.unprovided == {"frobnicate": ["pstree; frobnicate -x"]}
    assert load_spec(tmp_path / "f.yaml").packages == ("psmisc", "tree")


@pytest.mark.parametrize("setup, roots", [
    (SETUP, ["/testbed"]),
    ("#!/bin/bash\nrm -rf /system/\nmkdir -p /system/folder1\ntouch .placeholder /system/folder3/backup\n"
     "echo '#!/usr/bin/env python3' > /system/a.py\necho hi > /index.html\n", ["/system"]),
    ("rm -rf /workspace\nrm -rf /backup\nmkdir -p /backup\nmkdir -p /workspace/dir1\n"
     "dd if=/dev/zero of=/workspace/dir1/file.txt bs=2K count=2\necho -e 'new file' > /backup/file.txt\n"
     "curl -s https://example.com/x/y > /tmp/x/y\n", ["/workspace", "/backup"]),
    ("mkdir -p /home/user/x\ncp /etc/hosts /opt/app/hosts\n", []),
])
def test_roots_are_the_top_level_folders_the_setup_builds(setup, roots):
    assert infer_roots(setup) == roots


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
    with pytest.raises(SuiteError, match=r"--root/--workdir/--package.*root.*'relative'"):
        import_intercode(tasks_json, setup_sh, roots="relative", **out)
    setup_sh.write_text("mkdir -p /usr/local/x\n")
    with pytest.raises(SuiteError, match=r"setup\.sh names no top-level folder of its own .*--root"):
        import_intercode(tasks_json, setup_sh, **out)


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
    assert f"wrote fixture {tmp_path / 'f.yaml'} (root /testbed, workdir /)" in done.output
    assert (f"wrote suite   {tmp_path / 's.yaml'} (3 cases: 2 output, 1 effect; 0 uninformative; kinds from the "
            f"static)") in done.output
    assert f"wrote gold2   {tmp_path / 's.gold2.json'} (2 alternatives)" in done.output
    assert "run it: pytest tests/eval --suite " in done.output
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 1 and "already exist" in again.output and "--force" in again.output


# --- against the real sandbox --------------------------------------------------------
def evaluator(tmp_path: Path, suite):
    from harness.runner import Evaluator, RunMeta, RunStore, day_epoch
    from sandbox.engine import ensure_image
    from sandbox.programs import programs

    image = ensure_image()
    meta = RunMeta(run_id="ic", created=datetime.now(timezone.utc).isoformat(), epoch=day_epoch(), source="test",
                   suites=[suite.suite], image=image.tag, image_digest=image.digest, programs=sorted(programs(image)))
    return Evaluator(RunStore("ic", root=tmp_path / "runs"), meta, overrides_path=tmp_path / "no-overrides.yaml")


@pytest.mark.docker
def test_references_score_2_2_2_and_other_tasks_golds_do_not(tmp_path):
    from harness.cli.suite import _GoldRuns

    gold_runs = _GoldRuns()
    done = run_import(tmp_path, observe_for=gold_runs.observe_for)
    suite = load_suite(done.suite_path)
    assert [c.kind for c in suite.cases] == [Kind.OUTPUT, Kind.EFFECT, Kind.OUTPUT]
    assert gold_runs.failed == [] and gold_runs.silent == [] and gold_runs.setup.failures == ()

    ev = evaluator(tmp_path, suite)
    for case in suite.cases:
        scores = ev.evaluate(suite.suite, case, case.reference, "reference").scores
        assert (scores.plan, scores.safe, scores.answer) == (2, 2, 2), case.id
    run = ev.store.load_case("mini-ic-003")[2][0]
    assert run.reference.stdout == "#!/bin/bash\na.txt\n"  # run from '/', the setup copied there, as in InterCode
    assert run.workdir == "/" and run.reference.image_digest != ev.meta.image_digest  # the copy is in the image

    cases = list(suite.cases)
    for i, case in enumerate(cases):
        wrong = cases[(i + 1) % len(cases)].reference
        assert ev.evaluate(suite.suite, case, wrong, "cross").scores.answer == 0, case.id

    gold2 = load_alternatives(done.suite_path).alternatives
    assert ev.evaluate(suite.suite, cases[0], gold2["mini-ic-001"], "gold2").scores.answer == 2  # relative path
    assert ev.evaluate(suite.suite, cases[2], gold2["mini-ic-003"], "gold2").scores.answer == 2


SYSTEM_SETUP = """#!/bin/bash
rm -rf /system/
mkdir -p /system/folder1 /system/folder2
echo 'Hello world!' > /system/text1.txt
echo -e 'Another hello\nworld file' > /system/folder1/text2.txt
touch .placeholder /system/folder2/.gitkeep
touch -m -t 20230522359.59 /system/old.txt
touch -m -t 202305312359.59 /system/folder1/recent.txt
"""
SYSTEM_TASKS = [
    {"query": "show the tree of /system", "gold": "tree /system", "gold2": "tree system"},
    {"query": "find the text files", "gold": "find /system -name '*.txt' | sort",
     "gold2": "find system -name '*.txt' | sort"},
    {"query": "count the words in text1.txt", "gold": "wc -w /system/text1.txt", "gold2": "wc -w < system/text1.txt"},
    {"query": "remove old.txt", "gold": "rm /system/old.txt", "gold2": "unlink /system/old.txt"},
    {"query": "show the second line of text2.txt", "gold": "sed -n 2p /system/folder1/text2.txt",
     "gold2": "tail -n 1 system/folder1/text2.txt"},
]


@pytest.mark.docker
def test_a_tree_under_system_imports_with_its_failing_setup_lines_and_the_packages_it_needs(tmp_path):
    """Shaped like InterCode-ALFA's fs-2: /system, a setup line that fails, golds that need tree."""
    from harness.cli import main

    tasks_json, setup_sh = write_input(tmp_path, tasks=SYSTEM_TASKS, setup=SYSTEM_SETUP)
    done = CliRunner().invoke(main, ["suite", "import-intercode", str(tasks_json), "--setup", str(setup_sh),
                                     "--name", "sys-ic", "--suite-out", str(tmp_path / "s.yaml"),
                                     "--fixture-out", str(tmp_path / "f.yaml")])
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert f"wrote fixture {tmp_path / 'f.yaml'} (root /system, workdir /, packages tree)" in lines
    assert "setup: 1 line(s) failed; the script carried on, as a plain script does:" in lines
    assert ("  line 8: touch -m -t 20230522359.59 /system/old.txt  -> exit 1: touch: invalid date format "
            "‘20230522359.59’") in lines
    assert "setup: also made /.placeholder outside the roots; not part of the fixture (--root to take a folder in)" \
        in lines
    assert "packages: the golds call programs the sandbox image lacks; added to image.packages: tree (tree)" in lines
    assert any("(5 cases: 5 output, 0 effect; 1 uninformative; kinds from the sandbox)" in ln for ln in lines)

    suite = load_suite(tmp_path / "s.yaml")
    assert [c.uninformative for c in suite.cases] == [False, False, False, True, False]  # old.txt was never made
    ev = evaluator(tmp_path, suite)
    for case in suite.cases:
        result = ev.evaluate(suite.suite, case, case.reference, "reference")
        assert (result.scores.plan, result.scores.safe, result.scores.answer) == (2, 2, 2), case.id
    tree = ev.store.load_case("sys-ic-001")[2][0].reference.stdout.replace("\u00a0", " ")  # tree's no-break spaces
    assert tree.splitlines() == ["/system", "├── folder1", "│   ├── recent.txt", "│   └── text2.txt", "├── folder2",
                                 "└── text1.txt", "", "3 directories, 3 files"]
    gold2 = load_alternatives(tmp_path / "s.yaml").alternatives
    answers = [ev.evaluate(suite.suite, c, gold2[c.id], "gold2") for c in suite.cases]
    assert [r.scores.answer for r in answers] == [1, 1, 1, 2, 2]  # relative_paths, relative_paths, wc_name
    assert [r.uninformative for r in answers] == [False, False, False, True, False]


WORKSPACE_SETUP = """#!/bin/bash
rm -rf /workspace
rm -rf /backup
mkdir -p /backup
mkdir -p /workspace/dir1
mkdir -p -m 755 -d "1 year ago" /workspace/test/1dir
touch /workspace/test/1dir/.gitkeep
echo -e 'hello!' > /workspace/dir1/hello.txt
echo -e "new file\n" > /backup/file.txt
"""
WORKSPACE_TASKS = [
    {"query": "back up hello.txt", "gold": "cp /workspace/dir1/hello.txt /backup/",
     "gold2": "cp workspace/dir1/hello.txt backup/hello.txt"},
    {"query": "list the backups", "gold": "ls /backup", "gold2": "ls backup/"},
    {"query": "list the workspace", "gold": "ls -R /workspace", "gold2": "find workspace"},
]


@pytest.mark.docker
def test_two_roots_workspace_and_backup_import_and_score(tmp_path):
    """Shaped like InterCode-ALFA's fs-3: /workspace and /backup, a mkdir line that fails."""
    from harness.cli.suite import _GoldRuns

    tasks_json, setup_sh = write_input(tmp_path, tasks=WORKSPACE_TASKS, setup=WORKSPACE_SETUP)
    runs = _GoldRuns()
    done = import_intercode(tasks_json, setup_sh, name="ws-ic", suite_out=tmp_path / "s.yaml",
                            fixture_out=tmp_path / "f.yaml", observe_for=runs.observe_for)
    assert load_spec(done.fixture_path).roots == ["/workspace", "/backup"]
    assert [(f.line, f.status) for f in runs.setup.failures] == [(6, 1), (7, 1)]
    suite = load_suite(done.suite_path)
    assert [c.kind for c in suite.cases] == [Kind.EFFECT, Kind.OUTPUT, Kind.OUTPUT]
    ev = evaluator(tmp_path, suite)
    first = ev.evaluate(suite.suite, suite.cases[0], suite.cases[0].reference, "reference")
    assert first.scores.answer == 2
    changes = ev.store.load_case("ws-ic-001")[2][0].reference.changes
    assert [(c.path, c.kind) for c in changes] == [("/backup/hello.txt", "added")]
    gold2 = load_alternatives(done.suite_path).alternatives
    assert [ev.evaluate(suite.suite, c, gold2[c.id], "gold2").scores.answer for c in suite.cases] == [2, 2, 0]
