"""The Playground's six datasets, bit for bit (``dataset.ts``).

Every generator draws from the experiment's seeded stream in the original's order within each point,
and evaluates each formula in the original's operation order (d3's scale arithmetic, ``Math.sin`` via
fdlibm). Points come back unshuffled; the host shuffles and splits them.

The two-class generators loop ``i < n / 2`` for each class, as the original does, so an odd count draws
one point too many; the extra point is dropped after drawing, keeping the stream where the original
leaves it while returning exactly ``n`` points.

The samplers :func:`v8`, :func:`uniform`, :func:`polar_pairs` and :func:`normal_values` are public:
a dataset plugin that draws as the Playground draws (``courseware_builtins.multiclass``, say) builds
on them.
"""

import math

import numpy as np

from courseware import Dataset, hookimpl, jsmath, scales


def v8(fn, values):
    """``fn`` (a :mod:`courseware.jsmath` port of V8's ``Math`` function) over an array.

    A dataset's few hundred points are computed by the plain Python port (a few milliseconds, and
    no compiler to start); larger arrays by the compiled one. Both are V8's numbers, bit for bit.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size <= PLAIN_PYTHON_VALUES:
        return np.array([fn(v) for v in values.ravel().tolist()], dtype=np.float64).reshape(values.shape)
    from courseware.jit import elementwise  # numba loads on first use, not when plugins load

    return elementwise(fn, values)


PLAIN_PYTHON_VALUES = 20_000
"""Up to this many values, :func:`v8` uses the plain Python port (about 3 µs a value)."""


def uniform(u, a, b):
    """``randUniform(a, b) = Math.random() * (b - a) + a`` applied to draws ``u``."""
    return u * (b - a) + a


def _dist(x, y, cx, cy):
    dx = x - cx
    dy = y - cy
    return np.sqrt(dx * dx + dy * dy)


def circle(rng, num_samples, noise):
    """250 points inside radius 2.5 (label +1) then 250 in the ring 3.5-5 (label -1).

    Noise moves only the point at which the label is evaluated: stored positions are noiseless.
    """
    radius = 5
    half = math.ceil(num_samples / 2)
    parts = []
    for r_low, r_high in ((0, radius * 0.5), (radius * 0.7, radius)):
        u = rng.draws(4 * half).reshape(half, 4)
        r = uniform(u[:, 0], r_low, r_high)
        angle = uniform(u[:, 1], 0, 2 * math.pi)
        x = r * v8(jsmath.sin, angle)
        y = r * v8(jsmath.cos, angle)
        noise_x = uniform(u[:, 2], -radius, radius) * noise
        noise_y = uniform(u[:, 3], -radius, radius) * noise
        label = np.where(_dist(x + noise_x, y + noise_y, 0, 0) < radius * 0.5, 1.0, -1.0)
        parts.append(np.column_stack([x, y, label]))
    return np.concatenate(parts)[:num_samples]


def xor(rng, num_samples, noise):
    """Four quadrants, padded 0.3 away from the axes; label is the sign of x*y (0 counts as +1)."""
    u = rng.draws(4 * num_samples).reshape(num_samples, 4)
    padding = 0.3
    x = uniform(u[:, 0], -5, 5)
    x = x + np.where(x > 0, padding, -padding)
    y = uniform(u[:, 1], -5, 5)
    y = y + np.where(y > 0, padding, -padding)
    noise_x = uniform(u[:, 2], -5, 5) * noise
    noise_y = uniform(u[:, 3], -5, 5) * noise
    label = np.where((x + noise_x) * (y + noise_y) >= 0, 1.0, -1.0)
    return np.column_stack([x, y, label])


def polar_pairs(rng, count):
    """Marsaglia's polar method as the Playground writes it (v2 discarded, no caching): for each of
    ``count`` normal draws, the accepted ``v1`` and ``s``, drawing from the stream in its order."""
    v1s = np.empty(count)
    ss = np.empty(count)
    for k in range(count):
        while True:
            v1 = 2 * rng.random() - 1
            v2 = 2 * rng.random() - 1
            s = v1 * v1 + v2 * v2
            if not s > 1:
                break
        v1s[k], ss[k] = v1, s
    return v1s, ss


def normal_values(v1, s, mean, variance):
    """``mean + sqrt(variance) * sqrt(-2 * log(s) / s) * v1`` in the original's operation order, with
    V8's ``Math.log``; s == 0 gives NaN (0 * sqrt(inf) in JavaScript)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        result = np.sqrt(-2 * v8(jsmath.log, s) / s) * v1
    result = np.where(s == 0, np.nan, result)
    return mean + math.sqrt(variance) * result


