"""data.generate: determinism, the hold-out split, and the committed files."""

from __future__ import annotations

import re
from collections import Counter

import pytest

import data.generate as gen
from agent.fewshot import load_examples, normalize
from data.templates import TEMPLATES


def candidates(seed: int) -> bytes:
    return gen.render([r for t in TEMPLATES for r in gen.instantiate(t, seed)])


def test_same_seed_same_candidates_other_seed_others():
    assert candidates(0) == candidates(0)
    assert candidates(0) != candidates(1)
    assert gen.held_out(0) == gen.held_out(0)


def test_template_ids_are_unique_and_fields_are_known():
    assert len({t.id for t in TEMPLATES}) == len(TEMPLATES)
    for t in TEMPLATES:
        assert gen.instantiate(t, 0), t.id  # fills on at least one fixture without a KeyError


def test_docstring_names_the_held_out_templates():
    block = gen.__doc__.split("held-out templates are::")[1].split("(``tests")[0]
    assert set(re.findall(r"[a-z0-9-]+", block)) == set(gen.held_out(0))


def test_hold_out_covers_several_categories_and_keeps_every_plan_form_in_training():
    held = set(gen.held_out(0))
    by_id = {t.id: t for t in TEMPLATES}
    assert 0.10 <= len(held) / len(TEMPLATES) <= 0.20
    assert len({by_id[i].category for i in held}) >= 8
    taught = {t.completion for t in TEMPLATES if t.id not in held}
    assert all(by_id[i].completion in taught for i in held)


def _owners(prompt: str) -> set[str]:
    return {t.id for t in TEMPLATES if gen.template_pattern(t).match(prompt)}


def test_committed_split_is_disjoint_by_template():
    held = set(gen.held_out(0))
    train = [e.row for e in load_examples(gen.TRAIN_PATH)]
    holdout = [e.row for e in load_examples(gen.HOLDOUT_PATH)]
    assert not {normalize(r.prompt) for r in train} & {normalize(r.prompt) for r in holdout}
    for r in holdout:
        owners = _owners(r.prompt)
        assert owners and owners <= held, (r.prompt, owners)
    for r in train:
        assert not _owners(r.prompt) & held, r.prompt


def test_committed_rows_are_valid_and_varied():
    train = [e.row for e in load_examples(gen.TRAIN_PATH)]  # validates every row as a QARow
    holdout = [e.row for e in load_examples(gen.HOLDOUT_PATH)]
    assert len(train) >= 400 and len(holdout) >= 60
    assert len({normalize(r.prompt) for r in train}) == len(train)
    cats = Counter(r.category for r in train)
    for cat in ("find", "grep", "head_tail", "wc", "sort_uniq", "du", "tar", "git", "venv_pip", "chmod", "files",
                "sed", "delete_preview"):
        assert cats[cat] >= 10, cat
    assert {r.fixture for r in train} >= {"train-a", "train-b", "train-c"}
    for r in train + holdout:
        lines = r.completion.splitlines()
        assert all(line.startswith(("$ ", "# ")) for line in lines), r.prompt
        assert not re.search(r"(^|\s)(rm|rmdir|unlink|shred)\s|-delete\b", r.completion), r.prompt


@pytest.mark.docker
@pytest.mark.slow
def test_generator_reproduces_the_committed_files(tmp_path):
    train, holdout = tmp_path / "train.jsonl", tmp_path / "holdout.jsonl"
    gen.write(0, train, holdout, log=lambda *_: None)
    assert train.read_bytes() == gen.TRAIN_PATH.read_bytes()
    assert holdout.read_bytes() == gen.HOLDOUT_PATH.read_bytes()
