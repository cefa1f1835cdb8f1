"""Output heads, losses and optimizers through the engines: the Playground's pairing is the default,
softmax trains more classes, a third party's hinge loss trains, momentum and Adam keep their memory
with the network, and every engine agrees (the exact one with the reference bit for bit)."""

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from courseware import Activation, Head, Loss, Optimizer, hookimpl
from courseware import config as config_module
from courseware.components import resolve_output
from courseware.training import Hyper
from courseware.errors import ConfigError
from courseware.experiment import Cohort, Experiment
from courseware.plugins import PluginHost
from courseware.vectorized import VectorizedEngine


def _config(registry, **changes):
    return config_module.from_mapping(changes, registry)


# -- which head ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "head", "loss", "nodes"),
    [
        ({}, "tanh", "square", 1),
        ({"problem": "regression"}, "linear", "square", 1),
        ({"dataset": "spiral-3"}, "softmax", "cross-entropy", 3),
        ({"dataset": "blobs-4"}, "softmax", "cross-entropy", 4),
        ({"loss": "cross-entropy"}, "softmax", "cross-entropy", 2),
        ({"dataset": "blobs-3", "loss": "square"}, "softmax", "square", 3),
    ],
)
def test_the_head_follows_the_data_and_the_loss(registry, changes, head, loss, nodes):
    config = _config(registry, **changes)
    output = config.output_layer(registry)
    assert (output.head.name, output.loss.name, output.nodes) == (head, loss, nodes)
    experiment = Experiment(config, registry)
    assert experiment.arch.sizes[-1] == nodes and len(experiment.output_nodes) == nodes


def test_a_loss_that_fits_no_head_is_a_config_error(registry):
    with pytest.raises(ConfigError, match="cross-entropy.*does not fit a regression problem"):
        _config(registry, problem="regression", loss="cross-entropy")
    with pytest.raises(ConfigError, match="loss: 'hinge' is not one of square, cross-entropy"):
        _config(registry, loss="hinge")


def test_playground_urls_are_unchanged(registry):
    """New keys appear in a URL only when they are used."""
    config = config_module.default(registry, seed="0.12345")
    query = config.to_query(registry)
    assert "optimizer" not in query and "loss" not in query and "points" not in query
    adam = config.with_changes(registry, optimizer="adam", loss="cross-entropy")
    again, notices = config_module.Config.from_query(adam.to_query(registry), registry)
    assert not notices and again == adam
    assert "optimizer=adam" in adam.to_query(registry) and "loss=cross-entropy" in adam.to_query(registry)


# -- engines agree -------------------------------------------------------------------------------------

CASES = [
    {"dataset": "spiral-3", "networkShape": [6, 5], "learningRate": 0.1},
    {"dataset": "blobs-4", "batchSize": 3, "activation": "relu"},
    {"loss": "cross-entropy", "learningRate": 0.3, "batchSize": 1},
    {"dataset": "blobs-3", "loss": "square", "learningRate": 0.1},
    {"optimizer": "momentum", "learningRate": 0.1, "regularization": "L1", "regularizationRate": 0.003},
    {"optimizer": "adam", "learningRate": 0.03, "dataset": "spiral-3", "networkShape": [8]},
    {"optimizer": "adam", "problem": "regression", "regDataset": "reg-gauss", "learningRate": 0.01},
]


@pytest.mark.parametrize("changes", CASES, ids=[str(c) for c in CASES])
def test_exact_engine_equals_the_reference_bit_for_bit(registry, changes):
    config = _config(registry, seed="0.31415", **changes)
    exact, reference = Experiment(config, registry), Experiment(config, registry, reference=True)
    assert exact.engine.exact
    exact.step(8)
    reference.step(8)
    assert np.array_equal(np.array(exact.history.pairs()), np.array(reference.history.pairs()))
    assert np.array_equal(exact.params.flat, reference.params.flat)
    assert np.array_equal(exact.evaluation.test_class_accuracy, reference.evaluation.test_class_accuracy,
                          equal_nan=True)  # fmt: skip


