"""FENRIR_ENGINES: Docker's endpoint forms accepted, anything else refused in one message (pure logic)."""

from __future__ import annotations

import pytest

from harness.errors import EngineConfigError
from sandbox.endpoints import DEFAULT_URL, FORMS, configured, environment, home, parse_engines, worker_slot


def test_dockers_forms_are_accepted_in_order():
    text = " unix:///var/run/docker.sock, tcp://build-3.example:2376,ssh://fenrir@build-4.example,ssh://h:2222 "
    assert parse_engines(text) == ("unix:///var/run/docker.sock", "tcp://build-3.example:2376",
                                   "ssh://fenrir@build-4.example", "ssh://h:2222")
    assert environment("tcp://h:2376")["DOCKER_HOST"] == "tcp://h:2376"


@pytest.mark.parametrize(("entry", "why"), [
    ("/var/run/docker.sock", "it has no scheme"),
    ("unix://run/docker.sock", "a unix socket needs an absolute path: unix:///path/to/docker.sock (three slashes)"),
    ("tcp://build-3", "a tcp endpoint needs a host and a port: tcp://host:2376"),
    ("tcp://build-3:99999", "its port is not a number from 0 to 65535"),
    ("tcp://build-3:2376/v1", "a tcp endpoint is only tcp://host:port"),
    ("ssh://", "an ssh endpoint needs a host: ssh://user@host"),
    ("http://build-3:2375", "Fenrir does not use http:// endpoints"),
])
def test_a_bad_entry_is_one_message_naming_the_variable_the_entry_and_the_forms(entry, why):
    with pytest.raises(EngineConfigError) as err:
        parse_engines(f"unix:///var/run/docker.sock,{entry}")
    assert str(err.value) == (f"FENRIR_ENGINES: {entry!r} is not a Docker endpoint Fenrir can use ({why}); "
                              f"give a comma-separated list of {FORMS}")


def test_empty_and_repeated_entries_are_refused_under_the_name_given():
    with pytest.raises(EngineConfigError, match=r"^--engines: '' is not .*\(an empty entry"):
        parse_engines("unix:///a.sock,", "--engines")
    with pytest.raises(EngineConfigError, match=r"^--engines: 'unix:///a.sock' is not .*\(it is listed twice\)"):
        parse_engines("unix:///a.sock, unix:///a.sock", "--engines")


def test_without_fenrir_engines_the_one_engine_is_dockers_own_choice(monkeypatch):
    monkeypatch.delenv("FENRIR_ENGINES", raising=False)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    assert configured() == (DEFAULT_URL,)
    monkeypatch.setenv("DOCKER_HOST", "tcp://remote:2376")
    assert configured() == ("tcp://remote:2376",)
    monkeypatch.setenv("FENRIR_ENGINES", "unix:///b.sock,unix:///a.sock")
    assert home() == "unix:///b.sock"  # the first listed, whatever DOCKER_HOST says
    monkeypatch.setenv("FENRIR_ENGINES", "tcp://nope")
    with pytest.raises(EngineConfigError, match="^FENRIR_ENGINES: 'tcp://nope'"):
        configured()


def test_xdist_workers_are_bound_round_robin():
    assert [worker_slot(3, f"gw{n}") for n in range(7)] == [0, 1, 2, 0, 1, 2, 0]
    assert worker_slot(2, "") == 0 and worker_slot(2, "p123") == 0  # no xdist: the first engine
    assert worker_slot(1, "gw5") == 0
