"""Deliberately broken plugins: a component that raises on a page is named, switched off for that page
only, and the page carries on; other pages never notice."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from courseware import Activation, Dataset, Feature, hookimpl
from courseware.plugins import PluginHost


class Flaky:
    """An activation that works for a while, then raises; a dataset that never works; a feature that
    works on the data but fails on the 100×100 grid of the maps."""

    def __init__(self, calls_before_failing: int) -> None:
        self.calls = 0
        self.limit = calls_before_failing

    def flaky(self, z, out=None):
        self.calls += 1
        if self.calls > self.limit:
            raise FloatingPointError("flaky gave up")
        return np.tanh(z, out=out)

    @hookimpl
    def register_activations(self, register):
        register(Activation("flaky", "Flaky", self.flaky, lambda z, a, out=None: np.subtract(1, a * a, out=out)))

    @hookimpl
    def register_datasets(self, register):
        def broken(rng, n, noise):
            raise OSError("the dataset file is missing")

        register(Dataset("broken", "Broken", "classification", broken))

    @hookimpl
    def register_features(self, register):
        def grid_shy(x, y):
            if np.size(x) == 10_000:
                raise MemoryError("too many points")
            return x * 0.5

        register(Feature("halfX", "X_1/2", grid_shy))


@pytest.fixture
def flaky_registry():
    def make(calls_before_failing: int = 10**9):
        plugin = Flaky(calls_before_failing)
        return PluginHost.load(entry_points=False, extra=[(plugin, "flaky-plugin")]).registry, plugin

    return make


def test_an_activation_that_raises_mid_play_is_named_and_switched_off(make_page, flaky_registry, caplog):
    registry, plugin = flaky_registry()
    page = make_page(registry, dev=True, activation="flaky")
    other = make_page(registry, activation="flaky")
    assert "panel" not in page.get("notices").text, "a broken dataset or feature plugin leaves the panels on"
    plugin.limit = plugin.calls + 200  # fail during the next few epochs of training
    with caplog.at_level(logging.ERROR):
        page.session.play()
        for _ in range(20):
            page.session.tick()  # (the page's clock stands still: no frame sits out)
    notices = page.get("notices").text
    assert "activation “flaky” (from plugin &#x27;flaky-plugin&#x27;) failed: FloatingPointError: flaky gave up" in notices
    assert "switched off for this page" in notices
    assert "activation 'flaky' from plugin 'flaky-plugin'" in caplog.text
    assert not page.session.playing
    assert page.experiment.config.activation == "tanh", "the page carries on with a working activation"
    assert page.experiment.epoch == 0 and np.isfinite(page.experiment.train_loss)
    page.session.step()
    assert page.experiment.epoch == 1, "and keeps training"
    assert page.session.apply(activation="flaky") == "error"
    assert "switched off for this page" in page.get("notices").text
    plugin.limit = 10**9  # the plugin recovers: the other page never noticed anything
    other.session.step()
    assert other.experiment.config.activation == "flaky" and other.experiment.epoch == 1
    assert "activation “flaky”" not in other.get("notices").text


def test_a_dataset_that_raises_leaves_the_page_as_it_was(make_page, flaky_registry):
    registry, _ = flaky_registry()
    page = make_page(registry, dev=True)
    page.session.step()
    before = (page.experiment.config, page.experiment.epoch)
    assert page.session.apply(dataset="broken") == "error"
    assert (page.experiment.config, page.experiment.epoch) == before
    assert "dataset “broken” (from plugin &#x27;flaky-plugin&#x27;) failed: OSError" in page.get("notices").text
    assert page.session.apply(dataset="xor") == "regenerate", "the other datasets still work"


def test_a_student_reads_what_stopped_working_in_words_and_no_more(make_page, flaky_registry, caplog):
    """Plugin ids, exception names and their messages (which may hold server paths) are for the
    instructor's view and the log; a student's page says what stopped working, by its label."""
    registry, plugin = flaky_registry()
    page = make_page(registry, activation="flaky")
    plugin.limit = plugin.calls + 200
    with caplog.at_level(logging.ERROR):
        page.session.play()
        for _ in range(20):
            page.session.tick()
        assert page.session.apply(dataset="broken") == "error"
    notices = page.get("notices").text
    assert "The activation “Flaky” stopped working and is switched off for this page" in notices
    assert "The dataset “Broken” stopped working" in notices
    for detail in ("flaky-plugin", "FloatingPointError", "flaky gave up", "OSError", "the dataset file is missing"):
        assert detail not in notices and detail in caplog.text, detail
    assert page.experiment.config.activation == "tanh", "switched off all the same"


def test_a_feature_failing_in_the_maps_is_blamed_not_the_panels(make_page, flaky_registry):
    registry, _ = flaky_registry()
    page = make_page(registry, dev=True, x="false", halfX="true")
    notices = page.get("notices").text
    assert "feature “halfX” (from plugin &#x27;flaky-plugin&#x27;) failed: MemoryError" in notices
    assert "halfX" not in page.experiment.config.features
    assert all(instance.failed is None for instance in page.session.panels), "no panel was switched off"
    page.session.step()
    assert page.experiment.epoch == 1
