"""Points a student brings to the page: a CSV file uploaded with the page's file input, and the
current points downloaded as a file that the upload (and ``--data``) reads back.

An upload is browser input like any other: its bytes arrive base64-encoded inside one websocket
message (Bokeh's ``FileInput``), which the server caps at ``web.MAX_MESSAGE_BYTES``; here the file is
bounded again (:data:`UPLOAD_LIMITS`: bytes, rows, classes), decoded strictly and read by the
registered data format for its name (``courseware.datafiles.read_data``), whose errors name the row and the
column. Nothing here changes the experiment: the session does that once the file has been read.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import PurePath
from typing import Any

import numpy as np

from courseware.components import Dataset
from courseware.components import class_index
from courseware.data import DataError, DataLimits, to_csv
from courseware.datafiles import read_data
from courseware.registry import Registry

UPLOAD_LIMITS = DataLimits(max_bytes=256 * 1024, max_rows=5000, max_classes=8)
"""What an uploaded file may hold: a quarter of a megabyte (its base64 form is a third larger, well
under the server's 1 MiB message cap), 5,000 points, 8 classes (the class map's hues)."""
UPLOAD_DATASET = "uploaded-file"
"""The name of a page's uploaded dataset, registered in that page's own registry only."""
MAX_FILENAME = 200  # characters of an uploaded file's name that are kept


def base64_chars(size: int) -> int:
    """The most base64 characters a file of ``size`` bytes takes."""
    return 4 * ((size + 2) // 3)


def decode_upload(filename: Any, value: Any, limits: DataLimits = UPLOAD_LIMITS) -> tuple[str, bytes]:
    """The file's name and bytes from a ``FileInput``'s ``filename`` and base64 ``value``, checked
    again on the server (the browser's widget could have sent anything). Raises :class:`DataError`."""
    if not isinstance(filename, str) or not isinstance(value, str):
        raise DataError("choose one file")
    name = PurePath(filename.replace("\\", "/")).name[:MAX_FILENAME] or "file"
    if not value or len(value) > base64_chars(limits.max_bytes):
        # (the server drops a larger value before it reaches the page: it then arrives empty)
        raise DataError(f"the file is empty, or larger than the limit of {limits.max_bytes:,} bytes", source=name)
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise DataError("the file did not arrive whole; choose it again", source=name) from None
    if len(data) > limits.max_bytes:
        raise DataError(f"the file has {len(data):,} bytes, more than the limit of {limits.max_bytes:,}", source=name)
    return name, data


def upload_dataset(filename: str, data: bytes, registry: Registry, limits: DataLimits = UPLOAD_LIMITS) -> Dataset:
    """The dataset of an uploaded file, named :data:`UPLOAD_DATASET` and labelled with the file's name.
    Raises :class:`DataError` saying which row and column is wrong, and why."""
    dataset = read_data(data, filename, registry, limits=limits, name=UPLOAD_DATASET)
    return Dataset(dataset.name, PurePath(filename).name, dataset.problem, dataset.generate,
                   dataset.description, classes=dataset.classes, class_labels=dataset.class_labels,
                   fixed=True)  # fmt: skip


def given_points(dataset: Dataset) -> np.ndarray:
    """A fixed dataset's points (x, y, label as the dataset labels them)."""
    from courseware.rng import RandomStream

    return np.asarray(dataset.generate(RandomStream("given"), 0, 0.0), dtype=np.float64)


def points_csv(points: np.ndarray, dataset: Dataset, classifies: bool, classes: int) -> str:
    """The points as a CSV file the upload, ``--data`` and a lesson's ``data/`` read back as the same
    points: a regression's labels as numbers, the Playground's two unnamed classes as -1 and +1, other
    classes by name (their names, or their numbers)."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    if not classifies or (classes == 2 and not dataset.class_labels):
        return to_csv(points)
    names = list(dataset.class_labels) if len(dataset.class_labels) == classes else [str(c) for c in range(classes)]
    index = class_index(points[:, 2], classes)
    return to_csv(np.column_stack([points[:, :2], index]), names)
