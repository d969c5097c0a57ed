"""The small template language of policy parameters (not the workflow expression language).

Policy parameters are strings with references spliced in. Every form the 1,034 corpus
connectors use is supported, and nothing more:

* function references: ``@connectionParameters('host')`` (any case, with an optional default
  ``@connectionParameters('region', 'api.example.com')``), ``@headers('x')``,
  ``@queryParameters('x')`` (and the corpus typo ``@queryParamters``), and the JSON roots
  ``@body()``, ``@item()``, ``@triggerBody()`` followed by member access
  (``.a.b``, ``?.a``, ``['@odata.id']``, ``[0]``);
* ``@Request.OriginalHTTPMethod``: the method the operation was called with;
* interpolation: bare references inside text (``Bearer @headers('Authorization')``,
  ``https://@connectionParameters('sub').example.com``), ``@{triggerBody().value[0].id}`` and
  ``{@body().payments}``; ``@@`` is a literal ``@``.

A template that is exactly one reference evaluates to the referenced value with its JSON
type (``{@body().next}`` may be an object); anything else renders to a string, objects and
arrays as compact JSON. Templates are compiled once, when the policy stage is built.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tether.runtime.policies._errors import InvalidPolicy, PolicyError

__all__ = ["Expression", "Scope", "Template", "compile_expression", "compile_template", "render_value"]

# Canonical name of each function, by lower-case spelling.
_FUNCTIONS = {
    "connectionparameters": "connectionParameters",
    "headers": "headers",
    "queryparameters": "queryParameters",
    "queryparamters": "queryParameters",  # a typo in the Pixela connector; harmless to accept
    "body": "body",
    "item": "item",
    "triggerbody": "triggerBody",
}
JSON_ROOTS = frozenset({"body", "item", "triggerBody"})
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_CALL = re.compile(r"([A-Za-z]+)\s*\(")
_REQUEST_ATTRIBUTE = re.compile(r"[Rr]equest\.([A-Za-z]+)")
_MISSING = object()


@dataclass
class Scope:
    """What references can see while one policy runs.

    ``headers`` and ``query`` are the request's as the policies have left them so far;
    ``body`` is the request body in the Request section and the response body after.
    """

    connection: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    item: Any = None
    trigger_body: Any = None
    method: str = "GET"

    def root(self, name: str) -> Any:
        """The value of a JSON root function."""
        return {"body": self.body, "item": self.item, "triggerBody": self.trigger_body}[name]


@dataclass(frozen=True)
class Expression:
    """One reference: ``function(args)`` then member steps, or a ``Request`` attribute."""

    function: str
    args: tuple[str, ...] = ()
    steps: tuple[str | int, ...] = ()
    source: str = ""

    def evaluate(self, scope: Scope) -> Any:
        """The referenced value (``None`` when a member or header is missing)."""
        if self.function == "request":
            if self.args[0].lower() in ("originalhttpmethod", "method"):
                return scope.method
            raise PolicyError(f"unknown request attribute in {self.source!r}")
        if self.function == "connectionParameters":
            return self._connection_parameter(scope)
        if self.function == "headers":
            return _lookup_ci(scope.headers, self.args[0]) if self.args else dict(scope.headers)
        if self.function == "queryParameters":
            return scope.query.get(self.args[0]) if self.args else dict(scope.query)
        return walk(scope.root(self.function), self.steps)

    def _connection_parameter(self, scope: Scope) -> Any:
        name = self.args[0] if self.args else ""
        value = scope.connection.get(name, _MISSING)
        if value is _MISSING and name.startswith("token:"):
            # Values an OAuth token response carries ("token:customHost") may arrive nested.
            token = scope.connection.get("token")
            value = token.get(name[6:], _MISSING) if isinstance(token, Mapping) else _MISSING
        if value is _MISSING or value is None or value == "":
            if len(self.args) > 1:
                return self.args[1]
            if value is _MISSING:
                raise PolicyError(
                    f"the connection has no value for parameter '{name}', which the connector's policy "
                    f"{self.source!r} needs; edit the connection and fill it in",
                    detail={"parameter": name},
                )
        return value


@dataclass(frozen=True)
class Template:
    """A compiled parameter: literal text and expressions, in order."""

    parts: tuple[str | Expression, ...]
    source: str

    @property
    def is_constant(self) -> bool:
        """True when the template holds no reference."""
        return all(isinstance(part, str) for part in self.parts)

    @property
    def single(self) -> Expression | None:
        """The expression when the template is exactly one reference, else None."""
        if len(self.parts) == 1 and isinstance(self.parts[0], Expression):
            return self.parts[0]
        return None

    def evaluate(self, scope: Scope) -> Any:
        """The typed value of a single reference, else the rendered string."""
        single = self.single
        return single.evaluate(scope) if single is not None else self.render(scope)

    def render(self, scope: Scope, encode: Callable[[str], str] | None = None) -> str:
        """The template as a string, references replaced by their values (passed through ``encode``)."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            else:
                text = render_value(part.evaluate(scope))
                out.append(encode(text) if encode else text)
        return "".join(out)


