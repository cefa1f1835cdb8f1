"""Engine invariants: batched members equal single runs, divergence is a state, L1 kills links."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from courseware import config as config_module
from courseware.experiment import Batch, Experiment

ACTIVATIONS = ["relu", "tanh", "sigmoid", "linear"]


def _config(registry, **changes):
    limits = config_module.Limits(max_batch_size=1000, max_perc_train=100)
    return config_module.from_mapping(changes, registry, limits=limits)


member = st.fixed_dictionaries(
    {
        "seed": st.text(alphabet="0123456789.ab", min_size=1, max_size=8),
        "activation": st.sampled_from(ACTIVATIONS),
        "learningRate": st.sampled_from([0.001, 0.01, 0.03, 0.1, 0.3]),
        "regularization": st.sampled_from(["none", "L1", "L2"]),
        "regularizationRate": st.sampled_from([0, 0.001, 0.01, 0.1]),
        "noise": st.sampled_from([0, 10, 25, 50]),
        "dataset": st.sampled_from(["circle", "xor", "gauss", "spiral"]),
        "initZero": st.booleans(),
    }
)
shared = st.fixed_dictionaries(
    {
        "networkShape": st.lists(st.integers(1, 5), max_size=3),
        "batchSize": st.sampled_from([1, 3, 7, 10, 30]),
        "percTrainData": st.sampled_from([10, 30, 50, 90]),
        "features": st.lists(st.sampled_from(["x", "y", "xSquared", "sinY"]), min_size=1, unique=True),
    }
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shared=shared, members=st.lists(member, min_size=1, max_size=4))
def test_each_batch_member_equals_its_single_run(registry, shared, members):
    configs = [_config(registry, **shared, **m) for m in members]
    batch = Batch(configs, registry)
    batch.step(3)
    for k, config in enumerate(configs):
        single = Experiment(config, registry)
        single.step(3)
        assert np.array_equal(single.params.flat[0], batch.params.flat[k], equal_nan=True)
        train, test = batch.losses()
        assert np.array_equal(np.array(single.history.pairs())[:, 0], train[:, k], equal_nan=True)
        assert np.array_equal(np.array(single.history.pairs())[:, 1], test[:, k], equal_nan=True)
        assert single.params.dead_links() == batch.params.dead_links(k)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shared=shared, member=member)
def test_sane_settings_stay_finite_and_shaped(registry, shared, member):
    member = dict(member, learningRate=min(member["learningRate"], 0.1))
    experiment = Experiment(_config(registry, **shared, **member), registry)
    experiment.step(5)
    assert np.isfinite(experiment.params.flat).all()
    assert not experiment.diverged
    assert len(experiment.history.train) == 6
    assert 0 <= experiment.evaluation.train_accuracy[0] <= 1
    grid = experiment.grid_pass()
    for layer, size in enumerate(experiment.arch.sizes[1:], start=1):
        assert grid.outputs(layer).shape == (1, 10000, size)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_divergence_is_reported_not_raised(registry, activation):
    """Learning rate 10 with batch size 1 on the linear-output regression problem blows up."""
    experiment = Experiment(
        _config(registry, activation=activation, learningRate=10, batchSize=1, networkShape=[8] * 6,
                problem="regression", seed="1"),
        registry,
    )  # fmt: skip
    with np.errstate(all="raise"):  # the engine must not let numpy warnings escape either
        experiment.step(5)
    assert experiment.diverged
    assert not np.isfinite(experiment.params.flat).all()
    assert np.isnan(experiment.node_maps()[experiment.output_node]).any(), "drawn grey, as the original"
    experiment.reset()
    assert not experiment.diverged and np.isfinite(experiment.train_loss)


def test_saturating_classifier_at_huge_learning_rate_does_not_raise(registry):
    experiment = Experiment(_config(registry, learningRate=10, batchSize=1, networkShape=[8] * 6, seed="1"), registry)
    with np.errstate(all="raise"):
        experiment.step(3)
    assert experiment.evaluation.train_loss.shape == (1,)


def test_l1_kills_links_until_reset(registry):
    experiment = Experiment(
        _config(registry, regularization="L1", regularizationRate=0.1, learningRate=0.1, seed="0.27519"), registry
    )
    experiment.step(20)
    dead = [link for link, is_dead in experiment.params.dead_links().items() if is_dead]
    assert dead, "L1 at 0.1 kills some links within 20 epochs"
    assert all(experiment.params.weights()[link] == 0 for link in dead)
    experiment.set_weight(dead[0], 0.75)  # an edited dead link forwards its value but never learns
    experiment.step(3)
    assert experiment.params.weights()[dead[0]] == 0.75
    experiment.reset()
    assert not any(experiment.params.dead_links().values())


def test_batch_larger_than_training_set_never_updates(registry):
    experiment = Experiment(_config(registry, batchSize=400, seed="3"), registry)
    before = experiment.params.flat.copy()
    experiment.step(3)
    assert np.array_equal(before, experiment.params.flat)
    assert experiment.engine.carry_count == 3 * 250


def test_empty_test_set_gives_nan_test_loss_quietly(registry):
    experiment = Experiment(_config(registry, percTrainData=100, seed="4"), registry)
    with np.errstate(all="raise"):
        experiment.step(1)
    assert np.isnan(experiment.test_loss) and np.isfinite(experiment.train_loss)
    assert not experiment.diverged


def test_batch_rejects_members_with_different_architectures(registry):
    from courseware.errors import ConfigError

    with pytest.raises(ConfigError, match="networkShape"):
        Batch([_config(registry), _config(registry, networkShape=[3])], registry)


def test_wide_layout_members_equal_single_runs(registry):
    """From WIDE_FROM members the engine switches to contiguous working buffers; same numbers."""
    from courseware.engine import WIDE_FROM

    variants = [("relu", "none", 0.03), ("tanh", "L1", 0.1), ("sigmoid", "L2", 0.3), ("linear", "none", 0.01)]
    configs = [
        _config(registry, seed=f"s{i}", activation=act, regularization=reg, regularizationRate=0.01,
                learningRate=lr, networkShape=[3, 2], batchSize=7)
        for i, (act, reg, lr) in enumerate(variants * (WIDE_FROM // len(variants) + 1))
    ]  # fmt: skip
    batch = Batch(configs, registry)
    assert batch.engine._batches[0].wide
    batch.step(4)
    for k in (0, 1, 2, 3, len(configs) - 1):
        single = Experiment(configs[k], registry)
        single.step(4)
        assert np.array_equal(single.params.flat[0], batch.params.flat[k])
        assert single.params.dead_links() == batch.params.dead_links(k)
