"""PKCE (RFC 7636) helpers: the verifier is ours to keep, the S256 challenge goes to the provider.

The challenge is computed by authlib's ``create_s256_code_challenge`` (re-exported here) so the
transform is the library's, not ours.
"""

from __future__ import annotations

import secrets
from typing import Final

from authlib.oauth2.rfc7636 import create_s256_code_challenge

__all__ = ["CODE_VERIFIER_LENGTH", "create_s256_code_challenge", "generate_code_verifier"]

# RFC 7636 allows 43..128 characters; 64 url-safe characters carry 384 bits.
CODE_VERIFIER_LENGTH: Final = 64


def generate_code_verifier(length: int = CODE_VERIFIER_LENGTH) -> str:
    """A fresh random code verifier of ``length`` characters from the RFC's unreserved alphabet."""
    if not 43 <= length <= 128:
        raise ValueError("a PKCE code verifier has 43 to 128 characters")  # programming error, not input
    # token_urlsafe yields only [A-Za-z0-9_-], all in RFC 7636's unreserved set.
    return secrets.token_urlsafe(length)[:length]
