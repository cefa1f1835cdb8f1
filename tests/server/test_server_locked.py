"""Locked controls and starting over from a configuration: what the lesson page asks of a session.

A locked control is shown but cannot be used: its widget is disabled and a panel's request for it is
refused (``PlaygroundSession.lock``). ``PlaygroundSession.load`` starts the experiment over from a
configuration exactly as a page opened on it would.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from server_pages import Page

from courseware import config as cfg
from courseware import panel as ctx
from courseware.experiment import Experiment


def network_buttons(page: Page) -> list[str]:
    return list(page.panel("network").buttons.data["action"])


def test_locked_widgets_are_shown_but_disabled(page: Page) -> None:
    page.session.lock({"learningRate", "numHiddenLayers", "playButton"})
    for name in ("learningRate", "add-layer", "remove-layer", "play"):
        widget = page.get(name)
        assert widget.visible and widget.disabled, name
    for name in ("activation", "noise", "reset", "step"):
        assert not page.get(name).disabled, name
    page.session.lock(())
    assert not any(page.get(n).disabled for n in ("learningRate", "add-layer", "remove-layer", "play"))


def test_locked_neurons_refuse_the_buttons_and_leave_them_out(page: Page) -> None:
    assert "add_neuron" in network_buttons(page)
    page.session.lock({"neurons"})
    assert network_buttons(page) == []
    page.session.request("add_neuron", layer=1)
    page.session.request("remove_neuron", layer=2)
    assert page.experiment.config.networkShape == (4, 2)
    page.session.lock(set())
    assert "add_neuron" in network_buttons(page)
    page.session.request("add_neuron", layer=1)
    assert page.experiment.config.networkShape == (5, 2)


def test_locked_features_datasets_layers_and_weights_refuse_their_requests(page: Page) -> None:
    session = page.session
    session.lock({"xSquared", "dataset", "numHiddenLayers", "weights"})
    session.request("toggle_feature", name="xSquared")
    session.request("select_dataset", name="xor")
    session.request("add_layer")
    session.request("edit_weight", link="1-5")
    config = page.experiment.config
    assert config.features == ("x", "y") and config.dataset == "circle" and config.networkShape == (4, 2)
    assert session.editing is None
    session.request("toggle_feature", name="ySquared")  # not locked
    assert page.experiment.config.features == ("x", "y", "ySquared")
    session.lock({"features"})  # every feature
    session.request("toggle_feature", name="ySquared")
    assert page.experiment.config.features == ("x", "y", "ySquared")


def test_locking_weights_closes_an_open_editor(page: Page) -> None:
    page.session.request("edit_weight", link="1-5")
    assert page.session.editing == ("weight", "1-5") and page.get("edit-value").visible
    page.session.lock({"weights"})
    assert page.session.editing is None and not page.get("edit-value").visible


def test_panels_see_the_locked_controls(page: Page) -> None:
    frames: list[ctx.Frame] = []
    page.session.on_frame(frames.append)
    page.session.lock({"neurons", "dataset"})
    assert frames[-1].locked == frozenset({"neurons", "dataset"})


def test_load_starts_over_as_a_page_opened_on_the_configuration(page: Page, registry) -> None:
    page.session.step()
    page.session.play()
    config = replace(cfg.default(registry, seed="0.777"), networkShape=(3,), activation="relu", hidden=("noise",))
    page.session.load(config)
    expected = Experiment(config, registry)
    e = page.experiment
    assert not page.session.playing and e.epoch == 0 and e.config == config
    np.testing.assert_array_equal(e.params.flat, expected.params.flat)
    np.testing.assert_array_equal(e.points.train, expected.points.train)
    assert page.session.state.query == config.to_query(registry)
    assert "000,000" in page.epoch_text() and not page.get("noise").visible
    assert page.panel("network").structure[0] == expected.arch.node_ids  # the panels follow
    e.step(2)  # it trains on as the engine does
    expected.step(2)
    np.testing.assert_array_equal(e.params.flat, expected.params.flat)
