"""Optimizers: the Playground's plain gradient descent, momentum and Adam.

``sgd`` is the original's rule exactly: weights step by ``(lr / n) * acc`` and biases by
``(lr * acc) / n``, where ``acc`` is the gradient summed over the ``n`` samples of the batch (the two
are written differently in ``nn.ts``, and so they round differently: the exact engine keeps both).

``momentum`` keeps a velocity per parameter, ``v = 0.9 v + g``, and steps by ``lr * v``, where ``g`` is
the batch's mean gradient: along a direction the gradient keeps pointing, the step grows towards ten
times plain gradient descent's; where it flips sign, the velocity cancels out.

``adam`` (Kingma and Ba, 2015) keeps running means of the gradient and of its square,
``m = 0.9 m + 0.1 g`` and ``s = 0.999 s + 0.001 g²``, corrects them for starting at zero, and steps by
``lr * m̂ / (sqrt(ŝ) + 1e-8)``: every parameter moves by about the learning rate per step, however
large or small its gradient, so a learning rate fit for plain gradient descent is often too large.

The constants are the usual defaults and are not settings. The regularizer's step, L1's clipping and
dead links are applied by the host after the optimizer's step, as the Playground applies them.
"""

import numpy as np

from courseware import Optimizer, hookimpl

MOMENTUM = 0.9
BETA1, BETA2, EPSILON = 0.9, 0.999, 1e-8


def _sgd(grad, count, lr, is_weight, state, t):
    return np.where(is_weight, (lr / count) * grad, (lr * grad) / count)


def _exact_sgd(grad, count, lr, is_weight, state, t, delta):
    for q in range(grad.shape[0]):
        if is_weight[q]:
            for k in range(grad.shape[1]):
                delta[q, k] = (lr[k] / count) * grad[q, k]
        else:
            for k in range(grad.shape[1]):
                delta[q, k] = (lr[k] * grad[q, k]) / count


def _momentum(grad, count, lr, is_weight, state, t):
    velocity = state[0]
    np.multiply(velocity, MOMENTUM, out=velocity)
    np.add(velocity, grad / count, out=velocity)
    return lr * velocity


def _exact_momentum(grad, count, lr, is_weight, state, t, delta):
    for q in range(grad.shape[0]):
        for k in range(grad.shape[1]):
            v = MOMENTUM * state[0, q, k] + grad[q, k] / count
            state[0, q, k] = v
            delta[q, k] = lr[k] * v


def _adam(grad, count, lr, is_weight, state, t):
    mean, square = state[0], state[1]
    g = grad / count
    np.multiply(mean, BETA1, out=mean)
    np.add(mean, (1 - BETA1) * g, out=mean)
    np.multiply(square, BETA2, out=square)
    np.add(square, (1 - BETA2) * (g * g), out=square)
    mean_hat = mean / (1 - BETA1**t)
    square_hat = square / (1 - BETA2**t)
    return lr * mean_hat / (np.sqrt(square_hat) + EPSILON)


def _exact_adam(grad, count, lr, is_weight, state, t, delta):
    for k in range(grad.shape[1]):
        correct_mean = 1 - BETA1 ** t[k]
        correct_square = 1 - BETA2 ** t[k]
        for q in range(grad.shape[0]):
            g = grad[q, k] / count
            m = BETA1 * state[0, q, k] + (1 - BETA1) * g
            s = BETA2 * state[1, q, k] + (1 - BETA2) * (g * g)
            state[0, q, k] = m
            state[1, q, k] = s
            delta[q, k] = lr[k] * (m / correct_mean) / (np.sqrt(s / correct_square) + EPSILON)


OPTIMIZERS = [
    Optimizer("sgd", "Gradient descent", _sgd, default=True, exact_step=_exact_sgd,
              description="Plain gradient descent: the Playground's rule."),
    Optimizer("momentum", "Momentum", _momentum, slots=1, exact_step=_exact_momentum,
              description="Gradient descent with a velocity that keeps 90% of the last step."),
    Optimizer("adam", "Adam", _adam, slots=2, exact_step=_exact_adam,
              description="Steps of about the learning rate per parameter, scaled by running gradient statistics."),
]  # fmt: skip


@hookimpl
def register_optimizers(register):
    for optimizer in OPTIMIZERS:
        register(optimizer)
