"""Engine throughput, against a plain per-mini-batch numpy port run in the same process.

    python bench/engine.py [--seconds S] [--compile]

For the default network (2-4-2-1 on the circle, batch 10) and a large one (6 features, 6 layers of 8)
it prints training epochs/s and frames/s, where a frame is what the page needs per animation step:
one epoch, both losses, every node's 100×100 map and its 10×10 thumbnail. Then network-epochs/s of a
cohort (K networks in one stacked computation, as ``courseware check`` trains them) at K = 64 and 256
with different seeds, and at K = 256 with batch size 1. Each figure is printed beside the plain
port's and the ratio. The reference engine's training rate is shown too.

``--compile`` first times, in fresh processes, the first experiment and epoch with an empty numba cache
(compiling everything) and then with the cache filled.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np

from courseware import config as config_module
from courseware.experiment import Cohort, Experiment, feature_inputs, grid_points
from courseware.plugins import get_registry

LARGE = {"networkShape": [8] * 6, "features": ["x", "y", "xSquared", "ySquared", "xTimesY", "sinX"]}


class PlainNet:
    """What a straightforward numpy port looks like: per mini-batch, per layer, matrix operations."""

    def __init__(self, experiment: Experiment) -> None:
        e = experiment
        self.sizes = e.arch.sizes
        self.w = [e.params.weight(layer)[0].copy() for layer in range(1, len(self.sizes))]
        self.b = [e.params.bias(layer)[0].copy() for layer in range(1, len(self.sizes))]
        self.hidden, self.output = e.parts.hidden, e.parts.output.activation
        features = e.parts.features
        self.train_x = feature_inputs(e.points.train, features)
        self.train_y = e.points.train[:, 2]
        self.test_x = feature_inputs(e.points.test, features)
        self.test_y = e.points.test[:, 2]
        gx, gy = grid_points()
        self.grid_x = feature_inputs(np.column_stack([gx, gy]), features)
        self.lr, self.bs = e.config.learningRate, e.config.batchSize

    def forward(self, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        acts, zs = [x], []
        for i, (w, b) in enumerate(zip(self.w, self.b)):
            z = acts[-1] @ w + b
            act = self.hidden if i < len(self.w) - 1 else self.output
            zs.append(z)
            acts.append(act.output(z))
        return acts, zs

    def epoch(self) -> None:
        for start in range(0, len(self.train_x) - self.bs + 1, self.bs):
            x, y = self.train_x[start : start + self.bs], self.train_y[start : start + self.bs]
            acts, zs = self.forward(x)
            delta = acts[-1] - y[:, None]
            for i in range(len(self.w) - 1, -1, -1):
                act = self.hidden if i < len(self.w) - 1 else self.output
                dz = delta * act.derivative(zs[i], acts[i + 1])
                grad_w, grad_b = acts[i].T @ dz, dz.sum(axis=0)
                delta = dz @ self.w[i].T
                self.w[i] -= self.lr / len(x) * grad_w
                self.b[i] -= self.lr / len(x) * grad_b

    def losses(self) -> tuple[float, float]:
        out = [self.forward(x)[0][-1][:, 0] for x in (self.train_x, self.test_x)]
        return float(np.mean(0.5 * (out[0] - self.train_y) ** 2)), float(np.mean(0.5 * (out[1] - self.test_y) ** 2))

    def frame(self) -> None:
        self.epoch()
        self.losses()
        acts, _ = self.forward(self.grid_x)
        for a in acts[1:]:
            a.reshape(10, 10, 10, 10, -1).mean(axis=(1, 3))


def fast_frame(experiment: Experiment) -> None:
    experiment.step(1)
    grid = experiment.grid_pass()
    for layer in range(1, experiment.arch.num_layers + 1):
        grid.block_means(layer, 100, 10)


def rate(fn: Callable[[], object], seconds: float, units: float = 1) -> float:
    """Calls per second of ``fn`` (times ``units``), after a warm-up, over about ``seconds``."""
    fn()
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        fn()
        count += 1
    return count * units / elapsed


def row(label: str, ours: float, plain: float, unit: str) -> None:
    print(f"  {label:<34} {ours:>10,.0f} {unit:<15} plain {plain:>9,.0f}   x{ours / plain:5.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="measuring time per figure")
    parser.add_argument("--compile", action="store_true", help="also time numba's compilation, cold and warm")
    args = parser.parse_args()
    if args.compile:
        print("compile:")
        compile_times()
    registry = get_registry()
    s = args.seconds
    for name, changes in (("default net 2-4-2-1", {}), ("large net 6 features, 6x8", LARGE)):
        config = config_module.from_mapping({**changes, "seed": "0.12345"}, registry)
        print(f"{name}:")
        fast = Experiment(config, registry)
        plain = PlainNet(Experiment(config, registry))
        row("training epochs/s", rate(lambda: fast.engine.train_epochs(1), s), rate(plain.epoch, s), "epochs/s")
        row("frames/s (epoch+losses+maps)", rate(lambda: fast_frame(fast), s), rate(plain.frame, s), "frames/s")
        reference = Experiment(config, registry, reference=True)
        print(f"  {'reference engine':<34} {rate(lambda: reference.engine.train_epochs(1), s):>10,.0f} epochs/s")
    config = config_module.from_mapping({"seed": "0.12345"}, registry)
    plain = PlainNet(Experiment(config, registry))
    plain_rate = rate(plain.epoch, s)
    print("cohort of default nets (K different seeds):")
    for k, batch_size in ((64, 10), (256, 10), (256, 1)):
        configs = [config.with_changes(registry, seed=f"0.{i:05d}", batchSize=batch_size) for i in range(k)]
        cohort = Cohort(configs, registry)
        label = f"K = {k}" + (f", batch size {batch_size}" if batch_size != 10 else "")
        row(label, rate(lambda c=cohort: c.engine.train_epochs(1), s, units=k), plain_rate, "net-epochs/s")


FIRST_EPOCH = """
import time
start = time.perf_counter()
from courseware import config
from courseware.experiment import Experiment
from courseware.plugins import get_registry
registry = get_registry()
imported = time.perf_counter()
Experiment(config.from_mapping({"seed": "0.12345"}, registry), registry).step(1)
print(f"{imported - start:.2f} {time.perf_counter() - imported:.2f}")
"""


def compile_times() -> None:
    """The first experiment and epoch in a fresh process: with an empty numba cache, then a full one."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for label in ("empty cache (compiles)", "cache filled"):
            out = subprocess.run([sys.executable, "-c", FIRST_EPOCH], env=env, capture_output=True, text=True,
                                 check=True).stdout.split()  # fmt: skip
            print(f"  {label:<34} imports {out[0]} s, first experiment and epoch {out[1]} s")


if __name__ == "__main__":
    main()
