"""The command line: train (table and JSON export), plugins, exit codes and one-line errors."""

import json

import pytest
from click.testing import CliRunner

from courseware.cli import main


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


def test_train_table_shows_losses_to_three_decimals(run):
    result = run("train", "--seed", "0.12345", "--epochs", "10")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["epoch", "train", "loss", "test", "loss"]
    assert lines[1].split() == ["0", "0.502", "0.518"]
    assert lines[-2].split() == ["10", "0.476", "0.496"]
    assert lines[-1].startswith("state: activation=tanh&batchSize=10&dataset=circle")


def test_train_json_is_a_complete_export(run, registry):
    result = run("train", "--state", "#seed=0.12345&activation=relu&networkShape=3", "--epochs", "3",
                 "--format", "json")  # fmt: skip
    data = json.loads(result.output)
    assert data["config"]["activation"] == "relu" and data["config"]["networkShape"] == [3]
    assert len(data["losses"]) == 4 and all(len(pair) == 2 for pair in data["losses"])
    assert list(data["initial"]["weights"]) == ["x-1", "y-1", "x-2", "y-2", "x-3", "y-3", "1-4", "2-4", "3-4"]
    assert set(data["final"]["biases"]) == {"1", "2", "3", "4"}
    assert len(data["data"]["train"]) == 250 and len(data["data"]["train"][0]) == 3
    assert data["query"].startswith("activation=relu&batchSize=10")


def test_json_export_writes_nan_as_null(run):
    result = run("train", "--problem", "regression", "--learning-rate", "10", "--batch-size", "1",
                 "--network-shape", "8,8,8", "--seed", "1", "--epochs", "5", "--format", "json")  # fmt: skip
    data = json.loads(result.output)
    assert data["diverged"] is True and [None, None] in data["losses"]


@pytest.mark.parametrize("flags", [[], ["--reference"]])
def test_same_state_same_numbers_as_the_golden_file(run, flags):
    result = run("train", "--state", "seed=0.13579&activation=relu&learningRate=3", "--epochs", "10",
                 *flags, "--format", "json")  # fmt: skip
    losses = json.loads(result.output)["losses"]
    assert losses[10] == [0.8974966702016552, 0.8974966702016542]


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--dataset", "circel"], "Error: unknown dataset 'circel'; known datasets: circle, gauss,"),
     (["--learning-rate", "100"], "Error: --learning-rate: 100.0 is out of range; use a number in (0, 10]"),
     (["--state", "activation=swish"], "Error: --state activation: 'swish' is not one of relu, tanh"),
     (["--network-shape", "4,100"], "more than the limit of 8")],
)  # fmt: skip
def test_user_errors_are_one_line_with_exit_code_1(args, message):
    result = CliRunner().invoke(main, ["train", *args])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_usage_errors_exit_2():
    assert CliRunner().invoke(main, ["train", "--epochs", "many"]).exit_code == 2


def test_plugins_json_lists_builtins_with_components(run):
    data = json.loads(run("plugins", "--json").output)
    by_name = {p["name"]: p for p in data["plugins"]}
    assert by_name["courseware_builtins.activations"]["components"]["activations"] == ["relu", "tanh", "sigmoid", "linear"]
    assert by_name["courseware_builtins.datasets"]["source"] == "built-in"
    assert data["failures"] == []


def test_plugins_table(run):
    output = run("plugins").output
    assert "courseware_builtins.features" in output and "features: x, y, xSquared" in output
