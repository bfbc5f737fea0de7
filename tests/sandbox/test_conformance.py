"""The sandbox's public API, run for real: outputs, exit codes, env, diff, determinism."""

from __future__ import annotations

import time

import pytest

from sandbox.records import Limits

pytestmark = pytest.mark.docker


def test_stdout_stderr_and_exit_code(box, mini):
    ex = box.run("echo out; echo err >&2; exit 3", mini)
    assert (ex.stdout, ex.stderr, ex.exit_code) == ("out\n", "err\n", 3)
    assert not ex.timed_out and not ex.output_truncated and ex.signal is None


def test_killed_by_signal_reports_128_plus_n(box, mini):
    ex = box.run("kill -TERM $$", mini)
    assert ex.exit_code == 143 and ex.signal == 15


def test_stdin_is_closed(box, mini):
    ex = box.run("cat; echo rc=$?; read -r line; echo read=$?", mini)
    assert ex.stdout == "rc=0\nread=1\n"


def test_cwd_env_and_user(box, mini):
    ex = box.run('pwd; echo "$LANG $LC_ALL $TZ $HOME $USER"; id -u; date +%Z; env | sort | cut -d= -f1 | tr "\\n" " "', mini)
    lines = ex.stdout.splitlines()
    assert lines[0] == "/work"
    assert lines[1] == "C.UTF-8 C.UTF-8 UTC /home/user user"
    assert lines[2] == "1000"
    assert lines[3] == "UTC"
    # nothing from the host or the supervisor leaks into the plan's environment
    assert "FENRIR_SUPERVISOR" not in lines[4] and "HOSTNAME" not in lines[4]


def test_fixture_contents_modes_symlinks_and_relative_mtimes(box, mini):
    ex = box.run("stat -c '%n %a %s' a.txt sub/b.txt big.jpg; readlink sub/link; "
                 "find . -mtime +2 -mtime -4; file -b big.jpg | cut -d, -f1", mini)
    assert ex.stdout.splitlines() == [
        "a.txt 644 6", "sub/b.txt 600 4", "big.jpg 644 6291456", "b.txt", "./sub/b.txt", "JPEG image data"]


def test_git_fixture(box, seed):
    ex = box.run("cd project && git log --format='%h %s %ad' --date=iso-strict && git branch && git status --short", seed)
    assert ex.exit_code == 0, ex.stderr
    assert ex.stdout.splitlines() == [
        "ca38ff6 Add models and routes 2024-01-01T13:00:00+00:00",
        "a4615a0 Initial commit 2024-01-01T12:00:00+00:00",
        "  develop",
        "* main",
    ]
    assert not ex.changes  # git status must not rewrite the index


def _by_path(ex):
    return {c.path: c for c in ex.changes}


def test_diff_added_removed_modified(box, mini):
    ex = box.run("echo new > new.txt; mkdir d; ln -s a.txt l; rm sub/link; echo more >> a.txt; "
                 "chmod 755 sub/b.txt", mini)
    ch = _by_path(ex)
    assert set(ch) == {"new.txt", "d", "l", "sub/link", "a.txt", "sub/b.txt"}
    assert ch["new.txt"].kind == "added" and ch["new.txt"].after.type == "file" and ch["new.txt"].after.size == 4
    assert ch["d"].kind == "added" and ch["d"].after.type == "dir"
    assert ch["l"].after.type == "symlink" and ch["l"].after.target == "a.txt"
    assert ch["sub/link"].kind == "removed" and ch["sub/link"].before.target == "b.txt"
    assert ch["a.txt"].kind == "modified" and "content" in ch["a.txt"].fields
    assert ch["a.txt"].before.size == 6 and ch["a.txt"].after.size == 11
    assert ch["sub/b.txt"].fields == ("mode",)
    assert (ch["sub/b.txt"].before.mode, ch["sub/b.txt"].after.mode) == (0o600, 0o755)


def test_diff_catches_same_size_same_mtime_edit(box, mini):
    # rewrite a.txt with other bytes of the same length, then put its mtime back
    ex = box.run("cp -p a.txt /tmp/ref; printf 'HELLO\\n' > a.txt; touch -r /tmp/ref a.txt; stat -c %s a.txt", mini)
    assert ex.stdout == "6\n"
    (change,) = ex.changes
    assert change.path == "a.txt" and change.fields == ("content",)


def test_diff_type_change_and_mtime_only(box, mini):
    ex = box.run("rm sub/b.txt && mkdir sub/b.txt; touch -d '2001-01-01' a.txt", mini)
    ch = _by_path(ex)
    assert ch["sub/b.txt"].fields[0] == "type" and ch["sub/b.txt"].after.type == "dir"
    assert ch["a.txt"].fields == ("mtime",)


def test_reads_and_dir_listing_change_nothing(box, seed):
    ex = box.run("ls -R >/dev/null; cat output.log | wc -l; du -sh photos >/dev/null; tar -tzf backup.tar.gz >/dev/null 2>&1; true", seed)
    assert ex.stdout == "120\n" and ex.changes == ()


def test_every_task_starts_pristine(box, mini, pristine):
    first, probe = pristine
    box.run("rm -rf ./* ; echo junk > /tmp/junk; echo x > ~/.x; chmod 000 .", mini)
    assert probe() == first


