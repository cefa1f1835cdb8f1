"""Conditions on measured quantities: ``test_loss <= 0.05 and neurons <= 3``.

One small language serves claims (``expect:``), goals (``goal:``) and runs that stop early
(``until:``), so an instructor learns it once. It is parsed here, strictly, into a tree; it is never
handed to Python's ``eval``. The grammar, loosest binding first::

    condition  :=  both ( "or" both )*
    both       :=  single ( "and" single )*
    single     :=  "not" single  |  comparison
    comparison :=  sum ( ( "<" | "<=" | ">" | ">=" | "==" | "!=" ) sum )*     chained: 0.3 < x < 0.5
    sum        :=  product ( ( "+" | "-" ) product )*
    product    :=  factor ( ( "*" | "/" ) factor )*
    factor     :=  "-" factor  |  NUMBER [ "%" ]  |  METRIC [ "[" VARIANT "]" ]  |  "(" condition ")"
                |  QUOTED_NAME

A metric is a name registered by a plugin (``register_metrics``); a metric whose unit is
``"boolean"`` (``diverged``, ``reached``) may stand alone as a condition. A metric whose unit is
``"name"`` measures a choice (``activation``) and is compared, with ``==`` or ``!=`` only, to a quoted
name: ``activation == "relu"``. ``metric[Variant]`` names one
variant of a compare step. Every value is an array with one entry per trained network, so a condition
is evaluated for all seeds at once; a NaN (a diverged network) makes every comparison false except
``!=``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from courseware.lessons.errors import ConditionError

BOOLEAN_UNIT = "boolean"
NAME_UNIT = "name"
COMPARISONS = ("<=", ">=", "==", "!=", "<", ">")
_ALIASES = {"≤": "<=", "≥": ">=", "≠": "!=", "=": "=="}
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?%?)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<variant>\[[^\]]*\])
      | (?P<quoted>"[^"]*"|'[^']*')
      | (?P<op><=|>=|==|!=|<|>|=|≤|≥|≠|\+|-|\*|/|\(|\))
    )""",
    re.VERBOSE,
)
KEYWORDS = ("and", "or", "not")


@dataclass(frozen=True)
class _Token:
    kind: str  # number, name, variant, op, end
    text: str
    column: int  # from 1


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            column = pos + 1 + (len(text[pos:]) - len(text[pos:].lstrip()))
            raise ConditionError(f"unexpected character {text[column - 1]!r}", column)
        kind = match.lastgroup or "op"
        token_text = match.group(kind)
        column = match.start(kind) + 1
        if kind == "op":
            token_text = _ALIASES.get(token_text, token_text)
        tokens.append(_Token(kind, token_text, column))
        pos = match.end()
    tokens.append(_Token("end", "", len(text) + 1))
    return tokens


# -- the tree ------------------------------------------------------------------------------------------

Lookup = Callable[[str, "str | None"], np.ndarray]


@dataclass(frozen=True)
class _Number:
    value: float

    kind = "number"

    def evaluate(self, lookup: Lookup) -> Any:
        return self.value

    def __str__(self) -> str:
        return f"{self.value:g}"


@dataclass(frozen=True)
class _Name:
    value: str

    kind = "name"

    def evaluate(self, lookup: Lookup) -> Any:
        return self.value

    def __str__(self) -> str:
        return f'"{self.value}"'


@dataclass(frozen=True)
class _Metric:
    name: str
    variant: str | None
    kind: str  # number, boolean or name

    def evaluate(self, lookup: Lookup) -> Any:
        if self.kind == "name":
            return np.asarray(lookup(self.name, self.variant), dtype=object)
        values = np.asarray(lookup(self.name, self.variant), dtype=np.float64)
        if self.kind == "boolean":
            return np.nan_to_num(values, nan=0.0) != 0
        return values

    def __str__(self) -> str:
        return self.name if self.variant is None else f"{self.name}[{self.variant}]"


@dataclass(frozen=True)
class _Arithmetic:
    op: str
    left: Any
    right: Any

    kind = "number"

    def evaluate(self, lookup: Lookup) -> Any:
        a, b = self.left.evaluate(lookup), self.right.evaluate(lookup)
        with np.errstate(all="ignore"):
            if self.op == "+":
                return np.add(a, b)
            if self.op == "-":
                return np.subtract(a, b)
            if self.op == "*":
                return np.multiply(a, b)
            return np.divide(a, b)

    def __str__(self) -> str:
        return f"({self.left} {self.op} {self.right})"


@dataclass(frozen=True)
class _Negate:
    operand: Any

    kind = "number"

    def evaluate(self, lookup: Lookup) -> Any:
        return np.negative(self.operand.evaluate(lookup))

    def __str__(self) -> str:
        return f"-{self.operand}"


