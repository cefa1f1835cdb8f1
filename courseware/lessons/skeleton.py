"""``courseware new lesson NAME``: a commented lesson file that passes ``courseware check``.

The skeleton shows one of each common step kind with a comment saying what it does, so an
instructor starts from something that works and edits it. Its claims are calibrated (see
``docs/lessons.md``: measured over 20 seeds), so the skeleton checks clean as written.
"""

from __future__ import annotations

import re
from pathlib import Path

SKELETON = (Path(__file__).parent / "templates" / "skeleton.yaml").read_text(encoding="utf-8")
"""The lesson skeleton: a ``str.format`` template with ``{id}``, ``{title}`` and ``{filename}``.

It lives in a YAML file beside this module because it is lesson content (it names a dataset and an
activation and carries calibrated claims), not host logic.
"""


def lesson_id(name: str) -> str:
    """A usable lesson id from a name: lower case, dashes for anything else."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:64] or "lesson"


def skeleton(name: str, filename: str) -> str:
    """The skeleton lesson text for ``name``."""
    title = name.strip() or "A new lesson"
    if title == title.lower():
        title = title.replace("-", " ").replace("_", " ").capitalize()
    return SKELETON.format(id=lesson_id(name), title=_yaml_text(title), filename=filename)


def _yaml_text(text: str) -> str:
    """``text`` as a YAML scalar (quoted when plain style would misread it)."""
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9 ,.()'-]*", text) and not text.endswith(" "):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
