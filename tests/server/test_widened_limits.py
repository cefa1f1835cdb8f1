"""Widened limits reach the page's controls: ``courseware serve --max-layers/--max-neurons/
--max-batch-size`` and a lesson's ``limits:`` let the student add layers and neurons and move the batch
slider as far as the widened limits say, and no further (each control ends where its page's
configuration's limits end)."""

from __future__ import annotations

from pathlib import Path

import pytest
from bokeh.events import ButtonClick
from server_pages import Page

from courseware import settings
from courseware.settings import DEFAULT_LIMITS


def neuron_button(page: Page, action: str, layer: int) -> int:
    buttons = page.panel("network").buttons
    return list(zip(buttons.data["action"], buttons.data["layer"])).index((action, layer))


def add_neurons(page: Page, layer: int, times: int) -> None:
    for _ in range(times):
        buttons = page.panel("network").buttons
        page.tap(buttons, neuron_button(page, "add_neuron", layer))


@pytest.fixture
def served_wide(monkeypatch):
    """The limits of ``courseware serve --max-layers 10 --max-neurons 12 --max-batch-size 100``."""
    wide = DEFAULT_LIMITS.widened(layers=10, neurons=12, batchSize=100)
    monkeypatch.setattr(settings, "_page_limits", wide)
    return wide


def test_a_widened_server_lets_the_buttons_go_to_its_limits(make_page, served_wide) -> None:
    page = make_page(networkShape="8,8,8,8,8,8")
    for _ in range(6):  # 6 -> 10 layers, then the button stops
        page.click("add-layer")
    assert len(page.experiment.config.networkShape) == 10
    assert "<span>10</span> HIDDEN LAYERS" in page.get("layers").text
    add_neurons(page, 1, 6)  # 8 -> 12 neurons in the first layer, then the button stops
    assert page.experiment.config.networkShape[0] == 12


def test_a_widened_server_moves_the_batch_slider_to_its_limit(make_page, served_wide) -> None:
    page = make_page(batchSize="100")
    slider = page.get("batchSize")
    assert (slider.start, slider.end, slider.value) == (1, 100, 100)
    slider.value = 64  # as the browser sends it
    assert page.experiment.config.batchSize == 64
    slider.value = 101  # a forged value past the limit changes nothing
    assert page.experiment.config.batchSize == 64


def test_the_playground_keeps_the_playground_limits_by_default(make_page) -> None:
    page = make_page(networkShape="8,8,8,8,8,8", batchSize="100")
    assert (
        page.experiment.config.batchSize == 10
    )  # 100 is past the limit of 30: ignored, with a notice
    assert page.get("batchSize").end == 30
    page.click("add-layer")
    assert len(page.experiment.config.networkShape) == 6
    add_neurons(page, 1, 1)
    assert page.experiment.config.networkShape[0] == 8


WIDE_LESSON = """\
format: 1
id: wide
title: Wide
summary: A lesson whose network may be larger than the Playground's.
objectives: [Build a big network]
limits: {layers: 8, neurons: 10, batchSize: 60}
start:
  networkShape: [8, 8, 8, 8, 8, 8]
  batchSize: 50
steps:
  - kind: explore
    title: Free play
    text: Make it bigger.
"""


@pytest.fixture
def wide_lesson(tmp_path: Path) -> Path:
    (tmp_path / "wide.yaml").write_text(WIDE_LESSON, encoding="utf-8")
    return tmp_path


def test_a_lessons_limits_reach_its_page(builtins, wide_lesson) -> None:
    from test_lesson_page import LessonPage

    page = LessonPage(builtins, wide_lesson, "wide", lessonSeed="0.5")
    page.pump()
    config = page.experiment.config
    assert (config.networkShape, config.batchSize) == ((8,) * 6, 50)
    assert page.session.doc.select_one({"name": "batchSize"}).end == 60
    add_layer = page.session.doc.select_one({"name": "add-layer"})
    for _ in range(3):  # 6 -> 8 layers, then the button stops
        add_layer._trigger_event(ButtonClick(add_layer))
    assert len(page.experiment.config.networkShape) == 8
    for _ in range(3):  # 8 -> 10 neurons, then the button stops
        page.session.request("add_neuron", layer=1)
    assert page.experiment.config.networkShape[0] == 10
    again = page.reload()  # the address carries the bigger network, within the lesson's limits
    assert (
        again.experiment.config.networkShape[0] == 10
        and len(again.experiment.config.networkShape) == 8
    )


@pytest.fixture(scope="module")
def builtins():
    from courseware.plugins import PluginHost

    return PluginHost.load(entry_points=False).registry
