"""The page side of issue 13 without a browser: the optimizer select, drawing, uploading and
downloading points, and the class map, each re-checked on the server as browser input."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from server_pages import Page

from courseware.datafiles import read_data
from courseware import shades
from courseware.server import guard
from courseware.server.uploads import UPLOAD_LIMITS


def file_event(page: Page, filename: str, data: bytes | str) -> None:
    """What BokehJS sends when a file is chosen: its base64 value, then its name."""
    upload = page.get("upload")
    value = data if isinstance(data, str) else base64.b64encode(data).decode()
    upload.set_from_json("value", value)
    upload.set_from_json("filename", filename)


def state_of(page: Page):
    e = page.experiment
    return e.config, e.params.flat.copy(), e.epoch


def test_the_optimizer_select_lists_the_plugins_and_only_a_change_reaches_the_link(page: Page) -> None:
    select = page.get("optimizer")
    assert [label for _, label in select.options] == ["Gradient descent", "Momentum", "Adam"]
    assert select.value == "sgd" and "optimizer=" not in page.session.state.query
    select.value = "momentum"
    assert page.experiment.config.optimizer == "momentum" and "optimizer=momentum" in page.session.state.query
    page.click("step")
    assert page.experiment.epoch == 1


def test_a_locked_or_hidden_optimizer_is_refused_by_the_guard(make_page) -> None:
    page = make_page(optimizer_hide="true")
    select = page.get("optimizer")
    assert not select.visible
    event = {"kind": "ModelChanged", "model": {"id": select.id}, "attr": "value", "new": "adam"}
    assert guard.screen({"events": [event]}, page.doc).events == []
    page = make_page()
    page.session.lock({"optimizer"})
    select = page.get("optimizer")
    assert select.disabled
    screening = guard.screen({"events": [dict(event, model={"id": select.id})]}, page.doc)
    assert screening.events == [] and screening.put_back == [(select, "value")]


def test_clicks_are_checked_again_on_the_server(page: Page) -> None:
    session = page.session
    session.request("add_point", x=1.0, y=1.0)
    assert page.experiment.config.points == ()  # not drawing
    page.get("draw-class").active = 2  # blue, class 1
    for x, y in ((float("nan"), 0.0), (0.0, float("inf")), (6.5, 0.0), ("1", 0.0), (True, 0.0), (None, 0.0)):
        session.request("add_point", x=x, y=y)
    assert page.experiment.config.points == ()
    session.request("add_point", x=1.234, y=-5.999)
    assert page.experiment.config.points == ((1.23, -6.0, 1.0),)
    session.lock({"drawing"})
    session.request("add_point", x=2.0, y=2.0)
    assert len(page.experiment.config.points) == 1


def test_drawn_points_stop_at_the_limit_with_a_notice(make_page) -> None:
    points = "_".join(f"{(i % 20) / 4 - 2.5},{(i // 20) / 2 - 2.5},{i % 2}" for i in range(200))
    page = make_page(points=points)
    assert len(page.experiment.config.points) == 200  # a link of 200 points is read whole
    page.get("draw-class").active = 1
    page.session.request("add_point", x=0.0, y=0.0)
    assert len(page.experiment.config.points) == 200
    assert "At most 200 points" in page.session.notices.items["drawing"]


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("bad.csv", b"x,y,label\n1,2,1\n3,abc,-1\n", ["bad.csv", "row 3", "column y", "'abc' is not a number"]),
        ("huge.csv", b"x,y,label\n" + b"1,2,1\n" * 60_000, ["larger than the limit"]),
        ("rows.csv", b"x,y,label\n" + b"1,2,1\n3,4,-1\n" * 2600, ["row 5002", "more than 5,000 points"]),
        ("nine.csv", "".join(f"{i},{i},c{i}\n" for i in range(9)).encode(), ["9 classes", "limit of 8"]),
        ("inf.csv", b"1,2,1\n1e999,1,-1\n", ["row 2", "column x", "finite"]),
        ("one.csv", b"1,2,a\n3,4,a\n", ["one class"]),
        ("notes.txt", b"1,2,1\n", ["no data format reads this kind of file"]),
        ("empty.csv", b"", ["empty"]),
        ("garbled.csv", "@@not base64@@", ["did not arrive whole"]),
    ],
)
def test_a_file_that_cannot_be_used_is_a_notice_and_changes_nothing(page: Page, name: str, data, says) -> None:
    page.click("step")
    before = state_of(page)
    file_event(page, name, data)
    notice = page.session.notices.items.get("upload", "")
    assert notice.startswith("The file could not be used, and nothing changed.")
    for words in says:
        assert words in notice, notice
    after = state_of(page)
    assert after[0] == before[0] and np.array_equal(after[1], before[1]) and after[2] == before[2]


def test_a_small_file_becomes_drawn_points_and_a_large_one_a_dataset_of_this_page(make_page, registry) -> None:
    page = make_page()
    file_event(page, "four.csv", b"x,y,label\n1,1,1\n-1,-1,-1\n2,2,1\n-2,-2,-1\n")
    assert page.experiment.config.points == ((1.0, 1.0, 1.0), (-1.0, -1.0, 0.0), (2.0, 2.0, 1.0), (-2.0, -2.0, 0.0))
    assert "points=" in page.session.state.query
    big = "x,y,class\n" + "".join(f"{i % 9 - 4},{i % 7 - 3},{('ant', 'bee', 'cricket')[i % 3]}\n" for i in range(600))
    file_event(page, "insects.csv", big.encode())
    config = page.experiment.config
    assert config.points == () and config.dataset == "uploaded-file" and len(page.experiment.points.all) == 600
    assert "does not carry" in page.session.notices.items["upload"]
    assert "uploaded-file" not in registry.names("datasets")  # the server's registry: other pages never see it
    other = make_page()
    assert "uploaded-file" not in other.session.registry.names("datasets")


def test_a_file_value_beyond_the_limit_or_a_list_is_dropped_by_the_guard(page: Page) -> None:
    page.get("own-data").active = True  # the file input is shown (a hidden one takes nothing at all)
    upload = page.get("upload")
    for value in ("A" * (guard.MAX_FILE_CHARS + 4), ["QQ==", "QQ=="]):
        event = {"kind": "ModelChanged", "model": {"id": upload.id}, "attr": "value", "new": value}
        assert guard.screen({"events": [event]}, page.doc).events == []
    fine = {"kind": "ModelChanged", "model": {"id": upload.id}, "attr": "value", "new": "QQ=="}
    assert guard.screen({"events": [fine]}, page.doc).events == [fine]
    assert guard.MAX_FILE_CHARS < (1 << 20) and UPLOAD_LIMITS.max_bytes * 4 // 3 <= guard.MAX_FILE_CHARS


@pytest.mark.parametrize("query", [{"dataset": "blobs-3"}, {"points": "1,1,0_2,2,1_-1,-1,2_3,0,1"}, {}])
def test_the_downloaded_file_reads_back_as_the_same_points(make_page, registry, query) -> None:
    page = make_page(**query)
    page.click("download-points")
    counter, text = page.session.state.download.split("\n", 1)
    assert counter == "1"
    e = page.experiment
    read = read_data(text.encode(), "points.csv", page.session.registry)
    again = read.generate(None, 0, 0.0)
    np.testing.assert_array_equal(again, e.points.all)
    assert read.classes == e.parts.output.classes


def test_class_shades_show_the_predicted_class_and_its_confidence() -> None:
    side = 2
    values = np.array([[0.9, 0.05, 0.05], [0.2, 0.7, 0.1], [1 / 3, 1 / 3, 1 / 3], [np.nan, 0.5, 0.5]], np.float32)
    index = shades.class_shades(values, side)
    # rows x * side + y, shown [row = y][column = x]
    assert index[0, 0] == 0 * 8 + 6  # class 0, (0.9 - 1/3) / (2/3) * 8 = 6.8
    assert index[1, 0] == 1 * 8 + 4  # class 1, (0.7 - 1/3) / (2/3) * 8 = 4.4
    assert index[0, 1] == 0  # no class preferred: class 0, palest
    assert index[1, 1] == shades.CLASS_NAN_SHADE
    assert shades.class_shades(values, side, discretize=True)[1, 0] == 1 * 8 + 7
    assert len(shades.class_palette("#000000")) == shades.CLASS_NAN_SHADE + 1


def test_two_classes_keep_the_playgrounds_map_and_three_get_the_class_map(make_page) -> None:
    page = make_page()
    boundary = page.panel("boundary")
    assert boundary.value_map.visible and not boundary.class_map.visible
    page = make_page(dataset="blobs-3")
    boundary = page.panel("boundary")
    assert boundary.class_map.visible and not boundary.value_map.visible
    np.testing.assert_array_equal(boundary.classes_image.data["image"][0], page.session.render().maps.class_shades())
    assert "by class:" in page.loss_text() and "orange" in page.loss_text() and "green" in page.loss_text()


def test_the_lesson_page_leaves_the_optional_controls_out_unless_offered(make_page) -> None:
    page = make_page()
    session = page.session
    assert page.get("optimizer").visible and page.get("own-data").visible and not page.get("drawing").visible
    page.get("own-data").active = True
    assert page.get("drawing").visible  # opened by its toggle
    session.offer(())
    assert not page.get("optimizer").visible and not page.get("own-data").visible and not page.get("drawing").visible
    page.get("draw-class").active = 1
    session.request("add_point", x=1.0, y=1.0)
    assert page.experiment.config.points == ()
    session.offer({"optimizer"})
    assert page.get("optimizer").visible and not page.get("drawing").visible
