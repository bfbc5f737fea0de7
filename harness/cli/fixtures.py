"""``fenrir fixtures list|show|build``."""

from __future__ import annotations

import io
import tarfile

import click
from tabulate import tabulate

from sandbox import load_fixture
from sandbox.fixture import available, load_spec
from sandbox.materialize import Fixture


@click.group()
def fixtures() -> None:
    """Fixture file systems that plans run against."""


@fixtures.command("list")
def list_() -> None:
    """List the shipped fixtures."""
    rows = []
    for name, path in available().items():
        spec = load_spec(path)
        rows.append((name, " ".join(spec.tree_roots), spec.cwd, len(spec.files), len(spec.git),
                     "yes" if spec.setup else "", " ".join(spec.packages), " ".join(spec.description.split())[:50]))
    click.echo(tabulate(rows, headers=("name", "roots", "workdir", "files", "git", "setup", "packages",
                                       "description")))


@fixtures.command()
@click.argument("name")
def show(name: str) -> None:
    """Show a fixture's tree (materialising it if needed)."""
    fx = load_fixture(name)
    click.echo(f"{fx.name}: {fx.files} entries, {fx.size} bytes, roots {' '.join(fx.roots)}, workdir {fx.workdir}, "
               f"hash {fx.hash}")
    _setup_notes(fx)
    with tarfile.open(fileobj=io.BytesIO(fx.read())) as tar:
        for info in tar:
            when = info.pax_headers.get("FENRIR.mtime", "")
            kind = "d" if info.isdir() else "l" if info.issym() else "-"
            target = f" -> {info.linkname}" if info.issym() else ""
            click.echo(f"{kind}{info.mode:04o} {info.size:>10} {when:>16}  {info.name}{target}")


@fixtures.command()
@click.argument("names", nargs=-1)
def build(names: tuple[str, ...]) -> None:
    """Materialise fixtures (all shipped ones by default) into the cache."""
    for name in names or tuple(available()):
        fx = load_fixture(name)
        click.echo(f"{fx.name}: {fx.files} entries, {fx.size} bytes, hash {fx.hash[:16]}")
        _setup_notes(fx)


def _setup_notes(fx: Fixture) -> None:
    """What the setup script did that the fixture's author should know (its failing lines, stray paths)."""
    for f in fx.setup.failures:
        said = (f.stderr.strip().splitlines() or [""])[-1]
        click.echo(f"  setup line {f.line} failed (exit {f.status}): {f.command[:60]}  {said[:70]}")
    if fx.setup.outside:
        click.echo(f"  setup made {', '.join(fx.setup.outside)} outside the roots: not part of the fixture")
