"""Given points: the CSV format, limits and their messages, scaling into the plane, drawn points in
the URL, and data files in lesson folders. Hypothesis writes files and URLs the tests did not think of."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from courseware import config as config_module
from courseware.data import (
    DataError,
    DataLimits,
    PointSet,
    drawn_points,
    encode_points,
    fixed_dataset,
    into_plane,
    to_csv,
)
from courseware.datafiles import read_data
from courseware.experiment import Experiment
from courseware.plugins import PluginHost
from courseware.testing import check_data_format, check_dataset
from courseware_builtins.csvdata import CSV, read_csv

LIMITS = DataLimits()


def _read(text: str, registry, **kwargs):
    return read_data(text.encode(), "points.csv", registry, **kwargs)


# -- the CSV format --------------------------------------------------------------------------------------


def test_csv_contract(registry):
    check_data_format(CSV, b"x,y,label\n1,2,-1\n-3,0.5,1\n2,2,1\n", registry)
    check_data_format(CSV, b"x,y,class\n1,2,a\n-3,0.5,b\n2,2,c\n", registry)


def test_plus_minus_one_labels_are_the_playgrounds_two_classes(registry):
    dataset = _read("x,y,label\n1,2,1\n-1,-2,-1\n0.5,0.5,+1.0\n", registry)
    assert dataset.problem == "classification" and dataset.classes == 2 and dataset.fixed
    assert dataset.generate(None, 500, 0.3)[:, 2].tolist() == [1.0, -1.0, 1.0]


def test_names_are_classes_in_order(registry):
    dataset = _read("label,x,y\nzebra,1,2\nant,3,4\nbee,5,6\nant,0,0\n", registry)
    assert dataset.class_labels == ("ant", "bee", "zebra") and dataset.classes == 3
    assert dataset.generate(None, 1, 0)[:, 2].tolist() == [2.0, 0.0, 1.0, 0.0]


def test_a_class_column_makes_numbers_class_names(registry):
    dataset = _read("x,y,class\n1,2,10\n3,4,2\n5,6,2\n", registry)
    assert dataset.class_labels == ("2", "10"), "numbers sort by value"
    assert dataset.generate(None, 1, 0)[:, 2].tolist() == [1.0, -1.0, -1.0]


def test_other_numbers_are_a_regression(registry):
    dataset = _read("x,y,label\n1,2,0.5\n3,4,-0.25\n", registry)
    assert dataset.problem == "regression" and dataset.class_labels == ()


def test_regression_targets_beyond_one_are_scaled(registry):
    values = _read("1,2,10\n3,4,-5\n0,0,0\n", registry).generate(None, 1, 0)[:, 2]
    assert values.tolist() == [1.0, -0.5, 0.0]


def test_no_header_semicolons_comments_and_blank_lines(registry):
    dataset = _read("# my points\n\n1;2;a\n\n3;4;b\n", registry)
    assert len(dataset.generate(None, 1, 0)) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "there are no points in the file"),
        ("x,y,label\n", "there are no points in the file"),
        ("x,y,label\n1,2\n", "row 2: 2 values, expected 3 (x, y, label)"),
        ("x,y,label\n1,2,a\n3,4,b,5\n", "row 3: 4 values, expected 3"),
        ("x,y,label\n1,abc,a\n", "row 2, column y: 'abc' is not a number"),
        ("x,y,label\n1,,a\n", "row 2, column y: empty; write a number"),
        ("x,y,label\n1,nan,a\n", "row 2, column y: 'nan' is not a number"),
        ("x,y,label\n1,1e999,a\n", "row 2, column y: '1e999' is too large to be a finite number"),
        ("x,y,label\n1,2,\n", "row 2, column label: the label is empty"),
        ("x,y,colour\n1,2,a\n", "row 1, column 3: 'colour' is not a column courseware knows"),
        ("x,y,x\n1,2,a\n", "row 1, column 3: the column x is named twice"),
        ("x,label\n1,a\n", "row 1: the header has no column y"),
        ("x,y,label,class\n1,2,a,b\n", "row 1: give either a label or a class column"),
        ("x,y,label\n1,2,a\n3,4,a\n", "every point is of one class (a); a classification needs at least two"),
        ("x,y,label\n1,2,1\n3,4,1\n", "every point is of one class (+1)"),
        ('x,y,label\n1,2,"a\n', "not readable as CSV"),
    ],
)
def test_every_bad_file_says_where_and_what(registry, text, message):
    with pytest.raises(DataError) as info:
        _read(text, registry)
    assert message in str(info.value)
    assert str(info.value).startswith("points.csv")


def test_not_utf8_names_the_row(registry):
    with pytest.raises(DataError, match=r"points.csv, row 2: this is not UTF-8 text \(byte 11"):
        read_data(b"x,y,label\n\xff,2,a\n", "points.csv", registry)


def test_limits_rows_bytes_and_classes(registry):
    rows = "\n".join(f"{i % 5},{i % 3},{i % 2}" for i in range(11))
    with pytest.raises(DataError, match="row 11: more than 10 points; the limit is 10"):
        _read(rows, registry, limits=DataLimits(max_rows=10))
    with pytest.raises(DataError, match="the file has 30 bytes, more than the limit of 20"):
        read_data(b"x" * 30, "points.csv", registry, limits=DataLimits(max_bytes=20))
    nine = "\n".join(f"{i},{i},c{i}" for i in range(9))
    with pytest.raises(DataError, match="9 classes is more than the limit of 8"):
        _read(nine, registry)


def test_a_file_name_must_suit_a_url(registry):
    with pytest.raises(DataError, match="a data file's name becomes the dataset's name in URLs"):
        read_data(b"1,2,1\n3,4,-1\n", "my points.csv", registry)
    with pytest.raises(DataError, match="no data format reads this kind of file; known: .csv"):
        read_data(b"1,2,1\n", "points.xlsx", registry)


# -- scaling -----------------------------------------------------------------------------------------------


def test_points_inside_the_plane_are_kept_as_they_are():
    xy = np.array([[-6.0, 6.0], [0.5, -2.25]])
    assert np.array_equal(into_plane(xy), xy)


def test_points_outside_the_plane_keep_their_shape():
    xy = np.array([[100.0, 50.0], [300.0, 50.0], [200.0, 150.0]])
    scaled = into_plane(xy)
    assert scaled[:, 0].min() == -5 and scaled[:, 0].max() == 5, "the longer side spans -5 to 5"
    assert np.allclose(scaled[:, 1], [-2.5, -2.5, 2.5]), "one factor for both axes, centred"
    huge = into_plane(np.array([[-1e308, 0.0], [1e308, 1.0]]))
    assert np.isfinite(huge).all() and huge[:, 0].tolist() == [-5.0, 5.0]


coordinate = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=60)
@given(st.lists(st.tuples(coordinate, coordinate), min_size=1, max_size=40))
def test_scaled_points_always_lie_in_the_plane(points):
    scaled = into_plane(np.array(points))
    assert np.isfinite(scaled).all() and np.abs(scaled).max() <= 6


# -- hypothesis: files ---------------------------------------------------------------------------------------

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC _-é,\"'", min_size=1, max_size=8).filter(
    lambda n: n.strip() == n and not n.startswith("#") and not _looks_numeric(n)
)


def _looks_numeric(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


plane = st.floats(min_value=-6, max_value=6, allow_nan=False).map(lambda v: round(v, 6))


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(plane, plane, st.integers(0, 3)), min_size=2, max_size=60),
       st.lists(names, min_size=4, max_size=4, unique=True))  # fmt: skip
def test_a_written_file_reads_back(registry, rows, class_names):
    """Points exported as CSV (class names quoted where needed) read back as the same points."""
    present = sorted({label for _, _, label in rows})
    assume(len(present) >= 2)
    used = [class_names[i] for i in present]
    order = sorted(used, key=lambda n: n.casefold())
    points = np.array([[x, y, order.index(class_names[label])] for x, y, label in rows], dtype=float)
    text = to_csv(points, classes=order)
    dataset = read_data(text.encode(), "rows.csv", registry)
    assert dataset.class_labels == tuple(order)
    back = dataset.generate(None, 1, 0)
    assert np.array_equal(back[:, :2], points[:, :2])
    expected = np.where(points[:, 2] > 0, 1.0, -1.0) if len(order) == 2 else points[:, 2]
    assert np.array_equal(back[:, 2], expected)


@settings(max_examples=150)
@given(st.binary(max_size=300))
def test_any_bytes_give_points_or_a_data_error(data):
    try:
        points = read_csv(data, "fuzz.csv", LIMITS)
    except DataError as exc:
        assert str(exc)
        return
    assert isinstance(points, PointSet) and np.isfinite(points.points).all()


@settings(max_examples=100)
@given(st.text(alphabet="0123456789.,-+eE;\t\n#xylabelcs \"", max_size=120))
def test_csv_like_text_gives_points_or_a_data_error(text):
    try:
        points = read_csv(text.encode(), "fuzz.csv", LIMITS)
    except DataError as exc:
        assert exc.reason
        return
    assert points.points.shape[1] == 3 and len(points.points) >= 1


# -- datasets of given points ---------------------------------------------------------------------------------


def test_a_fixed_dataset_passes_the_dataset_contract(registry):
    dataset = _read("x,y,class\n1,2,a\n-3,0.5,b\n2,2,c\n-1,-1,a\n", registry)
    from courseware.testing.components import registry_with

    check_dataset(dataset, registry_with(registry, dataset))


def test_the_seed_decides_the_shuffle_and_the_split(registry):
    text = "x,y,label\n" + "\n".join(f"{i % 7 - 3},{i % 5 - 2},{1 if i % 2 else -1}" for i in range(40))
    dataset = _read(text, registry)
    from courseware.testing.components import registry_with

    with_data = registry_with(registry, dataset)
    runs = [Experiment(config_module.from_mapping({"dataset": "points", "seed": s}, with_data), with_data)
            for s in ("a", "a", "b")]  # fmt: skip
    assert np.array_equal(runs[0].points.train, runs[1].points.train)
    assert not np.array_equal(runs[0].points.train, runs[2].points.train)
    assert len(runs[0].points.train) == 20 and sorted(map(tuple, runs[0].points.all)) == sorted(map(tuple, runs[2].points.all))


def test_a_problem_change_never_draws_for_given_or_multiclass_datasets(registry):
    """The thumbnail draws of a problem change follow the original, which had neither."""
    dataset = _read("1,2,1\n3,4,-1\n", registry)
    from courseware.testing.components import registry_with

    with_data = registry_with(registry, dataset)
    plain = Experiment(config_module.default(registry, seed="0.12345"), registry)
    extra = Experiment(config_module.default(with_data, seed="0.12345"), with_data)
    plain.apply(problem="regression")
    extra.apply(problem="regression")
    plain.apply(problem="classification")
    extra.apply(problem="classification")
    assert np.array_equal(plain.params.flat, extra.params.flat)


# -- drawn points ------------------------------------------------------------------------------------------


def test_drawn_points_travel_in_the_url(registry):
    config = config_module.from_mapping({"points": [[1.234, -2, 0], [0.5, 5.999, 2], [-6, 6, 1]], "seed": "1"}, registry)
    assert config.points == ((1.23, -2.0, 0.0), (0.5, 6.0, 2.0), (-6.0, 6.0, 1.0))
    query = config.to_query(registry)
    assert "points=1.23,-2,0_0.5,6,2_-6,6,1" in query
    again, notices = config_module.Config.from_query(query, registry)
    assert not notices and again == config
    experiment = Experiment(config, registry)
    assert experiment.parts.dataset.classes == 3 and experiment.parts.output.head.name == "softmax"
    assert len(experiment.points.all) == 3


def test_drawn_points_are_validated(registry):
    with pytest.raises(config_module.ConfigError, match="point 2: x = 7.0 is outside the plane"):
        config_module.from_mapping({"points": "1,1,0_7,1,1"}, registry)
    with pytest.raises(config_module.ConfigError, match="point 1: label 1.5 is not a class number from 0 to 7"):
        config_module.from_mapping({"points": "1,1,1.5"}, registry)
    with pytest.raises(config_module.ConfigError, match="label 2.0 is not a number from -1 to 1"):
        config_module.from_mapping({"points": "1,1,2", "problem": "regression"}, registry)
    with pytest.raises(config_module.ConfigError, match="201 points is more than the limit of 200"):
        config_module.from_mapping({"points": "_".join(["1,1,0"] * 201)}, registry)
    config, notices = config_module.Config.from_query("points=1,1,x&activation=relu", registry)
    assert config.points == () and config.activation == "relu" and "points" in notices[0]


def test_drawn_regression_points(registry):
    config = config_module.from_mapping({"problem": "regression", "points": "1,1,0.5_-1,-1,-0.5_2,0,0"}, registry)
    experiment = Experiment(config, registry)
    assert experiment.parts.output.head.name == "linear"
    experiment.step(3)
    assert np.isfinite(experiment.train_loss)


def test_one_drawn_class_trains_too(registry):
    """While a student has drawn one class only, the other is empty, and nothing breaks."""
    experiment = Experiment(config_module.from_mapping({"points": "1,1,0_2,2,0", "seed": "1"}, registry), registry)
    experiment.step(2)
    assert not experiment.diverged and np.isnan(experiment.evaluation.test_class_accuracy[0, 1])


def test_a_drawn_change_regenerates(registry):
    experiment = Experiment(config_module.from_mapping({"seed": "1"}, registry), registry)
    assert experiment.apply(points="1,1,0_2,2,1") == "regenerate"
    assert len(experiment.points.all) == 2


drawn = st.lists(
    st.tuples(st.floats(-6, 6, allow_nan=False), st.floats(-6, 6, allow_nan=False), st.integers(0, 7)),
    max_size=200,
)


@settings(max_examples=100)
@given(drawn)
def test_drawn_points_round_trip_through_text(points):
    first = drawn_points([list(p) for p in points], classifies=True)
    assert drawn_points(encode_points(first), classifies=True) == first
    assert all(abs(x) <= 6 and abs(y) <= 6 and c == int(c) for x, y, c in first)
    assert all(math.isclose(a, round(b, 2), abs_tol=1e-9) for (a, _, _), (b, _, _) in zip(first, points))


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=60))
def test_any_points_text_is_used_or_reported(registry, text):
    config, notices = config_module.Config.from_query({"points": text}, registry)
    assert config.points == () or not notices


# -- lesson folders ------------------------------------------------------------------------------------------


def test_a_lesson_folders_data_files_become_datasets(tmp_path):
    data = tmp_path / "course" / "data"
    data.mkdir(parents=True)
    (data / "pets.csv").write_text("x,y,label\n1,2,cat\n3,4,dog\n")
    (data / "broken.csv").write_text("x,y,label\n1,2,cat\n3,four,dog\n")
    (data / "circle.csv").write_text("1,2,1\n3,4,-1\n")
    (data / "notes.txt").write_text("not data")
    host = PluginHost.load([tmp_path / "course"], entry_points=False)
    assert host.registry.dataset("pets").class_labels == ("cat", "dog")
    assert host.registry.plugin_of("datasets", "pets") == "course/data/pets.csv"
    failures = {f.plugin: f.error for f in host.failures}
    assert failures["course/data/broken.csv"] == "row 3, column y: 'four' is not a number; write a number such as 1.5 or -2e-3"
    assert "dataset name 'circle' is registered by two plugins: 'courseware_builtins.datasets' and " \
           "'course/data/circle.csv'; rename the file" in failures["course/data/circle.csv"]  # fmt: skip
    assert host.registry.plugin_of("datasets", "circle") == "courseware_builtins.datasets"
    infos = {i.name: i for i in host.plugin_infos()}
    assert infos["course/data/pets.csv"].components == {"datasets": ["pets"]}
    blocked = PluginHost.load([tmp_path / "course"], entry_points=False, blocked=["course/data/pets.csv"])
    assert "pets" not in blocked.registry.names("datasets")


def test_fixed_dataset_checks(registry):
    with pytest.raises(DataError, match="there are no points"):
        fixed_dataset("e", "E", PointSet(np.empty((0, 3))), registry)
    with pytest.raises(DataError, match="row 2, column y: nan is not a finite number"):
        fixed_dataset("e", "E", PointSet(np.array([[1, 2, 0.5], [1, np.nan, 0]])), registry)
    with pytest.raises(DataError, match="class number 3.0 is not one of 0 .. 1"):
        fixed_dataset("e", "E", PointSet(np.array([[1, 2, 0], [1, 2, 3]]), ("a", "b")), registry)
