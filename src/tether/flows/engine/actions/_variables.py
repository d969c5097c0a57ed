"""Variables: Initialize, Set, Increment, Decrement, Append to array, Append to string.

Types are checked as Logic Apps checks them (an integer variable refuses 1.5), so a definition
that runs here runs there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tether.flows.engine._errors import ActionFailure
from tether.flows.engine._step import Outcome, Step
from tether.flows.engine.actions._registry import action

__all__: list[str] = []

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "float": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}
_DEFAULTS: dict[str, Any] = {
    "string": "",
    "integer": 0,
    "float": 0.0,
    "boolean": False,
    "array": [],
    "object": {},
}


def _check(name: str, kind: str, value: Any) -> Any:
    allowed = _TYPES.get(kind)
    if allowed is None:
        raise ActionFailure(
            "InvalidVariableType", f"Variable '{name}' has unknown type '{kind}'; use " + ", ".join(_TYPES)
        )
    if kind == "integer" and isinstance(value, float) and value.is_integer():
        value = int(value)
    if kind == "boolean" and isinstance(value, str) and value.lower() in ("true", "false"):
        value = value.lower() == "true"
    if isinstance(value, bool) and kind in ("integer", "float"):
        allowed = ()
    if not isinstance(value, allowed):
        raise ActionFailure(
            "InvalidVariableValue",
            f"Variable '{name}' is of type '{kind}'; the value {value!r} is a {type(value).__name__}",
        )
    return value


def _kind(value: Any) -> str:
    for kind, types in _TYPES.items():
        if isinstance(value, types) and not (isinstance(value, bool) and kind != "boolean"):
            return kind
    return "object"


def _existing(step: Step, name: str) -> Any:
    variables = step.run.state.variables
    if name not in variables:
        raise ActionFailure(
            "InvalidTemplate",
            f"The variable '{name}' isn't initialized: add an 'Initialize "
            "variable' action for it before this one.",
        )
    return variables[name]


def _name_value(step: Step) -> tuple[str, Any, dict[str, Any]]:
    inputs = step.inputs()
    if not isinstance(inputs, Mapping) or not isinstance(inputs.get("name"), str):
        raise ActionFailure("InvalidTemplate", "the inputs need a variable 'name'")
    return inputs["name"], inputs.get("value"), dict(inputs)


@action("InitializeVariable")
async def initialize(step: Step) -> Outcome:
    inputs = step.inputs()
    declared = inputs.get("variables") if isinstance(inputs, Mapping) else None
    if not isinstance(declared, list):
        raise ActionFailure(
            "InvalidTemplate", "Initialize variable needs inputs {'variables': [{name, type, value}]}"
        )
    variables = step.run.state.variables
    for entry in declared:
        name, kind = str(entry.get("name")), str(entry.get("type", "")).lower()
        if name in variables:
            raise ActionFailure("InvalidTemplate", f"The variable '{name}' is already initialized.")
        value = entry["value"] if "value" in entry and entry["value"] is not None else _DEFAULTS.get(kind)
        variables[name] = _check(name, kind, value)
    return Outcome(inputs=inputs)


@action("SetVariable")
async def set_variable(step: Step) -> Outcome:
    name, value, inputs = _name_value(step)
    current = _existing(step, name)
    step.run.state.variables[name] = _check(name, _kind(current), value)
    return Outcome(outputs={"body": {"name": name, "value": value}}, inputs=inputs)


async def _add(step: Step, sign: int) -> Outcome:
    name, value, inputs = _name_value(step)
    amount = 1 if value is None else value
    current = _existing(step, name)
    if isinstance(current, bool) or not isinstance(current, int | float):
        raise ActionFailure(
            "InvalidOperation",
            f"The variable '{name}' is not a number; only integer and float "
            "variables can be incremented or decremented.",
        )
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        raise ActionFailure("InvalidTemplate", f"The increment must be a number, not {amount!r}")
    if isinstance(current, int) and isinstance(amount, float) and not amount.is_integer():
        raise ActionFailure(
            "InvalidOperation", f"The variable '{name}' is an integer; it cannot change by {amount}"
        )
    new = current + sign * amount
    step.run.state.variables[name] = int(new) if isinstance(current, int) else new
    return Outcome(outputs={"body": {"name": name, "value": step.run.state.variables[name]}}, inputs=inputs)


@action("IncrementVariable")
async def increment(step: Step) -> Outcome:
    return await _add(step, 1)


@action("DecrementVariable")
async def decrement(step: Step) -> Outcome:
    return await _add(step, -1)


@action("AppendToArrayVariable")
async def append_to_array(step: Step) -> Outcome:
    name, value, inputs = _name_value(step)
    current = _existing(step, name)
    if not isinstance(current, list):
        raise ActionFailure("InvalidOperation", f"The variable '{name}' is not an array.")
    step.run.state.variables[name] = [*current, value]
    return Outcome(outputs={"body": {"name": name, "value": step.run.state.variables[name]}}, inputs=inputs)


@action("AppendToStringVariable")
async def append_to_string(step: Step) -> Outcome:
    from tether.flows.engine.actions._data import _text

    name, value, inputs = _name_value(step)
    current = _existing(step, name)
    if not isinstance(current, str):
        raise ActionFailure("InvalidOperation", f"The variable '{name}' is not a string.")
    step.run.state.variables[name] = current + _text(value)
    return Outcome(outputs={"body": {"name": name, "value": step.run.state.variables[name]}}, inputs=inputs)
