"""Experiments: a configuration brought to life, with the Playground's exact sequence of random draws.

:class:`Experiment` is one network as a student sees it: its seeded stream, data, weights, epoch
counter and loss history, and the Playground's reactions to each control (its ``playground.ts``; each
setting's :class:`~courseware.settings.Effect` in the settings table): Reset draws new weights from
the continuing stream, Regenerate draws a new seed and new data but keeps the network, a
dataset/noise/ratio/problem change does both, a learning-rate change does neither.

:class:`Cohort` trains K experiments that share an architecture in one stacked computation (different
seeds, or variants such as four activations); each member gives the numbers it would give alone.
(Not to be confused with a mini-batch, the ``batchSize`` samples between two updates.)
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from courseware.components import Activation, Optimizer, OutputLayer, Regularizer, resolve_output
from courseware.config import COHORT_SHARED, SETTING_BY_NAME, Config
from courseware.data import Points, generate
from courseware.engine import build_engine
from courseware.errors import ComponentError, ConfigError
from courseware.network import Architecture, Parameters
from courseware.reference import ReferenceEngine
from courseware.registry import Registry
from courseware.rng import RandomStream
from courseware.settings import DISPLAY, LIVE, NEW_SEED, NO_REGULARIZATION, default_optimizer
from courseware.training import Evaluation, Hyper, TrainingEngine
from courseware.vectorized import GridPass

GRID_SIZE = 100
GRID_EXTENT = 6.0
THUMBNAIL_SAMPLES = 200
THUMBNAIL_SIZE = 10


@contextmanager
def attributed(registry: Registry) -> Iterator[None]:
    """Re-raise an exception from a plugin component's code as a :class:`ComponentError`."""
    try:
        yield
    except ComponentError:
        raise
    except Exception as exc:
        owner = registry.owner_of(exc)
        if owner is None:
            raise
        raise ComponentError(*owner, exc) from exc


def grid_axes() -> tuple[np.ndarray, np.ndarray]:
    """The heatmap's sample points: x_i for columns i and y_j for rows j (j = 0 is y = +6)."""
    from courseware.scales import linear

    index = np.arange(GRID_SIZE, dtype=np.float64)
    xs = linear(index, 0, GRID_SIZE - 1, -GRID_EXTENT, GRID_EXTENT)
    ys = linear(index, GRID_SIZE - 1, 0, -GRID_EXTENT, GRID_EXTENT)
    return xs, ys


def grid_points() -> tuple[np.ndarray, np.ndarray]:
    """Flattened grid coordinates, point p = i*100 + j, so maps reshape to [i][j] as the original's."""
    xs, ys = grid_axes()
    gx, gy = np.meshgrid(xs, ys, indexing="ij")
    return gx.ravel(), gy.ravel()


def feature_inputs(points: np.ndarray, features: Sequence[Any]) -> np.ndarray:
    """(n, F) inputs of ``points`` (columns x, y, ...) for the given Feature components."""
    x, y = points[:, 0], points[:, 1]
    if not features:
        return np.empty((len(points), 0))
    return np.column_stack([np.broadcast_to(np.asarray(f.fn(x, y), dtype=np.float64), x.shape) for f in features])


@dataclass
class Components:
    """The registry components a config names, resolved once."""

    hidden: Activation
    output: OutputLayer
    regularizer: Regularizer | None
    features: list[Any]
    dataset: Any
    problem: Any
    optimizer: Optimizer

    @classmethod
    def resolve(cls, config: Config, registry: Registry) -> Components:
        problem = registry.problem(config.problem)
        dataset = config.used_dataset(registry)
        optimizer = config.optimizer or default_optimizer(registry)
        return cls(
            hidden=registry.activation(config.activation),
            output=resolve_output(registry, problem, dataset, config.loss),
            regularizer=None
            if config.regularization == NO_REGULARIZATION
            else registry.regularizer(config.regularization),
            features=[registry.feature(name) for name in config.features],
            dataset=dataset,
            problem=problem,
            optimizer=registry.optimizer(optimizer),
        )


@dataclass
class History:
    """Per-epoch train/test losses (index = epoch), as the loss chart shows them."""

    train: list[float] = field(default_factory=list)
    test: list[float] = field(default_factory=list)

    def append(self, evaluation: Evaluation, member: int = 0) -> None:
        self.train.append(float(evaluation.train_loss[member]))
        self.test.append(float(evaluation.test_loss[member]))

    def pairs(self) -> list[tuple[float, float]]:
        return list(zip(self.train, self.test))


