"""A real SOAP service for the tests: spyne (SOAP 1.1 and 1.2) under wsgiref, each in a thread."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from spyne import Application, Fault, Integer, Iterable, ServiceBase, Unicode, rpc
from spyne.protocol.soap import Soap11, Soap12
from spyne.server.wsgi import WsgiApplication

NAMESPACE = "urn:tether:test:calculator"


class Calculator(ServiceBase):
    """Three operations: a sum, a repeated greeting (an array), and one that always faults."""

    # spyne passes the call context where "self" would be.
    @rpc(Integer, Integer, _returns=Integer)
    def add(ctx, a, b):
        return a + b

    @rpc(Unicode, Integer, _returns=Iterable(Unicode))
    def say_hello(ctx, name, times):
        for _ in range(times):
            yield f"Hello, {name}"

    @rpc(Unicode, _returns=Unicode)
    def refuse(ctx, reason):
        raise Fault(faultcode="Client.Refused", faultstring=f"refused: {reason}")


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(protocol: type) -> Iterator[str]:
    application = Application(
        [Calculator],
        tns=NAMESPACE,
        name="Calculator",
        in_protocol=protocol(validator="lxml"),
        out_protocol=protocol(),
    )
    port = _free_port()
    server: WSGIServer = make_server(
        "127.0.0.1", port, WsgiApplication(application), handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def soap11_url() -> Iterator[str]:
    yield from _serve(Soap11)


@pytest.fixture(scope="session")
def soap12_url() -> Iterator[str]:
    yield from _serve(Soap12)