@dataclass(frozen=True)
class _Compare:
    operands: tuple[Any, ...]
    ops: tuple[str, ...]

    kind = "boolean"

    def evaluate(self, lookup: Lookup) -> Any:
        values = [o.evaluate(lookup) for o in self.operands]
        result: Any = True
        with np.errstate(invalid="ignore"):
            for op, a, b in zip(self.ops, values, values[1:]):
                if isinstance(a, (str, np.ndarray)) and (isinstance(a, str) or a.dtype == object):
                    same = np.asarray(np.asarray(a, dtype=object) == np.asarray(b, dtype=object), dtype=bool)
                    result = np.logical_and(result, same if op == "==" else ~same)
                else:
                    result = np.logical_and(result, _COMPARE[op](a, b))
        return result

    def __str__(self) -> str:
        out = str(self.operands[0])
        for op, operand in zip(self.ops, self.operands[1:]):
            out += f" {op} {operand}"
        return out


_COMPARE = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
}


@dataclass(frozen=True)
class _Logic:
    op: str  # and, or
    items: tuple[Any, ...]

    kind = "boolean"

    def evaluate(self, lookup: Lookup) -> Any:
        combine = np.logical_and if self.op == "and" else np.logical_or
        result = self.items[0].evaluate(lookup)
        for item in self.items[1:]:
            result = combine(result, item.evaluate(lookup))
        return result

    def __str__(self) -> str:
        return "(" + f" {self.op} ".join(str(i) for i in self.items) + ")"


@dataclass(frozen=True)
class _Not:
    operand: Any

    kind = "boolean"

    def evaluate(self, lookup: Lookup) -> Any:
        return np.logical_not(self.operand.evaluate(lookup))

    def __str__(self) -> str:
        return f"not {self.operand}"


# -- the parser ----------------------------------------------------------------------------------------