class Experiment:
    """One interactive network, following the Playground's state machine (see the module docstring)."""

    def __init__(self, config: Config, registry: Registry, reference: bool = False) -> None:
        """``reference`` trains with the readable reference engine (:mod:`courseware.reference`) instead
        of the compiled one: the same numbers, more slowly, for checking the rule itself."""
        self.reference = reference
        self.registry = registry
        self.config = config
        self.parts = Components.resolve(config, self.registry)
        # The Playground seeds its stream with the seed string, then generates and shuffles the data
        # and builds the network from the same continuing stream.
        self.rng = RandomStream(config.seed)
        self.points = self._generate()
        self.reset()

    # -- the Playground's actions -------------------------------------------------------------------

    def reset(self) -> None:
        """New weights from the continuing stream; epoch 0; the loss chart restarts."""
        self.arch = Architecture(tuple(f.name for f in self.parts.features), self.config.networkShape,
                                 self.parts.output.nodes)  # fmt: skip
        self.params = Parameters(self.arch, 1)
        self.params.initialise(0, self.rng.draws(self.arch.num_weights), self.config.initZero)
        self._build_engine()
        self.epoch = 0
        self.history = History()
        self.evaluation = self._evaluate()
        self.history.append(self.evaluation)

    def regenerate(self) -> None:
        """New seed drawn from the stream and new data; the network, epoch and chart are kept."""
        self._reseed()
        self.points = self._generate()
        self._build_engine()
        self.evaluation = self._evaluate()

    def step(self, epochs: int = 1) -> Evaluation:
        """Train ``epochs`` epochs, recording the losses after each.

        A plugin component that raises surfaces as :class:`ComponentError` naming it and its plugin.
        """
        with attributed(self.registry):
            for _ in range(epochs):
                self.engine.train_epochs(1)
                self.epoch += 1
                self.evaluation = self._evaluate()
                self.history.append(self.evaluation)
        return self.evaluation

    def apply(self, **changes: Any) -> str:
        """Change settings as the Playground's controls do; returns "regenerate", "reset" or "none".

        Values are validated first (a :class:`ConfigError` changes nothing); see :meth:`change_to`."""
        return self.change_to(self.config.with_changes(self.registry, **changes))

    def change_to(self, new: Config) -> str:
        """Move to the validated configuration ``new`` as the Playground's controls do, each changed
        setting having its :class:`~courseware.settings.Effect`: a new seed (the one ``new`` names
        if it changed, else one drawn from the stream) with new data and weights ("regenerate"), new
        weights ("reset"), or nothing restarted ("none": the training takes a live setting as it
        goes). A plugin component that raises while the change is applied
        (:class:`ComponentError`) leaves everything as it was."""
        old = self.config
        effects = {SETTING_BY_NAME[name].effect for name in old.changed(new)}
        if effects <= {LIVE, DISPLAY}:
            self.config = new  # nothing is rebuilt: no snapshot to take
            if LIVE in effects:
                self.engine.set_hyper(self._hyper())
            return "none"
        saved = dict(vars(self), rng=copy.deepcopy(self.rng))
        try:
            return self._rebuild(old, new, NEW_SEED in effects)
        except ComponentError:
            vars(self).update(saved)  # a plugin that raises leaves the experiment as it was
            raise

    def _rebuild(self, old: Config, new: Config, new_seed: bool) -> str:
        self.config = new
        self.parts = Components.resolve(new, self.registry)
        if not new_seed:
            self.reset()
            return "reset"
        if new.seed != old.seed:
            self.rng = RandomStream(new.seed)
        else:
            self._reseed()
        self.points = self._generate()
        if new.problem != old.problem:
            self._consume_thumbnail_draws()
        self.reset()
        return "regenerate"

    def set_weight(self, link: str, value: float) -> None:
        """Edit one weight, as the Playground's hovercard does (a dead link still never learns)."""
        self.params.set_weight(link, float(value))
        self.evaluation = self._evaluate()

    def set_bias(self, node: str, value: float) -> None:
        self.params.set_bias(node, float(value))
        self.evaluation = self._evaluate()

    # -- derived -----------------------------------------------------------------------------------

    @property
    def diverged(self) -> bool:
        return bool(self.evaluation.diverged[0])

    @property
    def train_loss(self) -> float:
        return float(self.evaluation.train_loss[0])

    @property
    def test_loss(self) -> float:
        return float(self.evaluation.test_loss[0])

    def grid_pass(self, dtype: Any = np.float32) -> Any:
        with attributed(self.registry):
            return self._grid_pass(dtype)

    def _grid_pass(self, dtype: Any) -> GridPass:
        """Every node's output on the 100×100 grid: ``pass.outputs(layer)[0]`` is (10000, n_layer),
        ``pass.maps(layer, 100)[0]`` is (n_layer, 100, 100) indexed [node][i][j]. For display: float32
        by default (float64 to compare), numpy's activations, buffers reused from frame to frame."""
        if self._grid is None or self._grid.dtype != np.dtype(dtype):
            if self._grid_inputs is None:
                gx, gy = grid_points()
                self._grid_inputs = feature_inputs(np.column_stack([gx, gy]), self.parts.features)
            self._grid = GridPass(self.params, self._hyper(), self._grid_inputs, dtype)
        self._grid.forward()
        return self._grid

    @property
    def output_node(self) -> str:
        """The (first) output node: the Playground's only one; class 0's for a per-class head."""
        return self.arch.node_ids[-1][0]

    @property
    def output_nodes(self) -> tuple[str, ...]:
        """Every output node: one per class for a per-class head (softmax), in class order."""
        return self.arch.node_ids[-1]

    # -- internals -----------------------------------------------------------------------------------

    def _generate(self) -> Points:
        problem = self.parts.problem
        with attributed(self.registry):
            return generate(
            self.parts.dataset,
            self.rng,
            problem.num_samples,
                self.config.noise,
                self.config.percTrainData,
            )

    def _evaluate(self) -> Evaluation:
        with attributed(self.registry):
            return self.engine.evaluate()

    def _reseed(self) -> None:
        seed = self.rng.next_seed()
        self.config = replace(self.config, seed=seed)
        self.rng = RandomStream(seed)

    def _consume_thumbnail_draws(self) -> None:
        """The Playground redraws the dataset thumbnails from the live stream on a problem change.

        Only two-class and regression datasets that are drawn, not given: the original had no others,
        and its stream is what this one follows."""
        for dataset in self.registry.datasets_for(self.config.problem):
            if dataset.classes == 2 and not dataset.fixed:
                dataset.generate(self.rng, THUMBNAIL_SAMPLES, 0.0)

    def _hyper(self) -> Hyper:
        c = self.config
        return Hyper(
            hidden=[self.parts.hidden],
            output=self.parts.output,
            learning_rate=np.array([c.learningRate]),
            regularizer=[self.parts.regularizer],
            regularization_rate=np.array([c.regularizationRate]),
            batch_size=c.batchSize,
            optimizer=[self.parts.optimizer],
        )

    def _build_engine(self) -> None:
        with attributed(self.registry):
            self._bind_engine()

    def _bind_engine(self) -> None:
        train, test = self.points.train, self.points.test
        features = self.parts.features
        engine = ReferenceEngine if self.reference else build_engine
        self.engine: TrainingEngine = engine(
            self.params,
            self._hyper(),
            feature_inputs(train, features)[None],
            train[None, :, 2],
            feature_inputs(test, features)[None],
            test[None, :, 2],
        )
        self._grid_inputs: np.ndarray | None = None
        self._grid: GridPass | None = None


