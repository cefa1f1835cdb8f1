"""The Playground's random stream: seedrandom 2.4 (ARC4) keyed by a seed *string*.

Every random number the original uses (data, shuffle, weights, the next seed) comes from one
``Math.seedrandom(seed)`` stream, in a fixed order. ``numpy.random`` can never reproduce it, so this
module ports the algorithm exactly (``docs/engine.md``, "Exact"). It is inherently sequential;
callers that need many draws take them with :meth:`RandomStream.draws` and vectorize afterwards.
"""

from __future__ import annotations

import numpy as np

from courseware.jsmath import js_to_fixed

_TWO52 = 4503599627370496.0  # 2**52
_TWO53 = 9007199254740992.0  # 2**53


class RandomStream:
    """An ARC4 keystream turned into doubles in [0, 1) exactly as seedrandom 2.4 does."""

    __slots__ = ("_s", "_i", "_j", "seed", "count", "_ahead", "_next")

    def __init__(self, seed: str) -> None:
        self.seed = seed
        key: list[int] = []
        smear = 0
        for j, ch in enumerate(_utf16_units(seed)):
            k = j & 255
            smear ^= key[k] * 19 if k < len(key) else 0
            if k < len(key):
                key[k] = (smear + ch) & 255
            else:
                key.append((smear + ch) & 255)
        if not key:
            key = [0]
        s = list(range(256))
        j = 0
        keylen = len(key)
        for i in range(256):
            j = (j + key[i % keylen] + s[i]) & 255
            s[i], s[j] = s[j], s[i]
        self._s = s
        self._i = 0
        self._j = 0
        self.count = 0
        self._ahead: list[float] = []  # draws made ahead for random(); the stream is the same
        self._next = 0
        self._bytes(256)  # RC4-drop[256]

    def _bytes(self, count: int) -> int:
        """The next ``count`` keystream bytes as one big-endian integer (seedrandom's ``g``); used to
        discard the first 256 bytes (RC4-drop), :meth:`draws` inlines the same step."""
        s, i, j = self._s, self._i, self._j
        r = 0
        for _ in range(count):
            i = (i + 1) & 255
            t = s[i]
            j = (j + t) & 255
            s[i] = s[j]
            s[j] = t
            r = r * 256 + s[(s[i] + t) & 255]
        self._i, self._j = i, j
        return r

    def __deepcopy__(self, memo: dict) -> RandomStream:
        """An independent stream at the same point (members of a cohort share data, then each draws
        its own weights): the state is a few lists, copied directly rather than walked by deepcopy."""
        other = RandomStream.__new__(RandomStream)
        other.seed, other.count = self.seed, self.count
        other._s, other._i, other._j = list(self._s), self._i, self._j
        other._ahead, other._next = list(self._ahead), self._next
        return other

    def random(self) -> float:
        """One draw of ``Math.random()`` (53 bits of the keystream, as seedrandom builds them).

        Generators that draw one value at a time (rejection sampling) call this thousands of times,
        so draws are made a block ahead; they are the same draws, in the same order.
        """
        if self._next >= len(self._ahead):
            block = _AHEAD_COMPILED if _kernel and _kernel[0] is not None else _AHEAD_PLAIN
            self._ahead = self._generate(block).tolist()
            self._next = 0
        value = self._ahead[self._next]
        self._next += 1
        self.count += 1
        return value

    def draws(self, count: int) -> np.ndarray:
        """The next ``count`` draws as a float64 array, in stream order."""
        ready = min(count, len(self._ahead) - self._next)
        if ready <= 0:
            out = self._generate(count)
        else:
            out = np.empty(count, dtype=np.float64)
            out[:ready] = self._ahead[self._next : self._next + ready]
            self._next += ready
            out[ready:] = self._generate(count - ready)
        self.count += count
        return out

    def _generate(self, count: int) -> np.ndarray:
        """The next ``count`` draws of the keystream itself (not counting those made ahead).

        seedrandom's ``random()``: six keystream bytes, then one more at a time until 52 bits are
        filled, scaled down to 53 bits. Data generation takes thousands of draws, so the loop runs
        compiled when numba is available (:func:`_fill`), and as plain Python otherwise.
        """
        out = np.empty(count, dtype=np.float64)
        ij = np.array([self._i, self._j], dtype=np.int64)
        kernel = _compiled_fill() if count >= _COMPILED_FROM else None
        if kernel is not None:
            state = np.asarray(self._s, dtype=np.int64)
            kernel(state, ij, out)
            self._s = state.tolist()
        else:
            state_list = list(self._s)
            ij_list = [self._i, self._j]
            _fill(state_list, ij_list, out)
            self._s = state_list
            ij = np.array(ij_list, dtype=np.int64)
        self._i, self._j = int(ij[0]), int(ij[1])
        return out

    def uniform(self, a: float, b: float) -> float:
        """The Playground's ``randUniform(a, b) = Math.random() * (b - a) + a``."""
        return self.random() * (b - a) + a

    def next_seed(self) -> str:
        """``Math.random().toFixed(5)``: how the Playground picks a new seed string."""
        return js_to_fixed(self.random(), 5)


