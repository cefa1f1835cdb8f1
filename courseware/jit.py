"""numba, set up once: the V8 ports compilable, and components' exact forms compiled for the kernels.

Importing this module imports numba and starts its compiler (about 0.4 s), so only code that is about
to train or compute an exact feature imports it, never the CLI at start-up. Everything compiled here
is cached on disk (numba's ``cache=True``; compiling takes about 5 s, loading a few ms): in
``__pycache__`` beside the source when that folder is writable, otherwise in the user's cache folder
(numba's own fallbacks; ``NUMBA_CACHE_DIR`` overrides both), otherwise, say for a read-only install run
by a user without a home folder, in a folder of the temporary directory; with none of those, in
memory, once per process.

:mod:`courseware.jsmath` is plain Python; here numba learns to compile it unchanged: its three
word helpers get numba versions built on bit casts, and every function in it is registered, so a
compiled caller of ``jsmath.tanh`` runs exactly that code.

A component's exact form (``Activation.exact``, say) is compiled once per process (:func:`compile_as`)
and handed to the kernels by address (:func:`address_of`, :func:`callable_as`).
"""

from __future__ import annotations

import inspect
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Callable
from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.errors import NumbaWarning
from numba.experimental.function_type import _get_wrapper_address
from numba.extending import intrinsic, overload, register_jitable

from courseware import jsmath

log = logging.getLogger(__name__)

_vector = types.float64[::1]
OUTPUT_FORM = types.FunctionType(types.void(_vector, _vector))
"""The compiled type of an activation's ``exact(z, out)`` and a regularizer's ``exact_derivative(w, out)``."""
DERIVATIVE_FORM = types.FunctionType(types.void(_vector, _vector, _vector))
"""The compiled type of an activation's ``exact_derivative(z, a, out)``."""
UNARY = types.FunctionType(types.float64(types.float64))
"""The compiled type of a function of one float, such as :func:`courseware.jsmath.sin`."""
_rows = types.float64[:, ::1]
HEAD_OUTPUT_FORM = types.FunctionType(types.void(_rows, _rows))
"""The compiled type of a head's ``exact_output(z, out)``, over (nodes, points) arrays."""
HEAD_BACKWARD_FORM = types.FunctionType(types.void(_rows, _rows, _rows, _rows))
"""The compiled type of a head's ``exact_backward(z, a, g, out)``."""
LOSS_VALUE_FORM = types.FunctionType(types.void(_rows, _rows, _vector))
"""The compiled type of a loss's ``exact_value(a, t, out)``: (nodes, points) in, (points,) out."""
LOSS_DERIVATIVE_FORM = types.FunctionType(types.void(_rows, _rows, _rows))
"""The compiled type of a loss's ``exact_derivative(a, t, out)``."""
STEP_FORM = types.FunctionType(
    types.void(_rows, types.int64, _vector, types.boolean[::1], types.float64[:, :, ::1], _vector, _rows)
)
"""The compiled type of an optimizer's ``exact_step(grad, count, lr, is_weight, state, t, delta)``."""

# Compiler options for everything here: IEEE arithmetic as written (no fast-math, no contraction into
# fused multiply-adds), and numpy's error model, so 0/0 is NaN and 1/0 is Infinity, as in JavaScript.
OPTIONS: dict[str, Any] = {"error_model": "numpy", "fastmath": False}


def _can_cache() -> bool:
    """Whether numba finds a writable cache folder for this package (it looks when a function is
    decorated with ``cache=True``, and raises if it finds none)."""

    def probe() -> None:
        pass

    try:
        numba.njit(cache=True)(probe)
    except RuntimeError:
        return False
    return True


if not _can_cache():
    _user = os.getuid() if hasattr(os, "getuid") else "user"
    numba.config.CACHE_DIR = os.path.join(tempfile.gettempdir(), f"courseware-numba-{_user}")
CACHE: bool = _can_cache()
"""Whether compiled code is cached on disk (see the module docstring); decorators here and in
:mod:`courseware.kernel` pass it as numba's ``cache``."""


# --- jsmath, compilable ------------------------------------------------------------------------------


@intrinsic
def _bits(typingctx: Any, x: Any) -> Any:
    """The 64 bits of a double as an int64 (a bit cast, no conversion)."""
    if x is not types.float64:
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _double(typingctx: Any, bits: Any) -> Any:
    """The double whose 64 bits are ``bits``."""
    if bits is not types.int64:
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@overload(jsmath._high_word, jit_options=OPTIONS)
def _high_word(x):  # no annotations: numba matches these signatures against the lambdas'
    return lambda x: _bits(x) >> 32  # arithmetic shift: the signed high word, as fdlibm's int32


