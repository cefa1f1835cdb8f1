"""The playground in headless Chromium: what a student does, checked on the page and on the server.

Glyphs on the canvases (neurons, links, thumbnails, buttons) are found from the layout module: the
plots draw one data unit per pixel, so a node's position in ``courseware.panel.geometry`` is where
the mouse goes.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from waiting import wait_until

from courseware import settings
from courseware.jsmath import js_to_fixed
from courseware.panel import geometry as geo
from courseware.settings import DEFAULT_LIMITS

pytestmark = pytest.mark.browser  # drives a real headless Chromium (see conftest.py)

QUERY = "seed=0.12345"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def box(page, css: str) -> dict:
    element = page.locator(css).first
    element.wait_for(state="visible")
    return element.bounding_box()


def network_point(page, x: float, svg_y: float) -> tuple[float, float]:
    """Screen position of a point of the network diagram (SVG coordinates, see geometry; the plot has
    a spare pixel at its left and top, see ``bare_plot``)."""
    b = box(page, ".cw-network")
    return b["x"] + 1 + (x - geo.FEATURE_PLOT_WIDTH), b["y"] + 1 + svg_y


def layout_of(session) -> geo.NetworkLayout:
    e = session.experiment
    return geo.layout_for(e.arch.node_ids, session.registry.names("features"), e.config.hidden)


def text(page, css: str) -> str:
    """The text a Bokeh Div shows (it renders inside the element's shadow root)."""
    return page.locator(css).first.evaluate(
        """(e) => e.shadowRoot
            ? [...e.shadowRoot.children].filter((c) => !["STYLE", "LINK"].includes(c.tagName))
                .map((c) => c.innerText).join("\\n")
            : e.innerText"""
    )


def epoch(page) -> int:
    match = re.search(r"(\d{3}),(\d{3})", text(page, ".cw-epoch"))
    assert match, text(page, ".cw-epoch")
    return int(match.group(1) + match.group(2))


def losses(page) -> dict[str, float]:
    content = text(page, ".cw-losses")
    return {name: float(value) for name, value in re.findall(r"(Test|Training) loss\s+([0-9.]+|NaN)", content)}


def wait_for_url(page, fragment: str) -> None:
    page.wait_for_function("(f) => window.location.search.includes(f)", arg=fragment, timeout=30_000)


def test_page_renders_everything_without_console_errors(browser) -> None:
    page = browser.open(f"/playground?{QUERY}")
    for css in (".cw-dataset-picker", ".cw-features", ".cw-network", ".cw-boundary", ".cw-loss-chart",
                ".cw-play", ".cw-step", ".cw-reset", ".cw-regenerate"):  # fmt: skip
        assert page.locator(css).first.is_visible(), css
    assert text(page, ".cw-epoch").endswith("000,000")
    assert losses(page) == {"Test": 0.518, "Training": 0.502}
    # the address bar carries the whole experiment, in the Playground's vocabulary
    wait_for_url(page, "networkShape=4,2")
    assert "seed=0.12345" in page.url and "activation=tanh" in page.url and "dataset=circle" in page.url
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "playground.png"), full_page=True)


def test_play_advances_the_epoch_and_the_loss_falls(browser) -> None:
    page = browser.open(f"/playground?{QUERY}")
    start = losses(page)["Training"]
    page.locator(".cw-play button").click()
    assert wait_until(lambda: epoch(page) >= 30, timeout=60), "the epoch counter did not advance"
    page.locator(".cw-play button").click()  # pause
    reached = epoch(page)
    assert reached >= 30
    assert wait_until(lambda: not browser.session().playing)
    assert losses(page)["Training"] < start
    session = browser.session()
    assert session.experiment.epoch >= reached


def test_step_and_reset(browser) -> None:
    page = browser.open(f"/playground?{QUERY}")
    page.locator(".cw-step button").click()
    assert wait_until(lambda: epoch(page) == 1)
    page.locator(".cw-step button").click()
    assert wait_until(lambda: epoch(page) == 2)
    page.locator(".cw-reset button").click()
    assert wait_until(lambda: epoch(page) == 0)
    assert browser.session().experiment.epoch == 0


def test_add_a_neuron_with_the_layer_button(browser) -> None:
    page = browser.open(f"/playground?{QUERY}")
    layout = layout_of(browser.session())
    centre = layout.hidden_x[0] + geo.RECT_SIZE / 2
    x, y = network_point(page, centre - 14, geo.TOP - 40)  # the "+" above the first hidden layer
    page.mouse.click(x, y)
    wait_for_url(page, "networkShape=5,2")
    assert browser.session().experiment.config.networkShape == (5, 2)
    page.locator(".cw-add-layer button").click()
    wait_for_url(page, "networkShape=5,2,2")


