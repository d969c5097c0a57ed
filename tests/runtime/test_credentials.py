"""The rule for requests that leave their origin: nothing that authenticates goes with them."""

from __future__ import annotations

import httpx
import pytest

from tether.runtime._credentials import form_without_credentials, same_origin, without_credentials


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        pytest.param("https://api.example/x", "https://api.example:443/y", True, id="default-port"),
        pytest.param("https://api.example/x", "http://api.example/x", False, id="scheme"),
        pytest.param("https://api.example/x", "https://api.example:8443/x", False, id="port"),
        pytest.param("https://api.example/x", "https://other.example/x", False, id="host"),
    ],
)
def test_origins(a: str, b: str, same: bool) -> None:
    assert same_origin(httpx.URL(a), httpx.URL(b)) is same


def test_every_kind_of_credential_is_removed_and_the_rest_kept() -> None:
    headers = httpx.Headers(
        {
            "Authorization": "Basic xyz",
            "Proxy-Authorization": "Basic abc",
            "Cookie": "s=1",
            "X-Api-Key": "k",
            "Ocp-Apim-Subscription-Key": "k2",
            "X-Custom": "prefix-s3cr3t-value-suffix",  # a policy put the connection's secret here
            "Accept": "application/json",
            "Idempotency-Key": "not-a-secret-by-value",
        }
    )
    url = httpx.URL("https://u:p@api.example/items?key=s3cr3t-value&access_token=t&page=2&v=s3cr3t-value")
    clean_url, clean = without_credentials(url, headers, ["s3cr3t-value"])
    assert dict(clean) == {"accept": "application/json", "idempotency-key": "not-a-secret-by-value"}
    assert str(clean_url) == "https://api.example/items?page=2"


def test_short_secret_values_do_not_strip_everything() -> None:
    _url, clean = without_credentials(httpx.URL("https://a.example/"), httpx.Headers({"X-N": "1"}), ["1"])
    assert dict(clean) == {"x-n": "1"}


def test_form_bodies_lose_their_credential_fields() -> None:
    body = b"grant_type=authorization_code&code=abc&client_id=app&client_secret=shh&code_verifier=v&x=1"
    assert form_without_credentials(body) == b"grant_type=authorization_code&client_id=app&x=1"
    assert form_without_credentials(b"a=1&b=2") == b"a=1&b=2"
