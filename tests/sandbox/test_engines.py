"""Several engines for real: the main engine and the extra local engine e2, which has no way out.

e2 cannot build or pull an image: whatever runs there was streamed from the
main engine (docker save into docker load).  The fleet test stops e2's
dockerd while a container runs there, by its pid file (conftest.ExtraEngine).
"""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from harness.errors import EngineLost
from sandbox import load_fixture
from sandbox.derived import ImageFile, ImageRecipe
from sandbox.distribute import sandbox_image
from sandbox.endpoints import home
from sandbox.engine import answers, client, find_image
from sandbox.fleet import Fleet, Retry
from sandbox.pool import Sandbox

pytestmark = [pytest.mark.docker, pytest.mark.engines, pytest.mark.slow]


@pytest.fixture
def engines(extra_engine, monkeypatch):
    """(main, e2), FENRIR_ENGINES naming both, main first.  (Tests here ask for no session fixture that needs
    Docker, so that where e2 cannot start they are skipped, not errors.)"""
    main, e2 = home(), extra_engine.url
    monkeypatch.setenv("FENRIR_ENGINES", f"{main},{e2}")
    return main, e2


def _remove(run: str, engine: str) -> None:
    """This test's containers on ``engine`` (by their fenrir.run label), once it answers again."""
    api = client(engine).api
    for c in api.containers(all=True, filters={"label": f"fenrir.run={run}"}):
        api.remove_container(c["Id"], force=True)


def test_an_engine_without_egress_gets_its_images_streamed_and_runs_plans_alike(engines):
    main, e2 = engines
    mini = load_fixture("mini")
    image = sandbox_image(main)
    if find_image(e2) is not None:
        client(e2).images.remove(image.tag, force=True)  # untagged there: it has to come again
    assert find_image(e2) is None
    logged: list[str] = []
    assert sandbox_image(e2, log=logged.append) == image  # the same id: the run's recorded image
    assert logged[0] == f"fenrir: streaming {image.tag} from {main} to {e2} (docker save | docker load) ..."
    # a derived image no engine has yet: built on main (no package, one file), streamed to e2
    marker = uuid.uuid4().hex
    recipe = ImageRecipe(files=(ImageFile("/etc/fenrir-probe", marker.encode(), 0o644),))
    fixture = dataclasses.replace(mini, image=recipe)
    run = f"test-engines-{marker[:8]}"
    plan = "cat /etc/fenrir-probe; echo; ls -la; echo new > n.txt; rm a.txt"
    try:
        with Sandbox(run=run, engine=main) as on_main, Sandbox(run=run, engine=e2) as on_e2:
            there, here = on_e2.run(plan, fixture, epoch=0.0), on_main.run(plan, fixture, epoch=0.0)
            derived = on_e2.image_for(fixture)
            assert client(e2).images.get(derived.tag).id == client(main).images.get(derived.tag).id == derived.digest
        assert there.stdout.startswith(marker) and there.image_digest == derived.digest
        assert there.comparable() == here.comparable()
    finally:
        for engine in (main, e2):
            client(engine).images.remove(recipe.tag(image), force=True)


def test_a_lost_engine_moves_the_work_to_the_next_and_none_left_is_one_error(engines, extra_engine):
    main, e2 = engines
    mini = load_fixture("mini")
    run = f"test-fleet-{uuid.uuid4().hex[:8]}"
    fleet = Fleet(engines=(main, e2), first=1, run=run)  # bound to e2, as xdist worker gw1 is
    alone = Fleet(engines=(e2,), run=run)
    try:
        first = fleet.run("ls", mini)
        assert (first.engine, first.retries) == (e2, ())
        assert alone.run("ls", mini).engine == e2
        extra_engine.stop()  # with a warm container there: the channel to it breaks
        assert not answers(e2)
        moved = fleet.run("ls", mini)
        assert moved.engine == main and moved.execution.comparable() == first.execution.comparable()
        (retry,) = moved.retries
        assert retry == Retry(engine=e2, error=retry.error) and "stopped answering" in retry.error
        assert list(fleet.lost) == [e2] and fleet.current == main
        assert fleet.run("ls", mini).retries == ()  # lost once: not tried again
        with pytest.raises(EngineLost) as err:
            alone.run("ls", mini)
        assert str(err.value).startswith(f"no Docker engine left: every engine this run uses stopped answering: "
                                         f"{e2} (")
    finally:
        fleet.close()
        alone.close()
        extra_engine.start()
        _remove(run, e2)
