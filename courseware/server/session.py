"""One browser session of the playground: its experiment, its frame loop, its panels.

:class:`PlaygroundSession` is the page's controller. Every control calls one of its methods, which
changes the experiment through :meth:`Experiment.apply` (so the Playground's reset/regenerate rules
hold), keeps the URL current and redraws through :meth:`render`. Training runs in a Bokeh periodic
callback that exists only while playing and the browser shows the tab; each tick trains up to ``speed``
epochs within a time budget, computes the maps once and updates every panel inside one held document
change, which reaches the browser as one message (``courseware.server.wire``).

A hidden tab (a background tab, a minimised window: the browser says so through ``PageState.hidden``)
gets no frames and costs nothing: its periodic callback is removed and training waits, as the
original's ``requestAnimationFrame`` loop waits in a background tab. The player stays on, and the tab
resumes from where it was as soon as it is shown. The signal comes from the browser and is not
trusted, but it can only make the server do less.

A panel (visualizer) that raises is named on the page and in the server log and switched off for this
session; the rest of the page keeps working.
"""

from __future__ import annotations

import logging
import math
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from bokeh.core.properties import without_property_validation
from bokeh.document import Document
from bokeh.events import DocumentReady
from bokeh.models import Div, LayoutDOM

from courseware import panel as ctx
from courseware import scales
from courseware.components import Visualizer, class_index
from courseware.config import Config
from courseware.data import DEFAULT_DATA_LIMITS, PLANE, DataError, drawn_points
from courseware.errors import ComponentError, ConfigError
from courseware.experiment import Experiment
from courseware.registry import Registry
from courseware.settings import NO_REGULARIZATION, OPTIONAL_CONTROLS, plain_label
from courseware.server import uploads
from courseware.server.html import EMPTY, Html, shorten
from courseware.server.state import PAGE_STATE_NAME, PageState, hover_callback, visibility_js

log = logging.getLogger(__name__)

FRAME_INTERVAL_MS = 30  # the periodic callback's period while playing
FRAME_BUDGET_S = 0.025  # a frame stops adding epochs after this much training time
SPEEDS = (1, 2, 5, 10, 20, 50, 100)  # epochs per frame offered by the speed control
NOTICE_ITEMS = 5  # problems listed in one notice; the rest are counted ("and 996 more")
NOTICE_ITEM_CHARS = 200  # each listed problem is cut to this many characters


def problem_list(problems: list[str]) -> str:
    """``problems`` for a notice: the first few, each shortened, and how many more there are.

    A crafted URL can carry thousands of unknown keys or a value of megabytes; the notice that echoes
    them stays a few lines long.
    """
    shown = "; ".join(shorten(p, NOTICE_ITEM_CHARS) for p in problems[:NOTICE_ITEMS])
    more = len(problems) - NOTICE_ITEMS
    return shown + (f"; and {more:,} more" if more > 0 else "")


def address_notice(problems: list[str]) -> str | None:
    """The notice for settings in the address that were not used (None if there are none)."""
    if not problems:
        return None
    return f"Some settings in the address were not used: {problem_list(problems)}."


@dataclass
class PanelInstance:
    """A visualizer built for this session, with who registered it (for error reports)."""

    component: Visualizer
    plugin: str
    panel: Any
    failed: str | None = None

    @property
    def root(self) -> LayoutDOM:
        return self.panel.root


