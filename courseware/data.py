"""Data: generating, shuffling and splitting as the Playground does, and points that are given.

The Playground shuffles with a backwards Fisher-Yates that takes exactly one draw per point, then
splits at ``floor(len * percTrainData / 100)``; the training order is never reshuffled afterwards.

Points can also be *given* rather than generated: read from a file (a :class:`DataFormat` plugin
parses it into a :class:`PointSet`; ``courseware train --data``, ``courseware serve --data`` and a
lesson folder's ``data/``) or drawn by a student (a small set that travels in the URL, see
:func:`encode_points`). :func:`fixed_dataset` turns either into an ordinary :class:`Dataset` whose
``generate`` returns them and draws nothing, so the seed still decides the shuffle, the split and the
weights. Given points are checked against :class:`DataLimits`, and points outside the plane are moved
and scaled into it (see :func:`into_plane`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from courseware.components import Dataset
from courseware.errors import CoursewareError
from courseware.jsmath import decimal_number, js_number
from courseware.rng import RandomStream

from courseware.registry import Registry

PLANE = 6.0
"""The plane the page draws is [-6, 6]²."""
SPAN = 5.0
"""Points scaled into the plane span -5 .. 5 on their longer side (the Playground's datasets mostly lie
within 5 of the centre)."""


@dataclass(frozen=True)
class Points:
    """A shuffled dataset split into training and test points, each an (n, 3) array of x, y, label."""

    train: np.ndarray
    test: np.ndarray

    @property
    def all(self) -> np.ndarray:
        return np.concatenate([self.train, self.test])


def shuffle(rng: RandomStream, points: np.ndarray) -> np.ndarray:
    """The Playground's in-place backwards Fisher-Yates, returning a shuffled copy."""
    order = list(range(len(points)))
    draws = rng.draws(len(points))
    for step, counter in enumerate(range(len(order), 0, -1)):
        index = int(draws[step] * counter)
        last = counter - 1
        order[last], order[index] = order[index], order[last]
    return points[np.array(order, dtype=np.intp)] if len(points) else points


def split(points: np.ndarray, perc_train: float) -> Points:
    split_index = int(np.floor(len(points) * perc_train / 100))
    return Points(train=points[:split_index].copy(), test=points[split_index:].copy())


def generate(
    dataset: Dataset, rng: RandomStream, num_samples: int, noise_percent: float, perc_train: float
) -> Points:
    """Generate ``dataset`` from ``rng``, shuffle it and split it, consuming draws as the original."""
    raw = np.asarray(dataset.generate(rng, num_samples, noise_percent / 100), dtype=np.float64)
    if raw.ndim != 2 or raw.shape[1] != 3:
        raise ValueError(
            f"dataset {dataset.name!r} returned an array of shape {raw.shape}; expected (n, 3)"
        )
    return split(shuffle(rng, raw), perc_train)


# -- classes ------------------------------------------------------------------------------------------


def class_labels_for(index: np.ndarray, classes: int) -> np.ndarray:
    """The inverse of :func:`class_index`: dataset labels of class numbers."""
    index = np.asarray(index, dtype=np.float64)
    return np.where(index > 0, 1.0, -1.0) if classes == 2 else index


# -- given points ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataLimits:
    """What a data file or a drawn set may hold: the server reads uploads, so everything is bounded.

    ``max_drawn`` bounds drawn points carried in a URL (a larger set is exported as a file).
    """

    max_bytes: int = 1_000_000
    max_rows: int = 5000
    max_classes: int = 8
    max_drawn: int = 200


DEFAULT_DATA_LIMITS = DataLimits()


class DataError(CoursewareError, ValueError):
    """A data file or a drawn set that cannot be used; says where (file, row, column) and why."""

    def __init__(self, message: str, *, source: str = "", row: int | None = None, column: str | None = None) -> None:
        self.source = source
        self.row = row
        self.column = column
        self.reason = message
        where = [part for part in (source, f"row {row}" if row is not None else "",
                                   f"column {column}" if column else "") if part]  # fmt: skip
        super().__init__(f"{', '.join(where)}: {message}" if where else message)

    def located(self, source: str) -> DataError:
        """The same error, naming ``source`` (the file) if it did not already."""
        if self.source:
            return self
        return DataError(self.reason, source=source, row=self.row, column=self.column)


@dataclass(frozen=True)
class PointSet:
    """Points read from a file or drawn: an (n, 3) array of x, y, label.

    With ``classes`` (the class names, in class order) the labels are class numbers 0 .. C-1 and the
    points are for classification; without, each label is a number to predict (regression).
    """

    points: np.ndarray
    classes: tuple[str, ...] = ()