@pytest.mark.parametrize("changes", CASES, ids=[str(c) for c in CASES])
def test_vectorized_engine_agrees_to_rounding(registry, changes):
    """The numpy engine (for components without exact forms) runs the same rule with numpy's own
    rounding: stable runs agree closely (at learning rates of 0.3 with a batch of 1 the last bits
    grow into other trajectories within a few epochs, see docs/engine.md, so the rate is capped)."""
    stable = dict(changes, learningRate=min(changes.get("learningRate", 0.03), 0.03),
                  batchSize=max(changes.get("batchSize", 10), 5))  # fmt: skip
    config = _config(registry, seed="0.27182", **stable)
    exact = Experiment(config, registry)
    numpy_run = Experiment(config, registry)
    hyper = numpy_run.engine.hyper
    numpy_run.engine = VectorizedEngine(numpy_run.params, hyper, *_data(numpy_run))
    for experiment in (exact, numpy_run):
        experiment.step(5)
    assert np.allclose(exact.params.flat, numpy_run.params.flat, rtol=1e-7, atol=1e-9)
    assert np.allclose(exact.history.pairs(), numpy_run.history.pairs(), rtol=1e-7, atol=1e-9)
    assert np.array_equal(exact.evaluation.train_accuracy, numpy_run.evaluation.train_accuracy, equal_nan=True)


def _data(experiment):
    from courseware.experiment import feature_inputs

    train, test, features = experiment.points.train, experiment.points.test, experiment.parts.features
    return (feature_inputs(train, features)[None], train[None, :, 2], feature_inputs(test, features)[None],
            test[None, :, 2])  # fmt: skip


member = st.fixed_dictionaries(
    {
        "seed": st.text(alphabet="0123456789.", min_size=1, max_size=6),
        "optimizer": st.sampled_from(["sgd", "momentum", "adam"]),
        "activation": st.sampled_from(["relu", "tanh"]),
        "learningRate": st.sampled_from([0.003, 0.03, 0.3]),
        "regularization": st.sampled_from(["none", "L1", "L2"]),
        "regularizationRate": st.sampled_from([0, 0.001, 0.01]),
        "noise": st.sampled_from([0, 25]),
    }
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dataset=st.sampled_from(["spiral-3", "blobs-3", "blobs-4", "circle"]), batch=st.sampled_from([1, 4, 10]),
       members=st.lists(member, min_size=1, max_size=5))  # fmt: skip
def test_each_cohort_member_equals_its_single_run(registry, dataset, batch, members):
    """Members with different optimizers (and activations, regularizers) on a multi-class dataset
    train in lockstep groups, each giving exactly its single run's numbers."""
    configs = [_config(registry, dataset=dataset, batchSize=batch, networkShape=[4, 3], **m) for m in members]
    cohort = Cohort(configs, registry)
    assert cohort.engine.exact
    cohort.step(3)
    train, test = cohort.losses()
    for k, config in enumerate(configs):
        single = Experiment(config, registry)
        single.step(3)
        assert np.array_equal(single.params.flat[0], cohort.params.flat[k], equal_nan=True)
        assert np.array_equal(np.array(single.history.test), test[:, k], equal_nan=True)
        assert np.array_equal(single.evaluation.test_class_accuracy[0], cohort.evaluations[-1].test_class_accuracy[k],
                              equal_nan=True)  # fmt: skip


def test_cohort_members_must_share_their_output_layer(registry):
    with pytest.raises(ConfigError, match="share their output layer"):
        Cohort([_config(registry, dataset="blobs-3"), _config(registry, dataset="blobs-4")], registry)


# -- accuracy per class --------------------------------------------------------------------------------


def test_accuracy_per_class_adds_up_to_the_accuracy(registry):
    experiment = Experiment(_config(registry, dataset="blobs-4", learningRate=0.1, seed="0.2"), registry)
    experiment.step(30)
    evaluation = experiment.evaluation
    test = experiment.points.test
    counts = np.bincount(test[:, 2].astype(int), minlength=4)
    assert np.isclose((evaluation.test_class_accuracy[0] * counts).sum() / counts.sum(), evaluation.test_accuracy[0])
    assert evaluation.test_accuracy[0] > 0.95, "four separate blobs are easy"
    two = Experiment(_config(registry, seed="0.2"), registry)
    assert two.evaluation.test_class_accuracy.shape == (1, 2), "two classes: -1 is class 0, +1 class 1"


def test_regression_has_no_accuracy(registry):
    experiment = Experiment(_config(registry, problem="regression", seed="1"), registry)
    assert np.isnan(experiment.evaluation.test_accuracy).all()


