import pytest

from handcalc.errors import DocumentError
from handcalc.jsondoc import read_json_object


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
