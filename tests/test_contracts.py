"""The plugin-author contract kit, run over every installed component, and shown to catch faults."""

import numpy as np
import pytest

from courseware import Activation, Dataset, Regularizer
from courseware.testing import check_activation, check_component, check_dataset, check_regularizer, registered_components

COMPONENTS = list(registered_components())


@pytest.mark.parametrize("component", [c for _, c in COMPONENTS], ids=[name for name, _ in COMPONENTS])
def test_contract(component, registry):
    check_component(component, registry)


def test_kit_catches_a_wrong_derivative():
    wrong = Activation("bad", "Bad", np.tanh, lambda z, a: 1 - a)
    with pytest.raises(AssertionError, match="bad: derivative"):
        check_activation(wrong)


def test_kit_catches_an_activation_that_hides_nan():
    hides = Activation("hides", "Hides", lambda z: np.nan_to_num(np.tanh(z)), lambda z, a: 1 - a * a)
    with pytest.raises(AssertionError, match="NaN input"):
        check_activation(hides)


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
