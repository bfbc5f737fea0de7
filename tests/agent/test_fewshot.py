"""Few-shot example loading and selection."""

import json

import pytest

from agent.fewshot import Selector, default_data, load_examples, normalize
from harness.errors import DataError
from harness.paths import package_root

EVAL_PROMPTS = [
    "list .py files recursively", "create a new git branch", "compress the reports directory",
    "create a venv and install requests", "show the first 10 lines of output.log",
    "dry-run delete of *~ files", "find JPEGs larger than 5 MB",
]


def test_seed_data_loads_and_is_well_formed():
    examples = load_examples()
    assert len(examples) >= 400  # the generated, sandbox-verified set (data/generate.py)
    assert len({normalize(e.row.prompt) for e in examples}) == len(examples)
    for example in examples:
        lines = example.row.completion.splitlines()
        assert all(line.startswith(("$ ", "# ")) for line in lines), example.id
        assert any(line.startswith("$ ") for line in lines), example.id


def test_seed_data_does_not_contain_eval_prompts():
    prompts = {normalize(e.row.prompt) for e in load_examples()}
    assert not prompts & {normalize(p) for p in EVAL_PROMPTS}


def test_seed_completions_parse_and_are_never_blocked():
    """Rows teach what a user asked for; sed -i rows come out of the agent as previews
    (rewritten), and no row may teach a command the safety pass blocks.  Rows generated
    before the no-clobber policy have plain cp/mv/tar -x, which the agent prints guarded
    (`data.policy` lists them; the templates are already no-clobber)."""
    from agent.plan import parse_plan

    for example in load_examples():
        plan = parse_plan(example.row.completion)
        assert all(line.action in ("kept", "guarded", "rewritten") and line.parse_ok for line in plan.lines), example.id


def test_selection_prefers_similar_and_never_leaks_the_request(tmp_path):
    rows = [
        {"prompt": "Find PNG files over 2 MB", "completion": "$ find . -name '*.png' -size +2M", "category": "find", "fixture": "seed"},
        {"prompt": "Count words in a.txt", "completion": "$ wc -w a.txt", "category": "wc", "fixture": "seed"},
        {"prompt": "find jpegs larger than 5 MB!", "completion": "$ leak", "category": "find", "fixture": "seed"},
    ]
    path = tmp_path / "qa.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    selector = Selector(load_examples(path))
    chosen = selector.select("Find JPEGs larger than 5 MB", 3)
    assert [e.row.prompt for e in chosen] == ["Find PNG files over 2 MB", "Count words in a.txt"]
    assert chosen[0].id == "qa:1"
    assert selector.select("anything", 0) == []


@pytest.mark.parametrize("prompt", EVAL_PROMPTS)
def test_request_never_selected_even_when_present(prompt, tmp_path):
    rows = [{"prompt": p.upper() + " ", "completion": "$ ls", "category": "x", "fixture": "seed"} for p in EVAL_PROMPTS]
    path = tmp_path / "qa.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    chosen = Selector(load_examples(path)).select(prompt, 10)
    assert len(chosen) == len(EVAL_PROMPTS) - 1
    assert normalize(prompt) not in {normalize(e.row.prompt) for e in chosen}


@pytest.mark.parametrize(("line", "needle"), [
    ('{"prompt": "x", "completion": "$ ls", "category": "x"}', "field 'fixture'"),
    ('{"prompt": "x", "completion": "$ ls", "category": "x", "fixture": "s", "extra": 1}', "field 'extra'"),
    ('{"prompt": " ", "completion": "$ ls", "category": "x", "fixture": "s"}', "field 'prompt'"),
    ("{not json", "not valid JSON"),
])
def test_bad_row_names_file_line_and_field(tmp_path, line, needle):
    path = tmp_path / "bad.jsonl"
    good = '{"prompt": "a", "completion": "$ ls", "category": "x", "fixture": "s"}'
    path.write_text(good + "\n" + line + "\n")
    with pytest.raises(DataError) as info:
        load_examples(path)
    assert f"{path}:2" in str(info.value)
    assert needle in str(info.value)


def test_default_data_path_is_the_shipped_file():
    assert default_data() == package_root() / "data" / "cli_qa.jsonl" and default_data().is_file()
    assert [e.id for e in load_examples()] == [e.id for e in load_examples(default_data())]
