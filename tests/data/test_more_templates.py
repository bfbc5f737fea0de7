"""data.more_templates and slots.MORE_FACTS: training-only wordings and slot values that never reach
the hold-out set, never reword a held-out template, and name only what the fixtures have."""

from __future__ import annotations

import json
import posixpath
import re
from collections import Counter

import pytest

import data.generate as gen
from agent.fewshot import normalize
from data import files
from data.contamination import _grams, _jaccard
from data.more_templates import MORE
from data.slots import FACTS, MORE_FACTS
from data.templates import TEMPLATES
from harness.paths import fixtures_dir
from sandbox.fixture import load_spec

HELD = set(gen.held_out(0))
HELD_TEMPLATES = [t for t in TEMPLATES if t.id in HELD]
SIMILAR = 0.5
"""The most a new template may share with a held-out one, in words or character 5-grams (the eval
decontamination check fires at 0.6)."""


def _norm(prompt: str) -> str:
    return normalize(re.sub(r"\{(\w+)\}", r"F\1", prompt))


def test_ids_are_new_and_every_template_fills_on_some_fixture():
    ids = [t.id for t in MORE]
    assert len(set(ids)) == len(ids)
    assert not set(ids) & {t.id for t in TEMPLATES}
    for t in MORE:
        assert gen.instantiate(t, 0), t.id


def test_new_templates_are_never_held_out_and_the_split_does_not_move():
    assert HELD <= {t.id for t in TEMPLATES}
    assert gen.held_out(0, TEMPLATES) == gen.held_out(0)
    assert gen.ALL_TEMPLATES[:len(TEMPLATES)] == TEMPLATES


def test_new_templates_teach_known_plan_forms_to_the_weak_categories():
    forms = {t.completion for t in TEMPLATES}
    assert all(t.completion in forms for t in MORE), [t.id for t in MORE if t.completion not in forms]
    per_cat = Counter(t.category for t in MORE)
    for cat in ("head_tail", "sed", "tar"):
        assert per_cat[cat] >= 15, cat
    assert per_cat["find"] <= 5


@pytest.mark.parametrize("template", MORE, ids=lambda t: t.id)
def test_no_new_template_rewords_a_held_out_one(template):
    mine = _norm(template.prompt)
    for held in HELD_TEMPLATES:
        other = _norm(held.prompt)
        words = _jaccard(set(mine.split()), set(other.split()))
        chars = _jaccard(_grams(mine), _grams(other))
        assert max(words, chars) <= SIMILAR, (held.id, held.prompt, round(words, 2), round(chars, 2))


def test_held_out_templates_are_filled_as_before_the_new_tables():
    for t in HELD_TEMPLATES:
        assert gen.instantiate(t, 0) == gen.instantiate(t, 0, trained=False), t.id
    trained = [t for t in TEMPLATES if t.id not in HELD and t.kind in ("text", "log", "csv", "dir")]
    assert any(gen.instantiate(t, 0) != gen.instantiate(t, 0, trained=False) for t in trained)


def _fixture_paths(name: str) -> set[str]:
    """The spec's paths and their folders, and what the listing shows (a setup script makes some)."""
    spec = load_spec(fixtures_dir() / f"{name}.yaml")
    listing = json.loads(files.listings_path().read_text(encoding="utf-8"))["fixtures"][name]["text"]
    paths = {f.path.rstrip("/") for f in spec.files} | set(gen.listed_paths(listing))
    for p in list(paths):
        while "/" in p:
            p = posixpath.dirname(p)
            paths.add(p)
    return paths


@pytest.mark.parametrize("fixture", sorted(MORE_FACTS))
def test_more_facts_name_only_paths_of_their_fixture_and_go_deeper(fixture):
    have = _fixture_paths(fixture)
    depth = Counter()
    for kind, slots in MORE_FACTS[fixture].items():
        assert kind in FACTS[fixture], kind
        for slot in slots:
            for key in ("file", "dir", "archive"):
                if key in slot:
                    assert slot[key] in have, (kind, slot[key])
                    depth[slot[key].count("/") >= 1] += 1
    assert depth[True] >= 0.9 * sum(depth.values())  # nested paths: what the first adapter failed to copy
