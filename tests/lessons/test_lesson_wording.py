"""Students read words, not identifiers: settings, controls and goals described from labels."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from lessonkit import lesson_text

from courseware.cli import main
from courseware.lessons import parse_condition
from courseware.lessons.terminal import agreeing, plain_text
from courseware.lessons.wording import describe_changes, describe_condition, describe_controls, plain_label


@pytest.fixture
def words(builtins):
    metrics = {m.name: m for m in builtins.all("metrics")}
    return lambda text: describe_condition(parse_condition(text, metrics), builtins)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [("test_loss <= 0.05 and neurons <= 3", "test loss at most 0.05 and at most 3 neurons"),
     ("0.3 < test_loss < 0.5", "test loss between 0.3 and 0.5"),
     ("0.05 >= test_loss", "test loss at most 0.05"),
     ("test_loss - train_loss > 0.09", "test loss minus training loss above 0.09"),
     ('activation == "relu" and learning_rate <= 0.1', "activation is ReLU and learning rate at most 0.1"),
     ('regularization == "L2"', "regularization is L2"),
     ("test_accuracy >= 95%", "test accuracy at least 95%"),
     ("layers == 0", "no hidden layers"),
     ("not diverged", "not diverged")],
)  # fmt: skip
def test_conditions_read_as_words(words, condition, expected):
    assert words(condition) == expected


def test_no_metric_id_survives_in_the_words_of_any_metric(words, builtins):
    for metric in builtins.all("metrics"):
        if metric.unit in ("boolean", "name"):
            continue
        text = words(f"{metric.name} < 1")
        assert metric.label and metric.label in text and "_" not in text, text


def test_settings_and_controls_read_as_words(builtins):
    assert describe_changes({"networkShape": [4]}, builtins) == "Now: one hidden layer of 4 neurons."
    assert describe_changes({"networkShape": [4, 2], "activation": "relu"}, builtins) == (
        "Now: two hidden layers, of 4 and 2 neurons and the ReLU activation."
    )
    assert describe_changes({"networkShape": []}, builtins) == "Now: no hidden layer."
    text = describe_changes({"features": ["x", "xSquared"], "learningRate": 0.1, "regularization": "L2"}, builtins)
    assert text == "Now: inputs X₁ and X₁², learning rate 0.1 and L2 regularization."
    assert describe_controls(["neurons", "numHiddenLayers"], builtins) == (
        "the number of neurons and the number of hidden layers"
    )
    assert plain_label("sin(X_1)") == "sin(X₁)" and plain_label("X_1X_2") == "X₁X₂"


def test_terminal_text_drops_markdown_marks_and_keeps_paragraphs():
    text = plain_text("Some **bold** and `code`.\n\nA [link](https://example.org).\n\n- one\n- two")
    assert text == "Some bold and code.\n\nA link (https://example.org).\n\n- one\n\n- two"


def test_reported_figures_agree_with_the_verdict():
    assert agreeing(0.0498, [0.05]) == "0.0498"
    assert agreeing(0.0512, [0.05]) == "0.051"
    assert agreeing(0.05, [0.05]) == "0.050"
    assert agreeing(0.04999999, [0.05]) == "0.04999999"


def test_run_shows_goals_in_words(tmp_path):
    path = tmp_path / "goal.yaml"
    path.write_text(lesson_text(
        """
        - kind: goal
          title: Fewer
          goal: test_loss <= 0.2 and neurons <= 3
          hold: 5
          solution: {set: {networkShape: [3]}, epochs: 200, holds_in: at least 50% of runs}
        """
    ), encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(path), "--seed", "0.5"])
    assert result.exit_code == 0, result.output
    assert "Goal: test loss at most 0.2 and at most 3 neurons, for 5 epochs in a row" in result.output
