"""Located YAML: every key and item knows its line; problems are reported, never crashes."""

from __future__ import annotations

import pytest

from courseware.lessons.yamlsource import MAX_NODES, LocatedList, LocatedMap, YamlProblem, load


def test_keys_and_items_know_their_lines():
    value, problems = load("a: 1\nb:\n  - x\n  - {c: 2}\n")
    assert problems == []
    assert isinstance(value, LocatedMap) and value.line == 1
    assert value.key_lines == {"a": 1, "b": 2}
    assert isinstance(value["b"], LocatedList)
    assert value["b"].item_lines == [3, 4]
    assert value["b"][1].key_lines == {"c": 4}


def test_duplicate_keys_are_problems_not_silent_overrides():
    value, problems = load("a: 1\nb: 2\na: 3\n")
    assert value["a"] == 1
    assert [(p.line, p.message) for p in problems] == [(3, "duplicate key 'a' (first at line 1)")]


def test_dates_stay_text():
    value, _ = load("when: 2024-05-01\n")
    assert value["when"] == "2024-05-01"


def test_syntax_error_names_the_line():
    with pytest.raises(YamlProblem) as info:
        load("a: 1\nb: [1, 2\nc: 3\n")
    assert info.value.line is not None and info.value.line >= 2
    assert info.value.message.startswith("YAML syntax:")


@pytest.mark.parametrize(
    "text", ["x: !!python/object/apply:os.system [ls]\n", "x: !!python/name:os.system ''\n", "x: !!set {a, b}\n"]
)
def test_non_plain_tags_are_refused(text):
    with pytest.raises(YamlProblem) as info:
        load(text)
    assert info.value.line == 1


def test_alias_bombs_are_refused():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for level in "bcdefgh":
        prev = chr(ord(level) - 1)
        bomb += f"{level}: &{level} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
    with pytest.raises(YamlProblem, match=str(MAX_NODES)):
        load(bomb)


def test_recursive_aliases_are_refused():
    with pytest.raises(YamlProblem, match="nested too deeply"):
        load("&a [*a]\n")


def test_a_colon_in_text_gets_a_hint():
    with pytest.raises(YamlProblem, match="Quote the text"):
        load("steps:\n  - text: Watch: the loss\n")


def test_empty_document_is_none():
    assert load("") == (None, [])
