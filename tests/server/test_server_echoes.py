"""What a page echoes of its URL stays short, and a URL too long gets a page saying so (issue 10, point 7)."""

from __future__ import annotations

import pytest
from server_pages import base, fetch

from courseware.server.session import NOTICE_ITEM_CHARS, NOTICE_ITEMS
from courseware.server.web import MAX_URL_CHARS


def test_a_huge_value_and_a_thousand_unknown_keys_make_a_short_notice(make_page) -> None:
    query = {f"unknown{index}": "1" for index in range(999)}
    page = make_page(seed="9" * 10_240, noise="x" * 5_000, **query)
    notice = page.get("notices").text
    assert len(notice) < (NOTICE_ITEMS + 1) * (NOTICE_ITEM_CHARS + 50) + 200, len(notice)
    assert "seed: a value of 10,240 characters is too long" in notice
    assert "noise: a value of 5,000 characters is too long" in notice
    assert "and 996 more" in notice
    assert "9" * 100 not in notice and "x" * 100 not in notice


def test_an_unknown_lesson_id_is_echoed_short(running) -> None:
    background, server = running
    status, _ = fetch(base(server) + "/lesson?lesson=" + "L" * 3_000 + "&seed=0.31")
    assert status == 200
    message = background.call(
        lambda: next(
            s.doc.select_one({"name": "lesson-message"}).text
            for s in server.state.live.values()
            if s.experiment.config.seed == "0.31"
        )
    )
    assert "There is no lesson" in message and "3,000 characters" in message and len(message) < 400


@pytest.mark.parametrize("length", [MAX_URL_CHARS + 1, 200_000, 1_000_000])
def test_a_url_too_long_gets_a_short_page_saying_so(running, length: int) -> None:
    _, server = running
    path = "/playground?seed=0.1&x="
    status, body = fetch(base(server) + path + "a" * (length - len(path)))
    assert status == 414
    assert "This link is too long" in body and f"{length:,} characters" in body and len(body) < 2_000


def test_more_parameters_than_tornado_parses_get_the_same_page(running) -> None:
    _, server = running
    status, body = fetch(base(server) + "/playground?" + "&".join(f"k{i}=1" for i in range(1_200)))
    assert status == 414 and "1,200 parameters" in body


def test_a_long_but_acceptable_url_still_opens_the_page(running) -> None:
    _, server = running
    path = "/playground?seed=0.1&"
    padding = "&".join(f"k{i}=1" for i in range(990))[: MAX_URL_CHARS - len(path) - 10]
    status, body = fetch(base(server) + path + padding)
    assert status == 200 and "bokeh" in body.lower()
