"""How run state is kept as text: JSON with expression values (Decimals, bytes), and loaded definitions.

The run use cases (a Request trigger inserting a run) and the hosting machinery (the journal,
stateless runs) write and read the same encoding, so it lives here, below both.
"""

from __future__ import annotations

import json
import threading
from base64 import b64encode
from collections import OrderedDict
from decimal import Decimal
from typing import Any

from tether.flows import FlowDefinition, load_flow

__all__ = ["EMPTY_PROGRESS", "compiled_definition", "encode", "jsonable"]

_COMPILED_SIZE = 256


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return b64encode(value).decode()
    return str(value)


def encode(value: Any) -> str:
    """``value`` as JSON text (expression results may hold Decimals or bytes): what the store keeps."""
    return json.dumps(value, default=_default, separators=(",", ":"))


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types."""
    return json.loads(encode(value))


#: A run's ``state`` before any variable or decision (what a run inserted claimed starts with).
EMPTY_PROGRESS = encode({"variables": {}, "decisions": {}})


_compiled: OrderedDict[str, FlowDefinition] = OrderedDict()
_compiled_lock = threading.Lock()


def compiled_definition(text: str, definition: Any = None) -> FlowDefinition:
    """The loaded definition for its JSON ``text``, from a small cache: runs of one flow version
    share the same text, so a definition is parsed and loaded once, not once per run."""
    with _compiled_lock:
        found = _compiled.get(text)
        if found is not None:
            _compiled.move_to_end(text)
            return found
    loaded = load_flow(json.loads(text) if definition is None else definition)
    with _compiled_lock:
        _compiled[text] = loaded
        while len(_compiled) > _COMPILED_SIZE:
            _compiled.popitem(last=False)
    return loaded