def test_softmax_at_huge_learning_rates_does_not_raise(registry):
    experiment = Experiment(_config(registry, dataset="spiral-3", learningRate=10, batchSize=1, networkShape=[8] * 6,
                                    activation="relu", seed="1"), registry)  # fmt: skip
    with np.errstate(all="raise"):
        experiment.step(5)
    assert np.isfinite(experiment.train_loss) != experiment.diverged


def test_a_probability_that_underflows_is_reported_as_divergence(registry):
    """Logits 745 apart make exp underflow to 0: -log(0) is an infinite loss, shown as divergence."""
    experiment = Experiment(_config(registry, dataset="blobs-3", seed="1"), registry)
    first = experiment.output_nodes[0]
    with np.errstate(all="raise"):
        experiment.set_bias(first, 1e4)
        assert experiment.diverged and np.isinf(experiment.train_loss)
        experiment.step(1)  # trains on, NaN or not, without raising
    experiment.reset()
    assert not experiment.diverged


# -- optimizers ------------------------------------------------------------------------------------------


def test_optimizer_memory_is_kept_on_regenerate_and_cleared_on_reset(registry):
    experiment = Experiment(_config(registry, optimizer="adam", seed="3", learningRate=0.01), registry)
    experiment.step(2)
    moments = experiment.params.moments(2).copy()
    assert moments.any() and experiment.params.updates[0] == 50  # 250 points in batches of 10, twice
    experiment.regenerate()
    assert np.array_equal(experiment.params.moments(2), moments)
    experiment.reset()
    assert not experiment.params.moments(2).any() and experiment.params.updates[0] == 0


def test_an_optimizer_change_resets_the_network(registry):
    experiment = Experiment(_config(registry, seed="3"), registry)
    experiment.step(2)
    assert experiment.apply(optimizer="momentum") == "reset"
    assert experiment.epoch == 0


def test_momentum_and_adam_learn_faster_than_plain_descent_at_a_small_rate(registry):
    losses = {}
    for optimizer in ("sgd", "momentum", "adam"):
        cohort = Cohort([_config(registry, optimizer=optimizer, seed=f"0.{i}", learningRate=0.01) for i in range(8)],
                        registry)  # fmt: skip
        cohort.step(20)
        losses[optimizer] = np.median(cohort.evaluations[-1].test_loss)
    assert losses["momentum"] < losses["sgd"] and losses["adam"] < losses["sgd"]


# -- a third party's hinge loss, and numpy-only heads ---------------------------------------------------------


def _hinge(a, t):
    return np.maximum(0.0, 1.0 - a * t).sum(axis=-1)


def _hinge_derivative(a, t, out=None):
    result = np.where(a * t < 1.0, -t, 0.0)
    result[np.isnan(a)] = np.nan
    if out is None:
        return result
    np.copyto(out, result)
    return out


def _log_softmax_head():
    """Softmax written only in numpy (no exact forms): trains on the vectorized engine."""

    def output(z, out=None):
        shifted = z - z.max(axis=-1, keepdims=True)
        e = np.exp(shifted)
        result = e / e.sum(axis=-1, keepdims=True)
        if out is None:
            return result
        np.copyto(out, result)
        return out

    def backward(z, a, g, out=None):
        result = a * (g - (a * g).sum(axis=-1, keepdims=True))
        if out is None:
            return result
        np.copyto(out, result)
        return out

    return Head("np-softmax", "Softmax (numpy)", "classification", "square", output=output, backward=backward,
                per_class=True)  # fmt: skip


@pytest.fixture(scope="module")
def third_party():
    class Plugin:
        @hookimpl
        def register_losses(self, register):
            register(Loss("hinge", "Hinge", _hinge, _hinge_derivative, heads=("tanh",)))

        @hookimpl
        def register_heads(self, register):
            register(_log_softmax_head())

        @hookimpl
        def register_optimizers(self, register):
            register(Optimizer("sign", "Sign descent", lambda grad, count, lr, is_weight, state, t: lr * np.sign(grad)))

    host = PluginHost.load(entry_points=False, extra=[(Plugin(), "third-party")])
    assert not host.failures
    return host.registry