def _fill(s, ij, out):  # pragma: no cover - exercised compiled and plain alike
    """Fill ``out`` with draws from the ARC4 state ``s`` (256 bytes) and indices ``ij`` (updated).

    Written once for both paths: numba compiles it for int64 arrays, Python runs it on lists. The
    arithmetic is in doubles exactly as seedrandom's JavaScript does it.
    """
    i = ij[0]
    j = ij[1]
    for k in range(len(out)):
        n = 0.0
        for _ in range(6):
            i = (i + 1) & 255
            t = s[i]
            j = (j + t) & 255
            s[i] = s[j]
            s[j] = t
            n = n * 256.0 + s[(s[i] + t) & 255]
        d = 281474976710656.0
        x = 0
        while n < _TWO52:
            n = (n + x) * 256.0
            d *= 256.0
            i = (i + 1) & 255
            t = s[i]
            j = (j + t) & 255
            s[i] = s[j]
            s[j] = t
            x = s[(s[i] + t) & 255]
        while n >= _TWO53:
            n /= 2.0
            d /= 2.0
            x >>= 1
        out[k] = (n + x) / d
    ij[0] = i
    ij[1] = j


_kernel: list = []
_COMPILED_FROM = 256  # fewer draws (a network's weights) are quicker in plain Python than a call
_AHEAD_COMPILED = 512  # draws made ahead for random(), by the compiled loop
_AHEAD_PLAIN = 8  # and by the plain one (a page draws few values one at a time)


def compile_draws() -> bool:
    """Make :meth:`RandomStream.draws` use the compiled loop from now on, in this process.

    Loading numba takes about half a second, which one page's data (a few milliseconds of plain
    Python) does not repay; ``courseware check``, which generates data for thousands of runs, does.
    Returns whether numba is available. The draws are identical either way.
    """
    return _compiled_fill(load=True) is not None


def _compiled_fill(load: bool = False):
    """:func:`_fill` compiled by numba (cached on disk after the first use), once it was asked for
    (:func:`compile_draws`); None before that, or without numba."""
    if not _kernel:
        if not load:
            return None
        try:
            from numba import njit

            _kernel.append(njit(cache=True, nogil=True)(_fill))
        except Exception:  # numba missing or unable to compile here: the plain loop is exact too
            _kernel.append(None)
    return _kernel[0]


def _utf16_units(text: str) -> list[int]:
    """JavaScript strings are UTF-16: characters beyond the BMP count as two code units."""
    data = text.encode("utf-16-le", "surrogatepass")
    return [data[k] | (data[k + 1] << 8) for k in range(0, len(data), 2)]
