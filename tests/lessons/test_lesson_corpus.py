"""A corpus of broken lessons, each declaring the errors it must produce.

Every file in ``corpus/`` starts with ``# expect: LINE | STEP | FIELD | MESSAGE`` lines (``-`` for a
part that is absent; STEP as ``N`` or ``N (Title)``; MESSAGE is a fragment of the message). Loading
the file must produce exactly those errors: each one located as declared, and no others, which also
proves that every error in a file is reported at once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from courseware.lessons import LessonErrors, load_lesson

CORPUS = Path(__file__).parent / "corpus"


def expectations(path: Path) -> list[tuple[int | None, str, str, str]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("# expect:"):
            continue
        line_no, step, field, message = (part.strip() for part in line[len("# expect:"):].split("|", 3))
        out.append((None if line_no == "-" else int(line_no), step, field, message))
    return out


def step_label(error) -> str:
    if error.step is None:
        return "-"
    return f"{error.step} ({error.step_title})" if error.step_title else str(error.step)


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.yaml")), ids=lambda p: p.stem)
def test_broken_lesson_reports_exactly_its_errors(path, builtins):
    expected = expectations(path)
    assert expected, f"{path.name} declares no expected errors"
    with pytest.raises(LessonErrors) as info:
        load_lesson(path, builtins)
    errors = info.value.errors
    actual = [(e.line, step_label(e), e.field or "-", e.message) for e in errors]
    unmatched = list(actual)
    for line, step, field, fragment in expected:
        match = next(
            (a for a in unmatched if a[0] == line and a[1] == step and a[2] == field and fragment in a[3]),
            None,
        )
        assert match is not None, f"no error {line} | {step} | {field} | {fragment!r}; got:\n" + "\n".join(
            " | ".join(str(p) for p in a) for a in actual
        )
        unmatched.remove(match)
    assert not unmatched, "unexpected errors:\n" + "\n".join(" | ".join(str(p) for p in a) for a in unmatched)
    for error in errors:
        assert error.file == str(path)
        assert str(error).startswith(f"{path}:" if error.line else str(path))


def test_the_message_names_file_line_step_and_field(builtins):
    with pytest.raises(LessonErrors) as info:
        load_lesson(CORPUS / "wrong-types.yaml", builtins)
    messages = str(info.value).splitlines()
    assert messages[0] == f"6 problems in {CORPUS / 'wrong-types.yaml'}:"
    assert f"  {CORPUS / 'wrong-types.yaml'}:17: step 1 (Train): epochs: expected a number of epochs, got 'ten'" in messages


def test_an_unreadable_file_is_a_lesson_error(tmp_path, builtins):
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(LessonErrors, match="cannot read the file"):
        load_lesson(path, builtins)
