"""Collection functions over arrays, strings and objects: contains, first, union, sort, chunk...

Equality inside collections (``contains``, ``union``, ``intersection``) is :func:`deep_equals`, the
same rule as ``equals()``.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cmp_to_key
from typing import Any

from .._context import ExpressionContext
from .._values import deep_equals, is_number, to_string, type_name
from ._registry import FunctionError, expect_int, register, type_error

_MAX_STRING = 104_857_600


def _collection(function: str, index: int, value: Any, *, objects: bool = False) -> Any:
    if isinstance(value, str | list) or (objects and isinstance(value, dict)):
        return value
    expected = "an array, a string or an object" if objects else "an array or a string"
    raise type_error(function, index, expected, value)


def _array(function: str, index: int, value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    raise type_error(function, index, "an array", value)


def _count(function: str, index: int, value: Any) -> int:
    count = expect_int(function, index, value)
    if count < 0:
        raise FunctionError(
            f"The template language function '{function}' expects a count of zero or more; got {count}.",
            argument=index,
        )
    return count


@register("chunk", 2)
def chunk(context: ExpressionContext, collection: Any, length: Any) -> list[Any]:
    items = _collection("chunk", 0, collection)
    size = expect_int("chunk", 1, length)
    if size <= 0:
        raise FunctionError(
            "The template language function 'chunk' expects a chunk length greater than zero.", argument=1
        )
    return [items[i : i + size] for i in range(0, len(items), size)]


@register("contains", 2)
def contains(context: ExpressionContext, collection: Any, value: Any) -> bool:
    items = _collection("contains", 0, collection, objects=True)
    if isinstance(items, str):
        return to_string(value) in items
    if isinstance(items, dict):
        return isinstance(value, str) and value in items
    return any(deep_equals(item, value) for item in items)


@register("empty", 1)
def empty(context: ExpressionContext, collection: Any) -> bool:
    if collection is None:
        return True
    return len(_collection("empty", 0, collection, objects=True)) == 0


@register("first", 1)
def first(context: ExpressionContext, collection: Any) -> Any:
    items = _collection("first", 0, collection)
    if isinstance(items, str):
        return items[:1]  # first('') is '' (a string's first character, as a string)
    return items[0] if items else None


@register("last", 1)
def last(context: ExpressionContext, collection: Any) -> Any:
    items = _collection("last", 0, collection)
    if isinstance(items, str):
        return items[-1:]  # last('') is '', not null
    return items[-1] if items else None


@register("length", 1)
def length(context: ExpressionContext, collection: Any) -> int:
    return len(_collection("length", 0, collection, objects=True))


@register("join", 2)
def join(context: ExpressionContext, collection: Any, delimiter: Any) -> str:
    items = _array("join", 0, collection)
    result = to_string(delimiter).join(to_string(item) for item in items)
    if len(result) > _MAX_STRING:
        raise FunctionError(f"The result of 'join' is longer than {_MAX_STRING:,} characters.")
    return result


@register("reverse", 1)
def reverse(context: ExpressionContext, collection: Any) -> Any:
    items = _collection("reverse", 0, collection)
    return items[::-1]


@register("skip", 2)
def skip(context: ExpressionContext, collection: Any, count: Any) -> Any:
    return _collection("skip", 0, collection)[_count("skip", 1, count) :]


@register("take", 2)
def take(context: ExpressionContext, collection: Any, count: Any) -> Any:
    return _collection("take", 0, collection)[: _count("take", 1, count)]


def _merge_check(function: str, collections: tuple[Any, ...]) -> bool:
    """True when the collections are objects, False for arrays; mixing them is an error."""
    kinds = {isinstance(c, dict) for c in collections}
    for index, value in enumerate(collections):
        if not isinstance(value, list | dict):
            raise type_error(function, index, "an array or an object", value)
    if len(kinds) > 1:
        raise FunctionError(
            f"The template language function '{function}' expects all its parameters to be "
            "arrays or all to be objects, not a mix."
        )
    return kinds == {True}


@register("union", 1, None)
def union(context: ExpressionContext, *collections: Any) -> Any:
    if _merge_check("union", collections):
        merged: dict[str, Any] = {}
        for obj in collections:
            merged.update(obj)
        return merged
    result: list[Any] = []
    for items in collections:
        for item in items:
            if not any(deep_equals(item, seen) for seen in result):
                result.append(item)
    return result


@register("intersection", 1, None)
def intersection(context: ExpressionContext, *collections: Any) -> Any:
    if _merge_check("intersection", collections):
        # Only the properties every object has *with an equal value* are common to them all.
        first_object = collections[0]
        return {
            key: value
            for key, value in first_object.items()
            if all(key in other and deep_equals(value, other[key]) for other in collections[1:])
        }
    result: list[Any] = []
    for item in collections[0]:
        if all(any(deep_equals(item, other) for other in items) for items in collections[1:]) and not any(
            deep_equals(item, seen) for seen in result
        ):
            result.append(item)
    return result


def _compare(left: Any, right: Any) -> int:
    if is_number(left) and is_number(right):
        a, b = (Decimal(str(left)), Decimal(str(right)))
        return (a > b) - (a < b)
    same_kind = isinstance(left, str) and isinstance(right, str)
    if same_kind or (isinstance(left, bool) and isinstance(right, bool)):
        return int((left > right) - (left < right))
    if left is None or right is None:
        return (left is not None) - (right is not None)
    raise FunctionError(
        f"The template language function 'sort' can't compare values of type "
        f"'{type_name(left)}' and '{type_name(right)}'."
    )


@register("sort", 1, 2)
def sort(context: ExpressionContext, collection: Any, key: Any = None) -> list[Any]:
    items = _array("sort", 0, collection)
    if key is None:
        return sorted(items, key=cmp_to_key(_compare))
    name = to_string(key)

    def by_key(item: Any) -> Any:
        if not isinstance(item, dict):
            raise FunctionError(
                f"The template language function 'sort' can sort by '{name}' only objects; "
                f"found a value of type '{type_name(item)}'.",
                argument=0,
            )
        return item.get(name)

    return sorted(items, key=cmp_to_key(lambda a, b: _compare(by_key(a), by_key(b))))