class _Parser:
    def __init__(
        self,
        text: str,
        metrics: Mapping[str, str],
        variants: Collection[str] | None,
        choices: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.pos = 0
        self.metrics = metrics
        self.variants = variants
        self.choices = choices or {}
        self.used_metrics: set[str] = set()
        self.used_variants: set[str] = set()

    @property
    def token(self) -> _Token:
        return self.tokens[self.pos]

    def advance(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def is_word(self, word: str) -> bool:
        return self.token.kind == "name" and self.token.text == word

    def is_op(self, *ops: str) -> bool:
        return self.token.kind == "op" and self.token.text in ops

    def parse(self) -> Any:
        if self.token.kind == "end":
            raise ConditionError("the condition is empty; write e.g. test_loss < 0.1", 1)
        node = self.condition()
        if self.token.kind != "end":
            raise ConditionError(f"unexpected {self.describe(self.token)}", self.token.column)
        return node

    def describe(self, token: _Token) -> str:
        return "end of the condition" if token.kind == "end" else repr(token.text)

    def condition(self) -> Any:
        items = [self.both()]
        while self.is_word("or"):
            self.advance()
            items.append(self.both())
        return items[0] if len(items) == 1 else _Logic("or", tuple(self._booleans(items, "or")))

    def both(self) -> Any:
        items = [self.single()]
        while self.is_word("and"):
            self.advance()
            items.append(self.single())
        return items[0] if len(items) == 1 else _Logic("and", tuple(self._booleans(items, "and")))

    def _booleans(self, items: list[Any], word: str) -> list[Any]:
        for item in items:
            if item.kind != "boolean":
                raise ConditionError(f"'{word}' joins conditions, but {item} is a number; compare it, e.g. {item} < 0.1")
        return items

    def single(self) -> Any:
        if self.is_word("not"):
            token = self.advance()
            operand = self.single()
            if operand.kind != "boolean":
                raise ConditionError(f"'not' needs a condition, but {operand} is a number", token.column)
            return _Not(operand)
        return self.comparison()

    def comparison(self) -> Any:
        first = self.sum()
        operands, ops = [first], []
        while self.is_op(*COMPARISONS):
            token = self.advance()
            operand = self.sum()
            if "name" in (operands[-1].kind, operand.kind):
                ops.append(token.text)
                operands.append(operand)
                return self._name_comparison(operands, ops, token)
            for side in (operands[-1], operand):
                if side.kind != "number":
                    raise ConditionError(
                        f"{side} is yes-or-no and cannot be compared with {token.text}; use it alone "
                        f"or with 'not'",
                        token.column,
                    )
            ops.append(token.text)
            operands.append(operand)
        if ops:
            return _Compare(tuple(operands), tuple(ops))
        return first

    def _name_comparison(self, operands: list[Any], ops: list[str], token: _Token) -> Any:
        """``activation == "relu"``: a name metric against a quoted name, with == or != only."""
        left, right = operands
        metric, name = (left, right) if left.kind == "name" and isinstance(left, _Metric) else (right, left)
        if len(ops) > 1 or ops[0] not in ("==", "!=") or not isinstance(metric, _Metric) \
                or not isinstance(name, _Name):
            raise ConditionError(
                "a name is compared with == or != against a quoted name, e.g. activation == \"relu\"",
                token.column,
            )
        known = self.choices.get(metric.name)
        if known is not None and name.value not in known:
            raise ConditionError(
                f"{metric.name} is never {name.value!r}; choose from {', '.join(sorted(known))}", token.column
            )
        if self.is_op(*COMPARISONS):
            raise ConditionError("a name comparison cannot be chained", self.token.column)
        return _Compare((left, right), tuple(ops))

    def sum(self) -> Any:
        node = self.product()
        while self.is_op("+", "-"):
            token = self.advance()
            node = _Arithmetic(token.text, self._number(node, token), self._number(self.product(), token))
        return node

    def product(self) -> Any:
        node = self.factor()
        while self.is_op("*", "/"):
            token = self.advance()
            node = _Arithmetic(token.text, self._number(node, token), self._number(self.factor(), token))
        return node

    def _number(self, node: Any, token: _Token) -> Any:
        if node.kind == "name":
            raise ConditionError(f"{node} is a name; arithmetic ({token.text}) needs numbers", token.column)
        if node.kind != "number":
            raise ConditionError(f"{node} is yes-or-no; arithmetic ({token.text}) needs numbers", token.column)
        return node

    def factor(self) -> Any:
        token = self.token
        if self.is_op("-"):
            self.advance()
            return _Negate(self._number(self.factor(), token))
        if self.is_op("("):
            self.advance()
            node = self.condition()
            if not self.is_op(")"):
                raise ConditionError(f"expected ')' but found {self.describe(self.token)}", self.token.column)
            self.advance()
            return node
        if token.kind == "number":
            self.advance()
            text = token.text
            if text.endswith("%"):
                return _Number(float(text[:-1]) / 100)
            return _Number(float(text))
        if token.kind == "name":
            if token.text in KEYWORDS:
                raise ConditionError(f"'{token.text}' needs a condition before it", token.column)
            self.advance()
            return self.metric(token)
        if token.kind == "quoted":
            self.advance()
            return _Name(token.text[1:-1])
        if token.kind == "variant":
            raise ConditionError(f"{token.text} must follow a metric, e.g. test_loss{token.text}", token.column)
        raise ConditionError(
            f"expected a number, a metric or '(' but found {self.describe(token)}", token.column
        )

    def metric(self, token: _Token) -> Any:
        name = token.text
        if name not in self.metrics:
            close = difflib.get_close_matches(name, list(self.metrics), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ConditionError(
                f"unknown metric {name!r}{hint}; known metrics: {', '.join(sorted(self.metrics))}",
                token.column,
            )
        variant = None
        if self.token.kind == "variant":
            variant_token = self.advance()
            variant = variant_token.text[1:-1].strip()
            if self.variants is None:
                raise ConditionError(
                    f"{name}[{variant}] names a variant, but only a compare step has variants",
                    variant_token.column,
                )
            if variant not in self.variants:
                raise ConditionError(
                    f"unknown variant {variant!r}; this step's variants: {', '.join(self.variants)}",
                    variant_token.column,
                )
            self.used_variants.add(variant)
        elif self.variants is not None:
            example = next(iter(self.variants), "A")
            raise ConditionError(
                f"say which variant {name} is measured on, e.g. {name}[{example}]", token.column
            )
        self.used_metrics.add(name)
        return _Metric(name, variant, self.metrics[name])


@dataclass(frozen=True)
class Condition:
    """A parsed condition: :meth:`holds` evaluates it for every trained network at once."""

    text: str
    tree: Any
    metrics: frozenset[str]
    variants: frozenset[str]

    def holds(self, lookup: Lookup) -> np.ndarray:
        """A boolean array, one entry per network; ``lookup(metric, variant)`` gives the values."""
        return np.asarray(self.tree.evaluate(lookup), dtype=bool)

    def __str__(self) -> str:
        return self.text


def metric_kind(metric: Any) -> str:
    """``"boolean"``, ``"name"`` or ``"number"``: how a metric (or a plain is-boolean flag) is used."""
    if isinstance(metric, bool):
        return "boolean" if metric else "number"
    unit = getattr(metric, "unit", "")
    return {BOOLEAN_UNIT: "boolean", NAME_UNIT: "name"}.get(unit, "number")


def parse_condition(
    text: Any,
    metrics: Mapping[str, Any],
    variants: Collection[str] | None = None,
    choices: Mapping[str, Collection[str]] | None = None,
) -> Condition:
    """Parse ``text`` against the known ``metrics`` (name -> Metric, or name -> is-boolean).

    ``choices`` lists, for a name metric, the names it can take (an unknown one is an error).
    ``variants`` lists the names a ``metric[Variant]`` may use; when given, every metric must name
    one (a compare step's claims); when ``None``, none may. Raises :class:`ConditionError`.
    """
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise ConditionError(f"a condition is text, e.g. \"test_loss < 0.1\", not {type(text).__name__}")
    text = str(text).strip()
    parser = _Parser(text, {name: metric_kind(m) for name, m in metrics.items()}, variants, choices)
    tree = parser.parse()
    if tree.kind == "name":
        raise ConditionError(f"{text!r} is a name, not a condition; compare it, e.g. {text} == \"relu\"")
    if tree.kind != "boolean":
        raise ConditionError(f"{text!r} is a number, not a condition; compare it, e.g. {text} < 0.1")
    return Condition(text, tree, frozenset(parser.used_metrics), frozenset(parser.used_variants))
