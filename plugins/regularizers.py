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


def _exact_l1_derivative(w, out):
    for i in range(w.size):
        out[i] = -1.0 if w[i] < 0.0 else (1.0 if w[i] > 0.0 else 0.0)  # nn.ts: w < 0 ? -1 : w > 0 ? 1 : 0


def _exact_l2_derivative(w, out):
    for i in range(w.size):
        out[i] = w[i]


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
            exact_derivative=_exact_l1_derivative,
        )
    )
    register(
        Regularizer("L2", "L2", _l2, _l2_derivative, description="w²/2 (weight decay).",
                    exact_derivative=_exact_l2_derivative)
    )  # fmt: skip