class Coalescer:
    """Runs the changes a client sends at most once per frame each: the last one per control wins.

    A page's own widgets cannot send changes faster than a person clicks, but a forged client can send
    thousands a second, and each change of activation or architecture rebuilds the network. So a
    change runs at once when none ran within the last frame interval; otherwise it waits (replacing
    an earlier one for the same control) and the waiting changes run together after the interval.
    A batch that took longer than the interval makes the next wait as long as it took, so one client
    can take at most about half of the server's time from the others.

    ``schedule(callback, delay_s)`` runs a callback later on the session's event loop; without one
    (a document built outside the server, as in tests) every change runs at once.
    """

    def __init__(
        self,
        interval_s: float,
        schedule: Callable[[Callable[[], None], float], None] | None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.interval_s = interval_s
        self.schedule = schedule
        self.clock = clock
        self.pending: dict[str, Callable[[], Any]] = {}
        self.runs = 0  # changes actually run (the rest were replaced by a later one)
        self._free_at = float("-inf")
        self._scheduled = False

    def submit(self, key: str, action: Callable[[], Any]) -> None:
        """Run ``action`` now, or once the frame interval has passed if ``key`` has not changed again."""
        if self.schedule is None or (not self.pending and self.clock() >= self._free_at):
            self._run([action])
            return
        self.pending.pop(key, None)
        self.pending[key] = action  # the latest change of a control goes last, as it arrived
        self._ensure_scheduled()

    def flush(self) -> None:
        """Run every waiting change now (the scheduled callback)."""
        self._scheduled = False
        actions = list(self.pending.values())
        self.pending.clear()
        self._run(actions)
        if self.pending:
            self._ensure_scheduled()

    def cancel(self) -> None:
        self.pending.clear()

    def _ensure_scheduled(self) -> None:
        if not self._scheduled and self.schedule is not None:
            self._scheduled = True
            self.schedule(self.flush, max(0.0, self._free_at - self.clock()))

    def _run(self, actions: list[Callable[[], Any]]) -> None:
        start = self.clock()
        try:
            for action in actions:
                self.runs += 1
                action()
        finally:
            spent = self.clock() - start
            self._free_at = self.clock() + max(self.interval_s, spent)


@dataclass
class Notices:
    """Messages shown above the playground, by topic, so each topic can be replaced or cleared."""

    div: Div
    items: dict[str, str] = field(default_factory=dict)

    def set(self, topic: str, message: str | None) -> None:
        if message is None:
            if self.items.pop(topic, None) is None:
                return
        elif self.items.get(topic) == message:
            return
        else:
            self.items[topic] = message
        self._render()

    def _render(self) -> None:
        self.div.text = EMPTY.join(
            Html('<div class="cw-notice cw-notice-{}">{}</div>').format(topic.split(":")[0], message)
            for topic, message in self.items.items()
        )
        self.div.visible = bool(self.items)


class PlaygroundSession:
    """The controller of one playground page (see the module docstring)."""

    def __init__(
        self,
        doc: Document,
        registry: Registry,
        config: Config,
        *,
        notices: list[str] = (),  # type: ignore[assignment]
        frame_interval_ms: int = FRAME_INTERVAL_MS,
        clock: Callable[[], float] = time.perf_counter,
        compact: bool = False,
        dev: bool = False,
    ) -> None:
        self.doc = doc
        # The instructor's view (``courseware serve --dev``): a failing plugin's notice names the plugin,
        # the component and the exception; a student reads only what stopped working, in words.
        self.dev = dev
        # The page's own registry: every component of the server's, plus what its student uploads. The
        # server's (``shared_registry``) keys what is cached across pages, such as the lessons read.
        self.shared_registry = registry
        self.registry = registry.overlay()
        registry = self.registry
        # Every time the session reads (frame budgets, sitting out, coalescing): a test passes a clock
        # that stands still, so frames never run over budget and nothing depends on the machine's speed.
        self.clock = clock
        self.compact = compact  # panels draw no wider than they must (a lesson page): VisualizerContext.compact
        # The original hides the test loss with the training-ratio slider; a lesson page shows it always.
        self.test_loss_follows_ratio = True
        self.notices = Notices(
            Div(text="", visible=False, css_classes=["cw-notices"], sizing_mode="stretch_width", name="notices")
        )
        # Plugin components (activation, dataset, ...) that raised on this page: (kind, name).
        self.disabled: set[tuple[str, str]] = set()
        self.experiment = self._first_experiment(config)
        config = self.experiment.config
        self.state = PageState(query=config.to_query(registry), name=PAGE_STATE_NAME)
        self.frame_interval_ms = frame_interval_ms
        self.changes = Coalescer(frame_interval_ms / 1000, self._scheduler(), clock)
        self.playing = False
        self.hidden = False  # the browser says nobody sees the tab: no frames (see set_hidden)
        self.speed = 1
        self.selected: str | None = None
        self.panels: list[PanelInstance] = []
        self.editing: tuple[str, str] | None = None  # ("weight", link) or ("bias", node)
        self.locked: frozenset[str] = frozenset()  # controls shown but not usable (a lesson's): see lock()
        self.offered: frozenset[str] = frozenset() if compact else frozenset(OPTIONAL_CONTROLS)  # see offer()
        self.draw_class: int | None = None  # the class a click on the output map adds (None: not drawing)
        self.downloads = 0  # files offered for download (each one a new PageState.download)
        self.frames = 0  # frames rendered, for tests and the load benchmark
        self.ticks = 0  # periodic callback calls (a destroyed session gets none)
        self._callback: Any = None
        self._skip_until = 0.0
        self._pending: set[str] = set(ctx.EVERYTHING)
        self._chart_epoch = -1  # last epoch whose loss the chart has
        self._feature_maps, failures = ctx.feature_maps(registry)
        for failure in failures:  # its thumbnail stays grey; choosing it is refused
            self._component_failed(failure, recover=False)
        self._frame_listeners: list[Callable[[ctx.Frame], None]] = []
        self._config_listeners: list[Callable[[Config], None]] = []
        self._status_listeners: list[Callable[[], None]] = []
        if notices:
            self.notices.set("url", address_notice(list(notices)))
        self.state.on_change(
            "hovered", lambda _attr, _old, new: self.from_browser("hovered", lambda: self.select_node(new or None))
        )
        self.state.on_change(
            "hidden", lambda _attr, _old, new: self.from_browser("hidden", lambda: self.set_hidden(bool(new)))
        )
        doc.js_on_event(DocumentReady, visibility_js(PAGE_STATE_NAME))
        self._destroyed = False

    # -- panels --------------------------------------------------------------------------------------

    def build_panels(self) -> list[PanelInstance]:
        """Create every registered visualizer for this session; one that raises is reported and left out."""
        visualizers = sorted(self.registry.all("visualizers"), key=lambda v: (v.area, v.order, v.name))
        for visualizer in visualizers:
            plugin = self.registry.plugin_of("visualizers", visualizer.name)
            context = ctx.VisualizerContext(
                experiment=self.experiment,
                registry=self.registry,
                select_node=self.select_node,
                request=self._request_from_panel,
                hover_js=lambda source, column: hover_callback(self.state, source, column),
                name=visualizer.name,
                compact=self.compact,
            )
            try:
                panel = visualizer.create(context)
                panel.root  # noqa: B018 - a panel without a root fails here, not when placed
            except Exception as exc:
                self._report(visualizer, plugin, "create", exc)
                continue
            self.panels.append(PanelInstance(visualizer, plugin, panel))
        return self.panels

    def panels_in(self, area: str) -> list[LayoutDOM]:
        return [p.root for p in self.panels if p.component.area == area and p.failed is None]

    def _report(self, visualizer: Visualizer, plugin: str, where: str, exc: BaseException) -> None:
        details = (
            f"The panel “{visualizer.label}” (visualizer {visualizer.name!r} from plugin {plugin!r}) "
            f"failed in {where}: {type(exc).__name__}: {exc}. It is switched off for this page; "
            "everything else keeps working."
        )
        log.error("%s\n%s", details, "".join(traceback.format_exception(exc)))
        words = f"The panel “{visualizer.label}” stopped working and is switched off for this page; everything else keeps working."
        self.notices.set(f"plugin:{visualizer.name}", details if self.dev else words)

    def _component_label(self, kind: str, name: str) -> str:
        """The label a student knows a component by (``kind`` as a :class:`ComponentError` says it:
        ``"activation"``), or its name if the registry does not know it."""
        plural = kind + "es" if kind.endswith("s") else kind + "s"
        try:
            found = [c for c in self.registry.all(plural) if c.name == name]
        except (KeyError, TypeError):
            found = []
        return plain_label(getattr(found[0], "label", name)) if found else name

    # -- rendering -----------------------------------------------------------------------------------

    @without_property_validation  # the values are ours and well-formed; validation costs per frame
    def render(self, changed: set[str] | frozenset[str] | None = None) -> ctx.Frame:
        """Update every panel in one held document change (one batch of messages to the browser)."""
        changed = frozenset(self._pending | set(changed or ()))
        self._pending = set()
        e = self.experiment
        first = 0 if ctx.RESTART in changed else self._chart_epoch + 1  # (not the whole history each frame)
        new_losses = list(zip(e.history.train[first:], e.history.test[first:]))
        self._chart_epoch = len(e.history.train) - 1
        config = e.config
        frame = ctx.Frame(
            epoch=e.epoch,
            evaluation=e.evaluation,
            maps=ctx.Maps(e, config.discretize, self._feature_maps),
            changed=changed,
            new_losses=new_losses,
            selected=self.selected,
            discretize=config.discretize,
            show_test_data=config.showTestData,
            hidden=config.hidden,
            playing=self.playing,
            locked=self.locked,
            show_test_loss=not (self.test_loss_follows_ratio and "percTrainData" in config.hidden),
        )
        failed_component: ComponentError | None = None
        self.doc.hold("combine")
        try:
            for instance in self.panels:
                if instance.failed is not None:
                    continue
                try:
                    instance.panel.update(frame)
                except ComponentError as exc:  # the maps a panel asked for: a feature or activation failed
                    failed_component = exc
                    break
                except Exception as exc:
                    instance.failed = f"{type(exc).__name__}: {exc}"
                    instance.root.visible = False
                    self._report(instance.component, instance.plugin, "update", exc)
            self.notices.set(
                "diverged",
                "The network diverged: its outputs are no longer numbers (shown grey). "
                "Try a lower learning rate, then press reset."
                if e.diverged
                else None,
            )
            if failed_component is None:
                for listener in self._frame_listeners:
                    listener(frame)
        finally:
            self.doc.unhold()
        self.frames += 1
        if failed_component is not None:
            self._component_failed(failed_component)
        return frame

    # -- the player ----------------------------------------------------------------------------------

    def play(self) -> None:
        """Start the frame loop; the first frame is trained at once, so the click shows at once.
        (In a hidden tab the loop starts when the tab is shown.)"""
        if self.playing or self._destroyed:
            return
        self.playing = True
        self._status_changed()
        if not self.hidden:
            self._start_frames()

    def _start_frames(self) -> None:
        self._callback = self.doc.add_periodic_callback(self.tick, self.frame_interval_ms)
        self._frame()

    def pause(self) -> None:
        if not self.playing:
            return
        self.playing = False
        self._remove_callback()
        self._status_changed()
        if not self._destroyed:
            self.render()  # panels that draw less often while playing catch up

    def _remove_callback(self) -> None:
        if self._callback is not None:
            try:
                self.doc.remove_periodic_callback(self._callback)
            except ValueError:  # already removed with the session
                pass
            self._callback = None

    def toggle_play(self) -> None:
        self.pause() if self.playing else self.play()

    def step(self) -> None:
        """The Step button: pause, then exactly one epoch."""
        self.pause()
        if self._guarded(lambda: self.experiment.step(1)):
            self.render({ctx.WEIGHTS})

    def tick(self) -> None:
        """The periodic callback: one frame, unless this session must sit out.

        A frame whose training took long makes this session sit out for as long again, so a heavy
        network uses at most about half of the server's time and other sessions keep their frames.
        When more sessions play than a process can train for, the event loop simply runs each
        session's callback less often (a late periodic callback skips the ticks it missed), so
        every session slows down alike and requests and clicks keep their turn between frames.
        """
        self.ticks += 1
        now = self.clock()
        if self._destroyed or not self.playing or self.hidden or now < self._skip_until or not self._watched():
            return
        self._frame()

    def _frame(self) -> None:
        """Up to ``speed`` epochs within the time budget, then one render (one held update)."""
        start = self.clock()
        done = 0
        while done < self.speed:
            if not self._guarded(lambda: self.experiment.step(1)):
                return
            done += 1
            if self.clock() - start > FRAME_BUDGET_S:
                break
        self.render({ctx.WEIGHTS})
        spent = self.clock() - start
        if spent > FRAME_BUDGET_S:
            self._skip_until = self.clock() + spent

    def _watched(self) -> bool:
        """False once the browser tab is gone: train nothing until the session is destroyed."""
        context = self.doc.session_context
        session = getattr(context, "session", None) if context is not None else None
        return session is None or session.connection_count > 0

    def set_hidden(self, hidden: bool) -> None:
        """The browser hid or showed the tab (``PageState.hidden``, see the module docstring).

        Hidden: the frame loop's periodic callback is removed, so a hidden tab costs no CPU and no
        bandwidth; the player stays on. Shown: the loop starts again with a frame at once, drawn from
        the current state. Only ever reduces work, so a client that lies gains nothing.
        """
        hidden = bool(hidden)
        if hidden == self.hidden or self._destroyed:
            return
        self.hidden = hidden
        if not self.playing:
            return
        if hidden:
            self._remove_callback()
        elif self._callback is None:
            self._start_frames()

    def set_speed(self, epochs_per_frame: int) -> None:
        self.speed = max(1, int(epochs_per_frame))

    # -- the Playground's actions ----------------------------------------------------------------------

    def apply(self, **changes: Any) -> str:
        """Change settings as the Playground's controls do; a bad value is a notice, not an error."""
        before = self.experiment.config
        try:
            new = before.with_changes(self.registry, **changes)  # validated once, here
            self._refuse_disabled(new)
            outcome = self.experiment.change_to(new)
        except ConfigError as exc:
            self.notices.set("input", f"Not changed: {exc}")
            return "error"
        except ComponentError as exc:  # the experiment is as it was before the change
            self._component_failed(exc, recover=False)
            return "error"
        self.notices.set("input", None)
        after = self.experiment.config
        if outcome in ("reset", "regenerate"):
            self.pause()  # reset() always pauses the player
            self.selected = None
            self.editing = None
            changed = {ctx.NETWORK, ctx.WEIGHTS, ctx.RESTART, ctx.CONFIG, ctx.DISPLAY}
            if outcome == "regenerate":
                changed.add(ctx.DATA)
        else:
            changed = {ctx.CONFIG, ctx.DISPLAY}
            if before.hidden != after.hidden:
                changed.add(ctx.NETWORK)
        self._config_changed()
        self.render(changed)
        return outcome

    def reset(self) -> None:
        """The Reset button: new weights from the continuing stream, epoch 0, paused."""
        self.pause()
        if not self._guarded(self.experiment.reset):
            return
        self.editing = None
        self._config_changed()
        self.render({ctx.NETWORK, ctx.WEIGHTS, ctx.RESTART, ctx.CONFIG})

    def regenerate(self) -> None:
        """The Regenerate button: a new seed and new data; network, epoch, chart and play state kept."""
        if not self._guarded(self.experiment.regenerate):
            return
        self._config_changed()
        self.render({ctx.DATA, ctx.WEIGHTS, ctx.CONFIG})

    # -- points a student draws, uploads and downloads ----------------------------------------------------

    def draw_choices(self) -> list[tuple[str, float]]:
        """What a click on the output map can add, as (words, label): a classification's classes by
        their colour (the current data's, and one more while there is room), a regression's -1 and +1."""
        config = self.experiment.config
        if not self.registry.problem(config.problem).classifies:
            return [(f"{scales.class_word(0)} (−1)", -1.0), (f"{scales.class_word(1)} (+1)", 1.0)]
        limit = DEFAULT_DATA_LIMITS.max_classes
        classes = min(limit, max(2, self.experiment.parts.output.classes) + 1)
        return [(scales.class_word(c), float(c)) for c in range(classes)]

    def set_draw_class(self, choice: int | None) -> None:
        """The class picker: ``choice`` indexes :meth:`draw_choices`; None (or anything else) stops drawing."""
        choices = self.draw_choices()
        self.draw_class = choice if isinstance(choice, int) and 0 <= choice < len(choices) else None

    def add_point(self, x: Any, y: Any) -> None:
        """A click on the output map while drawing: the point joins the drawn points (``Config.points``:
        they travel in the URL), which replace the dataset; the data is shuffled and split again.

        The click is browser input: anything but two finite numbers inside the plane is ignored, and
        past the drawn-point limit the page says how to go on (a file) instead of adding.
        """
        if self.draw_class is None or not self.offers("drawing") or "drawing" in self.locked:
            return
        if isinstance(x, bool) or isinstance(y, bool) or not isinstance(x, (int, float)) or not isinstance(y, (int, float)):
            return
        x, y = float(x), float(y)
        if not (math.isfinite(x) and math.isfinite(y) and abs(x) <= PLANE and abs(y) <= PLANE):
            return
        choices = self.draw_choices()
        if self.draw_class >= len(choices):
            return
        points = self.experiment.config.points
        limit = DEFAULT_DATA_LIMITS.max_drawn
        if len(points) >= limit:
            self.notices.set("drawing", f"At most {limit} points can be drawn: they travel in the page's address. "
                             "Download them as a file and upload it to go on with more.")  # fmt: skip
            return
        self.notices.set("drawing", None)
        self.apply(points=[*points, (x, y, choices[self.draw_class][1])])

    def clear_points(self) -> None:
        """The "Clear points" button: the drawn points go, and the dataset they replaced is back."""
        if "drawing" in self.locked or not self.experiment.config.points:
            return
        self.notices.set("drawing", None)
        self.apply(points=[])

    def upload(self, filename: Any, value: Any) -> bool:
        """A file from the page's file input (``FileInput``: its name and base64 bytes), read as data.

        A file that cannot be used leaves the experiment as it was, and the page says which row and
        column is wrong and why. A small file (up to the drawn-point limit) becomes drawn points, so the
        page's link carries it; a larger one becomes this page's own dataset, which a link cannot carry
        (the page says so). Returns whether the file was used.
        """
        if "drawing" in self.locked or not self.offers("drawing"):
            return False
        try:
            name, data = uploads.decode_upload(filename, value)
            dataset = uploads.upload_dataset(name, data, self.registry)
        except DataError as exc:
            self.notices.set("upload", f"The file could not be used, and nothing changed. {exc}.")
            return False
        problem = self.registry.problem(dataset.problem)
        points = uploads.given_points(dataset)
        config = self.experiment.config
        changes: dict[str, Any] = {"problem": problem.name}
        drawn = self._as_drawn(points, dataset, problem.classifies)
        try:
            if drawn is not None:
                changes["points"] = drawn
                fresh = config.with_changes(self.registry, **changes)
            else:
                self.registry.add(dataset, "uploaded by this page", replace=True)
                changes.update({problem.dataset_field: dataset.name, "points": []})
                fresh = config.with_changes(self.registry, **changes)
            self.load(fresh)
        except (ConfigError, ComponentError) as exc:
            self.notices.set("upload", f"The file could not be used, and nothing changed. {name}: {exc}.")
            return False
        count = len(points)
        self.notices.set(
            "upload",
            None if drawn is not None else
            f"{name}: {count:,} points, trained on this page. The link to this experiment does not carry "
            "them (too many for an address): whoever opens it uploads the file too.",
        )  # fmt: skip
        return True

    @staticmethod
    def _as_drawn(points: np.ndarray, dataset: Any, classifies: bool) -> tuple | None:
        """A small file's points as drawn points (None if they are too many, or their class names
        would be lost)."""
        if len(points) > DEFAULT_DATA_LIMITS.max_drawn:
            return None
        names = [str(c) for c in dataset.class_labels]
        if classifies and names and any(not n.lstrip("+-").replace(".", "", 1).isdigit() for n in names):
            return None  # named classes ("cat", "dog") keep their names in a dataset of their own
        labels = points[:, 2]
        if classifies:
            labels = class_index(labels, dataset.classes).astype(np.float64)
        try:
            return drawn_points([[float(a), float(b), float(c)] for a, b, c in zip(points[:, 0], points[:, 1], labels)],
                                classifies=classifies)  # fmt: skip
        except DataError:
            return None

    def download(self) -> None:
        """The "Download points" button: the points in use as a CSV file, handed to the browser through
        ``PageState.download`` (a counter first, so that the same file twice is still a change)."""
        e = self.experiment
        output = e.parts.output
        text = uploads.points_csv(e.points.all, e.parts.dataset, output.classifies, output.classes)
        self.downloads += 1
        self.state.download = f"{self.downloads}\n{text}"

    # -- for a lesson: starting over from a configuration, locked controls -----------------------------

    def load(self, config: Config) -> None:
        """Start over from ``config`` as a page opened on it does: data and weights from its seed,
        epoch 0, paused. (``apply`` follows the Playground's reactions to a change instead: a new
        seed drawn from the stream, new weights from the continuing stream.) The lesson page opens a
        step with it, so the student sees the experiment the lesson's claims were checked on.

        The experiment is rebuilt in place: every panel holds it (``VisualizerContext.experiment``).
        A configuration that cannot be built raises and leaves the experiment as it was.
        """
        fresh = Experiment(config, self.registry)
        self.pause()
        vars(self.experiment).update(vars(fresh))
        self.selected = None
        self.editing = None
        self._config_changed()
        self._status_changed()
        self.render(set(ctx.EVERYTHING))

    # -- plugin components that fail -------------------------------------------------------------------

    def _first_experiment(self, config: Config) -> Experiment:
        """The page's experiment; a plugin component that fails while it is built is switched off."""
        for _ in range(8):
            try:
                return Experiment(config, self.registry)
            except ComponentError as exc:
                self._component_failed(exc, recover=False)
                config = self._without_disabled(config)
        return Experiment(config, self.registry)

    def _guarded(self, action: Callable[[], Any]) -> bool:
        """Run an experiment action; False if a plugin component raised (it is then switched off)."""
        try:
            action()
        except ComponentError as exc:
            self._component_failed(exc)
            return False
        return True

    def _component_failed(self, exc: ComponentError, recover: bool = True) -> None:
        """Name the component and its plugin, switch it off for this page and carry on without it.

        Other sessions never see the failure: each has its own experiment and set of switched-off
        components. ``recover`` restarts this page on the nearest configuration that avoids every
        switched-off component (needed when the experiment itself is left half-trained).
        """
        if getattr(self, "playing", False):
            self.pause()
        for _ in range(8):  # each round switches off one more component, at most
            self.disabled.add((exc.kind, exc.name))
            log.error("%s\n%s", exc, "".join(traceback.format_exception(exc.error)))
            details = (
                f"The {exc.kind} “{exc.name}” (from plugin {exc.plugin!r}) failed: "
                f"{type(exc.error).__name__}: {exc.error}. It is switched off for this page; "
                "the playground carries on without it."
            )
            words = (
                f"The {exc.kind.replace('_', ' ')} “{self._component_label(exc.kind, exc.name)}” stopped working "
                "and is switched off for this page; the playground carries on without it."
            )
            self.notices.set(f"component:{exc.kind}:{exc.name}", details if self.dev else words)
            if not recover:
                return
            try:
                self.load(self._without_disabled(self.experiment.config))
                return
            except ComponentError as again:
                exc = again
        log.error("no working configuration left for this page after %s", exc)

    def _refuse_disabled(self, config: Config) -> None:
        for kind, name in self._components_of(config):
            if (kind, name) in self.disabled:
                raise ConfigError(kind, f"{name!r} is switched off for this page after it failed")

    def _components_of(self, config: Config) -> list[tuple[str, str]]:
        used = [("activation", config.activation), ("dataset", config.dataset_name(self.registry)),
                ("problem", config.problem)]  # fmt: skip
        if config.regularization != NO_REGULARIZATION:
            used.append(("regularizer", config.regularization))
        return used + [("feature", name) for name in config.features]

    def _without_disabled(self, config: Config) -> Config:
        """``config`` with each switched-off component replaced by the nearest working one."""
        registry, off = self.registry, self.disabled

        def first(kind: str, preferred: str, names: Iterable[str]) -> str:
            for name in (preferred, *names):
                if (kind, name) not in off:
                    return name
            raise ConfigError(kind, "every one has failed on this page")

        problem = registry.problem(first("problem", config.problem, registry.names("problems")))
        datasets = [d.name for d in registry.datasets_for(problem.name)]
        current = getattr(config, problem.dataset_field)
        changes: dict[str, Any] = {
            "problem": problem.name,
            problem.dataset_field: first("dataset", current if current in datasets else problem.default_dataset, datasets),
            "activation": first("activation", config.activation, [registry.default_activation().name, *registry.names("activations")]),
            "features": [f for f in config.features if ("feature", f) not in off],
        }  # fmt: skip
        if ("regularizer", config.regularization) in off:
            changes["regularization"] = NO_REGULARIZATION
        return config.with_changes(registry, **changes)

    def lock(self, controls: Iterable[str]) -> None:
        """Show ``controls`` but let nobody use them (a lesson's locked controls): their widgets are
        disabled and panels' requests for them refused; ``lock(())`` unlocks everything.

        Names are the hidable controls' (``learningRate``, ``numHiddenLayers``, ``resetButton``, a
        feature's name, ...) and the page's own: ``neurons`` (the +/- buttons), ``features`` (every
        feature toggle) and ``weights`` (editing a weight or a bias).
        """
        locked = frozenset(controls)
        if locked == self.locked:
            return
        self.locked = locked
        if self.editing is not None and "weights" in locked:
            self.editing = None
        self._status_changed()
        self.render({ctx.DISPLAY})

    def offer(self, controls: Iterable[str]) -> None:
        """Show these of the :data:`OPTIONAL_CONTROLS` (the others are left out): a lesson page offers
        the optimizer or drawing when its lesson uses them. A control left out is also refused on the
        server (a widget that is not shown cannot be used, ``guard.py``)."""
        offered = frozenset(controls) & frozenset(OPTIONAL_CONTROLS)
        if offered != self.offered:
            self.offered = offered
            self._config_changed()

    def offers(self, control: str) -> bool:
        """Whether the page shows ``control`` (every control but a left-out optional one)."""
        return control not in OPTIONAL_CONTROLS or control in self.offered

    # -- changes from the browser, coalesced per frame -------------------------------------------------

    def _scheduler(self) -> Callable[[Callable[[], None], float], None] | None:
        """Later callbacks on the session's event loop; None for a document outside the server."""
        if self.doc.session_context is None:
            return None
        return lambda callback, delay_s: self.doc.add_timeout_callback(callback, max(1, int(1000 * delay_s)))

    def from_browser(self, key: str, action: Callable[[], Any]) -> None:
        """Run ``action`` for a change the browser sent, coalesced with the same control's changes
        within a frame (see :class:`Coalescer`). Every widget handler goes through here."""
        self.changes.submit(key, lambda: None if self._destroyed else action())

    def _request_from_panel(self, action: str, **args: Any) -> None:
        """A panel's request, made when the student clicks its glyphs: coalesced like any change."""
        self.from_browser(f"{action}:{sorted(args.items())!r}", lambda: self.request(action, **args))

    def request(self, action: str, **args: Any) -> None:
        """A visualizer's request (``context.ACTIONS``); unknown actions are a programming error.

        A request for a locked control (``lock``) does nothing, as a disabled widget does nothing.
        """
        if _controls_of(action, args) & self.locked:
            return
        config = self.experiment.config
        shape = list(config.networkShape)
        limits = config.limits  # the page's, a lesson's or a deployment's (courseware serve --max-*)
        if action == "toggle_feature":
            name = args["name"]
            features = set(config.features) ^ {name}
            order = self.registry.names("features")
            self.apply(features=[f for f in order if f in features])
        elif action == "select_dataset":
            dataset = self.registry.dataset(args["name"])
            problem = self.registry.problem(dataset.problem)
            if dataset.problem == config.problem:
                self.apply(**{problem.dataset_field: dataset.name})
        elif action == "add_layer":
            if len(shape) < limits.max_hidden_layers:
                self.apply(networkShape=shape + [2])
        elif action == "remove_layer":
            if shape:
                self.apply(networkShape=shape[:-1])
        elif action in ("add_neuron", "remove_neuron"):
            layer = int(args["layer"]) - 1
            if 0 <= layer < len(shape):
                size = shape[layer] + (1 if action == "add_neuron" else -1)
                if 1 <= size <= limits.max_neurons:
                    shape[layer] = size
                    self.apply(networkShape=shape)
        elif action == "edit_weight":
            self.begin_edit("weight", str(args["link"]))
        elif action == "edit_bias":
            self.begin_edit("bias", str(args["node"]))
        elif action == "add_point":
            self.add_point(args.get("x"), args.get("y"))
        elif action == "reset":
            self.reset()
        elif action == "regenerate":
            self.regenerate()
        else:
            raise ValueError(f"unknown action {action!r}; actions: {', '.join(ctx.ACTIONS)}")

    def select_node(self, node: str | None) -> None:
        """Show ``node``'s map in the big plot (None: the output), as hovering does in the original."""
        known = node is None or node in self._feature_maps or node in self.experiment.params.arch.bias_index
        if not known or node == self.selected:
            return
        self.selected = node
        self.render({ctx.DISPLAY})

    # -- hovercard edits -----------------------------------------------------------------------------

    def begin_edit(self, kind: str, ident: str) -> None:
        arch = self.experiment.arch
        if (kind == "weight" and ident in arch.link_index) or (kind == "bias" and ident in arch.bias_index):
            self.editing = (kind, ident)
            self._status_changed()

    def edited_value(self) -> float | None:
        if self.editing is None:
            return None
        kind, ident = self.editing
        params = self.experiment.params
        return params.weights()[ident] if kind == "weight" else params.biases()[ident]

    def set_edited_value(self, text: str) -> bool:
        """Each keystroke of the editor sets the value (``+value`` in the original); bad text is ignored."""
        if self.editing is None:
            return False
        try:
            value = float(text)
        except (TypeError, ValueError):
            return False
        kind, ident = self.editing
        if kind == "weight":
            self.experiment.set_weight(ident, value)
        else:
            self.experiment.set_bias(ident, value)
        self.render({ctx.WEIGHTS})
        return True

    def end_edit(self) -> None:
        self.editing = None
        self._status_changed()

    # -- listeners (the controls and a lesson panel follow the session through these) -----------------

    def on_frame(self, listener: Callable[[ctx.Frame], None]) -> None:
        """Call ``listener(frame)`` after every render (inside the held document change)."""
        self._frame_listeners.append(listener)

    def on_config(self, listener: Callable[[Config], None]) -> None:
        """Call ``listener(config)`` whenever the settings change (any source: controls, panels, lessons)."""
        self._config_listeners.append(listener)

    def on_status(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` when play/pause or the value editor changes."""
        self._status_listeners.append(listener)

    def _config_changed(self) -> None:
        config = self.experiment.config
        self.state.query = config.to_query(self.registry)
        for listener in self._config_listeners:
            listener(config)

    def _status_changed(self) -> None:
        for listener in self._status_listeners:
            listener()

    # -- lifecycle -----------------------------------------------------------------------------------

    def destroy(self) -> None:
        """Release the session's training state (called from ``on_session_destroyed``).

        Touches neither the document nor its callbacks: Bokeh removes a destroyed session's
        callbacks itself, and at server shutdown the document is not ours to lock. A tick that
        still arrives finds nothing to do.
        """
        self._destroyed = True
        self.playing = False
        self._callback = None
        self.changes.cancel()
        self.changes.schedule = None  # its callback closes over this session: no cycle left behind
        self._frame_listeners.clear()
        self._config_listeners.clear()
        self._status_listeners.clear()
        self.panels.clear()
        self.experiment = None  # type: ignore[assignment]
        self._feature_maps = {}


# The control each visualizer action uses; a locked control refuses it.
ACTION_CONTROLS = {
    "toggle_feature": "features",
    "select_dataset": "dataset",
    "add_layer": "numHiddenLayers",
    "remove_layer": "numHiddenLayers",
    "add_neuron": "neurons",
    "remove_neuron": "neurons",
    "edit_weight": "weights",
    "edit_bias": "weights",
    "reset": "resetButton",
    "add_point": "drawing",
}


def _controls_of(action: str, args: dict[str, Any]) -> set[str]:
    controls = {ACTION_CONTROLS[action]} if action in ACTION_CONTROLS else set()
    if action == "toggle_feature":
        controls.add(str(args.get("name")))  # a feature is also locked by its own name
    return controls