def into_plane(xy: np.ndarray) -> np.ndarray:
    """Points outside the plane [-6, 6]², moved and scaled into it; points inside it, unchanged.

    If any x or y lies beyond ±6, every point is moved by the same amount and scaled by the same
    factor on both axes (shapes and proportions are kept): the centre of the points' bounding box
    goes to (0, 0) and its longer side spans -5 to 5.
    """
    xy = np.asarray(xy, dtype=np.float64)
    if not len(xy) or np.abs(xy).max() <= PLANE:
        return xy.copy()
    low, high = xy.min(axis=0), xy.max(axis=0)
    centre = low / 2 + high / 2  # halves first: no overflow near the largest floats
    half = float((high / 2 - low / 2).max())
    scale = SPAN / half if half > 0 else 1.0
    return (xy - centre) * scale


def scaled_targets(values: np.ndarray) -> np.ndarray:
    """Regression targets beyond ±1 divided by the largest magnitude, so they lie in [-1, 1] as the
    Playground's do (0 stays 0 and signs are kept); targets within ±1, unchanged."""
    values = np.asarray(values, dtype=np.float64)
    top = float(np.abs(values).max()) if len(values) else 0.0
    return values / top if top > 1 else values.copy()


class _Given:
    """A fixed dataset's ``generate``: its points, whatever it is asked for, drawing nothing."""

    def __init__(self, points: np.ndarray) -> None:
        self.points = points
        self.points.flags.writeable = False

    def __call__(self, rng: RandomStream, num_samples: int, noise: float) -> np.ndarray:
        return self.points.copy()


def fixed_dataset(name: str, label: str, points: PointSet, registry: Registry, *, description: str = "",
                  limits: DataLimits = DEFAULT_DATA_LIMITS, source: str = "") -> Dataset:  # fmt: skip
    """A :class:`Dataset` of given points (see the module docstring), checked against ``limits``.

    The problem type is the first registered one that classifies when ``points`` has classes, else
    the first that does not. Raises :class:`DataError` naming ``source``.
    """
    array = np.asarray(points.points, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 3:
        raise DataError(f"points must be an (n, 3) array of x, y, label, not of shape {array.shape}", source=source)
    if not len(array):
        raise DataError("there are no points", source=source)
    if len(array) > limits.max_rows:
        raise DataError(f"{len(array):,} points is more than the limit of {limits.max_rows:,}", source=source)
    bad = ~np.isfinite(array)
    if bad.any():
        row, column = np.argwhere(bad)[0]
        raise DataError(f"{float(array[row, column])!r} is not a finite number", source=source, row=int(row) + 1,
                        column=("x", "y", "label")[column])  # fmt: skip
    classifies = bool(points.classes)
    problems = [p for p in registry.all("problems") if p.classifies == classifies]
    if not problems:
        kind = "classification" if classifies else "regression"
        raise DataError(f"no {kind} problem type is registered for these points", source=source)
    classes = len(points.classes)
    xy = into_plane(array[:, :2])
    if classifies:
        _check_classes(array[:, 2], points.classes, limits, source)
        labels = class_labels_for(array[:, 2], classes)
    else:
        labels = scaled_targets(array[:, 2])
    given = np.column_stack([xy, labels])
    return Dataset(
        name, label, problems[0].name, _Given(given), description, classes=max(classes, 2),
        class_labels=points.classes, fixed=True,
    )  # fmt: skip


def _check_classes(index: np.ndarray, names: Sequence[str], limits: DataLimits, source: str) -> None:
    if len(names) > limits.max_classes:
        raise DataError(f"{len(names)} classes is more than the limit of {limits.max_classes}", source=source)
    wrong = (index != np.round(index)) | (index < 0) | (index >= len(names))
    if wrong.any():
        row = int(np.flatnonzero(wrong)[0])
        raise DataError(f"class number {float(index[row])!r} is not one of 0 .. {len(names) - 1}", source=source,
                        row=row + 1, column="label")  # fmt: skip
    present = np.unique(index.astype(np.int64))
    if len(names) < 2 or len(present) < 2:
        only = names[int(present[0])] if len(present) else "(none)"
        raise DataError(f"every point is of one class ({only}); a classification needs at least two", source=source)


# -- drawn points ----------------------------------------------------------------------------------------

DrawnPoint = tuple[float, float, float]
DRAWN_DECIMALS = 2
"""Drawn points are kept to two decimals: a hundredth of a unit is finer than a pixel of the page's
plane (12 units across some 300 pixels), and a URL stays short."""


def encode_points(points: Iterable[DrawnPoint]) -> str:
    """Drawn points for a URL: ``x,y,label`` triples joined by ``_``: ``1.5,-2,0_0.25,3.1,1``."""
    return "_".join(",".join(js_number(v) for v in point) for point in points)


def drawn_points(value: Any, *, classifies: bool | None,
                 limits: DataLimits = DEFAULT_DATA_LIMITS) -> tuple[DrawnPoint, ...]:  # fmt: skip
    """Validate drawn points: the URL's text (:func:`encode_points`) or a list of ``[x, y, label]``.

    Each x and y lies in the plane [-6, 6] and is rounded to two decimals; a label is a class number
    0 .. ``max_classes - 1`` when ``classifies``, else a number in [-1, 1] (``None``: any finite
    number, for a first pass before the problem type is known). At most ``limits.max_drawn`` points.
    Raises :class:`DataError` naming the point.
    """
    if isinstance(value, str):
        text = value.strip()
        if len(text) > limits.max_drawn * 40:
            raise DataError(f"far more text than {limits.max_drawn} points need")
        rows: list[Any] = [part.split(",") for part in text.split("_")] if text else []
    elif isinstance(value, (list, tuple)):
        rows = list(value)
    else:
        raise DataError(f"{value!r} is not a list of points; write x,y,label triples joined by _ or a list of [x, y, label]")
    if len(rows) > limits.max_drawn:
        raise DataError(f"{len(rows)} points is more than the limit of {limits.max_drawn} for drawn points "
                        "(export a larger set as a file)")  # fmt: skip
    out = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, (list, tuple)) or len(row) != 3:
            raise DataError(f"point {number}: {row!r} is not x, y, label")
        x, y, label = (_drawn_number(number, name, v) for name, v in zip(("x", "y", "label"), row))
        for name, v in (("x", x), ("y", y)):
            if abs(v) > PLANE:
                raise DataError(f"point {number}: {name} = {v!r} is outside the plane (-6 to 6)")
        if classifies:
            if label != int(label) or not 0 <= label < limits.max_classes:
                raise DataError(f"point {number}: label {label!r} is not a class number from 0 to "
                                f"{limits.max_classes - 1}")  # fmt: skip
            label = float(int(label))
        elif classifies is not None and abs(label) > 1:
            raise DataError(f"point {number}: label {label!r} is not a number from -1 to 1")
        out.append((_round(x), _round(y), label if classifies else _round(label)))
    return tuple(out)