def test_a_third_party_hinge_loss_trains_the_playground_head(third_party):
    from courseware.testing import check_loss

    check_loss(third_party.loss("hinge"), third_party)
    experiment = Experiment(_config(third_party, loss="hinge", seed="0.4", learningRate=0.1), third_party)
    assert experiment.parts.output.head.name == "tanh" and not experiment.engine.exact
    experiment.step(30)
    assert experiment.evaluation.test_accuracy[0] > 0.9
    with pytest.raises(ConfigError, match="hinge.*does not fit 3 classes: it needs the head tanh"):
        _config(third_party, loss="hinge", dataset="spiral-3")


def test_a_numpy_only_head_and_optimizer_train_on_the_vectorized_engine(third_party):
    from courseware.testing import check_head, check_optimizer

    check_head(third_party.head("np-softmax"), third_party)
    check_optimizer(third_party.optimizer("sign"))
    # The built-in softmax comes first; a numpy head is used when it is the first that fits.
    assert resolve_output(third_party, third_party.problem("classification"),
                          third_party.dataset("blobs-3")).head.name == "softmax"  # fmt: skip
    config = _config(third_party, dataset="blobs-3", seed="2", optimizer="sign", learningRate=0.01)
    experiment = Experiment(config, third_party)
    assert not experiment.engine.exact
    experiment.step(10)
    assert experiment.evaluation.test_accuracy[0] > 0.9


def test_numpy_only_head_matches_the_built_in_softmax(registry, third_party):
    config = _config(registry, dataset="spiral-3", seed="9", loss="square", learningRate=0.1)
    exact = Experiment(config, registry)
    numpy_run = Experiment(config, registry)
    hyper = numpy_run.engine.hyper
    output = replace(hyper.output, head=third_party.head("np-softmax"))
    numpy_run.engine = VectorizedEngine(numpy_run.params, Hyper(hyper.hidden, output, hyper.learning_rate, hyper.regularizer,
                                        hyper.regularization_rate, hyper.batch_size, hyper.optimizer), *_data(numpy_run))  # fmt: skip
    exact.step(5)
    numpy_run.step(5)
    assert np.allclose(exact.params.flat, numpy_run.params.flat, rtol=1e-7, atol=1e-9)


def test_an_uncompilable_exact_head_falls_back(registry, caplog):
    softmax = registry.head("softmax")

    def uncompilable(z, out):
        out[:] = np.exp(z, where=z > 0)

    class Plugin:
        @hookimpl
        def register_heads(self, register):
            register(replace(softmax, name="odd-softmax", exact_output=uncompilable), replace=False)

    host = PluginHost.load(entry_points=False, extra=[(Plugin(), "odd")])
    head = host.registry.head("odd-softmax")
    output = resolve_output(host.registry, host.registry.problem("classification"), host.registry.dataset("blobs-3"))
    experiment = Experiment(_config(registry, dataset="blobs-3", seed="1"), registry)
    hyper = experiment.engine.hyper
    from courseware.engine import build_engine

    engine = build_engine(experiment.params, replace(hyper, output=replace(output, head=head)), *_data(experiment))
    assert not engine.exact and "numba cannot compile" in caplog.text


def test_activation_of_a_head_must_exist(registry):
    host = PluginHost.load(entry_points=False, extra=[(_Registers(Head("ghost", "Ghost", "classification", "square",
                                                                       activation="nope")), "ghost")])  # fmt: skip
    from courseware.testing import check_head

    with pytest.raises(Exception, match="unknown activation 'nope'"):
        check_head(host.registry.head("ghost"), host.registry)


class _Registers:
    def __init__(self, head):
        self.head = head

    @hookimpl
    def register_heads(self, register):
        register(self.head)


def test_numpy_only_activation_of_the_output_head(registry):
    """A head by activation whose activation has no exact form trains on the vectorized engine."""
    tanh = registry.activation("tanh")
    numpy_tanh = Activation("np-tanh-out", "tanh", tanh.output, tanh.derivative)
    experiment = Experiment(_config(registry, seed="1"), registry)
    hyper = experiment.engine.hyper
    from courseware.engine import build_engine

    engine = build_engine(experiment.params, replace(hyper, output=replace(hyper.output, activation=numpy_tanh)),
                          *_data(experiment))  # fmt: skip
    assert not engine.exact
