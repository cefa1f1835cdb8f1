"""The plugin's own tests: courseware's contract kit over its components."""

from courseware.testing import check_activation, check_dataset
from courseware_moons import LEAKY_RELU, MOONS


def test_leaky_relu_contract():
    check_activation(LEAKY_RELU)


def test_moons_contract():
    check_dataset(MOONS)
