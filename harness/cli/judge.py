"""``fenrir judge CMD_A CMD_B --fixture F``: are two commands equivalent, as the scorer sees it?"""

from __future__ import annotations

import json
import sys

import click

from harness.errors import FenrirError
from harness.judge import judge_commands
from rubrics.suite import MEANING_KEEPING, Comparator, Kind


class _Trouble(click.ClickException):
    """Fenrir could not judge (bad fixture, no Docker): exit 2, as diff(1) does for trouble."""

    exit_code = 2


def _summary(label: str, ex) -> str:
    lines = len(ex.stdout.splitlines())
    changes = f"{len(ex.changes)} change(s)" if ex.changes else "no changes"
    return f"{label}: exit {ex.exit_code}, {lines} stdout line(s), {changes}"


@click.command()
@click.argument("cmd_a")
@click.argument("cmd_b")
@click.option("--fixture", "fixture_ref", required=True, metavar="NAME|FILE.yaml", help="Fixture both run against.")
@click.option("--workdir", default=None, metavar="DIR", help="Run both here instead of the fixture's workdir.")
@click.option("--compare", "comparators", multiple=True, type=click.Choice([c.value for c in Comparator]),
              help="A looser match allowed for 'loosely equivalent' (repeat; default: "
                   f"{', '.join(c.value for c in MEANING_KEEPING)}).")
@click.option("--exact", is_flag=True, help="No looser matches: equivalent or different.")
@click.option("--kind", type=click.Choice([k.value for k in (Kind.OUTPUT, Kind.EFFECT)]), default=None,
              help="What is compared (default: effect when A changes the tree, else output).")
@click.option("--package", "packages", multiple=True, metavar="NAME",
              help="An extra Debian package both run with (repeat).")
@click.option("--json", "as_json", is_flag=True, help="Print the verdict and both executions as JSON.")
def judge(cmd_a: str, cmd_b: str, fixture_ref: str, workdir: str | None, comparators: tuple[str, ...],
          exact: bool, kind: str | None, packages: tuple[str, ...], as_json: bool) -> None:
    """Run CMD_A and CMD_B on the same fixture and say whether B answers as A does.

    \b
      fenrir judge 'wc -w setup.sh' "awk '{n += NF} END {print n}' setup.sh" --fixture icalfa-fs1

    Prints 'equivalent' (the scorer's Answer 2), 'loosely equivalent (COMPARATORS)'
    (Answer 1 where a case declares them) or 'different', then the first difference
    (stdout line, exit status or changed path).  A plays the reference; when B's
    output differs, A runs again after B and what A's own output changed (PIDs, the
    clock, counters) is not compared, as in the scorer.  Exits 0 when
    equivalent, 1 when not, 2 when Fenrir could not judge.
    """
    chosen = [] if exact else [Comparator(c) for c in comparators] or list(MEANING_KEEPING)
    try:
        result = judge_commands(cmd_a, cmd_b, fixture_ref, workdir=workdir, comparators=chosen,
                                kind=Kind(kind) if kind else None, packages=packages)
    except FenrirError as exc:
        raise _Trouble(str(exc)) from exc
    v = result.explanation
    if as_json:
        click.echo(json.dumps({"verdict": v.verdict, "kind": v.kind.value,
                               "comparators": [c.value for c in v.comparators], "difference": v.difference,
                               "remaining": v.remaining, "uninformative": v.uninformative,
                               "volatile": v.volatile, "workdir": result.workdir,
                               "a": result.a.model_dump(mode="json"), "b": result.b.model_dump(mode="json"),
                               "a_again": result.again.model_dump(mode="json") if result.again else None},
                              indent=1))
    else:
        names = f" ({', '.join(c.value for c in v.comparators)})" if v.comparators else ""
        click.echo(f"{v.verdict}{names}")
        if v.difference:
            click.echo(f"  first difference: {v.difference}")
        if v.remaining:
            click.echo(f"  still different under {', '.join(c.value for c in chosen)}: {v.remaining}")
        if v.volatile:
            click.echo(f"  note: A's stdout changed in {v.volatile} place(s) when A ran again after B (PIDs, "
                       "the clock, counters); those were not compared")
        if v.uninformative:
            click.echo("  note: A prints nothing and changes nothing, so any silent command with the same exit "
                       "status matches it")
        click.echo(f"  {_summary('A', result.a)} · {_summary('B', result.b)}")
        click.echo(f"  compared as {v.kind.value} · workdir {result.workdir} · fixture {result.a.fixture} "
                   f"({result.a.fixture_hash[:12]}) · image {result.a.image_digest[7:19]}")
    sys.exit(0 if v.verdict == "equivalent" else 1)
