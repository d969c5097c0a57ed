"""Workflow definitions (the Logic Apps workflow definition language), loaded and validated.

A definition arrives bare (``{"$schema", "triggers", "actions", ...}``), wrapped as Logic
Apps Standard writes it (``{"definition": ...}``), as a Consumption resource
(``{"properties": {"definition": ...}}``) or inside an ARM template (a
``Microsoft.Logic/workflows`` resource). :func:`load_flow` finds it and builds a small tree
of :class:`ActionSpec`; :func:`validate_flow` collects *every* problem (Temporal's
workflow ``issues`` list) — unknown ``runAfter`` targets, cycles, bad expressions with
their position, unsupported types, unknown connections or operations — each with a JSON
pointer, so a user fixes them all in one pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tether.definition import escape_pointer
from tether.errors import InputError, ValidationFailed
from tether.flows._request_checks import request_trigger_problems, response_problems
from tether.flows.expressions import ExpressionError, parse

__all__ = [
    "RUN_AFTER_STATUSES",
    "SUPPORTED_ACTIONS",
    "SUPPORTED_TRIGGERS",
    "ActionSpec",
    "FlowDefinition",
    "FlowIssue",
    "OperationResolver",
    "TriggerSpec",
    "ensure_valid",
    "load_flow",
    "validate_flow",
]

SUPPORTED_TRIGGERS = frozenset(
    {
        "Recurrence",
        "Request",
        "ApiConnection",
        "ApiConnectionWebhook",
        "HttpWebhook",
        "OpenApiConnection",
        "OpenApiConnectionWebhook",
    }
)
SUPPORTED_ACTIONS = frozenset(
    {
        "ApiConnection",
        "OpenApiConnection",
        "Http",
        "Compose",
        "If",
        "Switch",
        "Foreach",
        "Until",
        "Scope",
        "InitializeVariable",
        "SetVariable",
        "IncrementVariable",
        "DecrementVariable",
        "AppendToArrayVariable",
        "AppendToStringVariable",
        "ParseJson",
        "Select",
        "Query",
        "Table",
        "Join",
        "Response",
        "Terminate",
        "Wait",
    }
)
RUN_AFTER_STATUSES = frozenset({"Succeeded", "Failed", "Skipped", "TimedOut"})
# Keys of a container action that hold nested action maps, with the pointer suffix of each.
_BRANCHES: dict[str, tuple[tuple[str, ...], ...]] = {
    "Scope": (("actions",),),
    "Foreach": (("actions",),),
    "Until": (("actions",),),
    "If": (("actions",), ("else", "actions")),
}
_WORKFLOW_RESOURCE = "microsoft.logic/workflows"

OperationResolver = Callable[["ActionSpec | TriggerSpec"], str | None]
"""Given a connector action or trigger, return a problem message (unknown connection or
operation), or None when it resolves. Offline validation passes none."""


@dataclass(frozen=True)
class FlowIssue:
    """One problem in a definition: a stable ``code``, a message that says how to fix it, where."""

    code: str
    message: str
    pointer: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "pointer": self.pointer}

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"


@dataclass(frozen=True)
class TriggerSpec:
    name: str
    type: str
    raw: Mapping[str, Any]
    pointer: str

    @property
    def kind(self) -> str | None:
        kind = self.raw.get("kind")
        return kind if isinstance(kind, str) else None


@dataclass(frozen=True)
class ActionSpec:
    """One action; container actions carry their nested actions per branch."""

    name: str
    type: str
    raw: Mapping[str, Any]
    pointer: str
    run_after: Mapping[str, tuple[str, ...]]
    branches: Mapping[str, dict[str, ActionSpec]] = field(default_factory=dict)

    @property
    def inputs(self) -> Any:
        return self.raw.get("inputs")

    def walk(self) -> Iterator[ActionSpec]:
        """This action and every action nested in it, depth first."""
        yield self
        for actions in self.branches.values():
            for child in actions.values():
                yield from child.walk()


@dataclass(frozen=True)
class FlowDefinition:
    """A loaded definition: triggers, top-level actions (a tree), parameters, outputs."""

    triggers: dict[str, TriggerSpec]
    actions: dict[str, ActionSpec]
    parameters: Mapping[str, Any]
    outputs: Mapping[str, Any]
    raw: Mapping[str, Any]
    pointer: str = ""  # where the definition sits in the loaded document

    def all_actions(self) -> Iterator[ActionSpec]:
        for action in self.actions.values():
            yield from action.walk()

    @property
    def trigger(self) -> TriggerSpec | None:
        return next(iter(self.triggers.values()), None)


def load_flow(document: Any, *, name: str = "definition") -> FlowDefinition:
    """Find the workflow definition in ``document`` and build its action tree.

    Raises:
        InputError: no definition found, or its shape is not a workflow definition.
    """
    raw, pointer = _find_definition(document, name)
    triggers_raw = raw.get("triggers") or {}
    actions_raw = raw.get("actions") or {}
    if not isinstance(triggers_raw, dict) or not isinstance(actions_raw, dict):
        raise InputError(f"{name}: 'triggers' and 'actions' must be JSON objects")
    triggers = {
        key: TriggerSpec(key, str(value.get("type", "")), value, f"{pointer}/triggers/{escape_pointer(key)}")
        for key, value in triggers_raw.items()
        if isinstance(value, dict)
    }
    actions = _actions(actions_raw, f"{pointer}/actions")
    parameters = raw["parameters"] if isinstance(raw.get("parameters"), dict) else {}
    outputs = raw["outputs"] if isinstance(raw.get("outputs"), dict) else {}
    return FlowDefinition(triggers, actions, parameters or {}, outputs or {}, raw, pointer)


def validate_flow(flow: FlowDefinition, *, resolve: OperationResolver | None = None) -> list[FlowIssue]:
    """Every problem in ``flow``; an empty list means it can run."""
    issues: list[FlowIssue] = []
    if len(flow.triggers) > 1:
        issues.append(
            FlowIssue("flow/several-triggers", "a flow has one trigger; keep one", flow.pointer + "/triggers")
        )
    for trigger in flow.triggers.values():
        if trigger.type not in SUPPORTED_TRIGGERS:
            issues.append(_unsupported("trigger", trigger.type, trigger.pointer, SUPPORTED_TRIGGERS))
        elif resolve is not None and trigger.type.startswith(("ApiConnection", "OpenApiConnection")):
            _resolved(resolve, trigger, issues)
        elif trigger.type == "HttpWebhook":
            issues.extend(_http_webhook_issues(trigger))
        elif trigger.type == "Request":
            problems = request_trigger_problems(trigger.raw, trigger.pointer)
            issues.extend(FlowIssue(*problem) for problem in problems)
        issues.extend(_expression_issues(trigger.raw, trigger.pointer))
    _check_scope(flow.actions, issues, resolve)
    issues.extend(_expression_issues(flow.outputs, flow.pointer + "/outputs"))
    return issues


def ensure_valid(
    flow: FlowDefinition, *, name: str, resolve: OperationResolver | None = None
) -> FlowDefinition:
    """Return ``flow`` or raise one ValidationFailed listing every issue."""
    issues = validate_flow(flow, resolve=resolve)
    if issues:
        first = issues[0]
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        raise ValidationFailed(f"{name}: {first}{more}", issues=[i.to_dict() for i in issues])
    return flow


def _find_definition(document: Any, name: str) -> tuple[dict[str, Any], str]:
    if not isinstance(document, dict):
        raise InputError(f"{name}: a workflow definition is a JSON object")
    if "triggers" in document or "actions" in document:
        return document, ""
    for key in ("definition",):
        if isinstance(document.get(key), dict):
            return document[key], f"/{key}"
    properties = document.get("properties")
    if isinstance(properties, dict) and isinstance(properties.get("definition"), dict):
        return properties["definition"], "/properties/definition"
    resources = document.get("resources")
    if isinstance(resources, list):
        for index, resource in enumerate(resources):
            if (
                isinstance(resource, dict)
                and str(resource.get("type", "")).lower() == _WORKFLOW_RESOURCE
                and isinstance(resource.get("properties"), dict)
                and isinstance(resource["properties"].get("definition"), dict)
            ):
                return resource["properties"]["definition"], f"/resources/{index}/properties/definition"
    raise InputError(
        f"{name}: no workflow definition found; give the definition object (with 'triggers' and 'actions'), "
        "a Logic Apps resource ({'properties': {'definition': …}}) or an ARM template with a "
        "Microsoft.Logic/workflows resource"
    )


def _actions(raw: Mapping[str, Any], pointer: str) -> dict[str, ActionSpec]:
    built = {}
    for key, value in raw.items():
        if not isinstance(value, dict):
            continue
        here = f"{pointer}/{escape_pointer(key)}"
        run_after = value["runAfter"] if isinstance(value.get("runAfter"), dict) else {}
        kind = str(value.get("type", ""))
        built[key] = ActionSpec(
            name=key,
            type=kind,
            raw=value,
            pointer=here,
            run_after={k: tuple(v) if isinstance(v, list) else () for k, v in (run_after or {}).items()},
            branches=_branches(kind, value, here),
        )
    return built


def _branches(kind: str, raw: Mapping[str, Any], pointer: str) -> dict[str, dict[str, ActionSpec]]:
    branches: dict[str, dict[str, ActionSpec]] = {}
    for path in _BRANCHES.get(kind, ()):
        node: Any = raw
        for step in path:
            node = node.get(step) if isinstance(node, dict) else None
        if isinstance(node, dict):
            branches["/".join(path)] = _actions(node, pointer + "/" + "/".join(path))
    if kind == "Switch":
        cases = raw["cases"] if isinstance(raw.get("cases"), dict) else {}
        for case_name, case in (cases or {}).items():
            if isinstance(case, dict) and isinstance(case.get("actions"), dict):
                case_pointer = f"{pointer}/cases/{escape_pointer(case_name)}/actions"
                branches[f"cases/{case_name}"] = _actions(case["actions"], case_pointer)
        default = raw.get("default")
        if isinstance(default, dict) and isinstance(default.get("actions"), dict):
            branches["default"] = _actions(default["actions"], pointer + "/default/actions")
    return branches


def _check_scope(
    actions: dict[str, ActionSpec], issues: list[FlowIssue], resolve: OperationResolver | None
) -> None:
    """runAfter targets exist among siblings, statuses are known, no cycles; then recurse."""
    for action in actions.values():
        for target, statuses in action.run_after.items():
            where = f"{action.pointer}/runAfter/{escape_pointer(target)}"
            if target not in actions:
                siblings = ", ".join(sorted(n for n in actions if n != action.name)) or "none"
                issues.append(
                    FlowIssue(
                        "flow/unknown-run-after",
                        f"action '{action.name}' runs after '{target}', which is not an action in the same "
                        f"scope (siblings: {siblings})",
                        where,
                    )
                )
            for status in statuses:
                # Logic Apps reads statuses case-insensitively (templates write 'SUCCEEDED').
                if (
                    not isinstance(status, str)
                    or status.title().replace("Timedout", "TimedOut") not in RUN_AFTER_STATUSES
                ):
                    issues.append(
                        FlowIssue(
                            "flow/invalid-run-after-status",
                            f"'{status}' is not a runAfter status; use "
                            + ", ".join(sorted(RUN_AFTER_STATUSES)),
                            where,
                        )
                    )
        if action.type not in SUPPORTED_ACTIONS:
            issues.append(_unsupported("action", action.type, action.pointer, SUPPORTED_ACTIONS))
        elif resolve is not None and action.type in {"ApiConnection", "OpenApiConnection"}:
            _resolved(resolve, action, issues)
        elif action.type == "Response":
            issues.extend(FlowIssue(*problem) for problem in response_problems(action.raw, action.pointer))
        issues.extend(_expression_issues(_own_fields(action.raw), action.pointer))
        for nested in action.branches.values():
            _check_scope(nested, issues, resolve)
    cycle = _find_cycle(actions)
    if cycle:
        first = actions[cycle[0]]
        issues.append(
            FlowIssue(
                "flow/run-after-cycle",
                "runAfter forms a cycle: "
                + " → ".join([*cycle, cycle[0]])
                + "; remove one of these dependencies",
                first.pointer + "/runAfter",
            )
        )


def _find_cycle(actions: dict[str, ActionSpec]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 visiting, 2 done
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        path.append(name)
        for target in actions[name].run_after:
            if target not in actions:
                continue
            if state.get(target) == 1:
                return path[path.index(target) :]
            if state.get(target) is None and (found := visit(target)):
                return found
        path.pop()
        state[name] = 2
        return None

    for name in actions:
        if state.get(name) is None and (found := visit(name)):
            return found
    return None


def _own_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """An action's fields without its nested actions (those are checked where they stand)."""
    return {k: v for k, v in raw.items() if k not in {"actions", "else", "cases", "default", "runAfter"}}


