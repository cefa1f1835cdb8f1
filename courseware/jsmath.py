"""JavaScript's ``Math.sin``, ``Math.cos``, ``Math.log``, ``Math.exp``, ``Math.expm1`` and ``Math.tanh``, bit for bit.

V8 computes these with ports of fdlibm (``src/base/ieee754.cc`` in the V8 of Node 20, which the golden
trajectories were recorded with). They differ from glibc (and so from Python's ``math``) and from
numpy's SIMD versions in the last bit on a few percent of inputs, and an unstable training run turns
one such bit into a different trajectory within two epochs. Everything the original computes with
``Math.*`` uses these ports: data generation, the sin features, tanh and sigmoid in both engines.
``tests/data/jsmath-vectors.npz`` holds tens of thousands of values computed by node to test them on.

The code follows fdlibm line by line; a double's 32-bit words are read and written through
``_high_word``, ``_low_word`` and ``_from_words`` (here with :mod:`struct`). The functions are plain
Python that numba can also compile unchanged: :mod:`courseware.jit` gives numba its own versions of
the three word helpers, so the compiled training kernels call exactly this code.
"""

from __future__ import annotations

import math
import re
import struct
from typing import Any

_pack = struct.Struct("<d").pack
_unpack = struct.Struct("<d").unpack
_pack_q = struct.Struct("<Q").pack
_unpack_q = struct.Struct("<Q").unpack


def _high_word(x: float) -> int:
    """The signed high 32 bits of a double (fdlibm's ``GET_HIGH_WORD``)."""
    hi = _unpack_q(_pack(x))[0] >> 32
    return hi - (1 << 32) if hi & 0x80000000 else hi


def _low_word(x: float) -> int:
    return _unpack_q(_pack(x))[0] & 0xFFFFFFFF


def _from_words(hi: int, lo: int) -> float:
    return _unpack(_pack_q(((hi & 0xFFFFFFFF) << 32) | (lo & 0xFFFFFFFF)))[0]


# --- sin / cos -------------------------------------------------------------------------------------

_S1 = -1.66666666666666324348e-01
_S2 = 8.33333333332248946124e-03
_S3 = -1.98412698298579493134e-04
_S4 = 2.75573137070700676789e-06
_S5 = -2.50507602534068634195e-08
_S6 = 1.58969099521155010221e-10

_C1 = 4.16666666666666019037e-02
_C2 = -1.38888888888741095749e-03
_C3 = 2.48015872894767294178e-05
_C4 = -2.75573143513906633035e-07
_C5 = 2.08757232129817482790e-09
_C6 = -1.13596475577881948265e-11

_INVPIO2 = 6.36619772367581382433e-01
_PIO2_1 = 1.57079632673412561417e00
_PIO2_1T = 6.07710050650619224932e-11
_PIO2_2 = 6.07710050630396597660e-11
_PIO2_2T = 2.02226624879595063154e-21
_PIO2_3 = 2.02226624871116645580e-21
_PIO2_3T = 8.47842766036889956997e-32

# High words of n*pi/2 for n = 1..32 (fdlibm's npio2_hw).
_NPIO2_HW = (
    0x3FF921FB, 0x400921FB, 0x4012D97C, 0x401921FB, 0x401F6A7A, 0x4022D97C,
    0x4025FDBB, 0x402921FB, 0x402C463A, 0x402F6A7A, 0x4031475C, 0x4032D97C,
    0x40346B9C, 0x4035FDBB, 0x40378FDB, 0x403921FB, 0x403AB41B, 0x403C463A,
    0x403DD85A, 0x403F6A7A, 0x40407E4C, 0x4041475C, 0x4042106C, 0x4042D97C,
    0x4043A28C, 0x40446B9C, 0x404534AC, 0x4045FDBB, 0x4046C6CB, 0x40478FDB,
    0x404858EB, 0x404921FB,
)  # fmt: skip


def _kernel_sin(x: float, y: float, iy: int) -> float:
    ix = _high_word(x) & 0x7FFFFFFF
    if ix < 0x3E400000 and int(x) == 0:
        return x
    z = x * x
    v = z * x
    r = _S2 + z * (_S3 + z * (_S4 + z * (_S5 + z * _S6)))
    if iy == 0:
        return x + v * (_S1 + z * r)
    return x - ((z * (0.5 * y - v * r) - y) - v * _S1)


