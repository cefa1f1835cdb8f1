"""Every python, yaml and toml block in docs/plugins.md and docs/lessons.md runs, as a reader would run it.

- **python**: run as a module. A first line ``# name.py`` names the module, so later blocks of the same
  page can import it (the testing example imports the five-minute plugin). A block with hook
  implementations is loaded as a plugin: it must load with no failure, and everything it registers
  must pass its contract check (lesson packs excepted: the docs ship no lesson folder). Functions
  named ``test_*`` are run as tests; a parametrized one with one case for each type of value.
- **yaml**: a whole lesson (it has ``format:``) must load. Fragments are recognised by their shape and
  loaded inside a small lesson: a list of steps, a ``controls:`` of a lesson (``hidden``/``locked``)
  or of a step, and a step's ``claims:``.
- **toml**: must parse; each ``courseware`` entry point must name a module an earlier block defined.
- A block right after a ``<!-- fragment -->`` line is not run: keep that rare. bash blocks and blocks
  without a language (commands, output, condition lists) are not run.
"""

from __future__ import annotations

import re
import sys
import textwrap
import tomllib
import types
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from courseware import config as config_module
from courseware.experiment import Experiment
from courseware.lessons import load_lesson_text
from courseware.plugins import PluginHost
from courseware.testing import check_component

ROOT = Path(__file__).parent.parent
PAGES = ["plugins.md", "lessons.md"]
FRAGMENT_MARK = "<!-- fragment -->"

FENCE = re.compile(r"^(?P<indent>[ ]*)```(?P<lang>[\w-]*)[ ]*\n(?P<body>.*?)^(?P=indent)```[ ]*$", re.MULTILINE | re.DOTALL)

HEADER = {
    "format": 1,
    "id": "docs-fragment",
    "title": "Docs fragment",
    "summary": "A small lesson around a fragment of the docs.",
    "objectives": ["Load the fragment"],
    "start": {"dataset": "circle", "networkShape": [4], "activation": "relu"},
}


@dataclass
class Block:
    page: str
    line: int
    lang: str
    body: str
    skipped: bool

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def blocks(page: str) -> list[Block]:
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
        body = textwrap.dedent(match.group("body"))
        found.append(Block(page, line, match.group("lang"), body, skipped=before == FRAGMENT_MARK))
    return found


RUNNABLE = {"python", "yaml", "toml"}


def test_the_pages_have_runnable_blocks_and_few_skipped():
    for page in PAGES:
        runnable = [b for b in blocks(page) if b.lang in RUNNABLE]
        assert runnable, f"no python/yaml/toml blocks found in {page}: is the fence pattern still right?"
        skipped = [b.id for b in runnable if b.skipped]
        assert len(skipped) <= 2, f"too many blocks marked {FRAGMENT_MARK}: {skipped}"


@pytest.mark.parametrize("page", PAGES)
def test_every_code_block_runs(page, monkeypatch, tmp_path, registry):
    modules: dict[str, types.ModuleType] = {}
    for block in blocks(page):
        if block.skipped or block.lang not in RUNNABLE:
            continue
        try:
            if block.lang == "python":
                run_python(block, modules, monkeypatch, tmp_path, registry)
            elif block.lang == "yaml":
                load_yaml(block, registry)
            else:
                check_toml(block, modules)
        except Exception as exc:
            raise AssertionError(f"docs/{block.id}: the {block.lang} block does not run: {type(exc).__name__}: {exc}") from exc


# -- python ------------------------------------------------------------------------------------------------


def run_python(block: Block, modules: dict, monkeypatch, tmp_path: Path, registry) -> None:
    named = re.match(r"#\s*([A-Za-z_]\w*)\.py\s*\n", block.body)
    name = named.group(1) if named else f"docs_{Path(block.page).stem}_{block.line}"
    module = types.ModuleType(name)
    module.__file__ = str(tmp_path / f"{name}.py")
    monkeypatch.setitem(sys.modules, name, module)  # later blocks import it; removed after the test
    exec(compile(block.body, f"docs/{block.id}", "exec"), module.__dict__)
    modules[name] = module
    if any(hasattr(value, "courseware_impl") for value in vars(module).values()):
        load_as_plugin(module, name)
    for test_name, function in list(vars(module).items()):
        if test_name.startswith("test_") and callable(function):
            run_test(function, registry)


