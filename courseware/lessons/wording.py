"""Lesson machinery in words a student reads: settings, controls and conditions, never identifiers.

A lesson file speaks the Playground's vocabulary (``networkShape: [4]``, ``test_loss <= 0.05``); a
student should read "one hidden layer of 4 neurons" and "test loss at most 0.05". Everything here
builds its words from the labels components and metrics register (a plugin's feature or metric gets
its own label), so the page and ``courseware run`` say the same thing, and nothing a student sees
names a configuration key or a metric id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from courseware.config import NO_REGULARIZATION, js_number
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
from courseware.plugins import Registry

# The page's controls, as a student would name them.
CONTROL_WORDS = {
    "showTestData": "“Show test data”",
    "discretize": "“Discretize output”",
    "playButton": "the play button",
    "stepButton": "the step button",
    "resetButton": "the reset button",
    "learningRate": "the learning rate",
    "activation": "the activation",
    "regularization": "the regularization",
    "regularizationRate": "the regularization rate",
    "problem": "the problem type",
    "dataset": "the dataset",
    "percTrainData": "the ratio of training to test data",
    "noise": "the noise",
    "batchSize": "the batch size",
    "numHiddenLayers": "the number of hidden layers",
    "optimizer": "the optimizer",
    "neurons": "the number of neurons",
    "features": "the input features",
    "weights": "editing the weights",
    "drawing": "drawing and uploading points",
}

_COUNT_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight"}

_RELATION = {"<": "below", "<=": "at most", ">": "above", ">=": "at least", "==": "exactly", "!=": "not"}


def join_words(items: Iterable[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def plain_label(label: str) -> str:
    """A label written for math rendering (``X_1^2``) as plain text (``X₁²``)."""
    out, i = [], 0
    while i < len(label):
        ch = label[i]
        if ch in "_^" and i + 1 < len(label) and label[i + 1].isdigit():
            j = i + 1
            while j < len(label) and label[j].isdigit():
                j += 1
            out.append(label[i + 1 : j].translate(_SUB if ch == "_" else _SUP))
            i = j
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _label(registry: Registry, kind: str, name: str) -> str:
    """A component's label as plain text (``"ReLU"`` for ``relu``, ``X₁²`` for ``xSquared``); an
    unknown name stays as written (the loader has reported it already)."""
    for component in registry.all(kind):
        if component.name == name:
            return plain_label(component.label)
    return name


def describe_network(shape: Iterable[int]) -> str:
    """``[4, 2]`` -> "two hidden layers, of 4 and 2 neurons"."""
    sizes = list(shape)
    if not sizes:
        return "no hidden layer"
    if len(sizes) == 1:
        return f"one hidden layer of {sizes[0]} neuron{'s' if sizes[0] != 1 else ''}"
    count = _COUNT_WORDS.get(len(sizes), str(len(sizes)))
    return f"{count} hidden layers, of {join_words(str(n) for n in sizes)} neurons"


_NUMBER_SETTINGS = {
    "percTrainData": "{}% of the points for training",
    "noise": "noise {}",
    "batchSize": "batch size {}",
    "learningRate": "learning rate {}",
    "regularizationRate": "regularization rate {}",
}


def describe_setting(key: str, value: Any, registry: Registry) -> str:
    """One setting in words: ``("learningRate", 0.1)`` -> "learning rate 0.1"."""
    if key == "networkShape":
        return describe_network(value)
    if key == "features":
        names = [_label(registry, "features", n) for n in value]
        return "inputs " + join_words(names) if names else "no inputs"
    if key == "activation":
        return f"the {_label(registry, 'activations', value)} activation"
    if key == "regularization":
        return "no regularization" if value == NO_REGULARIZATION else f"{_label(registry, 'regularizers', value)} regularization"
    if key in ("dataset", "regDataset"):
        return f"the {_label(registry, 'datasets', value)} dataset"
    if key == "problem":
        return f"a {_label(registry, 'problems', value).lower()} problem"
    if key in _NUMBER_SETTINGS:
        return _NUMBER_SETTINGS[key].format(js_number(value))
    if key == "initZero":
        return "every weight starting at zero" if value else "random starting weights"
    if key == "seed":
        return "new data and starting weights"
    if key in ("showTestData", "discretize"):
        return f"{CONTROL_WORDS[key]} {'on' if value else 'off'}"
    return f"{key} {value}"


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
    feature_names = set(registry.names("features"))
    words = []
    for name in names:
        if name in CONTROL_WORDS:
            words.append(CONTROL_WORDS[name])
        elif name in feature_names:
            words.append(f"the input {_label(registry, 'features', name)}")
        else:
            words.append(name)
    return join_words(words)


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
