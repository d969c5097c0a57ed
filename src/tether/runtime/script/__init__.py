"""Custom code: a connector's ``script.py`` run isolated from the server.

``build_script_stage(script, script_operations)`` gives a pipeline stage; scripts run in
worker processes (:class:`ScriptPool`) sandboxed by the operating system (bubblewrap
namespaces, an unprivileged uid, a read-only minimal file system, rlimits, seccomp), never
shared between isolation keys (a connector and its owners), talking to the server in
length-prefixed JSON only; their only way out is ``await self.context.send(request)``,
proxied back to the server. An import allow-list and an audit hook give early, clear errors.
"""

from tether.runtime.script._base import ScriptBase, ScriptContext, ScriptRequest, ScriptResponse
from tether.runtime.script._errors import (
    ScriptBusy,
    ScriptCrashed,
    ScriptError,
    ScriptFailed,
    ScriptForbidden,
    ScriptInvalid,
    ScriptMemoryError,
    ScriptProtocolError,
    ScriptSandboxUnavailable,
    ScriptSyntaxError,
    ScriptTimeout,
    ScriptTooLarge,
)
from tether.runtime.script._pool import DEFAULT_LIMITS, ScriptLimits, ScriptPool
from tether.runtime.script._sandbox import ALLOWED_MODULES
from tether.runtime.script._stage import ScriptStage, build_script_stage, check_script_size

__all__ = [
    "ALLOWED_MODULES",
    "DEFAULT_LIMITS",
    "ScriptBase",
    "ScriptBusy",
    "ScriptContext",
    "ScriptCrashed",
    "ScriptError",
    "ScriptFailed",
    "ScriptForbidden",
    "ScriptInvalid",
    "ScriptLimits",
    "ScriptMemoryError",
    "ScriptPool",
    "ScriptProtocolError",
    "ScriptRequest",
    "ScriptResponse",
    "ScriptSandboxUnavailable",
    "ScriptStage",
    "ScriptSyntaxError",
    "ScriptTimeout",
    "ScriptTooLarge",
    "build_script_stage",
    "check_script_size",
]