def cohort_key(config: Config, registry: Registry) -> tuple[Any, ...]:
    """What members of one :class:`Cohort` must share: the settings that fix the architecture and the
    lockstep, and the output layer (head and number of output nodes)."""
    output = config.output_layer(registry)
    return (*(getattr(config, name) for name in COHORT_SHARED), output.head.name, output.nodes)


class Cohort:
    """K experiments trained together in one stacked computation.

    Members may differ in seed, dataset (of one problem type), drawn points, noise, activation, learning
    rate, regularization and optimizer; they must share features, network shape, batch size, training
    ratio, problem, loss and the output layer these resolve to.
    Each member is set up exactly as :class:`Experiment` sets it up (data, then weights, from its own
    seeded stream), after ``resets`` extra rebuilds if asked.
    """

    def __init__(self, configs: Sequence[Config], registry: Registry, resets: int = 0) -> None:
        if not configs:
            raise ValueError("a cohort needs at least one configuration")
        self.registry = registry
        self.configs = list(configs)
        _check_compatible(self.configs)
        self.parts = [Components.resolve(c, self.registry) for c in self.configs]
        _check_outputs(self.parts)
        first = self.configs[0]
        self.arch = Architecture(tuple(first.features), first.networkShape, self.parts[0].output.nodes)
        k = len(self.configs)
        self.params = Parameters(self.arch, k)
        self.points: list[Points] = []
        generated: dict[tuple[Any, ...], tuple[Points, RandomStream]] = {}
        for member, (config, parts) in enumerate(zip(self.configs, self.parts)):
            # Members often share data (variants of one seed): generate each data set once and give
            # every member its own copy of the stream as the data left it.
            key = (parts.dataset.name, config.points, config.seed, config.noise, config.percTrainData)
            if key not in generated:
                rng = RandomStream(config.seed)
                with attributed(self.registry):
                    points = generate(parts.dataset, rng, parts.problem.num_samples, config.noise, config.percTrainData)
                generated[key] = (points, rng)
            points, rng = generated[key]
            rng = copy.deepcopy(rng)
            self.points.append(points)
            for _ in range(resets + 1):
                self.params.initialise(member, rng.draws(self.arch.num_weights), config.initZero)
        features = self.parts[0].features
        self.engine: TrainingEngine = build_engine(
            self.params,
            Hyper(
                hidden=[p.hidden for p in self.parts],
                output=self.parts[0].output,
                learning_rate=np.array([c.learningRate for c in self.configs]),
                regularizer=[p.regularizer for p in self.parts],
                regularization_rate=np.array([c.regularizationRate for c in self.configs]),
                batch_size=first.batchSize,
                optimizer=[p.optimizer for p in self.parts],
            ),
            np.stack([feature_inputs(p.train, features) for p in self.points]),
            np.stack([p.train[:, 2] for p in self.points]),
            np.stack([feature_inputs(p.test, features) for p in self.points]),
            np.stack([p.test[:, 2] for p in self.points]),
        )
        self.epoch = 0
        self.evaluations: list[Evaluation] = [self.engine.evaluate()]
        self.history_complete = True  # every epoch's losses recorded (see step's record)

    @property
    def k(self) -> int:
        return len(self.configs)

    def step(self, epochs: int = 1, record: bool = True) -> Evaluation:
        """Train every member ``epochs`` epochs; with ``record`` keep each epoch's evaluation, else
        train them in one go and keep only the last."""
        if not record:
            self.engine.train_epochs(epochs)
            self.epoch += epochs
            self.evaluations.append(self.engine.evaluate())
            self.history_complete = self.history_complete and epochs <= 1
            return self.evaluations[-1]
        for _ in range(epochs):
            self.engine.train_epochs(1)
            self.epoch += 1
            self.evaluations.append(self.engine.evaluate())
        return self.evaluations[-1]

    def losses(self) -> tuple[np.ndarray, np.ndarray]:
        """(train, test) loss histories, each of shape (recorded evaluations, K)."""
        return (
            np.array([e.train_loss for e in self.evaluations]),
            np.array([e.test_loss for e in self.evaluations]),
        )


def _check_outputs(parts: Sequence[Components]) -> None:
    first = parts[0].output
    for index, other in enumerate(parts[1:], start=1):
        if (other.output.head, other.output.nodes, other.output.loss) != (first.head, first.nodes, first.loss):
            raise ConfigError(
                "dataset",
                f"members of a cohort must share their output layer: member 0 has {first.nodes} "
                f"{first.head.name} output node(s) and the {first.loss.name} loss, member {index} "
                f"{other.output.nodes} {other.output.head.name} node(s) and the {other.output.loss.name} loss",
            )


def _check_compatible(configs: Iterable[Config]) -> None:
    configs = list(configs)
    first = configs[0]
    for index, other in enumerate(configs[1:], start=1):
        for name in COHORT_SHARED:
            if getattr(other, name) != getattr(first, name):
                raise ConfigError(
                    name,
                    f"members of a cohort must share {name}: member 0 has {getattr(first, name)!r}, "
                    f"member {index} has {getattr(other, name)!r}",
                )
