"""The contract kit for panels (visualizers): each is built and updated on a real playground session,
without a browser. Import the check from :mod:`courseware.testing`; this part needs Bokeh and the
server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bokeh.document import Document
from bokeh.models import LayoutDOM

from courseware import config as config_module
from courseware.components import VISUALIZER_AREAS, Visualizer
from courseware.registry import Registry
from courseware.server.session import PlaygroundSession
from courseware.testing.components import installed, registry_with


def check_visualizer(visualizer: Visualizer, registry: Registry | None = None) -> None:
    """On a real playground session (no browser): ``create(context)`` returns a panel whose ``root``
    is a Bokeh layout the page can place, in one of the page's areas; ``update(frame)`` takes the
    frames of a fresh page, training steps, a selected node, a changed setting, new data and a reset
    without raising; and everything the panel put in the document can be sent to the browser. All of
    it on the free playground and on a compact page (the lesson page: ``context.compact``, the test
    loss always shown)."""
    name = visualizer.name
    assert visualizer.area in VISUALIZER_AREAS, (
        f"{name}: area {visualizer.area!r} is not one of the page's areas {VISUALIZER_AREAS}"
    )
    assert isinstance(visualizer.order, (int, float)) and not isinstance(visualizer.order, bool), (
        f"{name}: order must be a number, got {visualizer.order!r}"
    )
    registry = registry_with(installed(registry), visualizer, alone=True)
    for compact in (False, True):
        _check_visualizer_on(visualizer, registry, compact)


def _check_visualizer_on(visualizer: Visualizer, registry: Registry, compact: bool) -> None:

    name = visualizer.name + (" (on a compact page)" if compact else "")
    # the instructor's view (dev): a failure's notice names the exception, which the plugin's author needs
    session = PlaygroundSession(Document(), registry, config_module.default(registry, seed="1"), compact=compact,
                                dev=True)  # fmt: skip
    session.test_loss_follows_ratio = not compact
    session.build_panels()
    built = [p for p in session.panels if p.component is visualizer]
    assert built, f"{name}: create(context) failed: {_notices(session)}"
    (instance,) = built
    root = instance.root
    assert isinstance(root, LayoutDOM), (
        f"{name}: the panel's root is {type(root).__name__}, not a Bokeh layout (a figure, a column, a Div, ...)"
    )
    session.doc.add_root(root)
    hidden = session.experiment.arch.node_ids[1] if session.experiment.arch.num_layers > 1 else []
    actions: list[tuple[str, Callable[[], Any]]] = [
        ("the first frame", lambda: session.render()),
        ("a training step", session.step),
        ("another training step", session.step),
        ("selecting a node", lambda: session.select_node(hidden[0] if hidden else None)),
        ("showing the output again", lambda: session.select_node(None)),
        ("a display setting", lambda: session.apply(showTestData=True, discretize=True)),
        ("new data", lambda: session.apply(noise=20)),
        ("another network shape", lambda: session.apply(networkShape=(3,))),
        ("a reset", session.reset),
    ]
    for what, action in actions:
        action()
        assert instance.failed is None, (
            f"{name}: update(frame) failed after {what}: {instance.failed}"
        )
    try:
        session.doc.to_json()  # encodes every model and value as Bokeh would for the browser
    except Exception as exc:
        raise AssertionError(
            f"{name}: the panel's models cannot be sent to the browser: {exc}"
        ) from exc


def _notices(session: Any) -> str:
    return "; ".join(session.notices.items.values()) or "(no message)"
