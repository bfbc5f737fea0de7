"""Sampling (agent/generate.py) on numpy: seeded, restricted to the nucleus, and the same as a full sort."""

import numpy as np
import pytest

from agent.generate import log_softmax, nucleus_sample


def _full_sort_sample(logits, temperature, top_p, rng):
    """The textbook nucleus draw: sort every token, keep the leading ones holding top_p, draw one."""
    probs = np.exp(log_softmax(logits / temperature))
    order = np.argsort(-probs, kind="stable")
    ordered = probs[order]
    cumulative = np.cumsum(ordered)
    size = max(1, int(np.count_nonzero(cumulative - ordered <= top_p)))
    point = rng.random() * cumulative[size - 1]
    return int(order[min(int(np.searchsorted(cumulative[:size], point, side="right")), size - 1)])


@pytest.mark.parametrize("temperature, top_p", [(0.8, 0.95), (1.0, 0.5), (0.3, 0.99), (1.0, 1.0)])
def test_the_shortcut_draws_what_a_full_sort_draws(temperature, top_p):
    gen = np.random.default_rng(0)
    for i in range(300):
        logits = (gen.standard_normal(5000) * [0.5, 2.0, 5.0, 20.0][i % 4]).astype(np.float32)
        if i % 5 == 0:
            logits[:50] = logits[0]  # ties keep their order
        want = _full_sort_sample(logits, temperature, top_p, np.random.default_rng(i))
        assert nucleus_sample(logits, temperature, top_p, np.random.default_rng(i)) == want


def test_a_seed_fixes_the_draw_and_only_the_nucleus_is_drawn():
    logits = np.log(np.asarray([0.5, 0.3, 0.15, 0.05], dtype=np.float32))
    draws = [nucleus_sample(logits, 1.0, 0.7, np.random.default_rng(seed)) for seed in range(400)]
    assert draws == [nucleus_sample(logits, 1.0, 0.7, np.random.default_rng(seed)) for seed in range(400)]
    # 0.5 + 0.3 hold 0.8 >= 0.7: tokens 2 and 3 are outside; 0 and 1 come in about 5:3
    assert set(draws) == {0, 1}
    assert 0.5 < draws.count(0) / len(draws) < 0.75
    assert nucleus_sample(logits, 1e-6, 0.95, np.random.default_rng(1)) == 0  # near-zero temperature: argmax
