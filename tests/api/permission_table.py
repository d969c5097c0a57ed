# ruff: noqa: E501  (the table reads best one row per line)
"""The permission matrix: what the API answers, per resource kind, operation, role and relation.

This table is the specification (issue 11). ``test_permission_matrix.py`` drives the real API
through every cell and ``docs/permissions.md`` is generated from it:

    .venv/bin/python -m tests.api.permission_table > docs/permissions.md

Cells: ``ok`` (the operation's success status), ``hidden`` (a list that answers 200 without the
resource), an HTTP status, or ``-`` (no such relation for this kind).
"""

from __future__ import annotations

from typing import Final

ROLES: Final = ("admin", "maker", "user", "none")
RELATIONS: Final = ("owner", "edit", "use", "group", "everyone", "nothing")

# What each relation means per kind (the "use" grant of a flow is Can run).
RELATION_MEANING: Final = {
    "connector": {
        "owner": "made it",
        "edit": "Can edit (user grant)",
        "use": "Can use (user grant)",
        "group": "Can edit via a group",
        "everyone": "Can use via everyone",
        "nothing": "no relation",
    },
    "connection": {
        "owner": "made it",
        "edit": "(connections offer only Can use)",
        "use": "Can use (user grant)",
        "group": "Can use via a group",
        "everyone": "Can use via everyone",
        "nothing": "no relation",
    },
    "flow": {
        "owner": "made it",
        "edit": "Can edit (co-owner, user grant)",
        "use": "Can run (user grant)",
        "group": "Can edit via a group",
        "everyone": "Can run via everyone",
        "nothing": "no relation",
    },
    "gateway": {
        "owner": "made it",
        "edit": "Can edit (co-owner, user grant)",
        "use": "Can use: connections may go through it (user grant)",
        "group": "Can edit via a group",
        "everyone": "Can use via everyone",
        "nothing": "no relation",
    },
}

SUCCESS: Final = {
    ("connector", "list"): 200,
    ("connector", "read"): 200,
    ("connector", "download"): 200,
    ("connector", "connect"): 201,
    ("connector", "update"): 200,
    ("connector", "share"): 200,
    ("connector", "delete"): 204,
    ("connection", "list"): 200,
    ("connection", "read"): 200,
    ("connection", "invoke"): 200,
    ("connection", "bind"): 201,
    ("connection", "update"): 200,
    ("connection", "share"): 200,
    ("connection", "delete"): 204,
    ("flow", "list"): 200,
    ("flow", "read"): 200,
    ("flow", "run"): 202,
    ("flow", "list runs"): 200,
    ("flow", "read run"): 200,
    ("flow", "resubmit"): 202,
    ("flow", "cancel run"): 200,
    ("flow", "update"): 200,
    ("flow", "share"): 200,
    ("flow", "delete"): 204,
    ("gateway", "list"): 200,
    ("gateway", "read"): 200,
    ("gateway", "connect through"): 201,
    ("gateway", "issue token"): 201,
    ("gateway", "list members"): 200,
    ("gateway", "share"): 200,
}

_ALL_OK = "ok ok ok ok ok ok"
_NONE = "404 404 404 404 404 404"
_NONE_C = "404 - 404 404 404 404"  # connections: no Can edit
_EDITORS = "ok ok 403 ok 403 404"  # owners and Can edit (directly or via a group); others who see it: 403

