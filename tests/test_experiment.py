"""The Playground's state machine: which controls reset, regenerate or do neither (playground.md §6)."""

import numpy as np
import pytest

from courseware import config as config_module
from courseware.errors import ConfigError
from courseware.experiment import Experiment
from nodemaps import node_maps


@pytest.fixture
def experiment(registry):
    return Experiment(config_module.default(registry, seed="0.12345"), registry)


def test_load_then_reset_then_regenerate_follow_the_stream(experiment):
    assert experiment.params.weight_vector()[0] == 0.15119012045435498
    experiment.reset()
    assert experiment.params.weight_vector()[0] == 0.1292963805901839
    weights = experiment.params.weight_vector().copy()
    experiment.step(3)
    trained = experiment.params.weight_vector().copy()
    experiment.regenerate()
    assert experiment.config.seed == "0.17733"
    assert experiment.epoch == 3, "Regenerate keeps the epoch counter"
    assert np.array_equal(experiment.params.weight_vector(), trained), "and the network"
    assert not np.array_equal(trained, weights)
    assert len(experiment.history.train) == 4, "and the loss chart"


def test_learning_rate_change_neither_resets_nor_regenerates(registry):
    fast, slow = (Experiment(config_module.default(registry, seed="0.12345"), registry) for _ in range(2))
    fast.step(2)
    slow.step(2)
    before = fast.params.weight_vector().copy()
    assert fast.apply(learningRate=0.3) == "none"
    assert fast.epoch == 2 and np.array_equal(fast.params.weight_vector(), before)
    fast.step(1)
    slow.step(1)
    fast_move = np.abs(fast.params.weight_vector() - before).sum()
    slow_move = np.abs(slow.params.weight_vector() - before).sum()
    assert fast_move > 5 * slow_move, "the new learning rate takes effect from the next epoch"


@pytest.mark.parametrize(
    ("change", "outcome"),
    [({"activation": "relu"}, "reset"), ({"batchSize": 5}, "reset"), ({"networkShape": (3,)}, "reset"),
     ({"regularization": "L2"}, "reset"), ({"regularizationRate": 0.01}, "reset"),
     ({"features": ("x", "y", "xSquared")}, "reset"), ({"xSquared": True}, "reset"),
     ({"dataset": "xor"}, "regenerate"), ({"noise": 10}, "regenerate"), ({"percTrainData": 70}, "regenerate"),
     ({"problem": "regression"}, "regenerate"), ({"showTestData": True}, "none"), ({"discretize": True}, "none")],
)  # fmt: skip
def test_each_control_reacts_as_the_original(experiment, change, outcome):
    experiment.step(2)
    seed = experiment.config.seed
    assert experiment.apply(**change) == outcome
    if outcome == "none":
        assert experiment.epoch == 2 and experiment.config.seed == seed
    else:
        assert experiment.epoch == 0 and len(experiment.history.train) == 1
        assert (experiment.config.seed != seed) == (outcome == "regenerate")


def test_reset_after_dataset_change_continues_the_new_stream(registry):
    """A dataset change draws a new seed, generates from it, then builds the network from the same
    stream; a fresh experiment on that seed reproduces it exactly."""
    experiment = Experiment(config_module.default(registry, seed="0.12345"), registry)
    experiment.apply(dataset="xor")
    fresh = Experiment(experiment.config, registry)
    assert np.array_equal(fresh.points.all, experiment.points.all)
    assert np.array_equal(fresh.params.weight_vector(), experiment.params.weight_vector())


def test_problem_change_consumes_the_thumbnail_draws(registry):
    """The original redraws the dataset thumbnails between generating data and building the network."""
    experiment = Experiment(config_module.default(registry, seed="0.12345"), registry)
    experiment.apply(problem="regression")
    fresh = Experiment(experiment.config, registry)
    assert np.array_equal(fresh.points.all, experiment.points.all)
    assert not np.array_equal(fresh.params.weight_vector(), experiment.params.weight_vector())


def test_invalid_change_changes_nothing(experiment):
    before = experiment.config
    with pytest.raises(ConfigError, match="activation"):
        experiment.apply(activation="swish")
    assert experiment.config == before


def test_weight_edit_is_forwarded_and_reevaluated(experiment):
    loss = experiment.train_loss
    experiment.set_weight("x-1", 5.0)
    assert experiment.params.weights()["x-1"] == 5.0
    assert experiment.train_loss != loss
    experiment.set_bias("7", -2.0)
    assert experiment.params.biases()["7"] == -2.0


def test_node_maps_cover_every_neuron(experiment):
    maps = node_maps(experiment)
    assert sorted(maps, key=int) == [str(i) for i in range(1, 8)]
    assert all(m.shape == (100, 100) and np.isfinite(m).all() for m in maps.values())
    assert np.abs(maps["7"]).max() < 1


def test_a_raising_plugin_component_is_named_with_its_plugin():
    from courseware import Activation, Dataset, hookimpl
    from courseware.errors import ComponentError
    from courseware.plugins import PluginHost

    def explode(z, out=None):
        raise FloatingPointError("kaboom")

    def bad_points(rng, n, noise):
        raise ValueError("no data today")

    class Flaky:
        @hookimpl
        def register_activations(self, register):
            register(Activation("flaky", "Flaky", explode, lambda z, a: z))

        @hookimpl
        def register_datasets(self, register):
            register(Dataset("empty", "Empty", "classification", bad_points))

    host = PluginHost.load(entry_points=False, extra=[(Flaky(), "flaky-plugin")])
    registry = host.registry
    with pytest.raises(ComponentError, match="activation 'flaky' from plugin 'flaky-plugin' raised FloatingPointError: kaboom") as info:
        Experiment(config_module.from_mapping({"activation": "flaky"}, registry), registry)
    assert (info.value.kind, info.value.name, info.value.plugin) == ("activation", "flaky", "flaky-plugin")
    with pytest.raises(ComponentError, match="dataset 'empty' from plugin 'flaky-plugin'"):
        Experiment(config_module.from_mapping({"dataset": "empty"}, registry), registry)
    experiment = Experiment(config_module.from_mapping({"seed": "2"}, registry), registry)
    experiment.step(2)
    before = (experiment.config, experiment.params.flat.copy(), experiment.epoch)
    with pytest.raises(ComponentError, match="activation 'flaky'"):
        experiment.apply(activation="flaky")
    assert (experiment.config, experiment.epoch) == (before[0], before[2])
    assert np.array_equal(experiment.params.flat, before[1])
    experiment.step(1)  # still works, and continues the same stream as an untouched twin
    twin = Experiment(config_module.from_mapping({"seed": "2"}, registry), registry)
    twin.step(3)
    assert np.array_equal(twin.params.flat, experiment.params.flat)
    experiment.reset()
    twin.reset()
    assert np.array_equal(twin.params.flat, experiment.params.flat)