def load_as_plugin(module: types.ModuleType, name: str) -> None:
    host = PluginHost.load(entry_points=False, extra=[(module, name)])
    assert host.failures == [], [str(f) for f in host.failures]
    registered = [(kind, reg.component) for kind, reg in host.registry.registrations() if reg.plugin == name]
    assert registered or host.commands, f"the plugin {name} registers nothing"
    for kind, component in registered:
        if kind != "lesson_sources":
            check_component(component, host.registry)


def run_test(function, registry) -> None:
    marks = [m for m in getattr(function, "pytestmark", []) if m.name == "parametrize"]
    if not marks:
        function()
        return
    (mark,) = marks
    argnames = [n.strip() for n in mark.args[0].split(",")] if isinstance(mark.args[0], str) else list(mark.args[0])
    seen = set()
    for values in mark.args[1]:
        values = (values,) if len(argnames) == 1 else tuple(values)
        kinds = tuple(type(v) for v in values)
        if kinds in seen:
            continue
        seen.add(kinds)
        function(**dict(zip(argnames, values)))


# -- yaml ----------------------------------------------------------------------------------------------------


def load_yaml(block: Block, registry) -> None:
    data = yaml.safe_load(block.body)
    if isinstance(data, dict) and "format" in data:
        load_lesson_text(block.body, f"docs/{block.id}", registry)
        return
    if isinstance(data, list) and all(isinstance(step, dict) for step in data):
        lesson = {**HEADER, "steps": data}
    elif isinstance(data, dict) and set(data) == {"controls"}:
        if set(data["controls"]) <= {"hidden", "locked"}:
            lesson = {**HEADER, "controls": data["controls"], "steps": [{"title": "Read", "text": "Text."}]}
        else:
            lesson = {**HEADER, "steps": [{"title": "Read", "text": "Text.", "controls": data["controls"]}]}
    elif isinstance(data, dict) and set(data) == {"limits"}:
        lesson = {**HEADER, "limits": data["limits"], "start": {"networkShape": [data["limits"].get("neurons", 8)]},
                  "steps": [{"title": "Read", "text": "Text."}]}  # fmt: skip
    elif isinstance(data, dict) and set(data) == {"claims"}:
        lesson = {**HEADER, "steps": [{"kind": "run", "title": "Train", "epochs": 100, "claims": data["claims"]}]}
    else:
        raise AssertionError("neither a lesson nor a fragment this test knows (steps, controls:, limits:, claims:)")
    load_lesson_text(yaml.safe_dump(lesson, sort_keys=False), f"docs/{block.id}", registry)


# -- toml ----------------------------------------------------------------------------------------------------


def check_toml(block: Block, modules: dict) -> None:
    data = tomllib.loads(block.body)
    entry_points = data.get("project", {}).get("entry-points", {}).get("courseware", {})
    for name, target in entry_points.items():
        assert target.split(":")[0] in modules, f"entry point {name} = {target!r} names no module of the page"


# -- what the blocks are for ---------------------------------------------------------------------------------


def test_the_five_minute_plugin_learns(monkeypatch, tmp_path, registry):
    """The five-minute example once trained silently wrong (its derivative ignored out=): train it."""
    (first,) = [b for b in blocks("plugins.md") if b.body.startswith("# courseware_moons.py")]
    run_python(first, {}, monkeypatch, tmp_path, registry)
    module = sys.modules["courseware_moons"]
    registry = PluginHost.load(entry_points=False, extra=[(module, "moons")]).registry
    config = config_module.from_mapping(
        {"dataset": "moons", "activation": "leaky-relu", "learningRate": "0.1", "seed": "0.5"}, registry
    )
    experiment = Experiment(config, registry)
    start = experiment.train_loss
    experiment.step(60)
    assert experiment.train_loss < 0.5 * start, (start, experiment.train_loss)
