"""Rows -> ids and completion-only labels in the agent's own chat format; deterministic batches."""

import pytest

from agent.fewshot import load_examples
from agent.prompt import SYSTEM_PROMPT, build_messages, render_prompt
from harness.errors import DataError
from training.data import IGNORE, collate, encode_row, epoch_order, micro_batches


@pytest.mark.model
def test_prompt_is_the_zero_shot_inference_prompt_and_only_the_completion_is_labelled(tokenizer, rows_file):
    example = load_examples(rows_file(1))[0]
    row = encode_row(tokenizer, example, max_length=256)
    prompt_len = sum(1 for label in row.labels if label == IGNORE)
    prompt = tokenizer.decode(row.input_ids[:prompt_len])
    assert prompt == render_prompt(tokenizer, build_messages(example.row.prompt, []))
    assert SYSTEM_PROMPT in prompt and prompt.endswith("<|im_start|>assistant\n")
    target = tokenizer.decode([t for t in row.labels if t != IGNORE])
    assert target == example.row.completion + "<|im_end|>"
    assert all(label == IGNORE for label in row.labels[:prompt_len])
    # the whole row is what the chat template renders for the full conversation
    full = tokenizer.apply_chat_template(
        build_messages(example.row.prompt, []) + [{"role": "assistant", "content": example.row.completion}],
        tokenize=False)
    assert tokenizer.decode(row.input_ids) + "\n" == full
    assert not row.truncated


@pytest.mark.model
def test_truncation_keeps_the_prompt_and_cuts_the_completion(tokenizer, rows_file):
    example = load_examples(rows_file(1))[0]
    whole = encode_row(tokenizer, example, max_length=256)
    prompt_len = len(whole.input_ids) - whole.target_tokens
    cut = encode_row(tokenizer, example, max_length=prompt_len + 2)
    assert len(cut.input_ids) == prompt_len + 2 and cut.target_tokens == 2 and cut.truncated
    with pytest.raises(DataError, match="max_length"):
        encode_row(tokenizer, example, max_length=prompt_len)


def test_batches_are_seeded_and_cover_each_epoch():
    assert epoch_order(10, seed=3, epoch=0) == epoch_order(10, seed=3, epoch=0)
    assert epoch_order(10, seed=3, epoch=0) != epoch_order(10, seed=4, epoch=0)
    assert epoch_order(10, seed=3, epoch=0) != epoch_order(10, seed=3, epoch=1)
    stream = micro_batches(10, batch_size=4, seed=3)
    first = [next(stream) for _ in range(5)]  # 20 rows = exactly two epochs
    assert all(len(b) == 4 for b in first)
    flat = [i for b in first for i in b]
    assert sorted(flat[:10]) == list(range(10)) and sorted(flat[10:]) == list(range(10))
    again = micro_batches(10, batch_size=4, seed=3)
    assert [next(again) for _ in range(5)] == first


def test_collate_pads_right_and_masks_padding():
    from training.data import EncodedRow

    rows = [EncodedRow("a:1", (5, 6, 7), (IGNORE, 6, 7), False), EncodedRow("a:2", (8, 9), (IGNORE, 9), False)]
    batch = collate(rows, pad_id=0)
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 9, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert batch["labels"].tolist() == [[IGNORE, 6, 7], [IGNORE, 9, IGNORE]]


def _grounding(share: float = 0.0):
    from training.data import Grounding

    return Grounding(listings={"train-x": "Directory /work:\nnotes/\nnotes/todo.txt"}, no_context_share=share)


@pytest.mark.model
def test_grounded_rows_start_with_their_fixture_listing(tokenizer, tmp_path):
    from agent.fewshot import Example, QARow

    grounding = _grounding()
    listed = Example("d:1", QARow(prompt="show todo.txt", completion="$ cat notes/todo.txt", category="cat",
                                  fixture="train-x"))
    unlisted = Example("d:2", QARow(prompt="show a.txt", completion="$ cat a.txt", category="cat", fixture="seed"))
    row = encode_row(tokenizer, listed, max_length=512, grounding=grounding)
    prompt = tokenizer.decode(row.input_ids[:len(row.input_ids) - row.target_tokens])
    assert prompt == render_prompt(tokenizer, build_messages("show todo.txt", [], grounding.listings["train-x"]))
    assert "Directory /work:\nnotes/\nnotes/todo.txt\n\nRequest: show todo.txt" in prompt
    assert row.group == "train-x"
    # a fixture without a listing (an eval fixture) keeps the bare request
    bare = encode_row(tokenizer, unlisted, max_length=512, grounding=grounding)
    assert bare.group == "" and "Directory" not in tokenizer.decode(bare.input_ids)


def test_the_no_context_share_is_a_seeded_fraction_of_rows():
    grounding = _grounding(0.25)
    prompts = [f"request number {i}" for i in range(2000)]
    bare = [p for p in prompts if grounding.context_for(p, "train-x") is None]
    assert 0.2 < len(bare) / len(prompts) < 0.3
    assert bare == [p for p in prompts if _grounding(0.25).context_for(p, "train-x") is None]
    assert _grounding(0.0).context_for(prompts[0], "train-x") is not None
    assert _grounding(1.0).context_for(prompts[0], "train-x") is None


def test_grouped_batches_keep_a_listing_together_and_cover_each_epoch():
    from training.data import grouped_batches

    groups = ["a"] * 7 + ["b"] * 5 + [""] * 4
    stream = grouped_batches(groups, batch_size=3, seed=1)
    epoch = [next(stream) for _ in range(3 + 2 + 2)]  # a: 3+3+1, b: 3+2, '': 3+1
    assert sorted(i for b in epoch for i in b) == list(range(16))
    assert all(len({groups[i] for i in b}) == 1 and 1 <= len(b) <= 3 for b in epoch)
    again = grouped_batches(groups, batch_size=3, seed=1)
    assert [next(again) for _ in range(7)] == epoch
    other = grouped_batches(groups, batch_size=3, seed=2)
    assert [next(other) for _ in range(7)] != epoch


def test_a_bad_listings_file_names_the_fix(tmp_path):
    from training.data import load_grounding

    with pytest.raises(DataError, match="fenrir data listings"):
        load_grounding(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text('{"fixtures": [1, 2]}')
    with pytest.raises(DataError, match="not a listings file"):
        load_grounding(tmp_path / "bad.json")
