"""Small, valid connector packages that tests break one piece at a time."""

from __future__ import annotations

import copy
import json
from typing import Any

from tether.definition import ConnectorPackage, package_from_files


def definition() -> dict[str, Any]:
    """A Swagger 2.0 definition that passes every rule, certification included."""
    return copy.deepcopy(
        {
            "swagger": "2.0",
            "info": {
                "title": "Contoso Tasks",
                "version": "1.0",
                "description": "Create, list and complete tasks in Contoso's task tracker.",
            },
            "host": "tasks.contoso.com",
            "basePath": "/v1",
            "schemes": ["https"],
            "paths": {
                "/tasks/{taskId}": {
                    "get": {
                        "operationId": "GetTask",
                        "summary": "Get a task",
                        "description": "Returns one task by its id.",
                        "parameters": [
                            {
                                "name": "taskId",
                                "in": "path",
                                "required": True,
                                "type": "string",
                                "x-ms-summary": "Task id",
                                "description": "The task's identifier.",
                                "x-ms-url-encoding": "single",
                            },
                            {
                                "name": "expand",
                                "in": "query",
                                "type": "boolean",
                                "default": False,
                                "x-ms-summary": "Expand",
                                "description": "Include sub-tasks.",
                                "x-ms-visibility": "advanced",
                            },
                        ],
                        "responses": {"200": {"description": "OK", "schema": {"$ref": "#/definitions/Task"}}},
                    }
                }
            },
            "definitions": {
                "Task": {"type": "object", "properties": {"id": {"type": "string", "x-ms-summary": "Id"}}}
            },
            "securityDefinitions": {"api_key": {"type": "apiKey", "in": "header", "name": "X-Key"}},
        }
    )


def properties() -> dict[str, Any]:
    return copy.deepcopy(
        {
            "properties": {
                "iconBrandColor": "#0a6ebd",
                "capabilities": [],
                "publisher": "Contoso",
                "stackOwner": "Contoso",
                "connectionParameters": {
                    "api_key": {
                        "type": "securestring",
                        "uiDefinition": {
                            "displayName": "API key",
                            "description": "Your Contoso API key",
                            "tooltip": "From your profile page",
                            "constraints": {"required": "true", "tabIndex": 1, "clearText": False},
                        },
                    }
                },
            }
        }
    )


def package(spec: dict[str, Any] | None = None, props: dict[str, Any] | None = None) -> ConnectorPackage:
    files = {
        "apiDefinition.swagger.json": json.dumps(
            spec if spec is not None else definition(), indent=2
        ).encode()
    }
    if props is not None:
        files["apiProperties.json"] = json.dumps(props, indent=2).encode()
    return package_from_files(files, source="pkg")
