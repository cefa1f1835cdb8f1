"""The Playground's L1 and L2 weight penalties ("None" is the absence of a regularizer)."""

import numpy as np

from courseware import Regularizer, hookimpl


def _l1(w):
    return np.abs(w)


def _l1_derivative(w):
    # sign(w) with sign(0) = 0 and, as in JavaScript's comparisons, 0 for NaN.
    return np.greater(w, 0.0).astype(np.float64) - np.less(w, 0.0)


def _l2(w):
    return 0.5 * w * w


def _l2_derivative(w):
    return np.asarray(w, dtype=np.float64)


@hookimpl
def register_regularizers(register):
    register(
        Regularizer(
            "L1",
            "L1",
            _l1,
            _l1_derivative,
            clips_at_zero=True,
            description="|w|; a weight pushed across zero is set to 0 and frozen until reset.",
        )
    )
    register(Regularizer("L2", "L2", _l2, _l2_derivative, description="w²/2 (weight decay)."))
