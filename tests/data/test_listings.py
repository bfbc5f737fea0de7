"""data/listings.json is what the training fixtures show the agent now, and lists no eval fixture."""

import json

import pytest

from data.files import listings_path
from data.listings import build, eval_fixtures, render, training_fixtures


def test_no_eval_fixture_is_listed_for_training():
    listed = set(json.loads(listings_path().read_text())["fixtures"])
    used = eval_fixtures()
    assert {"seed", "seed-b", "icalfa-fs1"} <= used
    assert not listed & used
    assert set(training_fixtures()) == listed


@pytest.mark.docker
def test_committed_listings_match_the_fixtures():
    assert listings_path().read_text() == render(build()), "fixtures changed: run `fenrir data listings`"
