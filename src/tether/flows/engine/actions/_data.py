"""Data operations: Compose, Parse JSON, Select, Filter array (Query), Create table (Table), Join."""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Mapping
from typing import Any

import jsonschema

from tether.flows.engine._errors import ActionFailure
from tether.flows.engine._step import Outcome, Step
from tether.flows.engine.actions._registry import action
from tether.flows.expressions import evaluate

__all__: list[str] = []


@action("Compose")
async def compose(step: Step) -> Outcome:
    value = step.inputs()
    return Outcome(outputs=value, inputs=value)


@action("ParseJson")
async def parse_json(step: Step) -> Outcome:
    inputs = step.inputs()
    if not isinstance(inputs, Mapping):
        raise ActionFailure("InvalidTemplate", "Parse JSON needs inputs {'content': …, 'schema': {…}}")
    content = inputs.get("content")
    if isinstance(content, str | bytes):
        try:
            content = json.loads(content)
        except ValueError as exc:
            raise ActionFailure("InvalidJSON", f"The 'content' is not valid JSON: {exc}") from exc
    schema = inputs.get("schema") or {}
    validator_class = jsonschema.validators.validator_for(schema, default=jsonschema.Draft4Validator)
    errors = sorted(validator_class(schema).iter_errors(content), key=lambda e: list(e.absolute_path))
    if errors:
        details = "; ".join(
            f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors[:10]
        )
        raise ActionFailure(
            "ValidationFailed", f"The content does not match the schema: {details}", outputs={"body": content}
        )
    return Outcome(outputs={"body": content}, inputs=inputs)


def _from(step: Step) -> list[Any]:
    inputs = step.raw.get("inputs")
    source = step.evaluate(inputs.get("from")) if isinstance(inputs, Mapping) else None
    if not isinstance(source, list):
        raise ActionFailure("InvalidTemplate", f"'from' must be an array, not {type(source).__name__}")
    return source


def _per_item(step: Step, source: list[Any], template: Any) -> list[Any]:
    results = []
    for item in source:
        frame = step.frame.child(loop=step.spec.name, item=item)
        results.append(evaluate(template, step.context(frame)))
    return results


@action("Select")
async def select(step: Step) -> Outcome:
    source = _from(step)
    body = _per_item(step, source, step.raw["inputs"].get("select"))
    return Outcome(outputs={"body": body}, inputs={"from": source})


@action("Query")
async def query(step: Step) -> Outcome:
    source = _from(step)
    verdicts = _per_item(step, source, step.raw["inputs"].get("where"))
    for verdict in verdicts:
        if not isinstance(verdict, bool):
            raise ActionFailure("InvalidTemplate", f"'where' must evaluate to a boolean, not {verdict!r}")
    body = [item for item, keep in zip(source, verdicts, strict=True) if keep]
    return Outcome(outputs={"body": body}, inputs={"from": source})


@action("Join")
async def join(step: Step) -> Outcome:
    source = _from(step)
    separator = step.evaluate(step.raw["inputs"].get("joinWith", ""))
    parts = [_text(v) for v in source]
    return Outcome(
        outputs={"body": str(separator).join(parts)}, inputs={"from": source, "joinWith": separator}
    )


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


@action("Table")
async def table(step: Step) -> Outcome:
    source = _from(step)
    inputs = step.raw["inputs"]
    fmt = str(step.evaluate(inputs.get("format", "CSV"))).upper()
    columns = inputs.get("columns")
    if isinstance(columns, list) and columns:
        headers = [str(step.evaluate(c.get("header", ""))) for c in columns]
        rows = [
            [_text(v) for v in _per_item(step, [item], [c.get("value") for c in columns])[0]]
            for item in source
        ]
    else:
        headers = list(source[0]) if source and isinstance(source[0], Mapping) else []
        rows = [[_text(item.get(h)) if isinstance(item, Mapping) else "" for h in headers] for item in source]
    if fmt == "HTML":
        head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
        text = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    elif fmt == "CSV":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(headers)
        writer.writerows(rows)
        text = buffer.getvalue()
    else:
        raise ActionFailure("InvalidTemplate", f"Table format must be CSV or HTML, not {fmt!r}")
    return Outcome(outputs={"body": text}, inputs={"from": source, "format": fmt})