def _kernel_cos(x: float, y: float) -> float:
    ix = _high_word(x) & 0x7FFFFFFF
    if ix < 0x3E400000 and int(x) == 0:
        return 1.0
    z = x * x
    r = z * (_C1 + z * (_C2 + z * (_C3 + z * (_C4 + z * (_C5 + z * _C6)))))
    if ix < 0x3FD33333:
        return 1.0 - (0.5 * z - (z * r - x * y))
    qx = 0.28125 if ix > 0x3FE90000 else _from_words(ix - 0x00200000, 0)
    iz = 0.5 * z - qx
    a = 1.0 - qx
    return a - (iz - (z * r - x * y))


def _rem_pio2(x: float) -> tuple[int, float, float]:
    """x reduced modulo pi/2: (n, y0, y1) with x = n*pi/2 + y0 + y1."""
    hx = _high_word(x)
    ix = hx & 0x7FFFFFFF
    if ix <= 0x3FE921FB:
        return 0, x, 0.0
    if ix < 0x4002D97C:
        if hx > 0:
            z = x - _PIO2_1
            if ix != 0x3FF921FB:
                y0 = z - _PIO2_1T
                return 1, y0, (z - y0) - _PIO2_1T
            z -= _PIO2_2
            y0 = z - _PIO2_2T
            return 1, y0, (z - y0) - _PIO2_2T
        z = x + _PIO2_1
        if ix != 0x3FF921FB:
            y0 = z + _PIO2_1T
            return -1, y0, (z - y0) + _PIO2_1T
        z += _PIO2_2
        y0 = z + _PIO2_2T
        return -1, y0, (z - y0) + _PIO2_2T
    if ix > 0x413921FB:
        raise ValueError("argument too large for the medium-size reduction")
    t = abs(x)
    n = int(t * _INVPIO2 + 0.5)
    fn = float(n)
    r = t - fn * _PIO2_1
    w = fn * _PIO2_1T
    if n < 32 and ix != _NPIO2_HW[n - 1]:
        y0 = r - w
    else:
        j = ix >> 20
        y0 = r - w
        i = j - ((_high_word(y0) >> 20) & 0x7FF)
        if i > 16:
            t = r
            w = fn * _PIO2_2
            r = t - w
            w = fn * _PIO2_2T - ((t - r) - w)
            y0 = r - w
            i = j - ((_high_word(y0) >> 20) & 0x7FF)
            if i > 49:
                t = r
                w = fn * _PIO2_3
                r = t - w
                w = fn * _PIO2_3T - ((t - r) - w)
                y0 = r - w
    y1 = (r - y0) - w
    if hx < 0:
        return -n, -y0, -y1
    return n, y0, y1


def _large(x: float) -> bool:
    """Arguments beyond fdlibm's medium-size reduction (|x| > 2**19 * pi/2) or not finite."""
    return not math.isfinite(x) or (_high_word(x) & 0x7FFFFFFF) > 0x413921FB


def sin(x: float) -> float:
    """``Math.sin`` as V8 computes it. Beyond |x| ~ 823,550 it falls back to the C library."""
    if _large(x):
        return math.sin(x) if math.isfinite(x) else math.nan
    if (_high_word(x) & 0x7FFFFFFF) <= 0x3FE921FB:
        return _kernel_sin(x, 0.0, 0)
    n, y0, y1 = _rem_pio2(x)
    q = n & 3
    if q == 0:
        return _kernel_sin(y0, y1, 1)
    if q == 1:
        return _kernel_cos(y0, y1)
    if q == 2:
        return -_kernel_sin(y0, y1, 1)
    return -_kernel_cos(y0, y1)


def cos(x: float) -> float:
    """``Math.cos`` as V8 computes it. Beyond |x| ~ 823,550 it falls back to the C library."""
    if _large(x):
        return math.cos(x) if math.isfinite(x) else math.nan
    n, y0, y1 = _rem_pio2(x)
    q = n & 3
    if q == 0:
        return _kernel_cos(y0, y1)
    if q == 1:
        return -_kernel_sin(y0, y1, 1)
    if q == 2:
        return -_kernel_cos(y0, y1)
    return _kernel_sin(y0, y1, 1)


# --- log -------------------------------------------------------------------------------------------

_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_TWO54 = 1.80143985094819840000e16
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01


