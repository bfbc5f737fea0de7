"""Fenrir's pytest plugin (the eval harness) for every test run in this repository."""

pytest_plugins = ["harness.plugin"]
