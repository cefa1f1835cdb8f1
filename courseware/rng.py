"""The Playground's random stream: seedrandom 2.4 (ARC4) keyed by a seed *string*.

Every random number the original uses (data, shuffle, weights, the next seed) comes from one
``Math.seedrandom(seed)`` stream, in a fixed order. ``numpy.random`` can never reproduce it, so this
module ports the algorithm exactly (``reference/playground.md`` §0). It is inherently sequential;
callers that need many draws take them with :meth:`RandomStream.draws` and vectorize afterwards.
"""

from __future__ import annotations

import numpy as np

_TWO52 = 4503599627370496.0  # 2**52
_TWO53 = 9007199254740992.0  # 2**53


class RandomStream:
    """An ARC4 keystream turned into doubles in [0, 1) exactly as seedrandom 2.4 does."""

    __slots__ = ("_s", "_i", "_j", "seed", "count")

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

    def random(self) -> float:
        """One draw of ``Math.random()`` (53 bits of the keystream, as seedrandom builds them)."""
        return float(self.draws(1)[0])

    def draws(self, count: int) -> np.ndarray:
        """The next ``count`` draws as a float64 array, in stream order.

        seedrandom's ``random()``: six keystream bytes, then one more at a time until 52 bits are
        filled, scaled down to 53 bits. The keystream step is inlined: data generation takes
        thousands of draws and this is where its time goes.
        """
        s, i, j = self._s, self._i, self._j
        out = np.empty(count, dtype=np.float64)
        for k in range(count):
            n = 0
            for _ in range(6):
                i = (i + 1) & 255
                t = s[i]
                j = (j + t) & 255
                s[i] = s[j]
                s[j] = t
                n = n * 256 + s[(s[i] + t) & 255]
            n = float(n)
            d = 281474976710656.0
            x = 0
            while n < _TWO52:
                n = (n + x) * 256
                d *= 256
                i = (i + 1) & 255
                t = s[i]
                j = (j + t) & 255
                s[i] = s[j]
                s[j] = t
                x = s[(s[i] + t) & 255]
            while n >= _TWO53:
                n /= 2
                d /= 2
                x >>= 1
            out[k] = (n + x) / d
        self._i, self._j = i, j
        self.count += count
        return out

    def uniform(self, a: float, b: float) -> float:
        """The Playground's ``randUniform(a, b) = Math.random() * (b - a) + a``."""
        return self.random() * (b - a) + a

    def next_seed(self) -> str:
        """``Math.random().toFixed(5)``: how the Playground picks a new seed string."""
        return js_to_fixed(self.random(), 5)


def _utf16_units(text: str) -> list[int]:
    """JavaScript strings are UTF-16: characters beyond the BMP count as two code units."""
    data = text.encode("utf-16-le", "surrogatepass")
    return [data[k] | (data[k + 1] << 8) for k in range(0, len(data), 2)]


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