def log(x: float) -> float:
    """``Math.log`` as V8 computes it (fdlibm ``__ieee754_log``)."""
    hx = _high_word(x)
    lx = _low_word(x)
    k = 0
    if hx < 0x00100000:
        if ((hx & 0x7FFFFFFF) | lx) == 0:
            return -math.inf
        if hx < 0:
            return math.nan
        k -= 54
        x *= _TWO54
        hx = _high_word(x)
    if hx >= 0x7FF00000:
        return x + x
    k += (hx >> 20) - 1023
    hx &= 0x000FFFFF
    i = (hx + 0x95F64) & 0x100000
    x = _from_words(hx | (i ^ 0x3FF00000), _low_word(x))
    k += i >> 20
    f = x - 1.0
    if (0x000FFFFF & (2 + hx)) < 3:
        if f == 0.0:
            if k == 0:
                return 0.0
            dk = float(k)
            return dk * _LN2_HI + dk * _LN2_LO
        r = f * f * (0.5 - 0.33333333333333333 * f)
        if k == 0:
            return f - r
        dk = float(k)
        return dk * _LN2_HI - ((r - dk * _LN2_LO) - f)
    s = f / (2.0 + f)
    dk = float(k)
    z = s * s
    i = hx - 0x6147A
    w = z * z
    j = 0x6B851 - hx
    t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
    t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    i |= j
    r = t2 + t1
    if i > 0:
        hfsq = 0.5 * f * f
        if k == 0:
            return f - (hfsq - s * (hfsq + r))
        return dk * _LN2_HI - ((hfsq - (s * (hfsq + r) + dk * _LN2_LO)) - f)
    if k == 0:
        return f - s * (f - r)
    return dk * _LN2_HI - ((s * (f - r) - dk * _LN2_LO) - f)


# --- exp, expm1, tanh ------------------------------------------------------------------------------

_HUGE = 1.0e300
_TINY = 1.0e-300
_TWOM1000 = 9.33263618503218878990e-302  # 2**-1000
_TWO1023 = 8.988465674311579539e307  # 2**1023
_E = 2.718281828459045
_INVLN2 = 1.44269504088896338700e00
_O_THRESHOLD = 7.09782712893383973096e02
_U_THRESHOLD = -7.45133219101941108420e02

_P1 = 1.66666666666666019037e-01
_P2 = -2.77777777770155933842e-03
_P3 = 6.61375632143793436117e-05
_P4 = -1.65339022054652515390e-06
_P5 = 4.13813679705723846039e-08

# expm1's polynomial, its coefficients scaled by 2**n for R(2z) with z = x*x/2.
_Q1 = -3.33333333333331316428e-02
_Q2 = 1.58730158725481460165e-03
_Q3 = -7.93650757867487942473e-05
_Q4 = 4.00821782732936239552e-06
_Q5 = -2.01099218183624371326e-07


def exp(x: float) -> float:
    """``Math.exp`` as V8 computes it (fdlibm ``__ieee754_exp``, with V8's exact ``exp(1)``)."""
    hx = _high_word(x)
    negative = hx < 0
    hx &= 0x7FFFFFFF
    if hx >= 0x40862E42:  # |x| >= 709.78..., or not finite
        if hx >= 0x7FF00000:
            if ((hx & 0xFFFFF) | _low_word(x)) != 0:
                return x + x  # NaN
            return 0.0 if negative else x
        if x > _O_THRESHOLD:
            return _HUGE * _HUGE  # overflow: Infinity
        if x < _U_THRESHOLD:
            return _TWOM1000 * _TWOM1000  # underflow: 0
    # Reduce x to hi - lo with |hi - lo| <= ln2/2 and x = k*ln2 + (hi - lo).
    k = 0
    hi = 0.0
    lo = 0.0
    if hx > 0x3FD62E42:  # |x| > ln2/2
        if hx < 0x3FF0A2B2:  # and |x| < 1.5*ln2
            if x == 1.0:
                return _E  # V8's special case: the general path gets the last bit of e wrong
            if negative:
                hi = x + _LN2_HI
                lo = -_LN2_LO
                k = -1
            else:
                hi = x - _LN2_HI
                lo = _LN2_LO
                k = 1
        else:
            k = int(_INVLN2 * x + (-0.5 if negative else 0.5))
            t = float(k)
            hi = x - t * _LN2_HI  # exact
            lo = t * _LN2_LO
        x = hi - lo
    elif hx < 0x3E300000:  # |x| < 2**-28
        return 1.0 + x
    t = x * x
    if k >= -1021:
        two_to_k = _from_words(0x3FF00000 + (k << 20), 0)
    else:
        two_to_k = _from_words(0x3FF00000 + ((k + 1000) << 20), 0)
    c = x - t * (_P1 + t * (_P2 + t * (_P3 + t * (_P4 + t * _P5))))
    if k == 0:
        return 1.0 - ((x * c) / (c - 2.0) - x)
    y = 1.0 - ((lo - (x * c) / (2.0 - c)) - hi)
    if k >= -1021:
        if k == 1024:
            return y * 2.0 * _TWO1023
        return y * two_to_k
    return y * two_to_k * _TWOM1000


