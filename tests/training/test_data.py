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
