"""data.external: tags, decontamination, the hold-out split, and the committed files."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from agent.fewshot import QARow, load_examples, normalize
from data import external, files, nl2bash
from data.candidate import Candidate
from data.catalog import catalog
from data.contamination import all_suites, contaminated, eval_suites, imported_suites, load_eval_cases
from data.external import group_keys, plan_of, reads_only_plan, split, tag, unrunnable
from data.screen import stages
from data.verify import Outcome, check_rows
from rubrics.score import commands_of
from rubrics.suite import load_suite
from sandbox.fixture import available

SOURCES = {"nl2bash", "tldr"}
CHECKS = {"executed+verified", "executed", "parsed"}


def committed() -> dict[str, list[QARow]]:
    return {path.name: [e.row for e in load_examples(path)]
            for path in (files.external_train_path(), files.external_holdout_path())}


# --- tags ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("outcome, expected", [
    (Outcome(True, None), "executed+verified"),
    (Outcome(True, "output row printed nothing"), "executed"),
    (Outcome(False, "exit code 1: cat: missing.txt: No such file"), None),
    (Outcome(False, "timed out after 10 s"), None),
])
def test_tags_from_a_run(outcome, expected):
    assert tag(outcome) == expected


@pytest.mark.parametrize("completion, why, read_only", [
    ("$ find . -name '*.c'", None, True),
    ("$ find /var/www -name '*.php'", "names /var/www", True),
    ("$ grep -r error ~/logs", "names ~/logs", True),
    ("$ find /var/tmp -mtime +90 -print\n# to apply after review: find /var/tmp -mtime +90 -delete", "names /var/tmp", True),
    ("$ find . -atime +30", None, True),
    ("$ mkdir /srv/new", "names /srv/new", False),
    ("$ find /var/log -exec chmod 644 {} \\;", "names /var/log", False),
    ("$ find /var/log -name '*.log' > list.txt", "names /var/log", False),
])
def test_plans_about_the_users_machine_are_not_run(completion, why, read_only):
    assert unrunnable(completion) == why and reads_only_plan(completion) is read_only


def test_the_completion_is_the_agents_plan():
    completion, blocked = plan_of("rm notes.txt")
    assert completion == "$ ls -d -- notes.txt\n# to apply after review: rm notes.txt" and not blocked
    assert plan_of("find . -name '*.py'") == ("$ find . -name '*.py'", False)
    assert plan_of("cp a b") == ("$ cp -n a b", False)
    # tar -c's no-clobber form is added at run time: the row keeps the idiom the model should learn
    assert plan_of("tar -czf logs.tgz logs") == ("$ tar -czf logs.tgz logs", False)


def test_one_row_per_request_the_best_checked_first():
    def t(request, command, check):
        return external.Tagged(Candidate("nl2bash", "", request, command, "train-nl2bash"), "$ " + command, check)

    rows = [t("List files", "ls /nowhere", "parsed"), t("Show the date", "date", "executed+verified"),
            t("list files!", "ls", "executed+verified"), t("List files", "ls -a", "executed+verified"),
            t("Show the date", "date -u", "executed+verified")]
    kept, others = external.best_of_each_request(rows)
    assert [r.candidate.command for r in kept] == ["date", "ls"]
    assert [r.candidate.command for r in others] == ["ls /nowhere", "ls -a", "date -u"]


# --- decontamination ------------------------------------------------------------------------------------
def test_imported_suites_are_checked():
    assert {p.name for p in imported_suites()} >= {"icalfa-fs1.yaml"}
    assert set(all_suites()) == set(eval_suites()) | set(imported_suites())
    cases = load_eval_cases(all_suites())
    assert len(cases) == 15 + 153 and len({c.id for c in cases}) == len(cases)


@pytest.mark.parametrize("planted", [
    "Please list all the files in the current directory including hidden files",   # icalfa-fs1-002, reworded
    "create a copy of /testbed/hello.php named /testbed/hello-COPY.php",            # icalfa-fs1-004, verbatim
])
def test_a_planted_near_duplicate_of_an_imported_case_is_removed(planted):
    row = QARow(prompt=planted, completion="$ true", category="x", fixture="train-nl2bash", source="nl2bash")
    assert contaminated([row], load_eval_cases(eval_suites())) == []  # Fenrir's own suites do not see it
    found = contaminated([row], load_eval_cases(all_suites()))
    assert [m.case.split("/")[0] for _, _, m in found] == ["icalfa-fs1"]


# --- hold-out split --------------------------------------------------------------------------------------
def test_split_is_deterministic_grouped_and_about_five_percent():
    items = [(f"Find the {w} files modified {n} days ago", f"find . -name '*.{w}' -mtime -{n}")
             for w in ("txt", "log", "csv", "py", "md") for n in range(400)]
    held = split(items)
    assert held == split(list(items)) and held != split(items, seed=1)
    assert 0.03 < sum(held) / len(held) < 0.07
    # a paraphrase (same content words, any order) and a rewording with the same command go together
    pairs = [("Find all TXT files in the current directory", "find . -name '*.txt'"),
             ("find txt files", "find . -type f -name '*.txt'"),
             ("Search for files ending in .txt", "find . -type f -name '*.txt'")]
    assert group_keys(*pairs[0])[0] == group_keys(*pairs[1])[0]
    for seed in range(200):
        sides = split(pairs, seed=seed)
        assert len(set(sides)) == 1


# --- nl2bash analysis ----------------------------------------------------------------------------------
def test_nl2bash_analysis_counts_names():
    pairs = [nl2bash.Pair(nl="a", cmd="find . -name '*.txt' -mtime -1"), nl2bash.Pair(nl="b", cmd="find dir1 -type f;"),
             nl2bash.Pair(nl="c", cmd="sort file.txt | uniq -c"), nl2bash.Pair(nl="d", cmd="ping 8.8.8.8")]
    stats = nl2bash.analyse(pairs)
    assert stats.find_commands == 2 and stats.starts == Counter({".": 1, "dir1": 1})
    assert stats.extensions == Counter({"txt": 1}) and stats.operands == Counter({"file.txt": 1})
    assert stats.tests == Counter({"-mtime -1": 1, "-type f": 1})
    assert nl2bash.command(pairs[1]) == "find dir1 -type f" and nl2bash.candidates(pairs)[3].origin == "nl2bash:4"


# --- the committed files -----------------------------------------------------------------------------
def test_committed_files_validate_and_carry_known_values():
    fixtures = set(available())
    suites = [load_suite(p) for p in all_suites()]
    assert not {f for s in suites for c in s.cases for f in c.fixtures if f.startswith("train-")}
    for name, rows in committed().items():
        assert rows, name
        assert {r.source for r in rows} <= SOURCES and {r.check for r in rows} <= CHECKS, name
        assert {r.fixture for r in rows} <= fixtures, name
        assert all(commands_of(r.completion) for r in rows), name
    for path in (files.external_train_path(), files.external_holdout_path()):
        assert path.stat().st_size < 4_000_000


def test_committed_counts_match_the_summary():
    summary = external.ImportSummary.model_validate_json(files.external_summary_path().read_text())
    rows = committed()
    for table, name in ((summary.train, "external.jsonl"), (summary.holdout, "holdout_external.jsonl")):
        got = Counter((r.source, r.check) for r in rows[name])
        assert got == Counter({(s, c): n for s, checks in table.items() for c, n in checks.items()})
    assert summary.limit is None and set(summary.contamination) == {p.stem for p in all_suites()}


def test_prompts_are_unique_across_every_data_file():
    seen: dict[str, str] = {}
    paths = [*files.committed_rows(), files.external_train_path(), files.external_holdout_path()]
    for path in paths:
        for e in load_examples(path):
            key = normalize(e.row.prompt)
            if path.name == "handwritten.jsonl" and seen.get(key, "").startswith("cli_qa"):
                continue  # kept hand-written rows are copied into cli_qa.jsonl
            assert key not in seen, f"{e.id} repeats {seen[key]}"
            seen[key] = e.id


def test_hold_out_groups_never_cross():
    rows = committed()
    train = {k for r in rows["external.jsonl"] for k in group_keys(r.prompt, "\n".join(commands_of(r.completion)))}
    held = rows["holdout_external.jsonl"]
    prompts = {normalize(t.prompt) for t in rows["external.jsonl"]}
    assert held and not any(normalize(r.prompt) in prompts for r in held)
    request_keys = {k for k in train if k.startswith("r:")}
    assert not [r.prompt for r in held if group_keys(r.prompt, "")[0] in request_keys]
    assert not [r.prompt for r in held if group_keys("", "\n".join(commands_of(r.completion)))[1] in train]


# (that both files are clean of every eval suite, the imported ones too, is
# tests/data/test_contamination.py::test_committed_files_are_clean[external, holdout-external])


# --- in the sandbox -------------------------------------------------------------------------------------
@pytest.mark.docker
def test_a_handful_of_rows_get_the_right_tags():
    commands = {
        "find . -name '*.c'": "executed+verified",
        "find . -name '*.nothing-here'": "executed",
        "cat no-such-file.txt": None,
        "rm file.txt": "executed+verified",                 # the plan is a preview: it lists, changes nothing
        "diff dir1/common.txt dir2/common.txt": "executed+verified",   # exit 1 means "they differ"
        "mkdir -p reports/2024": "executed+verified",
        "grep -c hello file.txt": "executed+verified",
    }
    plans = [plan_of(c)[0] for c in commands]
    rows = [QARow(prompt=c, completion=p, category="x", fixture=nl2bash.FIXTURE) for c, p in zip(commands, plans)]
    outcomes = check_rows(rows, workers=2, timeout=external.RUN_TIMEOUT)
    assert {c: tag(o) for c, o in zip(commands, outcomes)} == commands


@pytest.mark.docker
def test_tldr_rows_never_use_a_name_the_request_or_fixture_lacks():
    """Every path-like word of a committed tldr completion is said in its request or exists in its fixture
    (sed/perl scripts ``s/a/b/g`` and git ref prefixes ``refs/heads/`` are not paths)."""
    from data.tldr import said

    bad = []
    for rows in committed().values():
        for row in (r for r in rows if r.source == "tldr"):
            cat = catalog(row.fixture)
            for command in commands_of(row.completion):
                repo = re.match(r"git -C (\S+) ", command)
                scope = repo.group(1) + "/" if repo else ""
                for _, words in stages(command):
                    for w in words[1:]:
                        if re.fullmatch(r"[\w.~/-]+", w) and not w.startswith("-") and w != scope.rstrip("/") and (
                                "/" in w or re.search(r"\.[A-Za-z]\w*$", w)) and not re.match(r"[sy]/|refs/", w):
                            if not (said(w, row.prompt) or cat.exists(scope + w) or cat.exists(w)):
                                bad.append((row.prompt, w))
    assert bad == [], bad


def test_summary_is_json():
    data = json.loads(files.external_summary_path().read_text())
    assert set(data["dropped"]) <= SOURCES and data["sandbox_rows"] > 0


@pytest.mark.docker
@pytest.mark.slow
def test_a_small_import_is_deterministic(tmp_path):
    from data.candidate import external_dir
    from harness.errors import DataError

    try:
        external_dir()
    except DataError as exc:
        pytest.skip(str(exc))
    outputs = []
    for run in ("one", "two"):
        paths = [tmp_path / f"{run}-{name}" for name in ("train.jsonl", "holdout.jsonl", "summary.json")]
        summary = external.write(2, 40, train_path=paths[0], holdout_path=paths[1], summary_path=paths[2],
                                 log=lambda *_: None)
        assert summary.candidates == {"nl2bash": 40, "tldr": 40} and summary.sandbox_rows > 20
        outputs.append((paths[0].read_bytes(), paths[1].read_bytes()))
    assert outputs[0] == outputs[1] and outputs[0][0]