def test_widened_limits_reach_the_buttons_and_the_batch_slider(browser, monkeypatch) -> None:
    """``courseware serve --max-layers 10 --max-neurons 12 --max-batch-size 100``: the layer and
    neuron buttons and the batch slider go as far as the widened limits, in the browser."""
    monkeypatch.setattr(settings, "_page_limits", DEFAULT_LIMITS.widened(layers=10, neurons=12, batchSize=100))
    page = browser.open(f"/playground?{QUERY}&networkShape=8,8,8,8,8,8")
    for layers in range(7, 11):
        page.locator(".cw-add-layer button").click()
        wait_for_url(page, "networkShape=" + ",".join(["8"] * 6 + ["2"] * (layers - 6)) + "&")
    for neurons in range(9, 13):
        # the "+" above the first hidden layer; a click that lands while the diagram of ten layers is
        # still being redrawn misses it, so it is clicked again (only while the address shows no change)
        for attempt in range(3):
            layout = layout_of(browser.session())
            x, y = network_point(page, layout.hidden_x[0] + geo.RECT_SIZE / 2 - 14, geo.TOP - 40)
            page.mouse.click(x, y)
            if wait_until(lambda: browser.session().experiment.config.networkShape[0] == neurons, timeout=10):
                break
        wait_for_url(page, f"networkShape={neurons},8,")
    assert browser.session().experiment.config.networkShape == (12, 8, 8, 8, 8, 8, 2, 2, 2, 2)
    handle = page.locator(".noUi-handle").nth(2)  # the data column's sliders: ratio, noise, batch size
    assert handle.get_attribute("aria-valuemax") == "100.0"
    handle.focus()
    page.keyboard.press("End")
    wait_for_url(page, "batchSize=100&")
    assert browser.session().experiment.config.batchSize == 100


def test_switch_dataset_by_its_thumbnail(browser) -> None:
    page = browser.open(f"/playground?{QUERY}")
    b = box(page, ".cw-dataset-picker")
    # xor is the second thumbnail of the first row
    page.mouse.click(b["x"] + 44 + 10 + 22, b["y"] + 22)
    wait_for_url(page, "dataset=xor")
    session = browser.session()
    assert session.experiment.config.dataset == "xor"
    assert session.experiment.config.seed != "0.12345"  # a new dataset draws a new seed, as the original


def test_toggle_a_feature_by_its_thumbnail(browser) -> None:
    page = browser.open(f"/playground?{QUERY}")
    b = box(page, ".cw-features")
    page.mouse.click(b["x"] + geo.INPUT_CX, b["y"] + geo.node_cy(2))  # X1², the third feature
    wait_for_url(page, "xSquared=true")
    assert browser.session().experiment.config.features == ("x", "y", "xSquared")


def test_hover_a_neuron_shows_its_map(browser) -> None:
    page = browser.open(f"/playground?{QUERY}")
    session = browser.session()
    before = page.locator(".cw-boundary").first.screenshot()
    cx, cy = layout_of(session).centre(1, 0)  # neuron "1"
    x, y = network_point(page, cx, cy)
    page.mouse.move(x - 3, y - 3)
    page.mouse.move(x, y)
    assert wait_until(lambda: browser.session().selected == "1"), "hovering neuron 1 did not select it"
    after = page.locator(".cw-boundary").first.screenshot()
    assert after != before  # the big plot now shows neuron 1, not the output
    page.mouse.move(5, 5)  # leave the diagram: back to the output
    assert wait_until(lambda: browser.session().selected is None)


def test_edit_a_weight_by_clicking_its_link(browser) -> None:
    page = browser.open(f"/playground?{QUERY}")
    session = browser.session()
    xs, ys = layout_of(session).link_path(2, 0, 0)  # link 1-5, between the hidden layers
    middle = len(xs) // 2
    x, y = network_point(page, xs[middle], ys[middle])
    page.mouse.move(x, y)
    page.get_by_text("Weight is").first.wait_for()  # the hovercard text, as in the original
    page.mouse.click(x, y)
    editor = page.locator(".cw-edit-value input")
    editor.wait_for(state="visible")
    assert browser.session().editing == ("weight", "1-5")
    editor.fill("2.5")
    assert wait_until(lambda: browser.session().experiment.params.weights()["1-5"] == 2.5)
    page.locator(".cw-edit-done button").click()
    editor.wait_for(state="hidden")


def test_a_url_reproduces_the_cli_experiment(browser) -> None:
    state = "dataset=spiral&activation=relu&networkShape=3,3&seed=0.777&learningRate=0.1&xTimesY=true&batchSize=7"
    command = [sys.executable, "-c", "from courseware.cli import main; main()", "train", "--state", state,
               "--epochs", "0", "--format", "json"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    train, test = json.loads(result.stdout)["losses"][0]
    page = browser.open(f"/playground?{state}")
    assert losses(page) == {"Test": float(js_to_fixed(test, 3)), "Training": float(js_to_fixed(train, 3))}
    session = browser.session()
    assert session.experiment.train_loss == train and session.experiment.test_loss == test
    weights = json.loads(result.stdout)["initial"]["weights"]
    np.testing.assert_array_equal(
        [session.experiment.params.weights()[k] for k in weights], list(weights.values())
    )


def test_a_playground_hash_link_is_understood(browser) -> None:
    page = browser.open("/playground#dataset=gauss&seed=0.5&networkShape=2")
    wait_for_url(page, "dataset=gauss")
    assert "networkShape=2&" in page.url
    assert browser.session().experiment.config.dataset == "gauss"


def test_bad_url_shows_a_notice(browser) -> None:
    page = browser.open("/playground?networkShape=1000000&activation=nope&seed=0.1")
    page.locator(".cw-notices").first.wait_for(state="visible")
    notice = text(page, ".cw-notices")
    assert "networkShape" in notice and "activation" in notice


def test_index_links_to_the_playground(browser) -> None:
    page = browser.context.new_page()
    page.on("pageerror", lambda e: browser.errors.append(f"page error: {e}"))
    page.goto(browser.base + "/")
    with page.expect_console_message(lambda m: "document idle" in m.text, timeout=60_000):
        page.get_by_text("Open the free playground").click()
    assert "/playground" in page.url