def expm1(x: float) -> float:
    """``Math.expm1`` as V8 computes it (fdlibm ``expm1``); tanh is built on it."""
    hx = _high_word(x)
    negative = hx < 0
    hx &= 0x7FFFFFFF
    if hx >= 0x4043687A:  # |x| >= 56*ln2
        if hx >= 0x40862E42:  # |x| >= 709.78...
            if hx >= 0x7FF00000:
                if ((hx & 0xFFFFF) | _low_word(x)) != 0:
                    return x + x  # NaN
                return -1.0 if negative else x
            if x > _O_THRESHOLD:
                return _HUGE * _HUGE  # overflow: Infinity
        if negative:
            return _TINY - 1.0  # x < -56*ln2: -1
    # Reduce x to r = hi - lo with |r| <= ln2/2, and c, the rounding error of that subtraction.
    k = 0
    c = 0.0
    if hx > 0x3FD62E42:  # |x| > ln2/2
        if hx < 0x3FF0A2B2:  # and |x| < 1.5*ln2
            if negative:
                hi = x + _LN2_HI
                lo = -_LN2_LO
                k = -1
            else:
                hi = x - _LN2_HI
                lo = _LN2_LO
                k = 1
        else:
            k = int(_INVLN2 * x + (-0.5 if negative else 0.5))
            t = float(k)
            hi = x - t * _LN2_HI  # exact
            lo = t * _LN2_LO
        x = hi - lo
        c = (hi - x) - lo
    elif hx < 0x3C900000:  # |x| < 2**-54
        return x
    half_x = 0.5 * x
    hxs = x * half_x
    r1 = 1.0 + hxs * (_Q1 + hxs * (_Q2 + hxs * (_Q3 + hxs * (_Q4 + hxs * _Q5))))
    t = 3.0 - r1 * half_x
    e = hxs * ((r1 - t) / (6.0 - x * t))
    if k == 0:
        return x - (x * e - hxs)
    two_to_k = _from_words(0x3FF00000 + (k << 20), 0)
    e = x * (e - c) - c
    e -= hxs
    if k == -1:
        return 0.5 * (x - e) - 0.5
    if k == 1:
        if x < -0.25:
            return -2.0 * (e - (x + 0.5))
        return 1.0 + 2.0 * (x - e)
    if k <= -2 or k > 56:  # exp(x) - 1 is accurate enough
        y = 1.0 - (e - x)
        if k == 1024:
            y = y * 2.0 * 8.98846567431158e307
        else:
            y = y * two_to_k
        return y - 1.0
    if k < 20:
        t = _from_words(0x3FF00000 - (0x200000 >> k), 0)  # 1 - 2**-k
        y = t - (e - x)
        return y * two_to_k
    t = _from_words((0x3FF - k) << 20, 0)  # 2**-k
    y = x - (e + t)
    y += 1.0
    return y * two_to_k


def tanh(x: float) -> float:
    """``Math.tanh`` as V8 computes it (fdlibm ``tanh``, through :func:`expm1`)."""
    jx = _high_word(x)
    ix = jx & 0x7FFFFFFF
    if ix >= 0x7FF00000:  # Infinity or NaN
        if jx >= 0:
            return 1.0 / x + 1.0
        return 1.0 / x - 1.0
    if ix < 0x40360000:  # |x| < 22
        if ix < 0x3E300000:  # |x| < 2**-28
            return x
        if ix >= 0x3FF00000:  # |x| >= 1
            t = expm1(2.0 * abs(x))
            z = 1.0 - 2.0 / (t + 2.0)
        else:
            t = expm1(-2.0 * abs(x))
            z = -t / (t + 2.0)
    else:
        z = 1.0 - _TINY  # 1
    return z if jx >= 0 else -z


# --- tanh and exp over arrays, for SIMD ---------------------------------------------------------------


