"""No eval prompt, or near-duplicate of one, in the committed data."""

from __future__ import annotations

import pytest

from agent.fewshot import QARow, load_examples
from data import files
from data.contamination import all_suites, contaminated, load_eval_cases, matches

CASES = load_eval_cases()
EVERY_CASE = load_eval_cases(all_suites())
"""Fenrir's own suites and the imported ones (InterCode-ALFA fs-1)."""


@pytest.mark.parametrize("path", [files.train_path(), files.holdout_path(), files.external_train_path(),
                                  files.external_holdout_path()],
                         ids=["train", "holdout", "external", "holdout-external"])
def test_committed_files_are_clean(path):
    rows = [e.row for e in load_examples(path)]
    assert len(EVERY_CASE) > len(CASES)
    found = contaminated(rows, EVERY_CASE)
    assert found == [], "\n".join(f"{path.name}:{i}: {r.prompt!r} ~ {m}" for i, r, m in found)


def test_all_fifteen_eval_prompts_are_loaded():
    assert len(CASES) == 15 and len({c.id for c in CASES}) == 15


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_every_eval_prompt_is_caught_verbatim_and_lightly_edited(case):
    assert matches(case.prompt, CASES)[0].rule == "same-text"
    edited = "Please, " + case.prompt.lower().rstrip("?.") + " thanks"
    assert any(m.case == case.id for m in matches(edited, CASES))


@pytest.mark.parametrize("planted, rule", [
    ("Print the last 5 lines of output.log, please", "same-words"),
    ("Find all JPG images larger than 5 MB", "same-words"),
    ("List all the .py files in this directory and its sub-directories", "same-words"),
    ("Print outputlog with every ERRORs replaced by FAILUREs, without changing the file", "same-characters"),
])
def test_planted_near_duplicates_are_flagged(planted, rule):
    rows = [QARow(prompt="How big is the logs directory?", completion="$ du -sh logs", category="du", fixture="train-a"),
            QARow(prompt=planted, completion="$ true", category="x", fixture="train-a")]
    found = contaminated(rows, CASES)
    assert [(i, m.rule) for i, _, m in found] == [(2, rule)]


def test_same_answer_on_an_eval_fixture_is_flagged_whatever_the_wording():
    leak = QARow(prompt="peek into backup.tar.gz", completion="$ tar -tzf backup.tar.gz", category="tar", fixture="seed")
    assert [m.rule for _, _, m in contaminated([leak], CASES)] == ["same-answer"]
    elsewhere = leak.model_copy(update={"fixture": "train-a"})
    assert contaminated([elsewhere], CASES) == []


def test_unrelated_requests_are_not_flagged():
    for prompt in ("How big is the logs directory?", "Sort cities.txt alphabetically",
                   "Find every Python file in the current directory tree"):
        assert matches(prompt, CASES) == [], prompt
