"""data.wording: varied requests, deterministic per seed, meaning and names untouched."""

from __future__ import annotations

import random
import re

from data import wording
from data.contamination import contaminated, load_eval_cases
from data.generate import Summary, candidates

FIND = "$ find {dir} -type f -name '*.{ext}'"


def variants(prompt: str, values: dict, completion: str = FIND, category: str = "find", n: int = 200) -> list[str]:
    return [wording.render(prompt, completion, category, values, random.Random(i)) for i in range(n)]


def test_same_seed_same_words_other_seeds_other_words():
    args = ("List all {lang} files in the {dir} folder", FIND, "find", {"lang": "Python", "ext": "py", "dir": "src"})
    assert wording.render(*args, random.Random(7)) == wording.render(*args, random.Random(7))
    assert len({wording.render(*args, random.Random(i)) for i in range(40)}) >= 10


def test_the_current_directory_is_dropped_or_said_in_several_ways_never_as_a_dot():
    out = variants("Count the .{ext} files under {dir}", {"ext": "py", "dir": "."})
    for prompt in out:
        assert not re.search(r"(?<![\w*])\.(?![\w{])", prompt.rstrip(".?")), prompt  # no bare "."
        assert ".py files" in prompt
    bare = [p for p in out if re.search(r"\.py files(, please|\?|\.)?( thanks)?$", p)]
    assert len(bare) >= 30, "the location is dropped for a good share of rows"
    said = {phrase for p in out for phrase in wording.HERE_PHRASES + wording.HERE_RECURSIVE if p.endswith(phrase)}
    assert len(said) >= 5, said


def test_the_location_stays_where_the_sentence_needs_it():
    out = variants("how many files are in {dir}?", {"dir": "."}, "$ find {dir} -type f | wc -l", "wc")
    assert all(not re.search(r"\bare\?$", p) for p in out)
    assert all(re.search(r"here|current|this", p) for p in out)


def test_other_directories_keep_their_name_and_vary_the_preposition():
    out = variants("Count the .{ext} files under {dir}", {"ext": "py", "dir": "webapp/src"})
    assert all("webapp/src" in p for p in out)
    assert {"in webapp/src", "under webapp/src", "inside the webapp/src folder"} <= {
        m.group(0) for p in out for m in re.finditer(r"(in|under|inside the) webapp/src( folder)?", p)}


def test_a_non_recursive_command_never_reads_as_recursive():
    out = variants("Show the permissions of the files in {dir}", {"dir": "."}, "$ ls -l {dir}", "chmod")
    assert not any(re.search(r"subdirectories|under|below|tree", p) for p in out)


def test_synonyms_never_touch_names_globs_quotes_or_slot_values():
    prompt = "Show the folder lines of {file} with 'the folder here' in notes.folder/ and *.folder files"
    values = {"file": "show/folder.txt"}
    out = variants(prompt, values, "$ true", "head_tail")
    for p in out:
        assert "show/folder.txt" in p and "'the folder here'" in p and "notes.folder/" in p and "*.folder" in p, p
    # the free words do vary: this test fails if synonyms stop working altogether
    assert any(" directory lines" in p for p in out) and any(re.match(r"(Print|Display)\b", p) for p in out)


def test_size_words_change_only_before_a_size():
    out = variants("Print only the lines that appear more than once in {file}", {"file": "a.txt"}, "$ sort {file} | uniq -d",
                   "sort_uniq")
    assert all("more than once" in p for p in out)
    out = variants("Any files over {mb}M in {dir}?", {"mb": 5, "dir": "photos"}, "$ find {dir} -type f -size +{mb}M")
    assert all(re.search(r"(over|larger than|bigger than|more than) 5 ?(MB|M|megabytes|mb)\b", p) for p in out)
    assert len({re.search(r"(over|larger than|bigger than|more than) 5 ?\w+", p).group(0) for p in out}) >= 10


def test_framings_wrap_imperatives_only_and_questions_end_with_a_question_mark():
    out = variants("Find every {lang} file in the current directory tree", {"lang": "Python", "ext": "py"})
    starts = {p.split(" ")[0] for p in out}
    assert {"Find", "Please", "Can", "Could", "I", "Help", "How", "Quick:"} <= starts
    for p in out:
        if p.startswith(("Can you", "Could you", "How do I")):
            assert re.search(r"\?( thanks)?$", p), p
    question = variants("Which files in {dir} are bigger than {mb} MB?", {"dir": "photos", "mb": 2})
    assert all(p.startswith("Which files") for p in question)


def test_every_kept_candidate_is_clean_of_eval_prompts_and_the_filter_does_fire():
    cases = load_eval_cases()
    summary = Summary()
    rows = [row for _, row in candidates(0, cases, set(), summary)]
    assert len(rows) > 2000
    assert contaminated(rows, cases) == []
    assert summary.contaminated > 0  # the varied wordings do reach eval prompts; the filter catches them


def test_wider_tables_only_when_asked_and_names_still_untouched():
    prompt, values = "Find every {lang} file in the current directory tree", {"lang": "Python", "ext": "py"}
    plain = variants(prompt, values)
    wide = [wording.render(prompt, FIND, "find", values, random.Random(i), more=True) for i in range(300)]
    extra = tuple(f.strip() for f in wording.MORE_FRAMES)
    assert not any(p.startswith(extra) for p in plain)
    assert sum(p.startswith(extra) for p in wide) >= 30
    assert any(re.search(r"\b(search for|track down)\b", p, re.IGNORECASE) for p in wide)
    assert all("Python" in p for p in wide)
    for p in wide:
        if p.startswith(("Would you", "How can I")):
            assert re.search(r"\?( thanks)?$", p), p
    # the held-out rows are worded with the plain tables: same seed, same words as before
    assert [wording.render(prompt, FIND, "find", values, random.Random(i), more=False) for i in range(200)] == plain
