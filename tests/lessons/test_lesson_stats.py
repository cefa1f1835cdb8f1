"""The statistics of check's verdicts: exact binomial tails, confidence bounds, safe rates."""

from __future__ import annotations

from fractions import Fraction
from math import comb

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from courseware.lessons import parse_holds_in
from courseware.lessons.seeds import SEED_SPACE, SeedSample, read_seed_file
from courseware.lessons.stats import (
    ALPHA,
    MAX_FALSE_ALARM,
    binom_cdf,
    critical_count,
    false_alarm,
    lower_bound,
    rejects,
    safe_rate,
    upper_bound,
)


def exact_cdf(x: int, n: int, p: Fraction) -> Fraction:
    return sum((comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(x + 1)), Fraction(0))


@given(st.integers(1, 60), st.data(), st.integers(1, 99))
def test_binomial_tail_is_exact(n, data, percent):
    x = data.draw(st.integers(0, n))
    p = Fraction(percent, 100)
    assert binom_cdf(x, n, percent / 100) == pytest.approx(float(exact_cdf(x, n, p)), rel=1e-9, abs=1e-300)


def test_known_verdicts():
    # 101 of 120 against "at least 95%": P(X <= 101 | 120, 0.95) is about 1e-5: rejected.
    assert rejects(101, 120, 0.95)
    # 112 of 120 against 90%: well within chance.
    assert not rejects(112, 120, 0.90)
    # "Every run" falls to one counterexample, however many runs held.
    assert rejects(239, 240, 1.0) and not rejects(240, 240, 1.0)
    assert critical_count(120, 0.9) == 101  # P(X <= 101) < 5% <= P(X <= 102)
    assert binom_cdf(101, 120, 0.9) < ALPHA <= binom_cdf(102, 120, 0.9)


@settings(max_examples=60)
@given(st.integers(5, 300), st.data())
def test_the_upper_bound_and_the_test_agree(n, data):
    x = data.draw(st.integers(0, n - 1))
    rate = data.draw(st.sampled_from([0.5, 0.8, 0.9, 0.95, 0.99]))
    bound = upper_bound(x, n)
    assert lower_bound(x, n) <= x / n <= bound
    if abs(bound - rate) > 1e-6:
        assert rejects(x, n, rate) == (bound < rate)


def test_a_safe_rate_has_margin_for_the_next_sample():
    # 380 of 400 measured (95%): stating 95% would fail a fresh check too often; the safe rate does not.
    rate = safe_rate(380, 400, 120)
    assert rate is not None and rate < 0.95
    assert false_alarm(lower_bound(380, 400, 0.99), rate, 120) <= MAX_FALSE_ALARM
    assert false_alarm(0.95, 0.95, 120) > 0.01  # the tuned figure: rejected in a few percent of checks
    assert safe_rate(400, 400, 120) < 1  # certainty is never inferred from a sample
    assert safe_rate(2, 400, 120) is None  # too rare to state


@pytest.mark.parametrize(
    ("text", "rate", "shown"),
    [("at least 90% of runs", 0.9, "at least 90% of runs"), ("in 97.5% of runs", 0.975, "at least 97.5% of runs"),
     ("every run", 1.0, "every run"), ("all runs", 1.0, "every run"), ("100% of runs", 1.0, "every run"),
     ("at least 80% of seeds", 0.8, "at least 80% of runs")],
)  # fmt: skip
def test_rates_read_as_students_meet_them(text, rate, shown):
    parsed = parse_holds_in(text)
    assert (parsed.rate, str(parsed)) == (rate, shown)


@pytest.mark.parametrize("text", ["18 of 20 seeds", "all 20 seeds", "20 runs", "0% of runs", "most runs", True])
def test_counts_on_a_fixed_sample_are_refused_with_the_fix(text):
    with pytest.raises(ValueError) as info:
        parse_holds_in(text)
    assert "of runs" in str(info.value)


def test_samples_are_playground_seeds_reproducible_by_key_and_fresh_without():
    sample = SeedSample.random(300, key="abc123")
    assert len(set(sample.seeds)) == 300
    assert all(len(s) == 7 and s.startswith("0.") and s[2:].isdigit() for s in sample.seeds)
    assert SeedSample.random(300, key="abc123") == sample
    assert SeedSample.random(300, key="abc124").seeds != sample.seeds
    assert SeedSample.random(5).key != SeedSample.random(5).key
    assert SeedSample.random(10**6, key="1").seeds.__len__() == SEED_SPACE
    with pytest.raises(ValueError):
        SeedSample.random(5, key="not hex")


def test_seed_files(tmp_path):
    path = tmp_path / "seeds.txt"
    path.write_text("# failing seeds\n0.12345, 0.54321\n0.00007  # the odd one\n\n", encoding="utf-8")
    assert read_seed_file(path) == ["0.12345", "0.54321", "0.00007"]
    assert SeedSample.explicit(["a", "b", "a"]).seeds == ("a", "b")
    (tmp_path / "empty.txt").write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(ValueError):
        read_seed_file(tmp_path / "empty.txt")