def render_value(value: Any) -> str:
    """How a value reads inside text: strings as is, ``None`` empty, JSON for the rest."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def walk(value: Any, steps: tuple[str | int, ...]) -> Any:
    """Follow member steps; a missing member or index gives None (policies skip absent data)."""
    for step in steps:
        if isinstance(value, Mapping) and isinstance(step, str):
            value = value.get(step)
        elif isinstance(value, list) and isinstance(step, int) and -len(value) <= step < len(value):
            value = value[step]
        else:
            return None
    return value


def compile_template(text: Any) -> Template:
    """Compile a parameter value; non-strings (``statusCode: 401``) become constant text."""
    if not isinstance(text, str):
        return Template((render_value(text),), render_value(text))
    parts: list[str | Expression] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        expression, end = _expression_at(text, i)
        if expression is None:
            literal.append("@" if text.startswith("@@", i) else text[i])
            i = end
            continue
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append(expression)
        i = end
    if literal:
        parts.append("".join(literal))
    return Template(tuple(parts), text)


def compile_expression(text: str) -> Expression:
    """Compile a whole string as one reference (``@body().a``, ``body()``, ``triggerBody().x``)."""
    stripped = text.strip()
    if stripped.startswith("@{") and stripped.endswith("}"):
        stripped = stripped[2:-1].strip()
    expression, end = _parse_reference(stripped, 1 if stripped.startswith("@") else 0, bare=False)
    if expression is None or stripped[end:].strip():
        raise InvalidPolicy(f"{text!r} is not a reference such as @body().name")
    return expression


def _expression_at(text: str, i: int) -> tuple[Expression | None, int]:
    """The expression starting at ``text[i]`` and where it ends, or (None, next index)."""
    if text.startswith("@@", i):
        return None, i + 2
    if text.startswith("@{", i) or text.startswith("{@", i):
        close = _matching_brace(text, i + 1 if text[i] == "@" else i)
        if close < 0:
            raise InvalidPolicy(f"unclosed '{{' in {text!r}")
        inner = text[i + 2 : close].strip()
        inner = inner[1:] if inner.startswith("@") else inner
        expression, end = _parse_reference(inner, 0, bare=False)
        if expression is None or inner[end:].strip():
            raise InvalidPolicy(f"cannot read the reference {text[i : close + 1]!r} in {text!r}")
        return expression, close + 1
    if text[i] == "@":
        expression, end = _parse_reference(text, i + 1, bare=True)
        if expression is not None:
            return expression, end
    return None, i + 1


def _parse_reference(text: str, i: int, *, bare: bool) -> tuple[Expression | None, int]:
    """Parse ``name(args)steps`` or ``Request.Attr`` at ``text[i]``."""
    start = i - 1 if bare else i
    attribute = _REQUEST_ATTRIBUTE.match(text, i)
    if attribute:
        return Expression(
            "request", (attribute.group(1),), source=text[start : attribute.end()]
        ), attribute.end()
    call = _CALL.match(text, i)
    if not call:
        return None, i
    name = _FUNCTIONS.get(call.group(1).lower())
    if name is None:
        if bare:
            return None, i  # "user@host(...)" in plain text is not ours to judge
        raise InvalidPolicy(f"unknown function {call.group(1)!r} in {text!r}")
    args, j = _parse_args(text, call.end())
    steps: tuple[str | int, ...] = ()
    if name in JSON_ROOTS:
        steps, j = parse_steps(text, j)
    return Expression(name, args, steps, source=text[start:j]), j


def _parse_args(text: str, i: int) -> tuple[tuple[str, ...], int]:
    args: list[str] = []
    while True:
        while i < len(text) and text[i] in " ,":
            i += 1
        if i >= len(text):
            raise InvalidPolicy(f"unclosed '(' in {text!r}")
        if text[i] == ")":
            return tuple(args), i + 1
        if text[i] not in "'\"":
            raise InvalidPolicy(f"function arguments must be quoted strings in {text!r}")
        value, i = _parse_string(text, i)
        args.append(value)


def _parse_string(text: str, i: int) -> tuple[str, int]:
    """A quoted string at ``text[i]``; a doubled quote inside is one quote (as in the workflow language)."""
    quote, out, i = text[i], [], i + 1
    while i < len(text):
        if text[i] == quote:
            if text.startswith(quote * 2, i):
                out.append(quote)
                i += 2
                continue
            return "".join(out), i + 1
        out.append(text[i])
        i += 1
    raise InvalidPolicy(f"unclosed string in {text!r}")


def parse_steps(text: str, i: int) -> tuple[tuple[str | int, ...], int]:
    """Member steps (``.a``, ``?.a``, ``['a']``, ``[0]``) starting at ``text[i]``."""
    steps: list[str | int] = []
    while i < len(text):
        j = i + 1 if text.startswith("?", i) else i
        if text.startswith(".", j):
            ident = _IDENT.match(text, j + 1)
            if not ident:
                break
            steps.append(ident.group(0))
            i = ident.end()
        elif text.startswith("[", j):
            k = j + 1
            while k < len(text) and text[k] == " ":
                k += 1
            if k < len(text) and text[k] in "'\"":
                key, k = _parse_string(text, k)
                steps.append(key)
            else:
                digits = re.compile(r"-?\d+").match(text, k)
                if not digits:
                    raise InvalidPolicy(f"an index must be a number or a quoted name in {text!r}")
                steps.append(int(digits.group(0)))
                k = digits.end()
            while k < len(text) and text[k] == " ":
                k += 1
            if not text.startswith("]", k):
                raise InvalidPolicy(f"unclosed '[' in {text!r}")
            i = k + 1
        else:
            break
    return tuple(steps), i


def _matching_brace(text: str, open_index: int) -> int:
    depth, i = 0, open_index
    while i < len(text):
        char = text[i]
        if char in "'\"" and depth:
            _, i = _parse_string(text, i)
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _lookup_ci(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lower = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lower), None)
