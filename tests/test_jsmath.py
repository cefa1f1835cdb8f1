"""The V8 ports against V8 itself: ``tests/data/jsmath-vectors.npz`` holds 8,000 inputs per function
(dense where training goes, log-spread down to subnormals and up to overflow, and on both sides of every
threshold the fdlibm code branches on) with ``Math.*`` of each as node 20 (V8 11.3) computed it
(``tests/data/make_jsmath_vectors.py``). Every port must give every value bit for bit: as plain Python,
compiled by numba, and, for tanh, in the SIMD-friendly array form the exact engine runs."""

import math
from pathlib import Path

import numba
import numpy as np
import pytest

from courseware import jit, jsmath

VECTORS = np.load(Path(__file__).parent / "data" / "jsmath-vectors.npz")
FUNCTIONS = ["sin", "cos", "log", "exp", "expm1", "tanh"]


def _identical(actual: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Same bits, or both NaN (JavaScript has one NaN)."""
    return (actual.view(np.uint64) == expected.view(np.uint64)) | (np.isnan(actual) & np.isnan(expected))


def _assert_identical(actual: np.ndarray, name: str) -> None:
    inputs, expected = VECTORS[f"{name}_in"], VECTORS[f"{name}_out"]
    same = _identical(actual, expected)
    if not same.all():
        i = int(np.flatnonzero(~same)[0])
        raise AssertionError(f"{name}({inputs[i]!r}) gave {actual[i]!r}, V8 gives {expected[i]!r} "
                             f"({int((~same).sum())} of {same.size} differ)")  # fmt: skip


@pytest.mark.parametrize("name", FUNCTIONS)
def test_python_port_equals_v8(name):
    fn = getattr(jsmath, name)
    _assert_identical(np.array([fn(float(x)) for x in VECTORS[f"{name}_in"]]), name)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_compiled_port_equals_v8(name):
    _assert_identical(jit.elementwise(getattr(jsmath, name), VECTORS[f"{name}_in"]), name)


@pytest.mark.parametrize("name", ["exp", "tanh"])
def test_array_forms_equal_v8_as_python_and_compiled(name):
    """``exp_into`` and ``tanh_into``, the SIMD-friendly forms the exact engine runs."""
    inputs, array_form = VECTORS[f"{name}_in"], getattr(jsmath, f"{name}_into")
    out = np.empty_like(inputs)
    array_form(inputs, out)
    _assert_identical(out, name)
    out = np.full_like(inputs, 7.0)
    jit.compile_as(array_form, jit.OUTPUT_FORM)(inputs, out)
    _assert_identical(out, name)
    in_place = inputs.copy()
    jit.compile_as(array_form, jit.OUTPUT_FORM)(in_place, in_place)
    _assert_identical(in_place, name)


@pytest.mark.parametrize(("name", "scale"), [("exp", 30.0), ("tanh", 3.0)])
def test_array_forms_equal_the_ports_on_a_million_values(name, scale):
    """Beyond the vectors: each branch-free form against the line-by-line port, where training lives."""
    values = np.random.default_rng(11).normal(0, scale, 1_000_000)
    out = np.empty_like(values)
    jit.compile_as(getattr(jsmath, f"{name}_into"), jit.OUTPUT_FORM)(values, out)
    assert _identical(out, jit.elementwise(getattr(jsmath, name), values)).all()


def test_the_vectors_have_teeth():
    """numpy and the C library differ from V8 somewhere in every function's vectors: a port that
    merely called them would fail the tests above (exp and numpy's tanh on several percent)."""
    for name in FUNCTIONS:
        inputs, expected = VECTORS[f"{name}_in"], VECTORS[f"{name}_out"]
        with np.errstate(all="ignore"):
            assert not _identical(getattr(np, name)(inputs), expected).all(), f"numpy {name}"
        libc = np.array([_libc(getattr(math, name), x) for x in inputs])
        assert not _identical(libc, expected).all(), f"C library {name}"


def _libc(fn, x: float) -> float:
    try:
        return fn(x)
    except (ValueError, OverflowError):
        return math.nan


def test_special_values():
    assert math.isnan(jsmath.sin(math.inf)) and math.isnan(jsmath.cos(math.nan))
    assert jsmath.log(0.0) == -math.inf and math.isnan(jsmath.log(-1.0))
    assert jsmath.sin(0.0) == 0.0 and jsmath.cos(0.0) == 1.0 and jsmath.log(1.0) == 0.0
    assert jsmath.exp(-math.inf) == 0.0 and jsmath.exp(math.inf) == math.inf and jsmath.exp(1.0) == math.e
    assert jsmath.tanh(math.inf) == 1.0 and jsmath.tanh(-math.inf) == -1.0 and math.isnan(jsmath.tanh(math.nan))
    assert math.copysign(1.0, jsmath.tanh(-0.0)) == -1.0


def test_word_helpers_compile_to_the_same_bits():
    """numba's versions of the word helpers (bit casts) against the struct-based ones."""

    @numba.njit(**jit.OPTIONS)
    def words(x):
        return jsmath._high_word(x), jsmath._low_word(x), jsmath._from_words(jsmath._high_word(x), jsmath._low_word(x))

    for x in (0.0, -0.0, 1.0, -2.5, 5e-324, math.inf, -math.inf, 1e308, -3.0e-300):
        assert words(x) == (jsmath._high_word(x), jsmath._low_word(x), x)
