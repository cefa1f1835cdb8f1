"""Engine invariants: cohort members equal single runs, divergence is a state, L1 kills links, and
components without an exact form still train (on the vectorized engine)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from courseware import Activation, Regularizer, hookimpl
from courseware import config as config_module
from courseware.experiment import Cohort, Experiment
from courseware.plugins import PluginHost
from nodemaps import node_maps

ACTIVATIONS = ["relu", "tanh", "sigmoid", "linear"]


def _config(registry, **changes):
    limits = config_module.Limits(max_batch_size=1000, max_perc_train=100)
    return config_module.from_mapping(changes, registry, limits=limits)


member = st.fixed_dictionaries(
    {
        "seed": st.text(alphabet="0123456789.ab", min_size=1, max_size=8),
        "activation": st.sampled_from(ACTIVATIONS),
        "learningRate": st.sampled_from([0.001, 0.01, 0.03, 0.1, 0.3, 3]),
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


def _same_as_single_runs(registry, configs, cohort: Cohort, epochs: int) -> None:
    train, test = cohort.losses()
    for k, config in enumerate(configs):
        single = Experiment(config, registry)
        single.step(epochs)
        assert np.array_equal(single.params.flat[0], cohort.params.flat[k], equal_nan=True)
        assert np.array_equal(np.array(single.history.pairs())[:, 0], train[:, k], equal_nan=True)
        assert np.array_equal(np.array(single.history.pairs())[:, 1], test[:, k], equal_nan=True)
        assert single.params.dead_links() == cohort.params.dead_links(k)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shared=shared, members=st.lists(member, min_size=1, max_size=6))
def test_each_cohort_member_equals_its_single_run(registry, shared, members):
    """Members with different activations and regularizers train in separate lockstep groups; every
    member still gives exactly the numbers it gives alone."""
    configs = [_config(registry, **shared, **m) for m in members]
    cohort = Cohort(configs, registry)
    assert cohort.engine.exact
    cohort.step(3)
    _same_as_single_runs(registry, configs, cohort, 3)


def test_training_in_one_call_equals_epoch_by_epoch(registry):
    """The carry of a partial batch survives between kernel calls, and several epochs in one call
    (a cohort stepped without recording) are the same epochs one at a time."""
    configs = [_config(registry, seed=s, batchSize=7, learningRate=0.3) for s in ("a", "b")]
    at_once, by_epoch = Cohort(configs, registry), Cohort(configs, registry)
    at_once.step(5, record=False)
    by_epoch.step(5)
    assert np.array_equal(at_once.params.flat, by_epoch.params.flat)
    assert at_once.engine.carry_count == by_epoch.engine.carry_count == 250 % 7  # counted from each epoch start


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
    assert np.isnan(node_maps(experiment)[experiment.output_node]).any(), "drawn grey, as the original"
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


def test_cohort_rejects_members_with_different_architectures(registry):
    from courseware.errors import ConfigError

    with pytest.raises(ConfigError, match="networkShape"):
        Cohort([_config(registry), _config(registry, networkShape=[3])], registry)


# -- components without an exact form: the vectorized engine -----------------------------------------


def _numpy_twin(activation: Activation) -> Activation:
    return Activation(f"np-{activation.name}", activation.label, activation.output, activation.derivative)


@pytest.fixture(scope="module")
def numpy_registry(registry):
    """The built-ins plus numpy-only twins of the four activations and of L2, as a third-party plugin
    written without exact forms would register them."""

    class NumpyOnly:
        @hookimpl
        def register_activations(self, register):
            for name in ACTIVATIONS:
                register(_numpy_twin(registry.activation(name)))

        @hookimpl
        def register_regularizers(self, register):
            l2 = registry.regularizer("L2")
            register(Regularizer("np-L2", "L2", l2.penalty, l2.derivative))

    return PluginHost.load(entry_points=False, extra=[(NumpyOnly(), "numpy-only")]).registry


def test_numpy_only_activation_trains_on_the_vectorized_engine(numpy_registry):
    experiment = Experiment(_config(numpy_registry, activation="np-tanh", seed="5", learningRate=0.1), numpy_registry)
    assert not experiment.engine.exact
    experiment.step(20)
    assert experiment.train_loss < experiment.history.train[0] - 0.1, "it learns"
    exact = Experiment(_config(numpy_registry, activation="tanh", seed="5", learningRate=0.1), numpy_registry)
    exact.step(20)
    assert exact.engine.exact
    assert np.allclose(experiment.params.flat, exact.params.flat, rtol=1e-9, atol=1e-12), "same rule, other rounding"


def test_numpy_only_regularizer_trains_on_the_vectorized_engine(numpy_registry):
    experiment = Experiment(_config(numpy_registry, regularization="np-L2", regularizationRate=0.01, seed="6"),
                            numpy_registry)  # fmt: skip
    assert not experiment.engine.exact
    experiment.step(5)
    assert np.isfinite(experiment.params.flat).all()


def test_an_exact_form_numba_cannot_compile_falls_back_to_numpy(registry, caplog):
    """Exact forms are compiled when the engine is built; one numba rejects leaves the activation
    training on the vectorized engine rather than failing, and says so in the log."""
    tanh = registry.activation("tanh")

    def uncompilable(z, out):
        out[:] = np.tanh(z, out=out, where=z > 0)  # ufunc keywords numba does not support

    class Plugin:
        @hookimpl
        def register_activations(self, register):
            register(Activation("odd", "Odd", tanh.output, tanh.derivative, exact=uncompilable,
                                exact_derivative=tanh.exact_derivative))  # fmt: skip

    odd_registry = PluginHost.load(entry_points=False, extra=[(Plugin(), "odd")]).registry
    experiment = Experiment(_config(odd_registry, activation="odd", seed="7"), odd_registry)
    assert not experiment.engine.exact
    assert "numba cannot compile" in caplog.text and "uncompilable" in caplog.text
    experiment.step(2)
    assert np.isfinite(experiment.params.flat).all()


@pytest.mark.parametrize("k", [3, 9])
def test_vectorized_members_equal_single_runs(numpy_registry, k):
    """Both layouts of the vectorized engine (few members: augmented views; from WIDE_FROM members:
    contiguous buffers) give each member its single run's numbers."""
    from courseware.vectorized import WIDE_FROM

    variants = [("np-relu", "none", 0.03), ("np-tanh", "L1", 0.1), ("np-sigmoid", "np-L2", 0.3), ("np-linear", "none", 0.01)]
    configs = [
        _config(numpy_registry, seed=f"s{i}", activation=act, regularization=reg, regularizationRate=0.01,
                learningRate=lr, networkShape=[3, 2], batchSize=7)
        for i, (act, reg, lr) in enumerate((variants * 3)[:k])
    ]  # fmt: skip
    cohort = Cohort(configs, numpy_registry)
    assert not cohort.engine.exact and cohort.engine._batches[0].wide == (k >= WIDE_FROM)
    cohort.step(4)
    _same_as_single_runs(numpy_registry, configs, cohort, 4)