# (kind, operation) -> role -> the six relations' answers, in RELATIONS order.
TABLE: Final[dict[tuple[str, str], dict[str, str]]] = {
    ("connector", "list"): {"admin": _ALL_OK, "maker": "ok ok ok ok ok hidden", "user": "ok ok ok ok ok hidden", "none": _NONE},
    ("connector", "read"): {"admin": _ALL_OK, "maker": "ok ok ok ok ok 404", "user": "ok ok ok ok ok 404", "none": _NONE},
    ("connector", "download"): {"admin": _ALL_OK, "maker": _EDITORS, "user": _EDITORS, "none": _NONE},
    ("connector", "connect"): {"admin": _ALL_OK, "maker": "ok ok ok ok ok 404", "user": "ok ok ok ok ok 404", "none": _NONE},
    ("connector", "update"): {"admin": _ALL_OK, "maker": _EDITORS, "user": "403 403 403 403 403 404", "none": _NONE},
    ("connector", "share"): {"admin": _ALL_OK, "maker": _EDITORS, "user": "403 403 403 403 403 404", "none": _NONE},
    ("connector", "delete"): {"admin": _ALL_OK, "maker": _EDITORS, "user": "403 403 403 403 403 404", "none": _NONE},
    ("connection", "list"): {"admin": "ok - ok ok ok ok", "maker": "ok - ok ok ok hidden", "user": "ok - ok ok ok hidden", "none": _NONE_C},
    ("connection", "read"): {"admin": "ok - ok ok ok ok", "maker": "ok - ok ok ok 404", "user": "ok - ok ok ok 404", "none": _NONE_C},
    ("connection", "invoke"): {"admin": "ok - ok ok ok 403", "maker": "ok - ok ok ok 404", "user": "ok - ok ok ok 404", "none": _NONE_C},
    ("connection", "bind"): {"admin": "ok - ok ok ok 400", "maker": "ok - ok ok ok 400", "user": "403 - 403 403 403 403", "none": _NONE_C},
    ("connection", "update"): {"admin": "ok - 403 403 403 403", "maker": "ok - 403 403 403 404", "user": "ok - 403 403 403 404", "none": _NONE_C},
    ("connection", "share"): {"admin": "ok - 403 403 403 403", "maker": "ok - 403 403 403 404", "user": "ok - 403 403 403 404", "none": _NONE_C},
    ("connection", "delete"): {"admin": "ok - ok ok ok ok", "maker": "ok - 403 403 403 404", "user": "ok - 403 403 403 404", "none": _NONE_C},
    ("flow", "list"): {"admin": _ALL_OK, "maker": "ok ok ok ok ok hidden", "user": "ok ok ok ok ok hidden", "none": _NONE},
    ("flow", "read"): {"admin": _ALL_OK, "maker": "ok ok ok ok ok 404", "user": "ok ok ok ok ok 404", "none": _NONE},
    ("flow", "run"): {"admin": _ALL_OK, "maker": "ok ok ok ok ok 404", "user": "ok ok ok ok ok 404", "none": _NONE},
    ("flow", "list runs"): {"admin": _ALL_OK, "maker": _EDITORS, "user": _EDITORS, "none": _NONE},
    ("flow", "read run"): {"admin": _ALL_OK, "maker": _EDITORS, "user": _EDITORS, "none": _NONE},
    ("flow", "resubmit"): {"admin": _ALL_OK, "maker": _EDITORS, "user": _EDITORS, "none": _NONE},
    ("flow", "cancel run"): {"admin": _ALL_OK, "maker": _EDITORS, "user": _EDITORS, "none": _NONE},
    ("flow", "update"): {"admin": _ALL_OK, "maker": _EDITORS, "user": "403 403 403 403 403 404", "none": _NONE},
    ("flow", "share"): {"admin": _ALL_OK, "maker": _EDITORS, "user": "403 403 403 403 403 404", "none": _NONE},
    ("flow", "delete"): {"admin": _ALL_OK, "maker": _EDITORS, "user": "403 403 403 403 403 404", "none": _NONE},
    ("gateway", "list"): {"admin": _ALL_OK, "maker": "ok ok ok ok ok hidden", "user": "ok ok ok ok ok hidden", "none": _NONE},
    ("gateway", "read"): {"admin": _ALL_OK, "maker": "ok ok ok ok ok 404", "user": "ok ok ok ok ok 404", "none": _NONE},
    ("gateway", "connect through"): {"admin": _ALL_OK, "maker": "ok ok ok ok ok 404", "user": "ok ok ok ok ok 404", "none": _NONE},
    ("gateway", "issue token"): {"admin": _ALL_OK, "maker": _EDITORS, "user": "403 403 403 403 403 404", "none": _NONE},
    ("gateway", "list members"): {"admin": _ALL_OK, "maker": _EDITORS, "user": "403 403 403 403 403 404", "none": _NONE},
    ("gateway", "share"): {"admin": _ALL_OK, "maker": _EDITORS, "user": "403 403 403 403 403 404", "none": _NONE},
}  # fmt: skip

