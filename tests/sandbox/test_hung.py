"""A container that stops answering without closing its connection (a hung engine, a frozen host) ends in one
error within Limits.timeout + the answer margin, never a worker blocked forever; its container is removed."""

from __future__ import annotations

import time
import uuid

import pytest

from harness.errors import SandboxError
from sandbox.container import ANSWER_MARGIN_S, SandboxContainer
from sandbox.engine import client
from sandbox.records import Limits


@pytest.mark.docker
def test_a_frozen_supervisor_is_an_error_within_the_deadline_and_its_container_goes(box, mini):
    worker = f"hung{uuid.uuid4().hex[:6]}"
    limits = Limits(timeout=1)
    container = SandboxContainer(box.image, mini.roots, limits, worker)
    assert container.answer_margin == ANSWER_MARGIN_S
    assert container.run("echo alive", mini, limits).stdout == "alive\n"
    container.answer_margin = 2.0  # seconds past the plan's timeout before the container counts as hung
    client().api.pause(container.container.id)  # the connection stays open; nothing answers on it
    try:
        started = time.monotonic()
        with pytest.raises(SandboxError, match=r"gave no answer within 3 s while running a plan on fixture mini "
                                               r"\(hung engine or connection\); it was removed"):
            container.run("echo never", mini, limits)
        assert time.monotonic() - started < 30  # 3 s of waiting, plus the removal of a paused container
    finally:
        gone = client().api.containers(all=True, filters={"label": f"fenrir.worker={worker}"})
        for c in gone:  # only if the removal failed: never leave it paused
            client().api.remove_container(c["Id"], force=True)
    assert gone == []
