"""Where the request goes: ``dynamichosturl``, ``dynamicsubdomain``, ``routerequesttoendpoint``.

* ``dynamichosturl`` replaces the base URL (scheme, host and base path: the part before
  the operation's path), e.g. ``https://@connectionParameters('instance').atlassian.net/rest/api/``.
  A result without a scheme gets ``https://``.
* ``dynamicsubdomain`` is not in Microsoft's schema; its one use (AlisQI,
  ``https://@connectionParameters('subdomain').alisqi.com/api/``, titled "Set dynamic
  subdomain in host URL") is a whole base URL, so it behaves exactly as ``dynamichosturl``.
* ``routerequesttoendpoint`` replaces the operation's path (relative to the base URL) with
  ``newPath`` and, unless ``httpMethod`` is absent or ``@Request.OriginalHTTPMethod``, the
  method. ``{name}`` placeholders take the operation's path parameter values as sent (else
  the argument or query parameter of that name); references are URL-encoded; a query string
  in ``newPath`` (``/search?@queryParameters('type')=@queryParameters('value')``) sets those
  query parameters.
"""

from __future__ import annotations

import re
from functools import partial
from urllib.parse import parse_qsl, quote

from tether.runtime.policies._base import Builder, Policy, PolicyInstance
from tether.runtime.policies._call import PolicyCall
from tether.runtime.policies._errors import PolicyError
from tether.runtime.policies._expressions import Expression

__all__ = ["BUILDERS", "DynamicHostUrl", "RouteRequestToEndpoint", "fill_placeholders"]

_PLACEHOLDER = re.compile(r"\{([^{}@/]+)\}")
_encode = partial(quote, safe="")


class DynamicHostUrl(Policy):
    """Replace the base URL of the request with the rendered ``urlTemplate``."""

    def __init__(self, instance: PolicyInstance) -> None:
        super().__init__(instance)
        self.url_template = instance.template("urlTemplate")

    async def apply(self, call: PolicyCall) -> None:
        url = self.url_template.render(call.scope).strip()
        if not url:
            raise PolicyError(f"policy {self.title!r}: the host URL is empty; check the connection's values")
        if "://" not in url:
            url = "https://" + url.lstrip("/")
        call.base_url = url
        call.request_changed()


class RouteRequestToEndpoint(Policy):
    """Send the request to ``newPath`` (and ``httpMethod``) on the current base URL."""

    def __init__(self, instance: PolicyInstance) -> None:
        super().__init__(instance)
        self.new_path = instance.template("newPath")
        method = instance.template("httpMethod", default="@Request.OriginalHTTPMethod")
        keep = isinstance(method.single, Expression) and method.single.function == "request"
        self.method: str | None = None if keep or not method.source.strip() else method.source.strip().upper()

    async def apply(self, call: PolicyCall) -> None:
        rendered = fill_placeholders(self.new_path.render(call.scope, _encode), call, self.title)
        path, _, query = rendered.partition("?")
        call.path = "/" + path.lstrip("/")
        for name, value in parse_qsl(query, keep_blank_values=True):
            call.query = [(n, v) for n, v in call.query if n != name]
            call.query.append((name, value))
        if self.method:
            call.method = self.method
        call.request_changed()


def fill_placeholders(text: str, call: PolicyCall, title: str) -> str:
    """Replace ``{name}`` with the path parameter (else argument, else query value) ``name``."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in call.path_values:
            return call.path_values[name]
        arguments = call.exchange.arguments
        if name in arguments and arguments[name] is not None:
            return _encode(str(arguments[name]))
        query = dict(call.query)
        if name in query:
            return _encode(query[name])
        raise PolicyError(f"policy {title!r}: no value for '{{{name}}}' in {text!r}", detail={"name": name})

    return _PLACEHOLDER.sub(value, text)


BUILDERS: dict[str, Builder] = {
    "dynamichosturl": DynamicHostUrl,
    "dynamicsubdomain": DynamicHostUrl,
    "routerequesttoendpoint": RouteRequestToEndpoint,
}