def test_warm_up_compiles_every_exact_form_and_survives_broken_plugins(registry):
    """What a server runs on a thread as it starts: afterwards building an exact engine compiles
    nothing; a feature that raises or an exact form numba rejects does not stop it."""
    from courseware import Feature, jit
    from courseware.engine import warm_up

    def broken(x, y):
        raise ValueError("no feature today")

    def uncompilable(z, out):
        out[:] = np.tanh(z, out=out, where=z > 0)

    tanh = registry.activation("tanh")

    class Broken:
        @hookimpl
        def register_features(self, register):
            register(Feature("broken", "Broken", broken))

        @hookimpl
        def register_activations(self, register):
            register(Activation("odd", "Odd", tanh.output, tanh.derivative, exact=uncompilable,
                                exact_derivative=tanh.exact_derivative))  # fmt: skip

    broken_registry = PluginHost.load(entry_points=False, extra=[(Broken(), "broken")]).registry
    warm_up(broken_registry)
    for activation in registry.all("activations"):
        assert (activation.exact, jit.OUTPUT_FORM) in jit._compiled
        assert (activation.exact_derivative, jit.DERIVATIVE_FORM) in jit._compiled
    assert jit._compiled[(uncompilable, jit.OUTPUT_FORM)] is None


@pytest.mark.parametrize("max_lanes", [1, 2, 5, 64])
def test_the_lane_layout_never_changes_a_number(registry, max_lanes):
    """However a pass is cut (several passes per mini-batch, several chunks of networks, a last chunk
    smaller than the others), every network gets the numbers it gets alone."""
    configs = [_config(registry, seed=f"lanes{i}", batchSize=3, learningRate=0.3, activation=act,
                       regularization="L1", regularizationRate=0.01, networkShape=[3, 2])
               for i, act in enumerate(["tanh", "tanh", "sigmoid", "tanh", "relu", "tanh", "tanh"])]  # fmt: skip
    cohort = Cohort(configs, registry)
    cohort.engine._max_lanes = max_lanes
    cohort.evaluations = [cohort.engine.evaluate()]
    cohort.step(3)
    _same_as_single_runs(registry, configs, cohort, 3)
