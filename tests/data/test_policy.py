"""data.policy: training completions agree with the agent's safety pass."""

from __future__ import annotations

import pytest

import data.generate as gen
from agent.fewshot import QARow
from agent.plan import APPLY_AFTER_REVIEW, parse_plan
from data.policy import drift, drift_file, main
from data.templates import TEMPLATES


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.id)
def test_every_template_completion_survives_the_safety_pass(template):
    """What the model is trained on is what the agent prints: no template is guarded or
    blocked, and one without a preview (sed -i) renders back to itself, with the real command
    after a preview the template writes itself (``# to apply after review: ...``)."""
    rows = gen.instantiate(template, 0)
    assert not drift(rows), template.id
    for row in rows:
        plan = parse_plan(row.completion)
        if all(line.action == "kept" for line in plan.commands):
            printed = plan.render().splitlines()
            derived = [line for line in printed if line.startswith(APPLY_AFTER_REVIEW)]
            assert [line for line in printed if line not in derived] == row.completion.splitlines(), template.id
            assert len(derived) == ("# preview only:" in row.completion), template.id


def row(completion: str) -> QARow:
    return QARow(prompt="p", completion=completion, category="files", fixture="seed")


def test_drift_names_guarded_and_blocked_rows_but_not_previews():
    rows = [row("$ cp a b"), row("$ cp -n a b"), row("$ sed -i 's/a/b/' f"), row("$ ls\n$ sudo ls"),
            row("$ tar -xzf a.tgz -C out")]
    found = drift(rows)
    assert [(d.line, d.actions) for d in found] == [(1, ("guarded",)), (4, ("kept", "blocked")), (5, ("guarded",))]
    assert found[0].before == ("cp a b",) and found[0].after == ("cp -n a b",)
    assert found[2].after == ("tar --keep-old-files -xzf a.tgz -C out",)


def test_the_runtime_tar_create_guard_is_not_drift_but_its_block_is():
    rows = [row("$ tar -czf reports.tar.gz reports"), row("$ tar -cvf a.tar docs > list.txt"),
            row("$ tar -czf a.tgz d && cp a.tgz b.tgz")]
    assert [(d.line, d.actions) for d in drift(rows)] == [(2, ("blocked",)), (3, ("guarded",))]


def test_drift_file_reports_file_lines_and_the_cli_exit_code(tmp_path, capsys):
    path = tmp_path / "rows.jsonl"
    path.write_text(row("$ ls").model_dump_json() + "\n\n" + row("$ mv a b").model_dump_json() + "\n")
    (found,) = drift_file(path)
    assert found.line == 3
    assert main([str(path)]) == 1
    assert f"{path}:3: 'mv a b' -> 'mv -n a b'  [p]" in capsys.readouterr().out
    clean = tmp_path / "clean.jsonl"
    clean.write_text(row("$ mv -n a b").model_dump_json() + "\n")
    assert main([str(clean)]) == 0
