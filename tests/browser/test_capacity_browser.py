"""What issue 12 changed on the wire, checked in Chromium: the same picture, and nothing for hidden tabs.

* Maps now travel as palette indices (``courseware.shades``) painted by an index mapper. Inside
  the page, BokehJS's own ``LinearColorMapper(low=-1, high=1)`` (what the page used until now) paints
  the server's float32 map, and the page's mapper paints the indices it received: every pixel's RGBA
  must be the same, for a trained map, a discretized one and a diverged one (NaN).
* A hidden tab (the Page Visibility API, simulated: headless Chromium never hides a tab) tells the
  server, which stops its frame loop; shown again, it resumes from where it was.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_playground_browser import epoch
from waiting import wait_until

from courseware import scales
from courseware import panel as ctx

pytestmark = pytest.mark.browser  # drives a real headless Chromium (see conftest.py)

PALETTE_HEX = scales.rgb_hex(scales.PALETTE)
COLOURS_JS = """({floats, palette, nan}) => {
    const doc = Bokeh.documents[Bokeh.documents.length - 1];
    const source = doc.get_model_by_name("output-map-image");
    const shades = source.data.image[0];
    const mapper = [...doc.all_models].find(
        (m) => m.glyph != null && m.data_source === source && m.glyph.color_mapper != null).glyph.color_mapper;
    const LinearColorMapper = Bokeh.Models.get("LinearColorMapper");
    const before = new LinearColorMapper({palette, low: -1, high: 1, nan_color: nan});
    const now = mapper.rgba_mapper.v_compute(shades);
    const then = before.rgba_mapper.v_compute(new Float32Array(floats));
    let differ = 0;
    for (let i = 0; i < then.length; i++) { if (now[i] !== then[i]) { differ++; } }
    return {differ, bytes: then.length, uint8: shades instanceof Uint8Array};
}"""


def float_map(browser) -> list[float]:
    """The float32 map the page used to receive for its current state (discretize applied)."""

    s = browser.session()

    def compute():
        maps = ctx.Maps(s.experiment, s.experiment.config.discretize, s._feature_maps)
        return maps.node(s.selected or s.experiment.output_node).ravel().astype(np.float64).tolist()

    return browser.background.call(compute)


def step(page, times: int) -> None:
    for _ in range(times):
        before = epoch(page)
        page.locator(".cw-step button").click()
        assert wait_until(lambda: epoch(page) == before + 1)


def test_the_map_looks_exactly_as_the_float_map_did(browser) -> None:
    for query, steps in (("seed=0.12345", 6), ("seed=0.12345&discretize=true", 4),
                         ("seed=0.1&problem=regression&learningRate=10&activation=linear", 2)):  # fmt: skip
        page = browser.open(f"/playground?{query}")
        step(page, steps)
        floats = float_map(browser)
        result = page.evaluate(COLOURS_JS, {"floats": floats, "palette": PALETTE_HEX, "nan": "#000000"})
        assert result["uint8"] and result["bytes"] == 4 * 100 * 100
        assert result["differ"] == 0, (query, result)
        if "regression" in query:
            assert any(np.isnan(floats))  # the diverged case really has NaN cells
        page.close()


SET_HIDDEN_JS = """(hidden) => {
    Object.defineProperty(document, "hidden", {configurable: true, get: () => hidden});
    Object.defineProperty(document, "visibilityState", {configurable: true, get: () => hidden ? "hidden" : "visible"});
    document.dispatchEvent(new Event("visibilitychange"));
}"""


def test_a_hidden_tab_gets_no_frames_and_resumes_when_shown(browser) -> None:
    page = browser.open("/playground?seed=0.12345")
    session = browser.session()
    page.locator(".cw-play button").click()
    assert wait_until(lambda: epoch(page) >= 5)
    page.evaluate(SET_HIDDEN_JS, True)
    assert wait_until(lambda: browser.background.call(lambda: session.hidden))
    stopped = browser.background.call(lambda: (session.experiment.epoch, session._callback, session.playing))
    assert stopped[1] is None and stopped[2]  # no frame loop; the player stays on, as in the original
    page.wait_for_timeout(300)  # (a frame loop would have run about ten frames by now)
    assert browser.background.call(lambda: session.experiment.epoch) == stopped[0]
    page.evaluate(SET_HIDDEN_JS, False)
    assert wait_until(lambda: epoch(page) > stopped[0] + 3)  # training resumed, and the page shows it
    assert page.locator(".cw-play button").inner_text().strip() == "❚❚"
    page.locator(".cw-play button").click()
    assert wait_until(lambda: not browser.background.call(lambda: session.playing))