@overload(jsmath._low_word, jit_options=OPTIONS)
def _low_word(x):
    return lambda x: _bits(x) & 0xFFFFFFFF


@overload(jsmath._from_words, jit_options=OPTIONS)
def _from_words(hi, lo):
    return lambda hi, lo: _double(((hi & 0xFFFFFFFF) << 32) | (lo & 0xFFFFFFFF))


_NOT_COMPILED = ("_high_word", "_low_word", "_from_words", *jsmath.TEXT_FUNCTIONS)
for _name, _fn in vars(jsmath).items():
    if inspect.isfunction(_fn) and _fn.__module__ == jsmath.__name__ and _name not in _NOT_COMPILED:
        register_jitable(**OPTIONS)(_fn)


# --- components' exact forms, compiled --------------------------------------------------------------

_compiled: dict[tuple[Callable[..., Any], Any], Any] = {}
_lock = threading.Lock()


def address_of(fn: Callable[..., Any], form: Any) -> int | None:
    """Where ``fn``, compiled as ``form`` (see :func:`compile_as`), can be called from compiled code:
    what the kernels take instead of the function itself (see :func:`callable_as`), or None."""
    compiled = compile_as(fn, form)
    if compiled is None:
        return None
    return _get_wrapper_address(compiled, form.signature)


def callable_as(form: Any) -> Any:
    """An intrinsic turning an int64 from :func:`address_of` back into a function of type ``form``.

    numba can take a compiled function as an argument, but spends 10-30 µs per such argument on every
    call working out its address; the kernels take the address, worked out once, as a plain int64.
    """

    @intrinsic
    def from_address(typingctx: Any, address: Any) -> Any:
        if address is not types.int64:
            return None

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            function = cgutils.create_struct_proxy(form)(context, builder)
            null = cgutils.get_null_value(context.get_value_type(types.voidptr))
            function.c_addr = builder.inttoptr(args[0], null.type)
            function.py_addr = null
            function.jit_addr = null
            return function._getvalue()

        return form(types.int64), codegen

    return from_address


def compile_as(fn: Callable[..., Any], form: Any) -> Any | None:
    """``fn`` compiled by numba as ``form`` (one of the ``*_FORM`` types above, or :data:`UNARY`), or
    None when numba cannot compile it (it calls numpy functions numba lacks, say, or uses Python
    objects): the caller then falls back to numpy. Kept per function, failures too."""
    key = (fn, form)
    with _lock:
        if key not in _compiled:
            _compiled[key] = _compile(fn, form.signature)
        return _compiled[key]


def _compile(fn: Callable[..., Any], signature: Any) -> Any | None:
    try:
        dispatcher = numba.njit(cache=CACHE, **OPTIONS)(fn)
    except RuntimeError:  # no cache folder for this function (defined in a REPL, say): in memory
        dispatcher = numba.njit(**OPTIONS)(fn)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NumbaWarning)
            dispatcher.compile(signature)
    except Exception as exc:  # numba's errors are many; any of them means "not compilable"
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        log.warning("numba cannot compile %s.%s (%s): training falls back to the vectorized engine, which is "
                    "not bit-exact", fn.__module__, fn.__qualname__, reason)  # fmt: skip
        return None
    return dispatcher


@numba.njit(types.void(UNARY, types.float64[::1], types.float64[::1]), cache=CACHE, **OPTIONS)
def _map(fn: Any, values: np.ndarray, out: np.ndarray) -> None:
    for i in range(values.size):
        out[i] = fn(values[i])


def elementwise(fn: Callable[[float], float], values: np.ndarray) -> np.ndarray:
    """``fn`` applied to every element of ``values`` (any shape), compiled; float64 out.

    For the exact features: ``elementwise(jsmath.sin, x)`` is ``Math.sin`` of every x.
    """
    compiled = compile_as(fn, UNARY)
    if compiled is None:
        raise TypeError(f"numba cannot compile {fn.__qualname__}")
    flat = np.ascontiguousarray(values, dtype=np.float64).ravel()
    out = np.empty_like(flat)
    _map(compiled, flat, out)
    return out.reshape(np.shape(values))
