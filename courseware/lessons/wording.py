"""Lesson machinery in words a student reads: settings, controls and conditions, never identifiers.

A lesson file speaks the Playground's vocabulary (``networkShape: [4]``, ``test_loss <= 0.05``); a
student should read "one hidden layer of 4 neurons" and "test loss at most 0.05". A setting's words
come from its row of the settings table (:data:`courseware.config.SETTINGS`), a control's from
:data:`courseware.settings.CONTROLS`, and both are built from the labels components and metrics
register (a plugin's feature or metric gets its own label), so the page and ``courseware run`` say
the same thing, and nothing a student sees names a configuration key or a metric id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from courseware.config import SETTING_BY_NAME
from courseware.jsmath import js_number
from courseware.lessons.conditions import (
    Condition,
    _Arithmetic,
    _Compare,
    _Logic,
    _Metric,
    _Name,
    _Negate,
    _Not,
    _Number,
)
from courseware.registry import Registry
from courseware.settings import control_words, describe_network, join_words, plain_label

__all__ = [
    "describe_changes",
    "describe_condition",
    "describe_controls",
    "describe_network",
    "describe_setting",
    "join_words",
    "plain_label",
]

_RELATION = {"<": "below", "<=": "at most", ">": "above", ">=": "at least", "==": "exactly", "!=": "not"}


def describe_setting(key: str, value: Any, registry: Registry) -> str:
    """One setting in words, as its row of the settings table says it: ``("learningRate", 0.1)`` ->
    "learning rate 0.1"."""
    setting = SETTING_BY_NAME.get(key)
    return setting.describe(value, registry) if setting is not None else f"{key} {value}"


def describe_changes(changes: Mapping[str, Any], registry: Registry) -> str:
    """A change step's settings as one sentence: "Now: one hidden layer of 4 neurons and ReLU
    activation." Regression datasets set their problem too; the sentence names the dataset only."""
    parts = []
    for key, value in changes.items():
        if key == "problem" and ("dataset" in changes or "regDataset" in changes):
            continue
        parts.append(describe_setting(key, value, registry))
    return f"Now: {join_words(parts)}." if parts else ""


def describe_controls(names: Iterable[str], registry: Registry) -> str:
    """Control names in words: ``[neurons, numHiddenLayers]`` -> "the number of neurons and the
    number of hidden layers"."""
    return join_words(control_words(name, registry) for name in names)


# -- conditions -----------------------------------------------------------------------------------------


def describe_condition(condition: Condition, registry: Registry) -> str:
    """A condition in words: ``test_loss <= 0.05 and neurons <= 3`` -> "test loss at most 0.05 and
    at most 3 neurons"."""
    metrics = {m.name: m for m in registry.all("metrics")}
    return _words(condition.tree, metrics, registry)


def _metric_words(node: _Metric, metrics: Mapping[str, Any]) -> str:
    metric = metrics.get(node.name)
    label = (getattr(metric, "label", "") or node.name.replace("_", " ")) if metric is not None else node.name
    return label if node.variant is None else f"{label} of “{node.variant}”"


def _counted(node: Any, metrics: Mapping[str, Any]) -> bool:
    """A metric that counts things (neurons, layers, epochs) reads best with the number first."""
    if not isinstance(node, _Metric):
        return False
    metric = metrics.get(node.name)
    unit = getattr(metric, "unit", "") if metric is not None else ""
    label = getattr(metric, "label", "") if metric is not None else ""
    return bool(unit) and unit not in ("fraction", "boolean", "name") and label.endswith(unit)


def _number_words(node: Any, value: float, metrics: Mapping[str, Any]) -> str:
    metric = metrics.get(node.name) if isinstance(node, _Metric) else None
    if metric is not None and getattr(metric, "unit", "") == "fraction":
        return f"{js_number(round(value * 100, 6))}%"
    return js_number(value)


def _words(node: Any, metrics: Mapping[str, Any], registry: Registry) -> str:
    if isinstance(node, _Logic):
        joiner = " and " if node.op == "and" else " or "
        return joiner.join(_words(item, metrics, registry) for item in node.items)
    if isinstance(node, _Not):
        inner = node.operand
        if isinstance(inner, _Metric):
            return f"not {_metric_words(inner, metrics)}"
        return f"not: {_words(inner, metrics, registry)}"
    if isinstance(node, _Compare):
        return _comparison_words(node, metrics, registry)
    if isinstance(node, _Metric):
        return _metric_words(node, metrics)
    if isinstance(node, _Number):
        return js_number(node.value)
    if isinstance(node, _Name):
        return node.value
    if isinstance(node, _Negate):
        return f"minus {_words(node.operand, metrics, registry)}"
    if isinstance(node, _Arithmetic):
        op = {"+": "plus", "-": "minus", "*": "times", "/": "divided by"}[node.op]
        return f"{_words(node.left, metrics, registry)} {op} {_words(node.right, metrics, registry)}"
    return str(node)


def _comparison_words(node: _Compare, metrics: Mapping[str, Any], registry: Registry) -> str:
    operands, ops = list(node.operands), list(node.ops)
    # a < x < b: "x between a and b"
    if len(ops) == 2 and isinstance(operands[0], _Number) and isinstance(operands[2], _Number) \
            and ops[0] in ("<", "<=") and ops[1] in ("<", "<="):
        subject = _words(operands[1], metrics, registry)
        low = _number_words(operands[1], operands[0].value, metrics)
        high = _number_words(operands[1], operands[2].value, metrics)
        return f"{subject} between {low} and {high}"
    parts = []
    for op, left, right in zip(ops, operands, operands[1:]):
        parts.append(_pair_words(op, left, right, metrics, registry))
    return " and ".join(parts)


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def _pair_words(op: str, left: Any, right: Any, metrics: Mapping[str, Any], registry: Registry) -> str:
    if isinstance(left, _Number) and not isinstance(right, _Number):  # 0.05 >= test_loss
        left, right, op = right, left, _FLIP[op]
    if isinstance(right, _Name) or isinstance(left, _Name):
        metric, name = (left, right) if isinstance(right, _Name) else (right, left)
        verb = "is" if op == "==" else "is not"
        return f"{_words(metric, metrics, registry)} {verb} {_choice_label(metric, name.value, metrics, registry)}"
    relation = _RELATION[op]
    if isinstance(right, _Number):
        number = _number_words(left, right.value, metrics)
        if _counted(left, metrics):
            if op == "==" and right.value == 0:
                return f"no {_metric_words(left, metrics)}"
            return f"{'' if op == '==' else relation + ' '}{number} {_metric_words(left, metrics)}"
        return f"{_words(left, metrics, registry)} {relation} {number}"
    return f"{_words(left, metrics, registry)} {relation} {_words(right, metrics, registry)}"


def _choice_label(node: Any, value: str, metrics: Mapping[str, Any], registry: Registry) -> str:
    """How a student reads one value of a name metric: its ``choices`` may map names to labels."""
    metric = metrics.get(node.name) if isinstance(node, _Metric) else None
    choices = getattr(metric, "choices", None)
    if choices is None:
        return value
    try:
        known = choices(registry)
    except Exception:  # a plugin's choices failing: the name still reads
        return value
    return str(known.get(value, value)) if isinstance(known, Mapping) else value
