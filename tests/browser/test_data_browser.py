"""Your own data, more than two classes and the optimizer, in headless Chromium (issue 13).

A student uploads a file (a good one, then a broken one), draws points on the output map and reloads
the link, trains three classes and switches the optimizer; each is checked on the page and on the
server.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from pagekit import text, wait_text
from waiting import wait_until

from courseware import scales
from courseware import shades

pytestmark = pytest.mark.browser  # drives a real headless Chromium (see conftest.py)

SEED = "0.24680"
FRAME = 260  # the output map's frame, px (plugins/panels.py)
BORDER = 4  # the map's border left and above its frame (min_border; its axis is on the right)


def three_blobs_csv(rows: int = 300) -> bytes:
    """A file of three named classes around three centres (more points than a link can carry)."""
    centres = {"ant": (-3.0, -2.0), "bee": (3.0, -2.0), "cricket": (0.0, 3.0)}
    lines = ["x,y,class"]
    for i in range(rows):
        name = list(centres)[i % 3]
        cx, cy = centres[name]
        lines.append(f"{cx + ((i * 7) % 10 - 5) / 10},{cy + ((i * 3) % 10 - 5) / 10},{name}")
    return ("\n".join(lines) + "\n").encode()


def open_own_data(page) -> None:
    page.locator(".cw-own-data button").click()
    page.locator(".cw-upload input[type=file]").wait_for(state="attached")


def upload(page, name: str, data: bytes) -> None:
    page.locator(".cw-upload input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": data}]
    )


def map_point(page, x: float, y: float) -> tuple[float, float]:
    """Screen position of the plane's point (x, y) on the output map."""
    box = page.locator(".cw-boundary").first.bounding_box()
    return (box["x"] + BORDER + (x + 6) / 12 * FRAME, box["y"] + BORDER + (6 - y) / 12 * FRAME)


def address(page) -> str:
    """The page's address as the browser has it now (kept with ``history.replaceState``)."""
    return page.evaluate("window.location.pathname + window.location.search")


def config(browser):
    session = browser.session()
    return browser.background.call(lambda: session.experiment.config)


def test_upload_a_good_file_then_a_bad_one_which_keeps_the_experiment(browser) -> None:
    page = browser.open(f"/playground?seed={SEED}")
    open_own_data(page)
    upload(page, "insects.csv", three_blobs_csv())
    wait_text(page, ".cw-notices", r"insects\.csv: 300 points")
    session = browser.session()
    assert wait_until(lambda: config(browser).dataset == "uploaded-file")
    assert browser.background.call(lambda: session.experiment.parts.output.classes) == 3
    # the classes are named by the file's names, not by numbers
    wait_text(page, ".cw-losses", r"ant \d.*bee \d.*cricket \d")
    page.locator(".cw-step button").click()
    assert wait_until(lambda: browser.background.call(lambda: session.experiment.epoch) == 1)
    before = browser.background.call(lambda: (session.experiment.config, session.experiment.params.flat.copy()))

    broken = b"x,y,class\n1,2,ant\n0.5,two,bee\n"
    upload(page, "broken.csv", broken)
    shown = wait_text(page, ".cw-notices", r"could not be used")
    assert "broken.csv" in shown and "row 3" in shown and "column y" in shown and "'two' is not a number" in shown
    after = browser.background.call(lambda: (session.experiment.config, session.experiment.params.flat.copy(),
                                             session.experiment.epoch))  # fmt: skip
    assert after[0] == before[0] and np.array_equal(after[1], before[1]) and after[2] == 1


