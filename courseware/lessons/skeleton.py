"""``courseware new lesson NAME``: a commented lesson file that passes ``courseware check``.

The skeleton shows one of each common step kind with a comment saying what it does, so an
instructor starts from something that works and edits it. Its claims are calibrated (see
``docs/lessons.md``: measured over 20 seeds), so the skeleton checks clean as written.
"""

from __future__ import annotations

import re

SKELETON = """\
# A courseware lesson. The format is documented in docs/lessons.md.
# Check it with:   courseware check {filename}
# Read it through: courseware run {filename}
format: 1
id: {id}
title: {title}
summary: One or two sentences the lesson index shows.
objectives:
  - What the student will be able to explain afterwards.
level: beginner          # beginner, intermediate or advanced
minutes: 10
author: Your name

# The starting configuration, in TensorFlow Playground's vocabulary. Anything left out keeps the
# Playground's default (circle, x1 and x2, two hidden layers of 4 and 2, tanh, learning rate 0.03).
# Without a seed every student gets a random one, so claims below must hold across seeds.
start:
  dataset: circle
  features: [x, y]
  networkShape: [4, 2]
  activation: tanh
  learningRate: 0.03

# Controls hidden or locked for the whole lesson ("all" means every control).
controls:
  hidden: [regularization, regularizationRate, problem]
  locked: [dataset]

steps:
  # A text step: Markdown, with $math$.
  - title: The question
    text: |
      A network with two hidden layers learns to separate the **circle**.
      How fast does its test loss fall?

  # A question asked before the experiment: a prediction.
  - kind: question
    title: Predict
    question: After 100 epochs, will the test loss be below 0.3?
    choices:
      - text: "Yes"
        correct: true
        feedback: Let's see how far below.
      - text: "No"
        feedback: Let's check.

  # A run step trains the lesson's experiment; its claims are verified by `courseware check`
  # over 20 seeds. Measured: test loss 0.004-0.233 after 100 epochs over seeds 1-20.
  - kind: run
    title: Train
    epochs: 100
    text: Watch the test loss (black) fall.
    claims:
      - expect: test_loss < 0.3
        holds_in: 19 of 20 seeds
        says: The test loss falls below 0.3 within 100 epochs.

  # A goal the student reaches by experimenting, checked live. `solution` is how check proves it
  # reachable (measured: 3 tanh neurons reach test loss 0.05 within 300 epochs in all 20 seeds).
  - kind: goal
    title: Fewer neurons
    text: Can a single hidden layer of at most 3 neurons do as well?
    goal: test_loss <= 0.05 and neurons <= 3
    feedback: Yes, three neurons are enough for the circle.
    hints:
      - Remove the second hidden layer.
      - Three neurons can draw a triangle around the blue points.
    controls:
      unlock: [numHiddenLayers, neurons]
    solution:
      set: {{networkShape: [3]}}
      epochs: 300
      holds_in: 18 of 20 seeds

  # Free play: every locked control is unlocked.
  - kind: explore
    title: Your turn
    text: Try other datasets and activations.
"""


def lesson_id(name: str) -> str:
    """A usable lesson id from a name: lower case, dashes for anything else."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:64] or "lesson"


def skeleton(name: str, filename: str) -> str:
    """The skeleton lesson text for ``name``."""
    title = name.strip() or "A new lesson"
    if title == title.lower():
        title = title.replace("-", " ").replace("_", " ").capitalize()
    return SKELETON.format(id=lesson_id(name), title=_yaml_text(title), filename=filename)


def _yaml_text(text: str) -> str:
    """``text`` as a YAML scalar (quoted when plain style would misread it)."""
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9 ,.()'-]*", text) and not text.endswith(" "):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
