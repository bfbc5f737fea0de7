"""The prototype's scores are data that says where it comes from, validated on every read."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import DataError
from harness.report.prototype import load_prototype, prototype_path


def test_the_shipped_file_holds_the_prototypes_table_and_its_printed_means():
    proto = load_prototype()
    assert proto.source.startswith("../shared/seeds/000_fe32a19d6eea30f3.txt")
    assert proto.section == "4.2 Dynamic Prompts (latest seven runs)" and proto.filled_by == "hand"
    assert len(proto.rows) == 7
    assert (proto.mean.plan, proto.mean.safe, proto.mean.answer) == (0.71, 1.43, 0.57)
    # the printed Mean row is what the report quotes, though the rows average to other values
    assert [sum(getattr(r, d) for r in proto.rows) for d in ("plan", "safe", "answer")] == [7, 11, 3]


def test_the_file_follows_the_templates_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import harness.report.prototype as module

    monkeypatch.setattr(module, "templates_dir", lambda: tmp_path)
    assert prototype_path() == tmp_path / "prototype.yaml"
    with pytest.raises(DataError, match=r"prototype scores file .*prototype.yaml does not exist .*restore it"):
        load_prototype()


@pytest.mark.parametrize("change, message", [
    ("mean: {plan: 0.71, safe: 1.43, answer: 2.57}", r"mean.answer: Input should be less than or equal to 2"),
    ("mean: {plan: 0.71, safe: 1.43}", r"mean.answer: Field required"),
    ("rows: []", r"rows: List should have at least 1 item"),
    ("checked_by: nobody", r"checked_by: Extra inputs are not permitted"),
])
def test_a_malformed_file_names_itself_and_the_field(tmp_path: Path, change: str, message: str):
    text = prototype_path().read_text(encoding="utf-8")
    key = change.split(":")[0]
    lines = [ln for ln in text.splitlines() if not ln.startswith(f"{key}:")]
    if key == "rows":  # drop the rows themselves too
        lines = [ln for ln in lines if not ln.startswith("  - ")]
    bad = tmp_path / "prototype.yaml"
    bad.write_text("\n".join(lines + [change]) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=message) as err:
        load_prototype(bad)
    assert str(bad) in str(err.value)
