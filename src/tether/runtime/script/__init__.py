"""Custom code: a connector's ``script.py`` run isolated from the server.

``build_script_stage(script, script_operations)`` gives a pipeline stage; scripts run in
separate ``spawn``-ed worker processes (:class:`ScriptPool`) with a wall-clock limit, a
memory limit, an import allow-list and an audit hook refusing network and file access;
their only way out is ``await self.context.send(request)``, proxied back to the server.
"""

from tether.runtime.script._base import ScriptBase, ScriptContext, ScriptRequest, ScriptResponse
from tether.runtime.script._errors import (
    ScriptCrashed,
    ScriptError,
    ScriptFailed,
    ScriptForbidden,
    ScriptInvalid,
    ScriptMemoryError,
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
    "ScriptContext",
    "ScriptCrashed",
    "ScriptError",
    "ScriptFailed",
    "ScriptForbidden",
    "ScriptInvalid",
    "ScriptLimits",
    "ScriptMemoryError",
    "ScriptPool",
    "ScriptRequest",
    "ScriptResponse",
    "ScriptStage",
    "ScriptSyntaxError",
    "ScriptTimeout",
    "ScriptTooLarge",
    "build_script_stage",
    "check_script_size",
]
