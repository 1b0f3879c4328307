import pytest

from handcalc.answers import load_answers
from handcalc.errors import DocumentError
from handcalc.jsondoc import loads, read_json_object


def test_text_and_objects_are_read() -> None:
    assert read_json_object('{"a": 1}', "doc", 100, {"a"}) == {"a": 1}
    assert read_json_object(b'{"a": 1}', "doc", 100, {"a"}) == {"a": 1}
    assert read_json_object({"a": 1}, "doc", 100, {"a", "b"}) == {"a": 1}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("x" * 101, "doc: larger than 100 characters"),
        ("{oops", "doc: not valid JSON"),
        ("[1]", "doc: expected an object like {}, got list"),
        ('{"c": 1}', "doc: unknown field 'c'; accepted fields: a, b"),
    ],
)
def test_each_refusal_says_what_is_accepted(doc: str, message: str) -> None:
    with pytest.raises(DocumentError) as info:
        read_json_object(doc, "doc", 100, {"b", "a"}, expected="an object like {}")
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ('{"cells": {"Z1": [[NaN, Infinity]]}}', "NaN is not accepted: numbers must be finite"),
        ("[-Infinity]", "-Infinity is not accepted: numbers must be finite"),
        ("[1e999]", "1e999 is too large: numbers must be finite"),
        ("[" + "1" * 101 + "]", "a number of 101 digits is too long"),
        ("[" + "1" * 5000 + "]", "a number of 5000 digits is too long"),
        ("[0." + "1" * 100 + "]", "a number of 102 characters is too long"),
        ("[" * 100_000 + "]" * 100_000, "maximum recursion depth"),
        (b"\xff{}", "can't decode byte 0xff"),
        ("{oops", "Expecting property name"),
    ],
)
def test_the_strict_reader_refuses_what_json_does_not_allow(raw: str | bytes, message: str) -> None:
    with pytest.raises(DocumentError) as info:
        loads(raw, "body")
    assert str(info.value).startswith("body: not valid JSON (")
    assert message in str(info.value)


def test_the_strict_reader_reads_json() -> None:
    assert loads('{"a": [1, -2.5e3, "x", null, true]}') == {"a": [1, -2500.0, "x", None, True]}
    assert loads(b'{"n": ' + b"9" * 100 + b"}") == {"n": int("9" * 100)}


def test_objects_and_answers_are_read_strictly() -> None:
    with pytest.raises(DocumentError, match=r"doc: not valid JSON \(NaN is not accepted"):
        read_json_object('{"a": NaN}', "doc", 100, {"a"})
    with pytest.raises(DocumentError, match=r"answers: not valid JSON \(Infinity is not accepted"):
        load_answers('{"cells": {"Z1": [[1, Infinity]]}}')
