"""TrainConfig: YAML, flags, validation; and `fenrir train`'s clean errors (no model loaded)."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.errors import TrainingError
from training.config import TrainConfig, get_peft_config

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_YAML = ROOT / "training" / "default.yaml"


def test_default_yaml_loads_and_differs_from_the_prototype(monkeypatch):
    monkeypatch.chdir(ROOT)
    config = TrainConfig.load(DEFAULT_YAML)
    prototype = TrainConfig()
    assert config.output == "lora_adapter" and "data/cli_qa.jsonl" in config.data
    assert config.betas == (0.9, 0.98) == prototype.betas
    assert prototype.learning_rate == 1.5e-4 and prototype.lora_r == 8
    # bfloat16 only where the hardware does it: pinned, a CPU without AVX512-BF16 runs ~15x slower a step
    assert config.dtype == "auto"


def test_unknown_yaml_key_is_an_error_naming_it(tmp_path):
    (tmp_path / "c.yaml").write_text("learning_rate: 0.001\nlearnig_rate: 0.002\n")
    with pytest.raises(TrainingError, match="unknown key 'learnig_rate'"):
        TrainConfig.load(tmp_path / "c.yaml")


def test_flags_override_yaml(tmp_path, rows_file):
    data = rows_file(4)
    (tmp_path / "c.yaml").write_text(f"data: {data}\nlearning_rate: 1.0e-3\nmax_steps: 50\nbetas: [0.8, 0.9]\n")
    config = TrainConfig.load(tmp_path / "c.yaml", overrides={"learning_rate": 2e-3, "lora_r": None,
                                                              "target_modules": "q_proj, v_proj"})
    assert config.learning_rate == 2e-3  # the flag wins
    assert config.max_steps == 50 and config.betas == (0.8, 0.9)  # the file's values stay
    assert config.lora_r == 8  # a flag not given (None) changes nothing
    assert config.target_modules == ("q_proj", "v_proj")


def test_epochs_flag_beats_max_steps_from_the_file(tmp_path, rows_file):
    data = rows_file(10)
    (tmp_path / "c.yaml").write_text(f"data: {data}\nmax_steps: 50\nbatch_size: 4\n")
    config = TrainConfig.load(tmp_path / "c.yaml", overrides={"epochs": 2.0})
    assert config.max_steps is None and config.total_steps(10) == 5  # ceil(2 * 10 / 4)


@pytest.mark.parametrize("changes, field", [
    ({"learning_rate": 0.0}, "learning_rate"),
    ({"betas": (0.9, 1.0)}, "betas"),
    ({"lora_r": 0}, "lora_r"),
    ({"lora_dropout": 1.0}, "lora_dropout"),
    ({"max_length": 16}, "max_length"),
    ({"quantize": "8bit"}, "quantize"),
    ({"max_steps": None, "epochs": None}, "max_steps"),
    ({"target_modules": ()}, "target_modules"),
])
def test_validation_names_the_field(rows_file, changes, field):
    with pytest.raises(TrainingError, match=field):
        TrainConfig(data=str(rows_file(2)), **changes)


def test_missing_data_file_is_an_error(tmp_path):
    with pytest.raises(TrainingError, match="nope.jsonl not found"):
        TrainConfig(data=str(tmp_path / "nope.jsonl"))


def test_quantize_none_is_a_choice_not_the_default(rows_file):
    """`fenrir train --quantize none` on CUDA used to load 4-bit: 'none' was read as unset."""
    from agent.model import resolve_quantize

    config = TrainConfig.from_dict({"data": str(rows_file(2)), "quantize": "none"}, source="flags")
    assert config.quantize == "none"
    assert resolve_quantize(config.quantize, cuda=True) == "none"
    assert resolve_quantize(config.quantize, cuda=False) == "none"
    assert resolve_quantize(None, cuda=True) == "4bit" and resolve_quantize(None, cuda=False) == "none"
    assert resolve_quantize("4bit", cuda=False) == "4bit"
    assert TrainConfig.from_dict({"data": str(rows_file(2)), "dtype": "null"}).dtype is None


def test_several_data_files(tmp_path, rows_file):
    first, second = rows_file(2), tmp_path / "more.jsonl"
    second.write_text(first.read_text())
    config = TrainConfig.from_dict({"data": f"{first},{second}"}, source="flags")
    assert config.data == (str(first), str(second))
    assert TrainConfig(data=str(first)).data == (str(first),)


def test_yaml_types_are_checked(tmp_path, rows_file):
    (tmp_path / "c.yaml").write_text(f"data: {rows_file(2)}\nbatch_size: 2.5\n")
    with pytest.raises(TrainingError, match="batch_size"):
        TrainConfig.load(tmp_path / "c.yaml")


def test_peft_config_factory(rows_file):
    lora = get_peft_config(TrainConfig(data=str(rows_file(2)), lora_r=4, lora_alpha=8, target_modules=("q_proj",)))
    assert lora.r == 4 and lora.lora_alpha == 8 and set(lora.target_modules) == {"q_proj"}
    assert lora.task_type == "CAUSAL_LM"


def test_cli_bad_key_is_a_clean_error(tmp_path):
    (tmp_path / "c.yaml").write_text("epocs: 3\n")
    result = CliRunner().invoke(main, ["train", "--config", str(tmp_path / "c.yaml")])
    assert result.exit_code == 1 and "unknown key 'epocs'" in result.output
    assert "Traceback" not in result.output


def test_cli_missing_data_and_missing_config(tmp_path):
    result = CliRunner().invoke(main, ["train", "--data", str(tmp_path / "none.jsonl")])
    assert result.exit_code == 1 and "none.jsonl not found" in result.output
    result = CliRunner().invoke(main, ["train", "--config", str(tmp_path / "none.yaml")])
    assert result.exit_code == 1 and "none.yaml not found" in result.output


def test_cli_refuses_an_existing_adapter_dir(tmp_path, rows_file):
    out = tmp_path / "adapter"
    out.mkdir()
    (out / "adapter_config.json").write_text("{}")
    result = CliRunner().invoke(main, ["train", "--data", str(rows_file(2)), "--output", str(out)])
    assert result.exit_code == 1 and "--overwrite" in result.output
    assert (out / "adapter_config.json").read_text() == "{}"  # untouched
