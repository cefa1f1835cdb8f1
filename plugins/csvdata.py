"""Points from a CSV file: columns x, y and label (or class).

The format, for people who write such files by hand or export them from a spreadsheet:

* UTF-8 text, one point per row; the values are separated by commas (or, if the first row has no
  comma, by semicolons or tabs). Blank rows and rows starting with ``#`` are skipped.
* An optional header row names the columns, in any order: ``x``, ``y`` and ``label`` (or ``class``).
  Without a header the columns are x, y, label in that order.
* x and y are numbers (``1.5``, ``-2e-3``). Points outside the plane [-6, 6]² are moved and scaled
  into it by the host, keeping their shape (see ``courseware.data.into_plane``).
* ``label``: when every label is -1 or +1 (``1``, ``+1``, ``1.0`` ...) the file is a two-class
  classification, as the Playground's; when any label is not a number, every label is a class name;
  when the labels are other numbers, the file is a regression and the labels are the values to
  predict. A ``class`` column always holds class names, numbers included (``0``, ``1``, ``2``).
  Classes are numbered in the names' order: numbers by value (so -1 before +1), other names
  alphabetically.

Every problem is reported with its row (the file's line number) and column, and the first one stops
the reading.
"""

from __future__ import annotations

import csv
import math

import numpy as np

from courseware import DataFormat, hookimpl
from courseware.data import DataError, DataLimits, PointSet
from courseware.jsmath import is_decimal

COLUMNS = ("x", "y", "label")
CLASS_COLUMN = "class"


def read_csv(data: bytes, name: str, limits: DataLimits) -> PointSet:
    """Parse a CSV file's bytes into points (see the module docstring)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(f"this is not UTF-8 text (byte {exc.start + 1} cannot be read); save the file as "
                        "UTF-8 CSV", row=line) from None  # fmt: skip
    if "\x00" in text:
        raise DataError("this is not a text file (it holds NUL characters)")
    lines = text.splitlines()
    delimiter = _delimiter(lines)
    columns: dict[str, int] | None = None
    label_column = "label"
    xs: list[float] = []
    ys: list[float] = []
    labels: list[str] = []
    rows: list[int] = []
    reader = csv.reader(lines, delimiter=delimiter, skipinitialspace=True, strict=True)
    try:
        for values in reader:
            row = reader.line_num
            if not values or not "".join(values).strip() or values[0].lstrip().startswith("#"):
                continue
            values = [v.strip() for v in values]
            if columns is None:
                columns, label_column, is_header = _columns(values, row)
                if is_header:
                    continue
            if len(values) != len(columns):
                raise DataError(f"{len(values)} values, expected {len(columns)} ({', '.join(columns)})", row=row)
            if len(xs) == limits.max_rows:
                raise DataError(f"more than {limits.max_rows:,} points; the limit is {limits.max_rows:,}", row=row)
            xs.append(_number(values[columns["x"]], row, "x"))
            ys.append(_number(values[columns["y"]], row, "y"))
            label = values[columns[label_column]]
            if not label:
                raise DataError("the label is empty", row=row, column=label_column)
            labels.append(label)
            rows.append(row)
    except csv.Error as exc:
        raise DataError(f"not readable as CSV: {exc}", row=reader.line_num) from None
    if not xs:
        raise DataError("there are no points in the file")
    names, values_ = _labels(labels, rows, label_column)
    return PointSet(np.column_stack([xs, ys, values_]), names)


def _delimiter(lines: list[str]) -> str:
    first = next((line for line in lines if line.strip() and not line.lstrip().startswith("#")), "")
    if "," in first:
        return ","
    for candidate in (";", "\t"):
        if candidate in first:
            return candidate
    return ","


def _columns(values: list[str], row: int) -> tuple[dict[str, int], str, bool]:
    """The column positions, from a header row or (no header) the default order."""
    if all(is_decimal(v) for v in values[:2]) and len(values) >= 2:
        if len(values) != 3:
            raise DataError(f"{len(values)} values, expected 3 (x, y, label)", row=row)
        return {name: i for i, name in enumerate(COLUMNS)}, "label", False
    columns: dict[str, int] = {}
    for position, raw in enumerate(values, start=1):
        name = raw.lower()
        if name not in (*COLUMNS, CLASS_COLUMN):
            raise DataError(f"{raw!r} is not a column courseware knows; name the columns x, y and label (or "
                            "class)", row=row, column=str(position))  # fmt: skip
        if name in columns:
            raise DataError(f"the column {name} is named twice", row=row, column=str(position))
        columns[name] = position - 1
    if "label" in columns and CLASS_COLUMN in columns:
        raise DataError("give either a label or a class column, not both", row=row)
    label_column = CLASS_COLUMN if CLASS_COLUMN in columns else "label"
    missing = [c for c in ("x", "y", label_column) if c not in columns]
    if missing:
        raise DataError(f"the header has no column {' or '.join(missing)}; a data file has the columns x, y and "
                        "label (or class)", row=row)  # fmt: skip
    return columns, label_column, True


def _number(text: str, row: int, column: str) -> float:
    if not is_decimal(text):
        what = "empty" if not text else f"{text!r} is not a number"
        raise DataError(f"{what}; write a number such as 1.5 or -2e-3", row=row, column=column)
    value = float(text)
    if not math.isfinite(value):
        raise DataError(f"{text!r} is too large to be a finite number", row=row, column=column)
    return value


def _labels(labels: list[str], rows: list[int], column: str) -> tuple[tuple[str, ...], np.ndarray]:
    """(class names, class numbers) for a classification, ((), values) for a regression."""
    numeric = [bool(is_decimal(label)) for label in labels]
    if column == "label" and all(numeric):
        values = np.array([_number(label, row, column) for label, row in zip(labels, rows)])
        if np.isin(values, (-1.0, 1.0)).all():
            return ("-1", "+1"), (values > 0).astype(np.float64)
        return (), values
    names = sorted(set(labels), key=_name_order)
    index = {name: i for i, name in enumerate(names)}
    return tuple(names), np.array([index[label] for label in labels], dtype=np.float64)


def _name_order(name: str) -> tuple[int, float, str]:
    """Numbers first, by value (and -1 before +1), then other names alphabetically."""
    if is_decimal(name):
        return (0, float(name), name)
    return (1, 0.0, name.casefold())


CSV = DataFormat("csv", "CSV file", (".csv",), read_csv,
                 "Comma-separated values: x, y and label (or class) for each point.")  # fmt: skip


@hookimpl
def register_data_formats(register):
    register(CSV)