def _expression_issues(value: Any, pointer: str) -> Iterator[FlowIssue]:
    if isinstance(value, str):
        if "@" in value and not value.startswith("@@"):
            try:
                parse(value)
            except ExpressionError as exc:
                yield FlowIssue("flow/bad-expression", exc.message, pointer)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _expression_issues(item, f"{pointer}/{escape_pointer(key)}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _expression_issues(item, f"{pointer}/{index}")


def _http_webhook_issues(trigger: TriggerSpec) -> Iterator[FlowIssue]:
    """An HttpWebhook declares its subscribe call, and may declare unsubscribe: each needs method and uri."""
    inputs = trigger.raw.get("inputs")
    for part in ("subscribe", "unsubscribe"):
        call = inputs.get(part) if isinstance(inputs, dict) else None
        if part == "unsubscribe" and call is None:
            continue  # optional: the subscription is then just forgotten
        missing = [key for key in ("method", "uri") if not (isinstance(call, dict) and call.get(key))]
        if missing:
            yield FlowIssue(
                "flow/bad-trigger-inputs",
                f"the HttpWebhook trigger's '{part}' needs "
                + " and ".join(f"'{k}'" for k in missing)
                + ', e.g. {"method": "POST", "uri": "https://…"}',
                f"{trigger.pointer}/inputs/{part}",
            )


def _unsupported(what: str, kind: str, pointer: str, supported: frozenset[str]) -> FlowIssue:
    return FlowIssue(
        f"flow/unsupported-{what}",
        f"{what} type '{kind or '(missing)'}' is not supported by Tether; supported: "
        + ", ".join(sorted(supported)),
        pointer + "/type",
    )


def _resolved(resolve: OperationResolver, spec: ActionSpec | TriggerSpec, issues: list[FlowIssue]) -> None:
    problem = resolve(spec)
    if problem:
        issues.append(FlowIssue("flow/unknown-operation", problem, spec.pointer + "/inputs"))
