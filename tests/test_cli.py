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
    assert lines[11].split() == ["10", "0.476", "0.496"]
    assert lines[12].startswith("accuracy: training ") and lines[13].split()[:2] == ["class", "-1"]
    assert lines[14].split()[:2] == ["class", "+1"]
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
    [(["--dataset", "circel"], "Error: unknown dataset 'circel'; known datasets: blobs-3, blobs-4, circle, gauss,"),
     (["--loss", "hinge"], "Error: --loss: 'hinge' is not one of square, cross-entropy"),
     (["--problem", "regression", "--loss", "cross-entropy"], "does not fit a regression problem"),
     (["--optimizer", "rmsprop"], "Error: --optimizer: 'rmsprop' is not one of sgd, momentum, adam"),
     (["--data", "no-such-file.csv"], "no-such-file.csv: cannot read it"),
     (["--learning-rate", "100"], "Error: --learning-rate: '100' is out of range; use a number in (0, 10]"),
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


def test_train_accuracy_per_class_for_three_classes(run):
    result = run("train", "--dataset", "blobs-3", "--seed", "0.1", "--epochs", "20", "--format", "json")
    data = json.loads(result.output)
    assert [c["class"] for c in data["accuracy"]["classes"]] == ["0", "1", "2"]
    assert data["accuracy"]["test"] > 0.9 and data["config"]["dataset"] == "blobs-3"
    table = run("train", "--dataset", "blobs-3", "--seed", "0.1", "--epochs", "20").output
    assert "  class 2  training" in table


def test_train_regression_prints_no_accuracy(run):
    result = run("train", "--problem", "regression", "--seed", "1", "--epochs", "2")
    assert "accuracy" not in result.output
    assert json.loads(run("train", "--problem", "regression", "--epochs", "1", "--format", "json").output)["accuracy"] is None


def test_train_with_optimizer_and_loss_puts_them_in_the_state(run):
    result = run("train", "--optimizer", "adam", "--loss", "cross-entropy", "--seed", "1", "--epochs", "3")
    assert result.output.splitlines()[-1].endswith("&loss=cross-entropy&optimizer=adam")


def test_train_on_a_data_file(run, tmp_path):
    path = tmp_path / "pets.csv"
    rows = [f"{x},{y},{'cat' if x < 0 else 'dog'}" for x in range(-5, 6) for y in range(-5, 6) if x]
    path.write_text("x,y,label\n" + "\n".join(rows) + "\n")
    data = json.loads(run("train", "--data", str(path), "--seed", "0.3", "--epochs", "30", "--format", "json").output)
    assert data["config"]["dataset"] == "pets"
    assert len(data["data"]["train"]) + len(data["data"]["test"]) == 110
    assert [c["class"] for c in data["accuracy"]["classes"]] == ["cat", "dog"] and data["accuracy"]["test"] > 0.9
    again = json.loads(run("train", "--data", str(path), "--seed", "0.3", "--epochs", "30", "--format", "json").output)
    assert again["losses"] == data["losses"], "the seed decides the shuffle, the split and the weights"
    other = json.loads(run("train", "--data", str(path), "--seed", "0.4", "--epochs", "0", "--format", "json").output)
    assert other["data"]["train"] != data["data"]["train"]


def test_train_on_a_bad_data_file_names_row_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("x,y,label\n1,2,a\n3,four,b\n")
    result = CliRunner().invoke(main, ["train", "--data", str(path)])
    assert result.exit_code == 1
    assert f"Error: {path}, row 3, column y: 'four' is not a number" in result.output
    clash = tmp_path / "circle.csv"
    clash.write_text("1,2,1\n3,4,-1\n")
    result = CliRunner().invoke(main, ["train", "--data", str(clash)])
    assert "a dataset named 'circle' is installed already; rename the file" in result.output


def test_serve_checks_limits_and_data_files_before_starting(tmp_path, monkeypatch):
    from courseware import config as config_module
    from courseware import settings
    from courseware import plugins
    from courseware.server import runner

    plugins.get_host()
    monkeypatch.setattr(plugins, "_default_host", plugins._default_host)  # serve installs its own host
    started = []
    monkeypatch.setattr(runner, "serve", lambda options, host: started.append((options, host)) or 0)
    monkeypatch.setattr(settings, "_page_limits", settings.DEFAULT_LIMITS)
    result = CliRunner().invoke(main, ["serve", "--max-neurons", "64"])
    assert result.exit_code == 2 and "64 is more than the hard limit of 16" in result.output and not started
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y,label\n1,2\n")
    result = CliRunner().invoke(main, ["serve", "--data", str(bad)])
    assert result.exit_code == 1 and "row 2: 2 values, expected 3" in result.output and not started
    good = tmp_path / "pets.csv"
    good.write_text("x,y,label\n1,2,cat\n3,4,dog\n")
    result = CliRunner().invoke(main, ["serve", "--data", str(good), "--max-neurons", "12", "--max-layers", "8"])
    assert result.exit_code == 0 and started
    assert started[0][1].registry.dataset("pets").class_labels == ("cat", "dog")
    limits = settings.page_limits()
    assert (limits.max_neurons, limits.max_hidden_layers, limits.max_batch_size) == (12, 8, 30)
    config, notices = config_module.Config.from_query("networkShape=12,12", started[0][1].registry)
    assert not notices and config.networkShape == (12, 12)