def gauss(rng, num_samples, noise):
    """Two Gaussian blobs at (2, 2) (+1) and (-2, -2) (-1); noise widens them (variance 0.5 to 4)."""
    variance = scales.linear(noise, 0, 0.5, 0.5, 4)
    half = math.ceil(num_samples / 2)
    parts = []
    for cx, cy, label in ((2, 2, 1.0), (-2, -2, -1.0)):
        v1, s = polar_pairs(rng, 2 * half)  # x then y, point by point
        x = normal_values(v1[0::2], s[0::2], cx, variance)
        y = normal_values(v1[1::2], s[1::2], cy, variance)
        parts.append(np.column_stack([x, y, np.full(half, label)]))
    return np.concatenate(parts)[:num_samples]


def spiral(rng, num_samples, noise):
    """Two interleaved spirals; noise jitters the positions, labels never flip."""
    n = num_samples / 2
    count = math.ceil(n)
    parts = []
    for delta_t, label in ((0, 1.0), (math.pi, -1.0)):
        i = np.arange(count, dtype=np.float64)
        r = i / n * 5
        t = 1.75 * i / n * 2 * math.pi + delta_t
        u = rng.draws(2 * count).reshape(count, 2)
        x = r * v8(jsmath.sin, t) + uniform(u[:, 0], -1, 1) * noise
        y = r * v8(jsmath.cos, t) + uniform(u[:, 1], -1, 1) * noise
        parts.append(np.column_stack([x, y, np.full(count, label)]))
    return np.concatenate(parts)[:num_samples]


def _noisy_positions(rng, num_samples, noise, radius=6):
    u = rng.draws(4 * num_samples).reshape(num_samples, 4)
    x = uniform(u[:, 0], -radius, radius)
    y = uniform(u[:, 1], -radius, radius)
    noise_x = uniform(u[:, 2], -radius, radius) * noise
    noise_y = uniform(u[:, 3], -radius, radius) * noise
    return x, y, x + noise_x, y + noise_y


def reg_plane(rng, num_samples, noise):
    """A tilted plane: label = d3.linear([-10, 10] -> [-1, 1])(x + y), noise on the evaluation point."""
    x, y, nx, ny = _noisy_positions(rng, num_samples, noise)
    label = scales.linear(nx + ny, -10, 10, -1, 1)
    return np.column_stack([x, y, label])


_GAUSSIANS = ((-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1))


def reg_gauss(rng, num_samples, noise):
    """Six signed bumps; each point takes the bump value largest in magnitude (many are exactly 0)."""
    x, y, nx, ny = _noisy_positions(rng, num_samples, noise)
    label = np.zeros(num_samples)
    for cx, cy, sign in _GAUSSIANS:
        new = sign * scales.linear(_dist(nx, ny, cx, cy), 0, 2, 1, 0, clamp=True)
        label = np.where(np.abs(new) > np.abs(label), new, label)
    return np.column_stack([x, y, label])


@hookimpl
def register_datasets(register):
    register(Dataset("circle", "Circle", "classification", circle, "A disc inside a ring."))
    register(Dataset("xor", "Exclusive or", "classification", xor, "Opposite quadrants match."))
    register(Dataset("gauss", "Gaussian", "classification", gauss, "Two Gaussian blobs."))
    register(Dataset("spiral", "Spiral", "classification", spiral, "Two interleaved spirals."))
    register(Dataset("reg-plane", "Plane", "regression", reg_plane, "A tilted plane."))
    register(
        Dataset("reg-gauss", "Multi Gaussian", "regression", reg_gauss, "Six signed bumps.")
    )
