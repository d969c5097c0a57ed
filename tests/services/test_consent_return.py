"""Where the redirect endpoint may send a browser back to after a sign-in: this site's paths only."""

from __future__ import annotations

import pytest

from tether.services import safe_return_path


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("/e/team/connections/abc", "/e/team/connections/abc", id="portal-page"),
        pytest.param("/e/team/connections/abc?x=1", "/e/team/connections/abc?x=1", id="with-query"),
        pytest.param("//evil.example/", None, id="protocol-relative"),
        pytest.param("/\\evil.example", None, id="backslash"),
        pytest.param("https://evil.example/", None, id="absolute"),
        pytest.param("/e/x\r\nSet-Cookie: a=b", None, id="header-injection"),
        pytest.param("/e/x y", None, id="space"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="absent"),
    ],
)
def test_only_local_paths_are_followed(value, expected) -> None:
    assert safe_return_path(value) == expected
