"""``setvaluefromurl``: fetch a value from another endpoint and put it into the request.

Before the call, a side request (``httpMethod``, default GET) goes to ``parameterValueUrl``
on the current base URL, with the request's headers as the policies have left them (that is
how the Cradl AI connector sends Basic credentials to its token endpoint) and no body;
``{name}`` placeholders take path parameter values as in ``routerequesttoendpoint``. The
value at ``parameterValuePathTemplate`` (``@body().access_token``, ``@body()['@odata.etag']``)
of its JSON answer goes to ``parameterTemplate``: ``@headers('If-Match')``,
``@queryParameters('access_token')`` or a body path. The side request passes through the
rest of the pipeline (custom code, transport), so it is authenticated like the call. A
side request that fails, or an answer without the value, is a ``PolicyError``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import httpx

from tether.runtime.policies._base import Builder, Policy, PolicyInstance
from tether.runtime.policies._call import PolicyCall
from tether.runtime.policies._errors import InvalidPolicy, PolicyError
from tether.runtime.policies._expressions import Scope, compile_expression, render_value
from tether.runtime.policies._paths import JsonPath, compile_path
from tether.runtime.policies._routing import fill_placeholders

__all__ = ["BUILDERS", "SetValueFromUrl"]

_SIDE_REQUEST_DROPPED = ("content-length", "content-encoding", "transfer-encoding")


class SetValueFromUrl(Policy):
    """Call ``parameterValueUrl`` and set a header, query parameter or body property from its answer."""

    def __init__(self, instance: PolicyInstance) -> None:
        super().__init__(instance)
        target = instance._wrap(
            "parameterTemplate", compile_expression, instance.required("parameterTemplate")
        )
        if target.function in ("headers", "queryParameters") and target.args:
            self.kind, self.name, self.body_path = target.function, target.args[0], None
        elif target.function == "body":
            self.kind, self.name, self.body_path = "body", "", JsonPath("body", target.steps)
        else:
            raise InvalidPolicy(
                f"policy {self.title!r}: parameterTemplate must be @headers('x'), "
                "@queryParameters('x') or @body().x"
            )
        self.url = instance.template("parameterValueUrl")
        self.value_path = instance._wrap(
            "parameterValuePathTemplate", compile_path, instance.required("parameterValuePathTemplate")
        )
        self.method = str(instance.parameters.get("httpMethod") or "GET").upper()

    async def apply(self, call: PolicyCall) -> None:
        relative = fill_placeholders(self.url.render(call.scope), call, self.title)
        path, _, query = relative.partition("?")
        headers = httpx.Headers(call.headers)
        for name in _SIDE_REQUEST_DROPPED:
            headers.pop(name, None)
        original = call.exchange.request
        request = httpx.Request(
            self.method,
            httpx.URL(call.url(path), params=parse_qsl(query, keep_blank_values=True)),
            headers=headers,
            extensions=original.extensions,
        )
        response = await call.send(call.exchange.replace(request=request))
        await response.aread()
        if response.is_error:
            raise PolicyError(
                f"policy {self.title!r}: {self.method} {request.url.path} answered {response.status_code}",
                detail={"status": response.status_code},
            )
        value = self.value_path.get(Scope(body=_json(response.content)))
        if value is None:
            raise PolicyError(
                f"policy {self.title!r}: the answer of {request.url.path} has no {self.value_path}"
            )
        self._put(call, value)

    def _put(self, call: PolicyCall, value: Any) -> None:
        if self.kind == "headers":
            call.headers[self.name] = render_value(value)
            call.request_changed()
        elif self.kind == "queryParameters":
            call.query = [(n, v) for n, v in call.query if n != self.name]
            call.query.append((self.name, render_value(value)))
            call.request_changed()
        elif self.body_path is not None:
            call.load_body()
            self.body_path.set(call.scope, value)
            call.body_changed()


def _json(content: bytes) -> Any:
    try:
        return json.loads(content) if content.strip() else None
    except ValueError:
        return None


BUILDERS: dict[str, Builder] = {"setvaluefromurl": SetValueFromUrl}
