"""Errors of the policy stage, under Tether's tree (``tether.errors``).

TetherError
├── InputError
│   └── InvalidPolicy            a policy instance that cannot be compiled (bad template, path)
├── AuthError
│   └── ConnectionUnauthenticated  the API said the connection's credentials no longer work
└── PolicyError                  a policy could not run for this call (missing value, side call failed)
"""

from __future__ import annotations

from tether.errors import AuthError, InputError, TetherError

__all__ = ["ConnectionUnauthenticated", "InvalidPolicy", "PolicyError"]


class InvalidPolicy(InputError):
    """A ``policyTemplateInstances`` entry cannot be compiled; found when the stage is built."""

    code = "invalid-policy"


class PolicyError(TetherError):
    """A policy could not be applied to this call; the message names the policy and the value."""

    code = "policy-failed"
    status = 502


class ConnectionUnauthenticated(AuthError):
    """Raised by ``setconnectionstatustounauthenticated``: the connection must be signed in again.

    ``detail`` carries ``connection_id`` and ``status``, so the services layer can mark the
    connection as needing re-authentication (as Power Platform does) before answering.
    """

    code = "connection-unauthenticated"
