"""agent.shell: tree-sitter-bash parsing, word unquoting, spans on non-ASCII text, the walks."""

import pytest

from agent import shell
from agent.shell import Unparseable, parse

MUST_PARSE = [
    "echo $((1+2))",
    "cat <<EOF\nhello $USER\n$(date)\nEOF",
    "cat > f <<'EOF'\nsome text\nEOF",
    "cat <<-EOF | wc -l\n\ta\n\tEOF",
    "[[ -f x ]] && echo yes",
    "diff <(sort a) <(sort b)",
    "f() { ls; }; f",
    "function g { ls; }; g",
    "for f in *.txt; do wc -l \"$f\"; done",
    "case $x in a|b) ls;; *) pwd;; esac",
    "if [ -f x ]; then cat x; elif true; then :; else echo no; fi",
    "while read -r l; do echo \"$l\"; done < list.txt",
    "a=(1 2 3); echo \"${a[@]}\" ${#a[@]}",
    "echo $'tab\\there' $\"hi\"",
    "echo `ls` \"$(ls | wc -l)\"",
    "ls 2>&1 | grep x",
    "ls &> all.log; ls &>> all.log",
    "x=1 y=2",
    "FOO=bar env | grep FOO",
    "time ls",
    "! grep -q x f",
    "ls |& cat",
    "echo ${x:-default} ${y//a/b}",
    "(cd src && ls) > out",
    "{ ls; pwd; } 2>/dev/null",
]


@pytest.mark.parametrize("text", MUST_PARSE)
def test_constructs_bashlex_could_not_read_parse(text):
    script = parse(text)
    assert not script.root.has_error


@pytest.mark.parametrize(("text", "needle"), [
    ("echo 'unterminated", "syntax error at column 6 near \"'unterminated\""),
    ("if true; then ls", "syntax error at column 1"),
    ("ls; ; ls", "syntax error at column 5 near ';'"),
    ("ls |", "missing 'word' at column 5"),
    ("echo $(ls", "missing ')' at column 10"),
])
def test_syntax_errors_raise_with_a_message(text, needle):
    with pytest.raises(Unparseable) as info:
        parse(text)
    assert needle in str(info.value)


def argv(text):
    return [list(c.argv) for c in parse(text).commands()]


@pytest.mark.parametrize(("text", "expected"), [
    ("echo 'a b' \"c $x \\\"d\\\"\" g\\ h", [["echo", "a b", 'c $x "d"', "g h"]]),
    ("echo \"\\$HOME \\\\ \\n\" '\\n'", [["echo", "$HOME \\ \\n", "\\n"]]),
    ("echo $'e\\tf\\x41\\101\\u00e9\\'' $'\\n'", [["echo", "e\tfAAé'", "\n"]]),
    ("echo a\"b\"'c'$x\"$(pwd)\"", [["echo", "abc$x$(pwd)"], ["pwd"]]),
    ("echo {a,b}.txt ~/x *.py", [["echo", "{a,b}.txt", "~/x", "*.py"]]),
    ("rm -rf \"$HOME\"", [["rm", "-rf", "$HOME"]]),
    ("'rm' -f \"x\"", [["rm", "-f", "x"]]),
    ("FOO=1 BAR=\"2 3\" ls -l > out 2>&1", [["ls", "-l"]]),
    ("echo a > b c", [["echo", "a", "c"]]),  # tree-sitter puts `c` in the redirect
    ("find . -exec rm {} \\;", [["find", ".", "-exec", "rm", "{}", ";"]]),
    ("x=$(ls | wc -l)", [["ls"], ["wc", "-l"]]),
    ("cat <<EOF > out && rm y\n$(date)\nEOF", [["cat"], ["rm", "y"], ["date"]]),
    ("for f in *.txt; do wc -l \"$f\"; done", [["wc", "-l", "$f"]]),
    ("f() { ls; }; f", [["ls"], ["f"]]),
])
def test_argv_is_unquoted_node_by_node(text, expected):
    assert argv(text) == expected


def test_spans_are_str_offsets_on_non_ascii_text():
    text = "echo 'é ü' naïve > café.txt  # ünïcödé"
    script = parse(text)
    (command,) = list(script.commands())
    assert [text[w.start:w.end] for w in command.words] == ["echo", "'é ü'", "naïve"]
    assert command.argv == ("echo", "é ü", "naïve")
    (redirect,) = list(script.redirects())
    assert (redirect.op, redirect.target.value, text[redirect.start:redirect.end]) == (">", "café.txt", "> café.txt")


@pytest.mark.parametrize(("text", "ops"), [
    ("ls > a >> b >| c &> d &>> e 2>&1 >&2 < f 3>&-", [">", ">>", ">|", "&>", "&>>", ">&", ">&", "<", ">&-"]),
])
def test_redirect_operators_and_which_write(text, ops):
    found = list(parse(text).redirects())
    assert [r.op for r in found] == ops
    assert [r.writes for r in found] == [True, True, True, True, True, False, False, False, False]
    assert found[5].fd == "2" and found[5].target.value == "1"


def test_heredoc_pipeline_puts_the_heredoc_command_first():
    script = parse("cat <<EOF | sh\nls\nEOF")
    (stages,) = list(script.pipelines())
    assert [[c.name for c in script.commands(s)] for s in stages] == [["cat"], ["sh"]]


def test_words_know_when_they_expand():
    (command,) = list(parse("echo plain 'q' \"$x\" $(ls) $((1+1)) a${b}c").commands())[:1]
    assert [w.expands for w in command.words] == [False, False, False, True, True, True, True]


def test_functions_and_the_parser_is_made_once():
    script = parse("f() { ls; }; function g { pwd; }; f; g")
    assert [name for name, _ in script.functions()] == ["f", "g"]
    assert shell._parser() is shell._parser()
    assert parse("ls -l") is parse("ls -l")  # parsed once, then cached
