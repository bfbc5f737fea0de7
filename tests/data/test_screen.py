"""data.screen: why an imported command is dropped before it runs."""

from __future__ import annotations

import pytest

from data.screen import Drop, drop_reason, out_of_tree_paths, reads_only, reads_stdin, unset_variables

# a stand-in for the image's program list: what the table below needs, and nothing of ssh/sudo/column/tree
PROGRAMS = frozenset("""find grep cat sort uniq head tail wc ls tar gzip xargs echo sed awk tr cut rm mkdir cp mv
chmod python3 sleep top watch less vi git read yes bash du df date mount dd""".split())


@pytest.mark.parametrize("command, reason, detail", [
    ("", Drop.EMPTY, ""),
    ("find . -name 'x", Drop.UNPARSEABLE, None),
    ("grep “HIGHMEM” /boot/config", Drop.UNPARSEABLE, "typographic quotes or dashes"),
    ("ssh host ls", Drop.OUTSIDE_IMAGE, "ssh"),
    ("find . -type d | column -t", Drop.OUTSIDE_IMAGE, "column"),
    ("sudo ls", Drop.OUTSIDE_IMAGE, "sudo"),
    ("rm -rf /", Drop.CATASTROPHIC, None),
    ("dd if=/dev/zero of=/dev/sda", Drop.CATASTROPHIC, None),
    ("git push origin main", Drop.NETWORK, None),
    ("top", Drop.INTERACTIVE, "top"),
    ("watch df -h", Drop.INTERACTIVE, "watch"),
    ("less notes.txt", Drop.INTERACTIVE, "less"),
    ("tail -f app.log", Drop.INTERACTIVE, "tail -f"),
    ("tail -fn 5 app.log", Drop.INTERACTIVE, "tail -fn"),
    ("sleep 30", Drop.INTERACTIVE, "sleep 30"),
    ("git add -p", Drop.INTERACTIVE, "git add"),
    ("find . -name x &", Drop.INTERACTIVE, "a background job (&)"),
    ("cat", Drop.READS_STDIN, "cat"),
    ("sort -u", Drop.READS_STDIN, "sort"),
    ("grep foo", Drop.READS_STDIN, "grep"),
    ("sed 's/a/b/'", Drop.READS_STDIN, "sed"),
    ("tr a-z A-Z", Drop.READS_STDIN, "tr"),
    ("xargs rm", Drop.READS_STDIN, "xargs"),
    ("read name", Drop.READS_STDIN, "read"),
    ("python3", Drop.READS_STDIN, "python3"),
    ("head -n5", Drop.READS_STDIN, "head"),
    ("grep foo 2>/dev/null", Drop.READS_STDIN, "grep"),
    ("find $dir -name '*.txt'", Drop.UNSET_VARIABLE, "$dir"),
    ("cat $1", Drop.UNSET_VARIABLE, "$1"),
    ('echo "${FILE}"', Drop.UNSET_VARIABLE, "$FILE"),
])
def test_drop_reasons(command, reason, detail):
    dropped = drop_reason(command, PROGRAMS)
    assert dropped is not None and dropped.reason == reason, dropped
    if detail is not None:
        assert dropped.detail == detail


@pytest.mark.parametrize("command", [
    "find . -name '*.txt' | xargs grep -l foo",
    "sort -k 2 data.csv | uniq -c",
    "grep -r TODO",                               # grep -r with no file searches .
    "grep -e foo notes.txt",
    "wc -l < notes.txt",
    "cat a.txt | tr a b",
    "yes | head -n 3",
    "sleep 1",
    "for f in *.txt; do echo \"$f\"; done",
    "find . -type f | while read f; do echo \"$f\"; done",
    "awk '{print $1}' data.csv",                   # $1 inside single quotes is awk's
    "echo $HOME $USER",
    "A=1; echo $A",
    "python3 -c 'print(1)'",
    "git log -p",
    "ls ~/Downloads",
])
def test_commands_that_pass(command):
    assert drop_reason(command, PROGRAMS) is None


def test_helpers():
    assert reads_stdin("cut -d, -f2 data.csv") is None and reads_stdin("cut -d, -f2") == "cut"
    assert unset_variables("x=1; echo $x $y ${z} '$w' \\$v") == ["y", "z"]
    assert out_of_tree_paths("find /var/log ~/x $HOME /work/a ./b /dev/null -name c") == ["/var/log", "~/x", "$HOME"]
    assert out_of_tree_paths("find / -name x") == ["/"] and out_of_tree_paths("grep -v '/$' a.txt") == []
    assert out_of_tree_paths("find . -perm /222 | cut -d / -f 2") == []
    assert reads_only("find /var/log -name '*.log' | xargs grep -l error")
    assert not reads_only("find /var/log -name '*.log' -exec rm {} \\;")
    assert not reads_only("find /srv -name '*.txt' \\ -exec rm -f {} \\;")   # escaped space before -exec
    assert not reads_only("ls ~ > listing.txt") and reads_only("find / -name x 2>/dev/null")
    assert reads_only("tar tzf /backup.tar.gz") and not reads_only("tar czf /backup.tar.gz docs")
