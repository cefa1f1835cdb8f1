"""The plugin-author contract kit, run over every installed component, and shown to catch faults."""

import numpy as np
import pytest

from courseware import Activation, Dataset, Metric, Regularizer, StepKind, Visualizer
from courseware.components import COMPONENT_KINDS
from courseware.lessons import Step
from courseware.testing import (
    check_activation,
    check_component,
    check_dataset,
    check_metric,
    check_regularizer,
    check_step_kind,
    check_visualizer,
    registered_components,
)

COMPONENTS = list(registered_components())

# One valid step of each built-in kind, for the parts of check_step_kind that need a real step.
STEP_EXAMPLES = {
    "text": "title: Read\ntext: Some *Markdown*.",
    "change": "title: Four neurons\nset: {networkShape: [4]}",
    "run": "title: Train\nuntil: test_loss < 0.02\nmax_epochs: 300",
    "question": (
        "title: Predict\nquestion: Which activation ends lowest?\n"
        "choices:\n  - {text: ReLU, correct: true, feedback: Let's check.}\n  - {text: sigmoid}"
    ),
    "goal": (
        "title: Your turn\ntext: Get the loss down.\ngoal: test_loss <= 0.05 and neurons <= 3\n"
        "solution: {set: {networkShape: [3]}, epochs: 300, holds_in: at least 80% of runs}"
    ),
    "compare": "title: Activations\nepochs: 50\nvariants: {ReLU: {activation: relu}, tanh: {activation: tanh}}",
    "explore": "title: Play\ntext: Try anything.",
}


@pytest.mark.parametrize("component", [c for _, c in COMPONENTS], ids=[name for name, _ in COMPONENTS])
def test_contract(component, registry):
    if isinstance(component, StepKind):
        check_step_kind(component, STEP_EXAMPLES[component.name], registry)
    else:
        check_component(component, registry)


def test_the_kit_covers_every_kind_the_builtins_register():
    kinds = {kind for kind in COMPONENT_KINDS.values() if kind != "lesson_sources"}  # no built-in packs
    assert kinds <= {name.split(":")[0] for name, _ in COMPONENTS}
    assert set(STEP_EXAMPLES) == {c.name for _, c in COMPONENTS if isinstance(c, StepKind)}


# -- activations, regularizers, datasets -----------------------------------------------------------------


def test_kit_catches_a_wrong_derivative():
    wrong = Activation("bad", "Bad", np.tanh, lambda z, a: 1 - a)
    with pytest.raises(AssertionError, match="bad: derivative"):
        check_activation(wrong)


def test_kit_catches_an_activation_that_hides_nan():
    hides = Activation("hides", "Hides", lambda z: np.nan_to_num(np.tanh(z)), lambda z, a: 1 - a * a)
    with pytest.raises(AssertionError, match="NaN input"):
        check_activation(hides)


def test_kit_catches_an_ignored_out_parameter():
    ignores = Activation("ignores", "Ignores", np.tanh, lambda z, a, out=None: 1 - a * a)
    with pytest.raises(AssertionError, match="ignores: derivative_into differs from derivative"):
        check_activation(ignores)


def test_kit_catches_a_wrong_regularizer_derivative():
    with pytest.raises(AssertionError, match="L3: derivative"):
        check_regularizer(Regularizer("L3", "L3", lambda w: np.abs(w) ** 3, lambda w: w * w))


def test_kit_catches_a_dataset_ignoring_its_seed():
    rng = np.random.default_rng(0)
    unseeded = Dataset("noisy", "Noisy", "classification",
                       lambda r, n, noise: np.column_stack([rng.uniform(-6, 6, (n, 2)), np.sign(rng.uniform(-1, 1, n))]))  # fmt: skip
    with pytest.raises(AssertionError, match="the same seed gave different points"):
        check_dataset(unseeded)


def test_kit_catches_labels_outside_plus_minus_one():
    zero_one = Dataset("binary", "Binary", "classification",
                       lambda r, n, noise: np.column_stack([r.draws(2 * n).reshape(n, 2) + noise, np.arange(n) % 2]))  # fmt: skip
    with pytest.raises(AssertionError, match=r"labels must be \+1 or -1"):
        check_dataset(zero_one)


# -- visualizers ---------------------------------------------------------------------------------------------


def _panel(update=None, root=None):
    def create(context):
        from bokeh.models import Div

        class Panel:
            def __init__(self):
                self.root = Div(text="a panel") if root is None else root

            def update(self, frame):
                if update is not None:
                    update(frame)

        return Panel()

    return create


