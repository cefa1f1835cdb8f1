"""The condition language: parsing, evaluation over many networks, and its error messages."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from courseware.lessons.conditions import parse_condition
from courseware.lessons.errors import ConditionError

METRICS = {"test_loss": False, "train_loss": False, "neurons": False, "diverged": True, "reached": True}
VALUES = {
    "test_loss": np.array([0.01, 0.2, 0.5, np.nan]),
    "train_loss": np.array([0.02, 0.1, 0.6, np.nan]),
    "neurons": np.array([3.0, 3.0, 8.0, 3.0]),
    "diverged": np.array([0.0, 0.0, 0.0, 1.0]),
    "reached": np.array([1.0, 0.0, 1.0, np.nan]),
}


def holds(text, variants=None, values=VALUES):
    condition = parse_condition(text, METRICS, variants)

    def lookup(metric, variant):
        data = values[metric]
        return data if variant is None else data[variant]

    return condition.holds(lookup).tolist()


def test_comparison_is_evaluated_for_every_network():
    assert holds("test_loss < 0.3") == [True, True, False, False]


def test_and_binds_tighter_than_or():
    # (test_loss < 0.1 and neurons > 5) or neurons == 8
    assert holds("test_loss < 0.1 and neurons > 5 or neurons == 8") == [False, False, True, False]
    assert holds("test_loss < 0.1 and (neurons > 5 or neurons == 3)") == [True, False, False, False]


def test_chained_comparison_means_both():
    assert holds("0.1 < test_loss <= 0.5") == [False, True, True, False]


def test_arithmetic_and_negation():
    assert holds("test_loss - train_loss > 0.05") == [False, True, False, False]
    assert holds("-test_loss < -0.3") == [False, False, True, False]
    assert holds("test_loss * 2 / 4 >= 0.1") == [False, True, True, False]


def test_percent_means_hundredths():
    assert holds("test_loss <= 20%") == [True, True, False, False]


def test_boolean_metrics_stand_alone():
    assert holds("diverged") == [False, False, False, True]
    assert holds("not diverged and reached") == [True, False, True, False]


def test_nan_makes_comparisons_false_except_not_equal():
    assert holds("test_loss >= 0")[-1] is False
    assert holds("test_loss < 0")[-1] is False
    assert holds("test_loss != 1")[-1] is True


def test_unicode_and_single_equals_are_accepted():
    assert holds("test_loss ≤ 0.2") == holds("test_loss <= 0.2")
    assert holds("neurons = 3") == holds("neurons == 3")


def test_variants_select_their_networks():
    values = {"test_loss": {"ReLU": np.array([0.01, 0.3]), "tanh": np.array([0.05, 0.1])}}
    text = "test_loss[ReLU] < test_loss[tanh]"
    assert holds(text, variants=["ReLU", "tanh"], values=values) == [True, False]
    assert parse_condition(text, METRICS, ["ReLU", "tanh"]).variants == {"ReLU", "tanh"}


def test_variant_names_may_contain_spaces_and_commas():
    condition = parse_condition("test_loss[4, 2 layers] < 1", METRICS, ["4, 2 layers"])
    assert condition.variants == {"4, 2 layers"}


@pytest.mark.parametrize(
    "text, variants, message",
    [
        ("test_los < 0.1", None, "unknown metric 'test_los' (did you mean test_loss?); known metrics: diverged, neurons"),
        ("test_loss", None, "is a number, not a condition"),
        ("test_loss < 0.1 and neurons", None, "'and' joins conditions, but neurons is a number"),
        ("diverged < 1", None, "diverged is yes-or-no and cannot be compared"),
        ("test_loss < ", None, "expected a number, a metric or '(' but found end of the condition"),
        ("(test_loss < 1", None, "expected ')'"),
        ("test_loss < 0.1 $", None, "unexpected character '$'"),
        ("", None, "the condition is empty"),
        ("test_loss[ReLU] < 1", None, "only a compare step has variants"),
        ("test_loss < 1", ["A", "B"], "say which variant test_loss is measured on, e.g. test_loss[A]"),
        ("test_loss[C] < 1", ["A", "B"], "unknown variant 'C'; this step's variants: A, B"),
        ("test_loss < 1 1", None, "unexpected '1'"),
        ("and test_loss < 1", None, "'and' needs a condition before it"),
    ],
)
def test_errors_say_what_is_wrong(text, variants, message):
    with pytest.raises(ConditionError) as info:
        parse_condition(text, METRICS, variants)
    assert message in str(info.value)


def test_errors_give_the_column():
    with pytest.raises(ConditionError) as info:
        parse_condition("neurons <= 3 and test_lss < 1", METRICS)
    assert info.value.column == 18


def test_non_text_is_refused():
    with pytest.raises(ConditionError, match="a condition is text"):
        parse_condition(["test_loss < 1"], METRICS)


PIECES = [*"abdeilnorstu_[]()<>=!+-*/%.0123456789 ", "and ", "or ", "not ", "test_loss", "diverged", "≤"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=20).map("".join) | st.text(max_size=30))
def test_any_text_parses_or_raises_a_condition_error(text):
    try:
        condition = parse_condition(text, METRICS)
    except ConditionError:
        return
    result = condition.holds(lambda metric, variant: VALUES[metric])
    assert np.asarray(result).dtype == bool