def _drawn_number(number: int, name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise DataError(f"point {number}: {name} {value!r} is not a number")
    if isinstance(value, str):
        value = decimal_number(value)
    if not isinstance(value, (int, float)):
        raise DataError(f"point {number}: {name} {value!r} is not a number")
    result = float(value)
    if not math.isfinite(result):
        raise DataError(f"point {number}: {name} {value!r} is not a finite number")
    return result


def _round(value: float) -> float:
    return round(value, DRAWN_DECIMALS) + 0.0  # + 0.0: no -0 in a URL


def drawn_classes(points: Sequence[DrawnPoint]) -> int:
    """The number of classes of drawn classification points: the highest class number drawn, plus
    one, and at least two (while a student has drawn one class only, the other is empty)."""
    return max(2, 1 + max((int(p[2]) for p in points), default=0))


def drawn_dataset(points: Sequence[DrawnPoint], problem: Any) -> Dataset:
    """The dataset of a configuration's drawn points (validated by :func:`drawn_points`) for the
    problem type ``problem``. Unlike a file, drawn points are in the plane already, and a set of one
    class (the student has not drawn the other yet) is allowed."""
    array = np.array(points, dtype=np.float64).reshape(-1, 3)
    classes = drawn_classes(points) if problem.classifies else 2
    labels = class_labels_for(array[:, 2], classes) if problem.classifies else array[:, 2]
    given = np.column_stack([array[:, :2], labels])
    names = tuple(str(c) for c in range(classes)) if problem.classifies else ()
    return Dataset(DRAWN, "Drawn points", problem.name, _Given(given), "Points drawn on the plane.",
                   classes=classes, class_labels=names, fixed=True)  # fmt: skip


DRAWN = "drawn"
"""The name of the dataset of drawn points (not a registered dataset: it lives in the configuration)."""


def to_csv(points: np.ndarray, classes: Sequence[str] | None = None) -> str:
    """Points as a data file with a header: how a drawn set too large for a URL is exported, to be read
    back by ``--data``, an upload or a lesson's ``data/``.

    With ``classes`` (the class names, in class order; drawn points name theirs "0", "1", ...) the
    labels are class numbers and the file's third column is ``class``, so that numbers read back as
    class names; without, the column is ``label`` and holds the numbers to predict.
    """
    lines = ["x,y,class" if classes is not None else "x,y,label"]
    for x, y, label in np.asarray(points, dtype=np.float64).reshape(-1, 3):
        text = classes[int(label)] if classes is not None else js_number(float(label))
        lines.append(f"{js_number(float(x))},{js_number(float(y))},{_csv_field(text)}")
    return "\n".join(lines) + "\n"


def _csv_field(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n\r') else text
