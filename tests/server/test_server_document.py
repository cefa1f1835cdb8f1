"""The playground document, built on a bare Bokeh ``Document``: every control, every panel, against the engine.

Each test acts on the page as the browser would (a widget value, a button click event, a tap that
selects a glyph, the hover channel) and compares what the models then hold (epoch counter, loss text,
heatmap palette indices, link values and widths) with an :class:`Experiment` driven directly.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
from server_pages import SEED, Page
from waiting import ManualClock

from courseware import Visualizer, hookimpl
from courseware import panel as ctx
from courseware.jsmath import js_number
from courseware.plugins import PluginHost
from courseware.jsmath import js_to_fixed
from courseware.server import session as session_module
from courseware import shades
from courseware.server.controls import epoch_text
from courseware.server.html import text
from nodemaps import node_maps


def output_image(page: Page) -> np.ndarray:
    return page.panel("boundary").image.data["image"][0]


def expected_image(experiment, node: str | None = None) -> np.ndarray:
    """The palette indices BokehJS's colour mapper would give the engine's float32 map."""
    image = node_maps(experiment, np.float32)[node or experiment.output_node].T
    # the checkbox applies to every map, as in the original
    return shades.reference_shades(image, discretize=experiment.config.discretize)


def assert_matches_engine(page: Page, ref) -> None:
    """The page shows exactly what the engine computed."""
    e = page.experiment
    assert e.epoch == ref.epoch
    assert e.config == ref.config
    np.testing.assert_array_equal(e.params.flat, ref.params.flat)
    assert e.train_loss == ref.train_loss or (np.isnan(e.train_loss) and np.isnan(ref.train_loss))
    assert epoch_text(ref.epoch) in page.epoch_text()
    text = page.loss_text()
    assert f"Training loss</span> <b>{js_to_fixed(ref.train_loss, 3)}</b>" in text
    if "percTrainData" not in ref.config.hidden:
        assert f"Test loss</span> <b>{js_to_fixed(ref.test_loss, 3)}</b>" in text
    np.testing.assert_array_equal(output_image(page), expected_image(ref))
    net = page.panel("network").net.data
    links = page.net_rows("link")
    weights = ref.params.weight_vector()
    assert list(np.array(net["id"])[links]) == list(ref.arch.link_ids)
    np.testing.assert_array_equal(net["v"][links], weights.astype(np.float32))
    expected_width = np.clip(1 + 1.8 * np.abs(weights), 1, 10).astype(np.float32)
    np.testing.assert_allclose(net["width"][links], expected_width, rtol=1e-6)
    nodes = page.net_rows("node")
    hidden = [n for layer in ref.arch.node_ids[1:-1] for n in layer]
    assert list(np.array(net["id"])[nodes]) == hidden
    biases = ref.params.biases()
    np.testing.assert_array_equal(net["v"][nodes], np.array([biases[n] for n in hidden], np.float32))
    assert page.session.state.query == ref.config.to_query(page.registry)


# -- the page as it opens ------------------------------------------------------------------------------


def test_initial_page_shows_the_engine_state(page: Page, reference) -> None:
    ref = reference()
    assert_matches_engine(page, ref)
    assert "000,000" in page.epoch_text()
    # the Playground's reference numbers for this seed (playground.md §9): 0.518 test, 0.502 train
    assert "<b>0.518</b>" in page.loss_text() and "<b>0.502</b>" in page.loss_text()
    assert "accuracy" in page.loss_text()  # classification shows accuracy next to the loss


def test_node_thumbnails_are_block_means_of_the_maps(page: Page, reference) -> None:
    ref = reference()
    maps = node_maps(ref, np.float32)
    pixels = page.panel("network").pixels.data["shade"].reshape(-1, 10, 10)
    hidden = [n for layer in ref.arch.node_ids[1:-1] for n in layer]
    for index, node in enumerate(hidden):
        image = maps[node].T.astype(np.float64)  # rows are y, top first
        means = image.reshape(10, 10, 10, 10).mean(axis=(1, 3))
        np.testing.assert_array_equal(pixels[index], shades.reference_shades(means))


def test_feature_thumbnails_cover_every_feature(page: Page, registry) -> None:
    source = page.panel("features").source.data
    assert list(source["name"]) == registry.names("features")
    assert len(source["image"]) == len(registry.names("features"))
    on = dict(zip(source["name"], source["line_alpha"]))
    assert on["x"] == 1 and on["y"] == 1 and on["xSquared"] == 0


def test_dataset_picker_offers_the_problem_types_datasets(page: Page, registry) -> None:
    cells = page.panel("datasets").cells.data
    assert list(cells["name"]) == [d.name for d in registry.datasets_for("classification")]
    selected = [name for name, line in zip(cells["name"], cells["line"]) if line == "#000000"]
    assert selected == ["circle"]


# -- the player ---------------------------------------------------------------------------------------


def test_step_trains_one_epoch_and_updates_everything(page: Page, reference) -> None:
    ref = reference()
    page.click("step")
    ref.step(1)
    assert_matches_engine(page, ref)
    assert "000,001" in page.epoch_text()
    chart = page.panel("loss").source.data
    assert list(chart["epoch"]) == [0, 1]
    np.testing.assert_allclose(chart["train"], ref.history.train)


def test_play_runs_frames_until_paused(page: Page, reference, monkeypatch) -> None:
    monkeypatch.setattr(session_module, "FRAME_BUDGET_S", 60.0)
    ref = reference()
    page.click("play")
    assert page.session.playing and page.get("play").label == "❚❚"
    assert page.experiment.epoch == 1  # the first frame comes with the click
    page.get("speed").value = "5"
    for _ in range(3):
        page.session.tick()
    ref.step(16)
    page.click("play")
    assert not page.session.playing and page.get("play").label == "▶"
    assert_matches_engine(page, ref)
    chart = page.panel("loss").source.data
    assert list(chart["epoch"]) == list(range(17))  # every epoch's losses reach the chart
    np.testing.assert_allclose(chart["test"], np.array(ref.history.test, np.float64), rtol=1e-6)


def test_a_frame_stops_adding_epochs_when_its_time_budget_is_spent(make_page, monkeypatch) -> None:
    clock = ManualClock(tick=0.010)  # every epoch "takes" 10 ms or more
    page = make_page(clock=clock)
    monkeypatch.setattr(session_module, "FRAME_BUDGET_S", 0.015)
    page.session.set_speed(50)
    page.session.play()  # its first frame: two epochs, then the budget is spent
    assert page.experiment.epoch == 2
    page.session.tick()  # that frame ran over budget: the session sits out as long as it took
    assert page.experiment.epoch == 2
    clock.advance(1.0)
    page.session.tick()
    assert page.experiment.epoch == 4  # each frame: at least one epoch, then the budget stops it


# -- every control, with the Playground's reactions (playground.md §6) -------------------------------------


CONTROLS = [
    # widget, attribute, widget value, the Playground key and value, expected reaction
    ("learningRate", "value", "0.1", "learningRate", 0.1, "none"),
    ("activation", "value", "relu", "activation", "relu", "reset"),
    ("regularization", "value", "L1", "regularization", "L1", "reset"),
    ("regularizationRate", "value", "0.01", "regularizationRate", 0.01, "reset"),
    ("batchSize", "value", 5, "batchSize", 5, "reset"),
    ("noise", "value", 10, "noise", 10, "regenerate"),
    ("percTrainData", "value", 70, "percTrainData", 70, "regenerate"),
    ("problem", "value", "regression", "problem", "regression", "regenerate"),
    ("showTestData", "active", [0], "showTestData", True, "none"),
    ("discretize", "active", [0], "discretize", True, "none"),
]


@pytest.mark.parametrize(("widget", "attr", "value", "key", "setting", "reaction"), CONTROLS)
def test_each_control_reacts_as_the_playground(page: Page, reference, widget, attr, value, key, setting, reaction) -> None:
    ref = reference()
    page.click("step")
    page.click("step")
    ref.step(2)
    setattr(page.get(widget), attr, value)
    assert ref.apply(**{key: setting}) == reaction
    assert_matches_engine(page, ref)
    if reaction == "none":
        assert page.experiment.epoch == 2
    else:
        assert page.experiment.epoch == 0 and not page.session.playing
    if reaction == "regenerate":
        assert page.experiment.config.seed != SEED


def test_changing_a_setting_while_playing_resets_and_pauses(page: Page) -> None:
    page.click("play")
    page.get("activation").value = "sigmoid"
    assert not page.session.playing and page.experiment.epoch == 0


def test_learning_rate_change_keeps_playing(page: Page) -> None:
    page.click("play")
    page.get("learningRate").value = "0.3"
    assert page.session.playing and page.experiment.epoch == 1


def test_regenerate_keeps_network_epoch_and_play(page: Page, reference) -> None:
    ref = reference()
    page.click("play")
    ref.step(1)
    page.click("regenerate")
    ref.regenerate()
    assert page.session.playing
    assert page.experiment.config.seed == ref.config.seed != SEED
    page.click("play")
    assert_matches_engine(page, ref)


def test_reset_draws_new_weights_from_the_stream(page: Page, reference) -> None:
    ref = reference()
    page.click("step")
    ref.step(1)
    page.click("reset")
    ref.reset()
    assert_matches_engine(page, ref)
    # playground.md §0: after one Reset the first weight of seed 0.12345 is 0.1292963805901839
    assert page.experiment.params.weights()["x-1"] == pytest.approx(0.1292963805901839, abs=0)


def test_problem_change_shows_the_regression_datasets_without_accuracy(page: Page, registry) -> None:
    page.get("problem").value = "regression"
    cells = page.panel("datasets").cells.data
    assert list(cells["name"]) == [d.name for d in registry.datasets_for("regression")]
    assert "accuracy" not in page.loss_text()


def test_show_test_data_and_discretize(page: Page, reference) -> None:
    boundary = page.panel("boundary")
    assert not boundary.test_points.visible
    assert len(boundary.test.data["x"]) == len(page.experiment.points.test)
    page.get("showTestData").active = [0]
    assert boundary.test_points.visible
    page.get("discretize").active = [0]
    image = output_image(page)
    assert set(np.unique(image)) <= {0, shades.NUM_SHADES - 1}  # the two ends of the scale: -1 and 1
    ref = reference()
    float_map = node_maps(ref, np.float32)[ref.output_node].T
    np.testing.assert_array_equal(image, np.where(float_map >= 0, shades.NUM_SHADES - 1, 0))


# -- the panels' own controls (taps, hovers, the value editor) ----------------------------------------------


def test_tapping_a_feature_toggles_it(page: Page, reference) -> None:
    ref = reference()
    source = page.panel("features").source
    page.tap(source, list(source.data["name"]).index("xSquared"))
    ref.apply(features=("x", "y", "xSquared"))
    assert_matches_engine(page, ref)
    page.tap(source, list(source.data["name"]).index("x"))
    ref.apply(features=("y", "xSquared"))
    assert_matches_engine(page, ref)
    assert source.selected.indices == []  # cleared so the same thumbnail can be tapped again


def test_tapping_a_dataset_selects_it(page: Page, reference) -> None:
    ref = reference()
    cells = page.panel("datasets").cells
    page.tap(cells, list(cells.data["name"]).index("xor"))
    assert ref.apply(dataset="xor") == "regenerate"
    assert_matches_engine(page, ref)
    page.tap(cells, list(cells.data["name"]).index("xor"))  # the same one: nothing happens
    assert_matches_engine(page, ref)


def test_layer_and_neuron_buttons(page: Page, reference) -> None:
    ref = reference()
    page.click("add-layer")
    ref.apply(networkShape=(4, 2, 2))
    assert_matches_engine(page, ref)
    buttons = page.panel("network").buttons
    rows = list(zip(buttons.data["action"], buttons.data["layer"]))
    page.tap(buttons, rows.index(("add_neuron", 1)))
    ref.apply(networkShape=(5, 2, 2))
    assert_matches_engine(page, ref)
    page.tap(buttons, rows.index(("remove_neuron", 2)))
    ref.apply(networkShape=(5, 1, 2))
    assert_matches_engine(page, ref)
    assert "<span>3</span> HIDDEN LAYERS" in page.get("layers").text
    for shape in ((5, 1), (5,), ()):
        page.click("remove-layer")
        ref.apply(networkShape=shape)  # each removal is a reset: new weights from the stream
    page.click("remove-layer")  # no layers left: nothing happens
    assert_matches_engine(page, ref)
    assert "<span>0</span> HIDDEN LAYERS" in page.get("layers").text


def test_layer_and_neuron_limits(make_page) -> None:
    page = make_page(networkShape="8,8,8,8,8,8")
    page.click("add-layer")
    assert page.experiment.config.networkShape == (8,) * 6
    buttons = page.panel("network").buttons
    rows = list(zip(buttons.data["action"], buttons.data["layer"]))
    page.tap(buttons, rows.index(("add_neuron", 1)))
    assert page.experiment.config.networkShape == (8,) * 6
    page = make_page(networkShape="1")
    buttons = page.panel("network").buttons
    page.tap(buttons, list(buttons.data["action"]).index("remove_neuron"))
    assert page.experiment.config.networkShape == (1,)


def test_hovering_a_node_or_feature_shows_its_map(page: Page, reference) -> None:
    ref = reference()
    page.session.state.hovered = "5"
    np.testing.assert_array_equal(output_image(page), expected_image(ref, "5"))
    page.click("step")  # the hovered node stays shown while training
    ref.step(1)
    np.testing.assert_array_equal(output_image(page), expected_image(ref, "5"))
    page.session.state.hovered = "xTimesY"
    feature = ctx.feature_maps(page.registry)[0]["xTimesY"]
    np.testing.assert_array_equal(output_image(page), shades.reference_shades(feature))
    page.session.state.hovered = ""
    np.testing.assert_array_equal(output_image(page), expected_image(ref))


def test_editing_a_weight_and_a_bias(page: Page, reference) -> None:
    ref = reference()
    net = page.panel("network").net
    ids = list(net.data["id"])
    kinds = list(net.data["kind"])
    page.tap(net, next(i for i, (k, n) in enumerate(zip(kinds, ids)) if k == "link" and n == "y-2"))
    assert page.session.editing == ("weight", "y-2")
    editor = page.get("edit-value")
    assert editor.visible and editor.value == js_number(ref.params.weights()["y-2"])
    editor.value_input = "1.5"
    ref.set_weight("y-2", 1.5)
    assert_matches_engine(page, ref)
    editor.value_input = "1.5e"  # half-typed: ignored, nothing lost
    assert page.experiment.params.weights()["y-2"] == 1.5
    page.tap(net, next(i for i, (k, n) in enumerate(zip(kinds, ids)) if k == "node" and n == "5"))
    assert page.session.editing == ("bias", "5")
    editor.value_input = "-0.75"
    ref.set_bias("5", -0.75)
    assert_matches_engine(page, ref)
    page.click("edit-done")
    assert not editor.visible


# -- the URL ------------------------------------------------------------------------------------------------


def test_url_in_the_playground_vocabulary_sets_the_experiment(make_page, reference) -> None:
    page = make_page(dataset="xor", activation="relu", networkShape="3", xSquared="true", x="false",
                     learningRate="0.1", noise="15", batchSize="12", showTestData="true")  # fmt: skip
    ref = reference(dataset="xor", activation="relu", networkShape=(3,), features=("y", "xSquared"),
                    learningRate=0.1, noise=15, batchSize=12, showTestData=True)  # fmt: skip
    assert_matches_engine(page, ref)
    assert page.get("noise").value == 15 and page.get("learningRate").value == "0.1"
    assert not page.session.notices.items


def test_bad_url_values_are_ignored_with_a_visible_notice(make_page, reference) -> None:
    page = make_page(networkShape="1000000", activation="bogus", learningRate="abc", noise="-5", nonsense="1")
    assert_matches_engine(page, reference())
    notice = page.get("notices")
    assert notice.visible
    for key in ("networkShape", "activation", "learningRate", "noise", "nonsense"):
        assert key in notice.text


def test_absurd_sizes_are_refused(make_page) -> None:
    page = make_page(networkShape="8,8,8,8,8,8,8")
    assert page.experiment.config.networkShape == (4, 2)
    assert "networkShape" in page.get("notices").text


def test_url_values_off_the_lists_stay_selectable(make_page) -> None:
    page = make_page(learningRate="0.05", noise="80")
    assert page.get("learningRate").value == "0.05" and "0.05" in page.get("learningRate").options
    assert page.get("noise").end == 80 and page.get("noise").value == 80


def test_hidden_controls_are_hidden(make_page) -> None:
    page = make_page(learningRate_hide="true", dataset_hide="true", percTrainData_hide="true",
                     hideText="true")  # fmt: skip
    assert not page.get("learningRate").visible
    assert not page.get("percTrainData").visible
    assert not page.panel("datasets").root.visible
    assert not page.get("header").visible
    assert "Test loss" not in page.loss_text()  # the original hides the test loss with the ratio


def test_the_query_follows_every_change(page: Page) -> None:
    page.get("activation").value = "relu"
    assert "activation=relu" in page.session.state.query
    page.click("add-layer")
    assert "networkShape=4,2,2" in page.session.state.query
    page.click("regenerate")
    assert f"seed={page.experiment.config.seed}" in page.session.state.query
    assert f'href="playground?{text(page.session.state.query)}"' in page.get("share").text  # &amp; in HTML


# -- failures ----------------------------------------------------------------------------------------------


def test_divergence_shows_grey_and_a_notice_and_reset_recovers(make_page) -> None:
    page = make_page(problem="regression", learningRate="10", activation="linear")
    page.click("step")
    assert page.experiment.diverged
    assert (output_image(page) == shades.NAN_SHADE).any()  # NaN is drawn with its own colour (grey)
    assert "learning rate" in page.get("notices").text
    assert "NaN" in page.loss_text()
    page.get("learningRate").value = "0.01"
    page.click("reset")
    assert not page.experiment.diverged
    assert "diverged" not in page.get("notices").text
    page.click("step")
    assert not page.experiment.diverged


class ExplodingPlugin:
    """A third-party plugin whose panel builds fine but fails on its first update."""

    @hookimpl
    def register_visualizers(self, register):
        def create(context):
            from bokeh.models import Div

            class Panel:
                root = Div(text="about to fail", name="exploding-root")

                def update(self, frame):
                    raise ValueError("boom")

            return Panel()

        register(Visualizer("exploding", "Exploding panel", create, area="extra"))


def test_a_failing_visualizer_is_named_and_switched_off(make_page, caplog) -> None:
    host = PluginHost.load(entry_points=False, extra=[(ExplodingPlugin(), "exploding-plugin")])
    with caplog.at_level(logging.ERROR):
        page = make_page(host.registry)
        teacher = make_page(host.registry, dev=True)
    notice = page.get("notices").text
    assert "The panel “Exploding panel” stopped working and is switched off for this page" in notice
    assert "exploding-plugin" not in notice and "boom" not in notice, "a student reads words, not the exception"
    notice = teacher.get("notices").text
    assert "exploding" in notice and "exploding-plugin" in notice and "boom" in notice
    assert not page.get("exploding-root").visible
    failed = [p for p in page.session.panels if p.failed]
    assert [p.component.name for p in failed] == ["exploding"]
    assert any("exploding-plugin" in r.getMessage() and "exploding" in r.getMessage() for r in caplog.records)
    page.click("step")  # the rest keeps working
    assert "000,001" in page.epoch_text()


class HistogramPlugin:
    """The hook works for third parties: a histogram of the weights, in the page's extra row."""

    @hookimpl
    def register_visualizers(self, register):
        def create(context):
            from bokeh.models import ColumnDataSource
            from bokeh.plotting import figure

            source = ColumnDataSource({"left": [], "right": [], "count": []})
            plot = figure(width=200, height=120, name="weights-histogram", toolbar_location=None)
            plot.quad(left="left", right="right", bottom=0, top="count", source=source)

            class Panel:
                root = plot

                def update(self, frame):
                    counts, edges = np.histogram(context.experiment.params.weight_vector(), bins=10)
                    source.data = {"left": edges[:-1], "right": edges[1:], "count": counts}

            return Panel()

        register(Visualizer("weights-histogram", "Weights", create, area="extra"))


def test_a_third_party_visualizer_gets_the_hook(make_page) -> None:
    host = PluginHost.load(entry_points=False, extra=[(HistogramPlugin(), "histogram-plugin")])
    page = make_page(host.registry)
    extra = page.get("extra")
    histogram = page.get("weights-histogram")
    assert histogram in extra.children
    page.click("step")
    source = histogram.renderers[0].data_source
    counts, _ = np.histogram(page.experiment.params.weight_vector(), bins=10)
    np.testing.assert_array_equal(source.data["count"], counts)


def test_a_bad_value_from_a_control_is_a_notice(page: Page) -> None:
    page.session.apply(batchSize=0)
    assert "batchSize" in page.get("notices").text
    assert page.experiment.config.batchSize == 10


def test_destroy_releases_the_training_state(page: Page) -> None:
    page.click("play")
    assert list(page.doc.session_callbacks)  # the frame loop exists only while playing
    page.session.destroy()
    assert page.session.experiment is None and page.session.panels == [] and not page.session.playing
    page.session.tick()  # a tick that still arrives is harmless


def test_pause_removes_the_frame_loop(page: Page) -> None:
    page.click("play")
    assert list(page.doc.session_callbacks)
    page.click("play")
    assert list(page.doc.session_callbacks) == []