def tanh_into(values: Any, out: Any) -> None:
    """``out[i] = tanh(values[i])`` for 1-D float64 arrays, bit for bit as :func:`tanh`.

    Written for the compiler: fdlibm's branches become selections, so that numba turns the loop into
    SIMD code, four to eight values at a time (about 4x faster than calling :func:`tanh` per value).
    Every candidate result is computed with exactly the operations of its branch in :func:`tanh` and
    :func:`expm1`, and each element keeps the one its own branch would return. ``expm1`` is only ever
    asked for ``-2|x|`` with ``2**-28 <= |x| < 1`` or ``2|x|`` with ``1 <= |x| < 22``, which rules out
    most of its branches; elements that need no ``expm1`` compute it on a harmless stand-in argument.
    """
    for i in range(values.size):
        x = values[i]
        ax = abs(x)
        tiny = ax < 3.725290298461914e-09  # 2**-28
        big = ax >= 22.0
        large = ax >= 1.0
        arg = 2.0 * ax if large else -2.0 * ax
        arg = arg if (ax == ax and not tiny and not big) else 2.0
        # expm1(arg): reduce to r = hi - lo (with rounding error c) and k, then rebuild.
        hx = _high_word(arg) & 0x7FFFFFFF
        negative = arg < 0.0
        reduced = hx > 0x3FD62E42  # |arg| > ln2/2
        near = hx < 0x3FF0A2B2  # |arg| < 1.5*ln2: k = +-1
        k_general = int(_INVLN2 * arg + (-0.5 if negative else 0.5))
        k_near = -1 if negative else 1
        k = (k_near if near else k_general) if reduced else 0
        t = float(k)
        hi = arg - t * _LN2_HI
        lo = t * _LN2_LO
        hi = ((arg + _LN2_HI) if negative else (arg - _LN2_HI)) if near else hi
        lo = (-_LN2_LO if negative else _LN2_LO) if near else lo
        r = hi - lo
        c = (hi - r) - lo
        r = r if reduced else arg
        half_r = 0.5 * r
        hrs = r * half_r
        r1 = 1.0 + hrs * (_Q1 + hrs * (_Q2 + hrs * (_Q3 + hrs * (_Q4 + hrs * _Q5))))
        t = 3.0 - r1 * half_r
        e = hrs * ((r1 - t) / (6.0 - r * t))
        k_zero = r - (r * e - hrs)
        two_to_k = _from_words(0x3FF00000 + (k << 20), 0)
        e = r * (e - c) - c
        e -= hrs
        k_minus_one = 0.5 * (r - e) - 0.5
        k_far = (1.0 - (e - r)) * two_to_k - 1.0  # k <= -2 or k > 56
        k_small = (_from_words(0x3FF00000 - (0x200000 >> max(k, 0)), 0) - (e - r)) * two_to_k  # k < 20
        k_large = ((r - (e + _from_words((0x3FF - k) << 20, 0))) + 1.0) * two_to_k
        expm1_arg = k_small if k < 20 else k_large
        expm1_arg = k_far if (k <= -2 or k > 56) else expm1_arg
        expm1_arg = k_minus_one if k == -1 else expm1_arg
        expm1_arg = k_zero if k == 0 else expm1_arg
        # tanh from expm1, as in tanh()
        z = (1.0 - 2.0 / (expm1_arg + 2.0)) if large else (-expm1_arg / (expm1_arg + 2.0))
        z = 1.0 if big else z
        z = z if x > 0.0 else -z
        out[i] = x if (tiny or ax != ax) else z


