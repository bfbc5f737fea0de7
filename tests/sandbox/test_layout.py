"""Fixtures that span several roots, run from a working directory of their own, or come from a faulty setup."""

from __future__ import annotations

import pytest

from harness.errors import FixtureError
from sandbox.fixture import FixtureSpec, load_spec
from sandbox.materialize import materialise

TWO_ROOTS = FixtureSpec(
    name="two-roots", roots=["/workspace", "/backup"], workdir="/",
    files=[{"path": "workspace/dir1/a.txt", "text": "alpha\n"},
           {"path": "workspace/notes.md", "text": "# notes\n", "mode": "0600"},
           {"path": "backup/old.txt", "text": "old\n", "mtime": "-3d"}])


@pytest.mark.docker
def test_several_roots_are_captured_diffed_and_reset(box):
    fx = materialise(TWO_ROOTS)
    assert fx.roots == ("/workspace", "/backup") and fx.workdir == "/"
    look = "pwd; find workspace backup | sort; stat -c '%a %n' workspace/notes.md; find backup -mtime +2"
    first = box.run(look, fx)
    assert first.stdout.splitlines() == [
        "/", "backup", "backup/old.txt", "workspace", "workspace/dir1", "workspace/dir1/a.txt",
        "workspace/notes.md", "600 workspace/notes.md", "backup/old.txt"]
    assert not first.changes

    ex = box.run("cp workspace/dir1/a.txt backup/a.txt; rm backup/old.txt; echo more >> workspace/notes.md; "
                 "chmod 700 /workspace", fx)
    assert ex.exit_code == 0, ex.stderr
    assert [(c.path, c.kind, c.fields) for c in ex.changes] == [
        ("/backup/a.txt", "added", ()), ("/backup/old.txt", "removed", ()),
        ("/workspace", "modified", ("mode",)), ("/workspace/notes.md", "modified", ("content", "mtime"))]
    assert box.run(look, fx).stdout == first.stdout  # every root is back as it was


@pytest.mark.docker
def test_one_root_with_another_workdir_keeps_root_relative_paths(box):
    fx = materialise(FixtureSpec(name="root-and-cwd", root="/testbed", workdir="/",
                                 files=[{"path": "dir1/x.txt", "text": "x\n"}]))
    ex = box.run("pwd; echo $PWD; find testbed -name x.txt; rm testbed/dir1/x.txt", fx)
    assert ex.stdout == "/\n/\ntestbed/dir1/x.txt\n"
    assert [(c.path, c.kind) for c in ex.changes] == [("dir1/x.txt", "removed")]  # as for any one-root fixture
    assert box.run("pwd", fx, workdir="/testbed/dir1").stdout == "/testbed/dir1\n"


@pytest.mark.docker
def test_a_workdir_missing_from_image_and_fixture_is_one_clear_error(box):
    fx = materialise(FixtureSpec(name="no-cwd", root="/testbed", workdir="/nowhere",
                                 files=[{"path": "a", "text": "a"}]))
    with pytest.raises(Exception, match=r"workdir /nowhere does not exist in the sandbox"):
        box.run("pwd", fx)


SETUP = """#!/bin/bash
rm -rf /workspace /backup
mkdir -p /backup
mkdir -p /workspace/dir1
mkdir -p -m 755 -d "1 year ago" /workspace/test/1dir
touch /workspace/test/1dir/.gitkeep
echo -e 'first\\nsecond' > /workspace/dir1/lines.txt
touch -m -t 20230522359.59 /workspace/old.txt
touch -m -t 202305312359.59 /workspace/recent.txt
echo 'kept' > /backup/file.txt
touch .placeholder
"""


@pytest.mark.docker
def test_setup_runs_as_a_plain_script_and_lists_each_failing_line(box):
    spec = FixtureSpec(name="faulty-setup", roots=["/workspace", "/backup"], workdir="/", setup=SETUP)
    fx = materialise(spec)
    assert [(f.line, f.status, f.command) for f in fx.setup_failures] == [
        (5, 1, 'mkdir -p -m 755 -d "1 year ago" /workspace/test/1dir'),
        (6, 1, "touch /workspace/test/1dir/.gitkeep"),
        (8, 1, "touch -m -t 20230522359.59 /workspace/old.txt")]
    assert "invalid option -- 'd'" in fx.setup_failures[0].stderr
    assert "No such file or directory" in fx.setup_failures[1].stderr
    assert "invalid date format" in fx.setup_failures[2].stderr
    assert fx.setup.outside == ("/.placeholder",)  # made in the workdir, outside every root: not in the fixture
    ex = box.run("find workspace backup -type f | sort; cat workspace/dir1/lines.txt; "
                 "date -u -r workspace/recent.txt +%F", fx)
    assert ex.stdout.splitlines() == ["backup/file.txt", "workspace/dir1/lines.txt", "workspace/recent.txt",
                                      "first", "second", "2023-05-31"]
    assert materialise(spec).setup_failures == fx.setup_failures  # kept beside the cached archive


@pytest.mark.docker
def test_a_setup_that_leaves_nothing_behind_fails_naming_the_roots():
    spec = FixtureSpec(name="empty-setup", root="/testbed", setup="mkdir -p /elsewhere\nfalse\n")
    with pytest.raises(FixtureError, match=r"empty-setup: the setup script left nothing in /testbed") as info:
        materialise(spec)
    assert "line 2: false -> exit 1" in str(info.value)


@pytest.mark.docker
def test_setup_copy_inside_a_root_is_part_of_the_tree(box):
    setup = "mkdir -p /testbed/d\necho hi > /testbed/d/a.txt\n"
    fx = materialise(FixtureSpec(name="copy-inside", root="/testbed", workdir="/", setup=setup,
                                 setup_copy="/testbed/setup.sh"))
    assert fx.image.empty
    ex = box.run("cat testbed/setup.sh; stat -c %a testbed/setup.sh", fx)
    assert ex.stdout == setup + "755\n"


@pytest.mark.parametrize("text, message", [
    ("root: /a\nroots: [/b]", "give root or roots, not both"),
    ("roots: [/a, /a/b]\nworkdir: /", r"roots: .*/a/b is the same as or inside /a"),
    ("roots: [/a, /b]", r"workdir is required with several roots \(/a, /b\)"),
    ("roots: [/a, /b]\nworkdir: /\nfiles:\n  - {path: c/x.txt, text: x}", r"files\.0\.path 'c/x\.txt' is not inside"),
    ("roots: [/home]\n", r"roots: .*root ./home. overlaps"),
    ("workdir: relative", r"workdir: .*absolute"),
    ("image: {packages: [Tree]}", r"image\.packages: .*'Tree' is not a Debian package name"),
    ("image: {packages: [tree, tree]}", r"image\.packages: .*tree listed more than once"),
    ("image: {pkgs: [tree]}", r"image\.pkgs: Extra inputs"),
    ("setup_copy: /s.sh", "setup_copy needs a setup script"),
    ("setup: 'true'\nsetup_copy: /tmp/s.sh", r"setup_copy: .*hidden by the sandbox's own mounts"),
])
def test_malformed_layouts_name_the_file_and_field(tmp_path, text, message):
    path = tmp_path / "layout.yaml"
    path.write_text(text)
    with pytest.raises(FixtureError, match=message) as info:
        load_spec(path)
    assert str(path) in str(info.value)