KINDS: Final = ("connector", "connection", "flow", "gateway")

# Certification, the catalog and data policies (issue 16): who may, by standing rather than relation.
# tests/governance/test_certification_roles.py drives the real API through every cell.
CALLERS: Final = ("platform admin", "certifier", "env admin", "maker", "user", "none")
CALLER_MEANING: Final = {
    "platform admin": "the platform administrator",
    "certifier": "has the certifier role (and the user role in the environment)",
    "env admin": "admin of the environment",
    "maker": "maker in the environment",
    "user": "user in the environment",
    "none": "member of no environment",
}
GOVERNANCE: Final[dict[str, str]] = {
    "read the review queue": "ok ok 403 403 403 403",
    "review a request": "ok ok 403 403 403 403",
    "grant the certifier role": "ok 403 403 403 403 403",
    "list the catalog": "ok ok ok ok ok 404",
    "install from the catalog": "ok 403 ok ok 403 404",
    "read the data policy": "ok ok ok ok ok 404",
    "change the data policy": "ok 403 ok 403 403 404",
    "classify a connector": "ok 403 ok 403 403 404",
}  # fmt: skip


def governance_expected(operation: str, caller: str) -> str:
    """One cell of :data:`GOVERNANCE`."""
    return GOVERNANCE[operation].split()[CALLERS.index(caller)]


def expected(kind: str, operation: str, role: str, relation: str) -> str:
    """One cell: ``ok``, ``hidden``, ``-`` or a status code as text."""
    return TABLE[(kind, operation)][role].split()[RELATIONS.index(relation)]


def operations(kind: str) -> list[str]:
    return [operation for (k, operation) in TABLE if k == kind]


def render_markdown() -> str:
    """The table as the page ``docs/permissions.md``."""
    lines = [
        "# Who may do what: roles, ownership and sharing",
        "",
        "<!-- Generated by `python -m tests.api.permission_table > docs/permissions.md`; "
        "tests/api/test_permission_matrix.py checks the API answers exactly this. -->",
        "",
        "Rows: the caller's role in the environment (`none`: not a member) and the operation. Columns: the",
        "caller's relation to the resource. `ok` = allowed; `hidden` = the list answers without it;",
        "`404` = the resource is not visible to the caller (its existence does not leak); `403` = visible",
        "but not allowed; `400` = refused as input (binding a connection that is not yours nor shared",
        "with you); `-` = no such relation. Environment admins may see and delete everything but never",
        "act with someone else's credentials. Changing anything needs the maker role, even for owners.",
        "",
    ]
    for kind in KINDS:
        meaning = RELATION_MEANING[kind]
        lines += [f"## {kind.capitalize()}s", ""]
        lines.append("Relations: " + "; ".join(f"**{name}** = {meaning[name]}" for name in RELATIONS) + ".")
        lines.append("")
        lines.append("| role | operation | " + " | ".join(RELATIONS) + " |")
        lines.append("|---|---|" + "---|" * len(RELATIONS))
        for role in ROLES:
            for operation in operations(kind):
                cells = TABLE[(kind, operation)][role].split()
                lines.append(f"| {role} | {operation} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += [
        "## Certification, the catalog and data policies",
        "",
        "Columns: who calls. " + "; ".join(f"**{name}** = {CALLER_MEANING[name]}" for name in CALLERS) + ".",
        "Submitting a connector for certification needs what updating it needs (owner or Can edit, and",
        "the maker role); its certification requests and their comments are visible to whoever may read it.",
        "Nobody reviews their own submission.",
        "",
        "| operation | " + " | ".join(CALLERS) + " |",
        "|---|" + "---|" * len(CALLERS),
    ]
    for operation, cells in GOVERNANCE.items():
        lines.append(f"| {operation} | " + " | ".join(cells.split()) + " |")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render_markdown(), end="")