def exp_into(values: Any, out: Any) -> None:
    """``out[i] = exp(values[i])`` for 1-D float64 arrays, bit for bit as :func:`exp`; ``out`` may be
    ``values``.

    Written for the compiler, as :func:`tanh_into`: every branch of :func:`exp` becomes a selection.
    Elements that :func:`exp` answers early (NaN, infinities, overflow, underflow, tiny arguments) run
    the general path on a harmless stand-in argument and then take their early answer.
    """
    for i in range(values.size):
        x = values[i]
        hx = _high_word(x)
        negative = hx < 0
        ahx = hx & 0x7FFFFFFF
        not_finite = ahx >= 0x7FF00000
        overflow = x > _O_THRESHOLD
        underflow = x < _U_THRESHOLD
        tiny = ahx < 0x3E300000  # |x| < 2**-28
        early = not_finite or overflow or underflow or tiny or x != x
        r = 0.5 if early else x
        # x = k*ln2 + (hi - lo), as in exp()
        ahr = _high_word(r) & 0x7FFFFFFF
        reduced = ahr > 0x3FD62E42  # |r| > ln2/2
        near = ahr < 0x3FF0A2B2  # |r| < 1.5*ln2: k = +-1
        k_general = int(_INVLN2 * r + (-0.5 if negative else 0.5))
        k = ((-1 if negative else 1) if near else k_general) if reduced else 0
        t = float(k)
        hi = ((r + _LN2_HI) if negative else (r - _LN2_HI)) if near else (r - t * _LN2_HI)
        lo = (-_LN2_LO if negative else _LN2_LO) if near else t * _LN2_LO
        r = (hi - lo) if reduced else r
        t = r * r
        c = r - t * (_P1 + t * (_P2 + t * (_P3 + t * (_P4 + t * _P5))))
        k_zero = 1.0 - ((r * c) / (c - 2.0) - r)
        y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
        normal = k >= -1021
        two_to_k = _from_words(0x3FF00000 + ((k if normal else k + 1000) << 20), 0)
        scaled = (y * 2.0 * _TWO1023 if k == 1024 else y * two_to_k) if normal else y * two_to_k * _TWOM1000
        result = k_zero if k == 0 else scaled
        result = 1.0 + x if tiny else result
        result = _E if x == 1.0 else result
        result = _HUGE * _HUGE if overflow else result
        result = _TWOM1000 * _TWOM1000 if underflow else result
        result = (0.0 if negative else x) if not_finite else result
        out[i] = x + x if x != x else result


# -- JavaScript's numbers as text ----------------------------------------------------------------------
# Not maths for the kernels (courseware.jit leaves them out): how the original writes and reads a
# number, for URLs, tables and the page.

TEXT_FUNCTIONS = ("js_number", "js_to_fixed", "js_bool", "decimal_number", "is_decimal")

_DECIMAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
"""A number written in decimal (``-1.5``, ``.25``, ``3e-4``): what a URL, a data file or a number
field may hold. Not ``inf``, ``nan``, ``0x10`` or ``1_000``, which Python's ``float`` would take."""


def is_decimal(text: str) -> bool:
    """Whether ``text`` is a number written in decimal (see ``_DECIMAL``), spaces not allowed."""
    return bool(_DECIMAL.match(text))


def decimal_number(text: str) -> float | None:
    """``text``, spaces around it aside, as a float if it is a number written in decimal, else None."""
    text = text.strip()
    return float(text) if is_decimal(text) else None


def js_bool(value: bool) -> str:
    """JavaScript's ``String(boolean)``: ``true`` or ``false``."""
    return "true" if value else "false"


def js_number(value: float) -> str:
    """JavaScript's ``String(number)``: ``10`` not ``10.0``, ``0.00001`` not ``1e-05``."""
    if isinstance(value, bool):
        return str(value).lower()
    number = float(value)
    if not math.isfinite(number):
        return "NaN" if number != number else ("Infinity" if number > 0 else "-Infinity")
    if number == int(number) and abs(number) < 1e21:
        return str(int(number))
    digits_repr = repr(number)
    mantissa, _, exp = digits_repr.partition("e")
    exponent = int(exp) if exp else 0
    sign = "-" if mantissa.startswith("-") else ""
    mantissa = mantissa.lstrip("-")
    int_part, _, frac_part = mantissa.partition(".")
    written = int_part + frac_part
    digits = written.lstrip("0") or "0"
    point = len(int_part) + exponent - (len(written) - len(written.lstrip("0")))
    digits = digits.rstrip("0") or "0"
    # point: position of the decimal point relative to the start of `digits` (JS's n).
    if -6 < point <= 21:
        if point <= 0:
            return f"{sign}0.{'0' * -point}{digits}"
        if point >= len(digits):
            return sign + digits + "0" * (point - len(digits))
        return f"{sign}{digits[:point]}.{digits[point:]}"
    exp_value = point - 1
    head = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{head}e{'+' if exp_value > 0 else '-'}{abs(exp_value)}"


def js_to_fixed(value: float, digits: int) -> str:
    """JavaScript ``Number.prototype.toFixed``: rounds exact ties away from zero (half-up).

    Python's formatting rounds the exact binary value half-to-even, so ``0.0625`` gives ``"0.062"``
    where JavaScript gives ``"0.063"``. The decimal module sees the exact binary value, as toFixed does.
    """
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    if abs(value) >= 1e21:
        return repr(value)
    from decimal import ROUND_HALF_UP, Decimal

    if value == 0:
        value = 0.0  # (-0).toFixed() has no sign; tiny negatives keep theirs ("-0.000")
    quantum = Decimal(1).scaleb(-digits)
    return f"{Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP):f}"
