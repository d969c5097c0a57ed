"""The function registry and the argument checks every function shares.

One registry, keyed case-insensitively as Logic Apps does (``toLower`` and ``tolower`` are the same
function). Each category module registers its functions with :func:`register`; the parser reads the
registry to reject unknown names and wrong argument counts when a definition is read, not when a run
reaches the expression.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .._values import is_number, type_name

if TYPE_CHECKING:
    from .._context import ExpressionContext

__all__ = [
    "REGISTRY",
    "Function",
    "FunctionError",
    "FunctionRegistry",
    "expect_int",
    "expect_number",
    "expect_string",
    "register",
]

_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")


class FunctionError(Exception):
    """Raised by a function body; the evaluator turns it into a positioned error.

    ``argument`` (0-based) lets the caret point at the argument that was wrong.
    """

    def __init__(self, message: str, *, argument: int | None = None) -> None:
        super().__init__(message)
        self.message, self.argument = message, argument


@dataclass(frozen=True)
class Function:
    """One expression function: its canonical name, arity and implementation.

    ``impl`` takes the context and the evaluated arguments; a ``lazy`` function (``if``, ``and``,
    ``or``) gets zero-argument callables instead, so the branch not taken is never evaluated.
    """

    name: str
    impl: Callable[..., Any]
    min_args: int
    max_args: int | None
    lazy: bool = False

    def __call__(self, context: ExpressionContext, *args: Any) -> Any:
        return self.impl(context, *args)

    def check_arity(self, count: int) -> str | None:
        """A message when ``count`` arguments do not fit, else ``None``."""
        low, high = self.min_args, self.max_args
        if low <= count and (high is None or count <= high):
            return None
        if high is None:
            wanted = f"at least {low}"
        elif low == high:
            wanted = f"exactly {low}"
        else:
            wanted = f"{low} to {high}"
        plural = "" if (high == low == 1) else "s"
        return f"function '{self.name}' expects {wanted} argument{plural}, got {count}"


class FunctionRegistry(Mapping[str, Function]):
    """Name => :class:`Function`, with case-insensitive lookup; iterates canonical names."""

    def __init__(self) -> None:
        self._by_key: dict[str, Function] = {}

    def add(self, function: Function) -> None:
        key = function.name.lower()
        if key in self._by_key:
            raise ValueError(f"function {function.name!r} registered twice")  # a programming error
        self._by_key[key] = function

    def __getitem__(self, name: str) -> Function:
        return self._by_key[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._by_key

    def __iter__(self) -> Iterator[str]:
        return (function.name for function in self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)


REGISTRY = FunctionRegistry()


def register(
    name: str, min_args: int = 0, max_args: int | None = -1, *, lazy: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated ``impl(context, *args)`` as function ``name``.

    ``max_args`` defaults to ``min_args``; pass ``None`` for any number.
    """

    def decorator(impl: Callable[..., Any]) -> Callable[..., Any]:
        high = min_args if max_args == -1 else max_args
        REGISTRY.add(Function(name, impl, min_args, high, lazy))
        return impl

    return decorator


def alias(name: str, target: str) -> None:
    """Register ``name`` as another spelling of ``target`` (deprecated or designer names)."""
    function = REGISTRY[target]
    REGISTRY.add(Function(name, function.impl, function.min_args, function.max_args, function.lazy))


def ordinal(index: int) -> str:
    return _ORDINALS[index] if index < len(_ORDINALS) else f"#{index + 1}"


def type_error(function: str, index: int, expected: str, value: Any) -> FunctionError:
    """The Logic Apps wording for a parameter of the wrong type."""
    return FunctionError(
        f"The template language function '{function}' expects its {ordinal(index)} parameter to be "
        f"{expected}. The provided value is of type '{type_name(value)}'.",
        argument=index,
    )


def expect_string(function: str, index: int, value: Any) -> str:
    """The argument as ``str``, or a type error naming the function and parameter."""
    if isinstance(value, str):
        return value
    raise type_error(function, index, "a string", value)


def expect_int(function: str, index: int, value: Any) -> int:
    """An Integer argument; integral Floats and Decimals are accepted too (``3.0`` is 3)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float | Decimal) and value == int(value):
        return int(value)
    raise type_error(function, index, "an integer", value)


def expect_number(function: str, index: int, value: Any) -> int | float | Decimal:
    """An Integer, Float or Decimal argument."""
    if is_number(value):
        return value  # type: ignore[no-any-return]
    raise type_error(function, index, "an integer or a decimal number", value)
