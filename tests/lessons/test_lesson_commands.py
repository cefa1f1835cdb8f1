"""The lesson commands: check, run and new lesson, through the real CLI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from lessonkit import lesson_text

from courseware.cli import main

FALSE_CLAIM = """
- kind: run
  title: Train
  epochs: 5
  claims:
    - expect: test_loss >= 0
      holds_in: all 3 seeds
    - expect: test_loss < 0
      holds_in: 1 of 3 seeds
      says: An impossible loss.
"""


@pytest.fixture
def runner():
    return CliRunner()


def write(folder, name, text):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_new_lesson_writes_a_skeleton_that_passes_check(runner, tmp_path):
    result = runner.invoke(main, ["new", "lesson", "My First Lesson", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    path = tmp_path / "my-first-lesson.yaml"
    assert path.exists()
    text = path.read_text()
    assert "id: my-first-lesson" in text and "title: My First Lesson" in text
    assert text.count("#") > 10  # commented
    checked = runner.invoke(main, ["check", str(path)])
    assert checked.exit_code == 0, checked.output
    assert "all passed" in checked.output


def test_new_lesson_does_not_overwrite(runner, tmp_path):
    assert runner.invoke(main, ["new", "lesson", "x", "--dir", str(tmp_path)]).exit_code == 0
    again = runner.invoke(main, ["new", "lesson", "x", "--dir", str(tmp_path)])
    assert again.exit_code == 1 and "already exists" in again.output
    assert runner.invoke(main, ["new", "lesson", "x", "--dir", str(tmp_path), "--force"]).exit_code == 0


def test_check_fails_on_a_false_claim(runner, tmp_path):
    write(tmp_path, "false.yaml", lesson_text(FALSE_CLAIM))
    result = runner.invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    header = next(line for line in lines if line.startswith("lesson"))
    assert header.split() == ["lesson", "step", "claim", "observed", "required", "result"]
    assert any("An impossible loss." in line and line.rstrip().endswith("FAIL") for line in lines)
    assert any("test_loss >= 0" in line and "3/3" in line and "pass" in line for line in lines)
    assert any(line.startswith("FAILED") and "failed on seeds 1, 2, 3" in line for line in lines)
    assert "1 failed, 0 invalid" in lines[-1]


def test_check_json(runner, tmp_path):
    write(tmp_path, "false.yaml", lesson_text(FALSE_CLAIM))
    result = runner.invoke(main, ["check", "--json", str(tmp_path)])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["passed"] is False
    (lesson,) = data["lessons"]
    assert [c["passed"] for c in lesson["claims"]] == [True, False]
    assert lesson["claims"][1]["observed_rate"] == 0 and lesson["claims"][1]["required_rate"] == pytest.approx(1 / 3)


def test_check_seeds_option(runner, tmp_path):
    write(tmp_path, "ok.yaml", lesson_text("- title: A\n  claims:\n    - {expect: test_loss >= 0, holds_in: 18 of 20 seeds}\n"))
    data = json.loads(runner.invoke(main, ["check", "--json", "--seeds", "5", str(tmp_path)]).stdout)
    claim = data["lessons"][0]["claims"][0]
    assert (claim["seeds"], claim["required"], claim["passed"]) == (5, 5, True)


def test_check_reports_invalid_lessons_and_still_checks_the_others(runner, tmp_path):
    write(tmp_path, "a-broken.yaml", lesson_text("- kind: run\n  title: Bad\n  epochs: many\n"))
    write(tmp_path, "b-fine.yaml", lesson_text("- title: A\n  claims:\n    - {expect: test_loss >= 0, holds_in: all 2 seeds}\n").replace("id: sample", "id: fine"))
    result = runner.invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 1
    assert f"INVALID {tmp_path / 'a-broken.yaml'}:" in result.output
    assert "expected a number of epochs, got 'many'" in result.output
    assert any(line.startswith("fine") and "pass" in line for line in result.output.splitlines())


def test_run_walks_the_lesson_in_the_terminal(runner, tmp_path):
    path = write(tmp_path, "walk.yaml", lesson_text(
        """
        - title: Hello
          text: Some *Markdown*.
        - kind: question
          title: Q
          question: Which?
          choices: [{text: a}, {text: b, correct: true, feedback: Yes.}]
        - kind: run
          title: Train
          epochs: 10
          claims: [{expect: test_loss >= 0, holds_in: all 2 seeds}]
        - kind: compare
          title: C
          epochs: 5
          variants: {ReLU: {}, tanh: {activation: tanh}}
        """
    ))
    result = runner.invoke(main, ["run", str(path), "--seed", "7"])
    assert result.exit_code == 0, result.output
    out = result.output
    for fragment in ("Step 1/4 [text] Hello", "Some *Markdown*.", "*2. b", "-> Yes.", "Step 3/4 [run] Train",
                     "epoch  train loss   test loss", "with seed 7: yes", "ReLU", "tanh", "End of the lesson."):
        assert fragment in out


def test_run_finds_a_lesson_by_id(runner, tmp_path):
    write(tmp_path, "x.yaml", lesson_text("- title: Found me\n"))
    result = runner.invoke(main, ["run", "sample", "--lessons", str(tmp_path)])
    assert result.exit_code == 0 and "Found me" in result.output
    missing = runner.invoke(main, ["run", "nope", "--lessons", str(tmp_path)])
    assert missing.exit_code == 1 and "no lesson file or lesson id 'nope'; lessons: sample" in missing.output


def test_check_with_no_lessons_is_an_error(runner, tmp_path):
    result = runner.invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 1 and "no lesson files" in result.output
