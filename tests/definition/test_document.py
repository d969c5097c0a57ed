from __future__ import annotations

import pytest

from tests._paths import BROKEN_CORPUS_FILES, CORPUS, need
from tether.definition import escape_pointer, parse_document, read_document
from tether.errors import DocumentSyntaxError


def test_strict_json_has_no_warnings() -> None:
    doc = parse_document(b'{"a": [1, 2]}', name="x.json")
    assert doc.data == {"a": [1, 2]}
    assert doc.warnings == []
    assert doc.format == "json"


@pytest.mark.parametrize(
    ("raw", "expected", "warning"),
    [
        pytest.param(b'\xef\xbb\xbf{"a": 1}', {"a": 1}, "byte-order mark", id="bom"),
        pytest.param(b'{"a": 1, // note\n "b": 2}', {"a": 1, "b": 2}, "not strict JSON", id="line-comment"),
        pytest.param(b'{"a": /* x */ 1}', {"a": 1}, "not strict JSON", id="block-comment"),
        pytest.param(b'{"a": [1, 2,], }', {"a": [1, 2]}, "not strict JSON", id="trailing-commas"),
        pytest.param(b'{"a": "line\nbreak"}', {"a": "line\nbreak"}, "control characters", id="control-char"),
        pytest.param(
            b'{"url": "http://x//y", "s": "a,]"}',
            {"url": "http://x//y", "s": "a,]"},
            None,
            id="comment-like-text-inside-strings-kept",
        ),
        pytest.param(b'{"name": "Br\xf8nn\xf8y"}', {"name": "Brønnøy"}, "not UTF-8", id="windows-1252"),
    ],
)
def test_lenient_json_is_accepted_with_a_warning_naming_the_file(raw, expected, warning) -> None:
    doc = parse_document(raw, name="pkg/apiDefinition.swagger.json", format="json")
    assert doc.data == expected
    if warning is None:
        assert doc.warnings == []
    else:
        assert len(doc.warnings) == 1
        assert doc.warnings[0].startswith("pkg/apiDefinition.swagger.json: ")
        assert warning in doc.warnings[0]


def test_broken_json_names_file_line_column_and_shows_the_text() -> None:
    raw = b'{\n  "a": 1\n  "b": 2\n}'
    with pytest.raises(DocumentSyntaxError) as caught:
        parse_document(raw, name="defs/api.json", format="json")
    error = caught.value
    assert (error.file, error.line, error.column) == ("defs/api.json", 3, 3)
    assert str(error).startswith("defs/api.json:3:3: invalid JSON: Expecting ',' delimiter")
    assert '  3 |   "b": 2' in error.excerpt
    assert error.excerpt.splitlines()[-2].endswith("^") or "^" in error.excerpt


def test_unicode_space_is_not_forgiven() -> None:
    # JSON5 would accept U+2003; Microsoft's tools do not, and neither do we.
    with pytest.raises(DocumentSyntaxError):
        parse_document('{"a": 1\u2003}'.encode(), name="x.json", format="json")


def test_yaml_errors_have_positions() -> None:
    with pytest.raises(DocumentSyntaxError) as caught:
        parse_document(b"openapi: 3.0.0\ninfo: [unclosed\n", name="spec.yaml", format="yaml")
    assert caught.value.file == "spec.yaml"
    assert caught.value.line >= 2


def test_format_is_sniffed_when_not_given() -> None:
    assert parse_document(b'  {"a": 1}', name="upload").format == "json"
    assert parse_document(b"openapi: 3.1.0\n", name="upload").format == "yaml"


def test_line_of_pointer_in_json_and_yaml() -> None:
    json_doc = parse_document(
        b'{\n "paths": {\n  "/a/{id}": {\n   "get": {\n    "parameters": [\n     {"name": "id"},\n'
        b'     {"name": "q"}\n    ]\n   }\n  }\n }\n}',
        name="x.json",
    )
    base = "/paths/" + escape_pointer("/a/{id}") + "/get/parameters"
    assert json_doc.line_of(base + "/1/name") == 7
    assert json_doc.line_of(base + "/0") == 6
    # A missing key points at the nearest ancestor that exists.
    assert json_doc.line_of(base + "/1/missing") == 7
    yaml_doc = parse_document(b"openapi: 3.0.0\npaths:\n  /a:\n    get:\n      summary: x\n", name="x.yaml")
    assert yaml_doc.line_of("/paths/~1a/get/summary") == 5


def test_escape_pointer() -> None:
    assert escape_pointer("a/b~c") == "a~1b~0c"


@pytest.mark.corpus
@pytest.mark.parametrize("relative", sorted(BROKEN_CORPUS_FILES), ids=lambda r: r.split("/")[1])
def test_each_broken_corpus_file_fails_with_its_position(relative: str) -> None:
    path = need(CORPUS) / relative
    with pytest.raises(DocumentSyntaxError) as caught:
        read_document(path)
    assert (caught.value.line, caught.value.column) == BROKEN_CORPUS_FILES[relative]
    assert str(caught.value).startswith(f"{path}:{caught.value.line}:{caught.value.column}: invalid JSON")


def test_yaml_dates_stay_strings_as_in_json() -> None:
    doc = parse_document(b"info:\n  version: 2023-08-16\n  title: x\nn: 1\nb: true\n", name="a.yaml")
    assert doc.data == {"info": {"version": "2023-08-16", "title": "x"}, "n": 1, "b": True}
