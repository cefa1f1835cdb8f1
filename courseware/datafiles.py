"""Data files: points read from a file by the data format registered for its suffix.

``courseware train --data``, ``courseware serve --data``, a lesson folder's ``data/`` and a page's
upload all come here; a :class:`~courseware.components.DataFormat` plugin parses the bytes into a
:class:`~courseware.data.PointSet`, and :func:`~courseware.data.fixed_dataset` makes a dataset of
it. Errors are :class:`~courseware.data.DataError`\\ s naming the file, the row and the column.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from courseware.components import Dataset
from courseware.data import DEFAULT_DATA_LIMITS, DataError, DataLimits, PointSet, fixed_dataset
from courseware.registry import Registry


def read_data(data: bytes, filename: str, registry: Registry, *, limits: DataLimits = DEFAULT_DATA_LIMITS,
              name: str | None = None) -> Dataset:  # fmt: skip
    """A dataset from the bytes of a data file, read by the data format for its name's suffix.

    ``name`` (default: the file name's stem) is the dataset's name in URLs and lessons. Raises
    :class:`DataError` saying what is wrong, and where.
    """
    if len(data) > limits.max_bytes:
        raise DataError(f"the file has {len(data):,} bytes, more than the limit of {limits.max_bytes:,}",
                        source=filename)  # fmt: skip
    data_format = format_for(filename, registry)
    name = name if name is not None else dataset_name(filename)
    try:
        point_set = data_format.read(data, filename, limits)
    except DataError as exc:
        raise exc.located(filename) from None
    if not isinstance(point_set, PointSet):
        raise DataError(f"data format {data_format.name!r} returned {type(point_set).__name__}, not a PointSet",
                        source=filename)  # fmt: skip
    label = name.replace("-", " ").replace("_", " ").strip().capitalize() or name
    return fixed_dataset(name, label, point_set, registry, limits=limits, source=filename,
                         description=f"Points from {Path(filename).name}.")  # fmt: skip


def read_data_file(path: str | Path, registry: Registry, *, limits: DataLimits = DEFAULT_DATA_LIMITS,
                   name: str | None = None) -> Dataset:  # fmt: skip
    """:func:`read_data` of a file on disk; its size is checked before it is read."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DataError(f"cannot read it: {exc.strerror or exc}", source=str(path)) from None
    if size > limits.max_bytes:
        raise DataError(
            f"the file has {size:,} bytes, more than the limit of {limits.max_bytes:,}",
            source=str(path),
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read it: {exc.strerror or exc}", source=str(path)) from None
    try:
        return read_data(data, path.name, registry, limits=limits, name=name)
    except DataError as exc:
        raise DataError(exc.reason, source=str(path), row=exc.row, column=exc.column) from None


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def dataset_name(filename: str) -> str:
    """The dataset name of a data file: its stem (``moons`` for ``data/moons.csv``), which must be
    usable in a URL."""
    stem = Path(filename).stem
    if not _NAME.match(stem):
        raise DataError("a data file's name becomes the dataset's name in URLs: use letters, digits, '-', '_' "
                        "and '.', starting with a letter or digit", source=filename)  # fmt: skip
    return stem


def format_for(filename: str, registry: Registry) -> Any:
    """The registered data format that reads ``filename`` (by its suffix)."""
    lower = filename.lower()
    formats = registry.all("data_formats")
    for data_format in formats:
        if any(lower.endswith(suffix.lower()) for suffix in data_format.suffixes):
            return data_format
    known = ", ".join(s for f in formats for s in f.suffixes) or "(no data format is installed)"
    raise DataError(f"no data format reads this kind of file; known: {known}", source=filename)


def data_files(folder: str | Path, registry: Registry) -> list[Path]:
    """The files of ``folder`` that a registered data format reads, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    suffixes = tuple(s.lower() for f in registry.all("data_formats") for s in f.suffixes)
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.name.lower().endswith(suffixes) and suffixes
    )


def register_data_files(
    registry: Registry,
    folders: Iterable[Path],
    files: list[tuple[str, Path]],
    attempt: Callable[[str, str, Callable[[], Any]], tuple[bool, Any]],
    fail: Callable[[str, str, str], None],
    note: Callable[[str], None],
    blocked: Callable[[str], bool] = lambda name: False,
) -> dict[str, Path]:
    """Register a dataset for every data file of ``folders``' ``data/`` and for ``files`` (name,
    path); returns the names registered, with their paths.

    ``attempt(name, what, read)`` runs a reading (the plugin host's, which names whoever fails);
    a file that cannot be used (its row, column and what is wrong) or whose name a dataset already
    has is reported with ``fail(name, "data file", reason)``, and ``note`` traces each step. A
    file whose name is ``blocked`` (``COURSEWARE_BLOCK_PLUGINS``) is not read.
    """
    files = list(files)
    for folder in folders:
        for path in data_files(folder / "data", registry):
            files.append((f"{folder.resolve().name}/data/{path.name}", path))
    registered: dict[str, Path] = {}
    for name, path in files:
        if blocked(name):
            note(f"not reading blocked data file {name!r}")
            continue
        note(f"reading data file {name!r} ({path})")

        def read(path: Path = path) -> Any:
            try:
                return read_data_file(path, registry)
            except DataError as exc:  # the file's fault, not a plugin's: a message, no traceback
                return DataError(exc.reason, row=exc.row, column=exc.column)

        ok, dataset = attempt(name, "data file", read)
        if not ok:
            continue
        if isinstance(dataset, DataError):
            fail(name, "data file", str(dataset))
            continue
        if dataset.name in registry.names("datasets"):
            holder = registry.plugin_of("datasets", dataset.name)
            fail(name, "data file", f"dataset name {dataset.name!r} is registered by two plugins: "
                 f"{holder!r} and {name!r}; rename the file")  # fmt: skip
            continue
        registry.add(dataset, name)
        registered[name] = path
        note(f"data file {name!r}: dataset {dataset.name!r} ({dataset.problem})")
    return registered