def test_kit_accepts_a_panel_that_follows_the_frames(registry):
    seen = []
    check_visualizer(Visualizer("epochs", "Epochs", _panel(lambda frame: seen.append(frame.epoch))), registry)
    assert seen[:3] == [0, 1, 2] and seen[-1] == 0, "the kit drives the panel through training and a reset"


def test_kit_catches_a_panel_whose_update_fails_later(registry):
    def update(frame):
        if frame.epoch >= 2:
            raise ValueError("cannot draw epoch 2")

    with pytest.raises(AssertionError, match="late: update.frame. failed after another training step: ValueError"):
        check_visualizer(Visualizer("late", "Late", _panel(update)), registry)


def test_kit_catches_a_panel_without_a_bokeh_root(registry):
    with pytest.raises(AssertionError, match="rootless: the panel's root is str, not a Bokeh layout"):
        check_visualizer(Visualizer("rootless", "Rootless", _panel(root="<div>")), registry)


def test_kit_catches_a_panel_whose_create_raises(registry):
    def create(context):
        raise RuntimeError("no such font")

    with pytest.raises(AssertionError, match="broken: create.context. failed: .*no such font"):
        check_visualizer(Visualizer("broken", "Broken", create), registry)


def test_kit_catches_a_panel_in_no_area(registry):
    with pytest.raises(AssertionError, match="area 'sidebar' is not one of the page's areas"):
        check_visualizer(Visualizer("lost", "Lost", _panel(), area="sidebar"), registry)


# -- metrics -------------------------------------------------------------------------------------------------


def test_kit_catches_a_metric_with_one_value_too_many(registry):
    extra = Metric("extra", "One value too many.", lambda run: np.zeros(run.k + 1))
    with pytest.raises(AssertionError, match=r"extra: compute\(run\) returned shape \(3,\) for 2 networks"):
        check_metric(extra, registry)


def test_kit_catches_a_metric_that_mixes_networks(registry):
    mean = Metric("mean_loss", "The mean loss of all networks measured together.",
                  lambda run: np.full(run.k, run.test_loss.mean()))  # fmt: skip
    with pytest.raises(AssertionError, match="mean_loss: network 1 measures .* among 2 networks but .* alone"):
        check_metric(mean, registry)


def test_kit_catches_a_boolean_metric_that_is_not_zero_or_one(registry):
    fuzzy = Metric("low", "Whether the loss is low.", lambda run: 1 - run.test_loss, unit="boolean")
    with pytest.raises(AssertionError, match="low: a boolean metric must give 0 or 1"):
        check_metric(fuzzy, registry)


def test_kit_catches_a_metric_returning_text(registry):
    with pytest.raises(AssertionError, match="words: compute.run. returned .* not numbers"):
        check_metric(Metric("words", "Words.", lambda run: ["low"] * run.k), registry)


# -- step kinds ----------------------------------------------------------------------------------------------


class Poll(Step):
    pass


def test_kit_catches_a_step_kind_that_raises_on_a_bare_step(registry):
    def parse(raw, fields):
        return Poll(**fields.common, options=raw["options"])  # KeyError without options

    kind = StepKind("poll", "A poll.", parse, {"options": "what to vote for"})
    with pytest.raises(AssertionError, match="poll: parse raised KeyError: 'options' for a step with only kind"):
        check_step_kind(kind, registry=registry)


def test_kit_catches_a_step_kind_redefining_a_common_field(registry):
    kind = StepKind("note", "A note.", lambda raw, fields: Poll(**fields.common), {"text": "the note"})
    with pytest.raises(AssertionError, match="note: field 'text' is one every step has"):
        check_step_kind(kind, registry=registry)


def test_kit_catches_an_example_that_does_not_load(registry):
    kind = next(c for _, c in COMPONENTS if isinstance(c, StepKind) and c.name == "run")
    with pytest.raises(AssertionError, match="run: the example does not load"):
        check_step_kind(kind, "title: Train\nepochs: ten", registry)


def test_kit_catches_a_step_whose_payload_is_not_json(registry):
    from dataclasses import dataclass

    @dataclass(kw_only=True, eq=False)
    class Odd(Step):
        def payload(self):
            return {"when": object()}

    kind = StepKind("odd", "Odd.", lambda raw, fields: Odd(**fields.common), {})
    with pytest.raises(AssertionError, match="odd: payload.. is not JSON"):
        check_step_kind(kind, "title: Odd", registry)
