"""The statistics behind a claim's verdict: exact binomial tails and Clopper-Pearson bounds.

A claim says "in at least 90% of runs". ``courseware check`` trains it on n fresh seeds and counts x
successes. The claim fails when x is *significantly* below the stated rate: the exact one-sided
binomial test of "the true rate is at least p" against "it is lower" rejects at level ``ALPHA``
when P(X <= x | n, p) < ALPHA. Exact tests need no normal approximation, which is poor at the rates
lessons state (90%, 95%) and the sample sizes check uses (about a hundred).

For authors, :func:`safe_rate` turns a calibration measurement into the strongest rate that a fresh
verification sample will not reject, except with a small probability: the rate is stated with a
margin instead of at the measured share. Everything is computed with the standard library; n is at
most a few thousand, so direct sums in log space are exact enough and fast.
"""

from __future__ import annotations

import math
from functools import lru_cache

ALPHA = 0.05
"""Significance level of check's test: a claim fails when P(X <= x | n, stated rate) < ALPHA."""

CALIBRATION_CONFIDENCE = 0.99
"""How sure :func:`safe_rate` is of the true rate before it plans the margin (a lower bound)."""

MAX_FALSE_ALARM = 0.001
"""The most probability :func:`safe_rate` allows that a true claim fails a later verification."""


def _log_pmf(k: int, n: int, p: float) -> float:
    if p <= 0.0:
        return 0.0 if k == 0 else -math.inf
    if p >= 1.0:
        return 0.0 if k == n else -math.inf
    return (
        math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
        + k * math.log(p) + (n - k) * math.log1p(-p)
    )  # fmt: skip


def binom_cdf(x: int, n: int, p: float) -> float:
    """P(X <= x) for X ~ Binomial(n, p)."""
    if x < 0:
        return 0.0
    if x >= n:
        return 1.0
    terms = [_log_pmf(k, n, p) for k in range(0, x + 1)]
    top = max(terms)
    if top == -math.inf:
        return 0.0
    return min(1.0, math.exp(top) * math.fsum(math.exp(t - top) for t in terms))


def p_value(successes: int, n: int, rate: float) -> float:
    """The exact one-sided p-value of "the true rate is at least ``rate``" given x of n."""
    return binom_cdf(successes, n, rate)


def rejects(successes: int, n: int, rate: float, alpha: float = ALPHA) -> bool:
    """Whether x of n is significantly below ``rate`` at level ``alpha`` (exact binomial test).

    A rate of 1 ("every run") is rejected by a single failure, whatever n is.
    """
    if n == 0:
        return False
    return p_value(successes, n, rate) < alpha


@lru_cache(maxsize=4096)
def critical_count(n: int, rate: float, alpha: float = ALPHA) -> int:
    """The largest x that :func:`rejects` (-1 if none): x of n at or below it fails the claim."""
    low, high = -1, n  # rejects(low) is vacuously true for -1; rejects(n) is false
    while high - low > 1:
        mid = (low + high) // 2
        if rejects(mid, n, rate, alpha):
            low = mid
        else:
            high = mid
    return low


def upper_bound(successes: int, n: int, confidence: float = 1 - ALPHA) -> float:
    """One-sided Clopper-Pearson upper confidence bound on the true rate, given x of n.

    A claim fails exactly when this bound (at 1 - ALPHA) is below its stated rate.
    """
    if n == 0 or successes >= n:
        return 1.0
    return _solve(lambda p: binom_cdf(successes, n, p) - (1 - confidence), decreasing=True)


def lower_bound(successes: int, n: int, confidence: float = 1 - ALPHA) -> float:
    """One-sided Clopper-Pearson lower confidence bound on the true rate, given x of n."""
    if n == 0 or successes <= 0:
        return 0.0
    # P(X >= x | p) = 1 - cdf(x - 1) grows with p; the bound is where it equals 1 - confidence.
    return _solve(lambda p: (1 - binom_cdf(successes - 1, n, p)) - (1 - confidence), decreasing=False)


def _solve(fn, decreasing: bool) -> float:
    """The root in [0, 1] of a monotone ``fn`` by bisection (60 halvings: far below any rounding)."""
    low, high = 0.0, 1.0
    for _ in range(60):
        mid = (low + high) / 2
        value = fn(mid)
        if (value > 0) == decreasing:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def false_alarm(true_rate: float, stated: float, n: int, alpha: float = ALPHA) -> float:
    """The probability that a claim stated at ``stated`` fails a verification on n seeds when the
    true rate is ``true_rate``."""
    critical = critical_count(n, stated, alpha)
    return binom_cdf(critical, n, true_rate)


RATE_STEPS = (0.99, 0.98, 0.97, 0.96, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.55, 0.5,
              0.45, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15, 0.1, 0.05)  # fmt: skip


def safe_rate(successes: int, n: int, verify_n: int, alpha: float = ALPHA) -> float | None:
    """The strongest round rate an author can state after observing x of n in a calibration sample.

    The true rate is taken at its lower bound (``CALIBRATION_CONFIDENCE``); the stated rate is the
    highest step of :data:`RATE_STEPS` whose verification on ``verify_n`` fresh seeds would fail with
    probability at most ``MAX_FALSE_ALARM`` at that rate. ``None``: no rate is safe to state
    (the condition is too rare to claim "at least 5% of runs"). "Every run" is never suggested: a
    calibration sample cannot prove certainty, only the construction of the experiment can.
    """
    true_low = lower_bound(successes, n, CALIBRATION_CONFIDENCE)
    for rate in RATE_STEPS:
        if rate <= true_low and false_alarm(true_low, rate, verify_n, alpha) <= MAX_FALSE_ALARM:
            return rate
    return None


def percent(rate: float) -> str:
    """``0.9`` -> ``"90%"``, ``0.975`` -> ``"97.5%"``."""
    text = f"{rate * 100:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"