def test_drawn_points_travel_in_the_link(browser) -> None:
    page = browser.open(f"/playground?seed={SEED}")
    open_own_data(page)
    page.locator(".cw-draw-class button", has_text="orange").click()
    for x, y in ((-3, 3), (-2, 4)):
        page.wait_for_timeout(400)  # a student's clicks, not a double click (which BokehJS reports as one)
        page.mouse.click(*map_point(page, x, y))
        assert wait_until(lambda: len(config(browser).points) == (1 if x == -3 else 2)), config(browser).points
    page.locator(".cw-draw-class button", has_text="blue").click()
    for x, y in ((3, -3), (2, -4)):
        page.wait_for_timeout(400)
        page.mouse.click(*map_point(page, x, y))
    assert wait_until(lambda: len(config(browser).points) == 4), config(browser).points
    drawn = config(browser).points
    wanted = [(-3, 3, 0), (-2, 4, 0), (3, -3, 1), (2, -4, 1)]
    for (x, y, label), point in zip(wanted, drawn):
        assert abs(point[0] - x) < 0.5 and abs(point[1] - y) < 0.5 and point[2] == label, drawn
    assert wait_until(lambda: "points=" in address(page)), address(page)
    link = address(page)

    again = browser.open(link)
    assert wait_until(lambda: config(browser).points == drawn)
    assert config(browser).seed == re.search(r"seed=([^&]+)", link).group(1)
    # the points are on the map, coloured by class: the training and test dots the server sent
    session = browser.session()
    assert browser.background.call(lambda: len(session.experiment.points.all)) == 4
    open_own_data(again)
    again.locator(".cw-clear-points button").click()
    assert wait_until(lambda: config(browser).points == ())
    assert wait_until(lambda: "points=" not in address(again)), address(again)


def class_pixels(png: bytes) -> dict[str, float]:
    """Share of the map's pixels nearest to each class hue (among clearly coloured pixels)."""
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.float64).reshape(-1, 3)
    spread = rgb.max(axis=1) - rgb.min(axis=1)
    coloured = rgb[spread > 40]  # the page's grey and white, the axes' text: left out
    hues = {name: np.array(colour, dtype=np.float64) for name, colour in scales.CLASS_COLOURS[:4]}
    direction = {n: (c - c.mean()) / np.linalg.norm(c - c.mean()) for n, c in hues.items()}
    centred = coloured - coloured.mean(axis=1, keepdims=True)
    scores = np.stack([centred @ d for d in direction.values()], axis=1)
    nearest = scores.argmax(axis=1)
    return {name: float(np.mean(nearest == i)) for i, name in enumerate(direction)} if len(coloured) else {}


def test_three_classes_train_and_the_map_shows_three_hues(browser) -> None:
    page = browser.open(f"/playground?seed={SEED}&dataset=blobs-3&learningRate=0.1")
    session = browser.session()
    start = browser.background.call(lambda: session.experiment.train_loss)
    wait_text(page, ".cw-legend", r"orange.*blue.*green")
    page.locator("select[name=speed]").select_option(label="10 epochs/frame")
    page.locator(".cw-play button").click()
    assert wait_until(lambda: browser.background.call(lambda: session.experiment.epoch) >= 150, 120)
    page.locator(".cw-play button").click()
    assert wait_until(lambda: not browser.background.call(lambda: session.playing))
    loss = browser.background.call(lambda: session.experiment.train_loss)
    assert loss < start / 2, (start, loss)
    boundary = next(p.panel for p in session.panels if p.component.name == "boundary")
    image = browser.background.call(lambda: boundary.classes_image.data["image"][0].copy())
    assert set(np.unique(image // shades.CLASS_LEVELS)) == {0, 1, 2}  # the server's class map: three hues
    # and the browser paints them: a good part of the map in each of the three hues, none in a fourth
    assert wait_until(lambda: min(list(class_pixels(page.locator(".cw-boundary").first.screenshot()).values())[:3]) > 0.1)
    shares = class_pixels(page.locator(".cw-boundary").first.screenshot())
    assert shares["purple"] < 0.02, shares
    wait_text(page, ".cw-losses", r"by class: .*orange \d+\.\d% .*blue \d+\.\d% .*green \d+\.\d%")


def test_switching_the_optimizer_changes_the_link_and_training_goes_on(browser) -> None:
    page = browser.open(f"/playground?seed={SEED}")
    assert "seed=" in address(page) and "optimizer=" not in address(page)  # the Playground's own rule is the default: its links stay as they were
    session = browser.session()
    page.locator("select[name=optimizer]").select_option(label="Adam")
    assert wait_until(lambda: config(browser).optimizer == "adam")
    assert wait_until(lambda: "optimizer=adam" in address(page)), address(page)
    start = browser.background.call(lambda: session.experiment.train_loss)
    page.locator(".cw-play button").click()
    assert wait_until(lambda: browser.background.call(lambda: session.experiment.epoch) >= 20, 120)
    page.locator(".cw-play button").click()
    assert wait_until(lambda: not browser.background.call(lambda: session.playing))
    assert browser.background.call(lambda: session.experiment.train_loss) < start
    assert "Epoch" in text(page, ".cw-epoch")
