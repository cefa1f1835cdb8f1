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
      holds_in: every run
    - expect: test_loss < 0
      holds_in: at least 90% of runs
      says: An impossible loss.
"""


@pytest.fixture
def runner():
    return CliRunner()


def write(folder, name, text):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.slow  # checks every claim of a lesson
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


SEEDS = ["--seed", "0.11111", "--seed", "0.22222", "--seed", "0.33333"]


def test_check_fails_on_a_false_claim(runner, tmp_path):
    write(tmp_path, "false.yaml", lesson_text(FALSE_CLAIM))
    result = runner.invoke(main, ["check", *SEEDS, str(tmp_path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    header = next(line for line in lines if line.startswith("lesson"))
    assert header.split() == ["lesson", "step", "claim", "held", "states", "p", "result"]
    assert any("An impossible loss." in line and line.rstrip().endswith("FAIL") for line in lines)
    assert any("test_loss >= 0" in line and "3/3" in line and "pass" in line for line in lines)
    failed = next(line for line in lines if line.startswith("FAILED"))
    assert "held in 0 of 3 runs (0%); states at least 90% of runs: p = 0.001" in failed
    assert "failed on seeds 0.11111, 0.22222, 0.33333" in failed
    assert "Verified on 3 given seeds" in result.output
    assert "1 failed, 0 invalid" in lines[-1]


def test_check_draws_a_fresh_sample_and_repeats_one_by_key(runner, tmp_path):
    write(tmp_path, "ok.yaml", lesson_text("- title: A\n  claims:\n    - {expect: test_loss >= 0, holds_in: at least 90% of runs}\n"))
    first = json.loads(runner.invoke(main, ["check", "--json", "--runs", "4", str(tmp_path)]).stdout)
    second = json.loads(runner.invoke(main, ["check", "--json", "--runs", "4", str(tmp_path)]).stdout)
    assert first["sample"] != second["sample"]
    again = json.loads(runner.invoke(main, ["check", "--json", "--runs", "4", "--sample", first["sample"], str(tmp_path)]).stdout)
    assert again["sample"] == first["sample"]
    assert again["lessons"][0]["claims"][0]["observed_values"] == first["lessons"][0]["claims"][0]["observed_values"]
    bad = runner.invoke(main, ["check", "--sample", "xyz!", str(tmp_path)])
    assert bad.exit_code == 1 and "not a sample key" in bad.output


def test_check_reads_seeds_from_a_file(runner, tmp_path):
    write(tmp_path, "ok.yaml", lesson_text("- title: A\n  claims:\n    - {expect: test_loss >= 0, holds_in: every run}\n"))
    seeds = write(tmp_path / "..", "seeds.txt", "0.12345  # from a failure report\n0.54321\n")
    data = json.loads(runner.invoke(main, ["check", "--json", "--seed-file", str(seeds), str(tmp_path)]).stdout)
    claim = data["lessons"][0]["claims"][0]
    assert data["sample"] is None and data["seeds"] == ["0.12345", "0.54321"]
    assert (claim["seeds"], claim["held"], claim["passed"]) == (2, 2, True)


def test_check_json(runner, tmp_path):
    write(tmp_path, "false.yaml", lesson_text(FALSE_CLAIM))
    result = runner.invoke(main, ["check", "--json", *SEEDS, str(tmp_path)])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["passed"] is False
    (lesson,) = data["lessons"]
    assert [c["passed"] for c in lesson["claims"]] == [True, False]
    false = lesson["claims"][1]
    assert false["observed_rate"] == 0 and false["stated_rate"] == pytest.approx(0.9)
    assert false["p_value"] == pytest.approx(0.1**3) and false["alpha"] == 0.05


def test_check_runs_option(runner, tmp_path):
    write(tmp_path, "ok.yaml", lesson_text(
        "- title: A\n  claims:\n    - {expect: test_loss >= 0, holds_in: at least 90% of runs}\n"
        "    - {expect: test_loss >= 0, holds_in: every run}\n"))
    data = json.loads(runner.invoke(main, ["check", "--json", "--runs", "5", str(tmp_path)]).stdout)
    rate, every = data["lessons"][0]["claims"]
    assert (rate["seeds"], rate["passed"], every["seeds"], every["passed"]) == (5, True, 10, True)


def test_measure_reports_distributions_and_a_safe_rate(runner, tmp_path):
    write(tmp_path, "m.yaml", lesson_text(
        "- kind: run\n  title: A\n  epochs: 20\n  claims:\n"
        "    - {expect: test_loss < 0.3, holds_in: at least 99% of runs}\n"))
    result = runner.invoke(main, ["measure", "--runs", "40", "--sample", "abc", str(tmp_path)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "held in" in out and "of 40 runs" in out and "test_loss: min" in out and "median" in out
    data = json.loads(runner.invoke(main, ["measure", "--json", "--runs", "40", "--sample", "abc", str(tmp_path)]).stdout)
    (row,) = data["claims"]
    assert row["runs"] == 40 and set(row["values"]["test_loss"]) >= {"min", "p5", "median", "p95", "max"}
    assert row["safe_rate"] is None or row["safe_rate"] < row["share"]


def test_check_reports_invalid_lessons_and_still_checks_the_others(runner, tmp_path):
    write(tmp_path, "a-broken.yaml", lesson_text("- kind: run\n  title: Bad\n  epochs: many\n"))
    write(tmp_path, "b-fine.yaml", lesson_text("- title: A\n  claims:\n    - {expect: test_loss >= 0, holds_in: every run}\n").replace("id: sample", "id: fine"))
    result = runner.invoke(main, ["check", "--runs", "2", str(tmp_path)])
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
          claims: [{expect: test_loss >= 0, holds_in: every run}]
        - kind: compare
          title: C
          epochs: 5
          variants: {ReLU: {}, tanh: {activation: tanh}}
        """
    ))
    result = runner.invoke(main, ["run", str(path), "--seed", "7"])
    assert result.exit_code == 0, result.output
    out = result.output
    for fragment in ("Step 1/4 [text] Hello", "Some Markdown.", "*2. b", "-> Yes.", "Step 3/4 [run] Train",
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