def test_same_plan_twice_is_identical_apart_from_timings(box, seed):
    plan = "find . -name '*.py' | sort; echo x > a; rm notes.txt; chmod 700 reports; git -C project log --oneline"
    one, two = box.run(plan, seed), box.run(plan, seed)
    assert one.comparable() == two.comparable()
    assert one.exit_code == 0 and len(one.changes) == 3


def test_reset_keeps_the_order_directories_list_in(box, seed):
    """find and ls -f print a tmpfs directory in link order, not by name: a file reset wrote again used to
    come first, so the same plan printed another order after a plan had changed a file (a reference and a
    candidate scored in one sandbox then differed on order alone)."""
    walk = "find .; ls -f . photos project/docs\n"
    before = box.run(walk, seed).stdout
    for plan in ("echo x >> notes.txt", "chmod 600 photos/logo.png; touch -d 2001-01-01 reports/summary.md",
                 "rm -r photos; rm output.log", "mv notes.txt n; mv n notes.txt", "mkdir -p zz/y; touch zz/y/a aaa"):
        box.run(plan, seed)  # the mv pair changes nothing a diff shows, but links notes.txt again
        assert box.run(walk, seed).stdout == before, plan


def test_reads_leave_no_access_times_for_the_next_plan(box, seed):
    """A read moves a file's atime (and the diff's own walk moved every folder's): the next plan in the same
    sandbox then saw them in find -amin / -atime, ls -lu and stat, by what had run before it."""
    # one epoch for all three: the pool may hand each run another container, loaded at another moment, and
    # relative times resolve against the epoch (the harness pins one per eval run)
    epoch = time.time()
    # stat first: find's own walk reads '.' and moves its atime to the wall clock (relatime), which a stat
    # after it would print, one second apart when two runs straddle a second
    look = "stat -c '%n %X' notes.txt photos . reports/summary.md; find . -amin -1 | LC_ALL=C sort\n"
    before = box.run(look, seed, epoch=epoch).stdout
    box.run("cat notes.txt reports/summary.md; ls -R > /dev/null; touch -a photos/logo.png", seed, epoch=epoch)
    assert box.run(look, seed, epoch=epoch).stdout == before
    assert "./notes.txt" not in before


def test_result_records_image_digest_and_fixture_hash(box, mini):
    ex = box.run("true", mini)
    assert ex.image_digest.startswith("sha256:") and len(ex.image_digest) == 71
    assert ex.fixture_hash == mini.hash and ex.fixture == "mini"


def test_output_cap_is_explicit(box, mini):
    ex = box.run("head -c 5000 /dev/zero | tr '\\0' a; echo; echo e >&2", mini, Limits(output_limit=1024))
    assert len(ex.stdout) == 1024 and ex.stdout_truncated and ex.stdout_bytes == 5001
    assert not ex.stderr_truncated and ex.output_truncated and ex.resource_limit == "output"


def test_execution_round_trips_through_json(box, mini):
    from sandbox.records import Execution

    ex = box.run("echo hi > f", mini)
    assert Execution.model_validate_json(ex.model_dump_json()) == ex


def test_switching_fixtures_in_one_container(box, mini, seed):
    a = box.run("ls | head -2", mini)
    b = box.run("ls | head -2", seed)
    c = box.run("ls | head -2", mini)
    assert a.stdout == c.stdout == "a.txt\nbig.jpg\n" and b.stdout == "backup.tar.gz\ndraft.txt~\n"


def test_epoch_pins_relative_mtimes_so_trees_are_byte_identical(box, mini, seed):
    plan = "stat -c '%Y %n' a.txt sub/b.txt; tar -cf - . | sha256sum"
    one = box.run(plan, mini, epoch=1_700_000_000)
    box.run("true", seed)  # load something else in between
    two = box.run(plan, mini, epoch=1_700_000_000)
    assert one.stdout == two.stdout and one.epoch == 1_700_000_000
    assert one.stdout.splitlines()[:2] == ["1699992800 a.txt", "1699740800 sub/b.txt"]
    other = box.run(plan, mini, epoch=1_700_086_400)
    assert other.stdout != one.stdout


def test_probe_runs_after_the_plan_and_apart_from_it(box, mini):
    ex = box.run("echo plan-out; tar -czf a.tgz a.txt sub; (sleep 0.3; echo late >> a.txt) &", mini,
                 probe="tar -tzf a.tgz | sort; cat a.txt")
    assert ex.stdout == "plan-out\n"
    assert ex.probe_stdout == "a.txt\nsub/\nsub/b.txt\nsub/link\nhello\n"  # the background writer died first


def test_the_hostname_is_fixed_and_resolves(box, mini):
    ex = box.run("hostname; hostname -f; getent hosts sandbox", mini)
    assert ex.stdout == "sandbox\nsandbox\n127.0.1.1       sandbox\n"


def test_unsearchable_directory_is_diffed_and_reset(box, seed):
    # chmod 644 leaves a directory listable but not searchable: the diff must still read it back
    ex = box.run("chmod 644 project/tests photos", seed)
    assert ex.exit_code == 0
    assert sorted(c.path for c in ex.changes) == ["photos", "project/tests"]
    assert all(c.kind == "modified" and c.after.mode == 0o644 for c in ex.changes)
    again = box.run("ls project/tests photos/family", seed)
    assert again.exit_code == 0 and "test_models.py" in again.stdout and again.changes == ()
