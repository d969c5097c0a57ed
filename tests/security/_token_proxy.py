"""A recording proxy in front of the test provider's token endpoint, able to fail the way networks do.

It forwards every POST to the real django-oauth-toolkit server and counts them by ``grant_type``
(so a test counts refreshes of one connector exactly). Switches:

* ``hold_answers(seconds, count=...)``: forward the request at once (the provider acts on it: a
  refresh token is rotated), then hold the answer back ``seconds`` -- past Tether's timeout, so
  the answer is lost.
* ``stop()`` / ``start()``: close and reopen the listening port (the endpoint is unreachable).
"""

from __future__ import annotations

import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import httpx


class TokenProxy:
    """A proxy on a free 127.0.0.1 port; ``url`` is the token URL to give connectors."""

    def __init__(self, upstream_token_url: str) -> None:
        self.upstream = upstream_token_url
        self.grants: Counter[str] = Counter()
        self.hold_seconds = 0.0
        self.hold_count: int | None = None
        self._lock = threading.Lock()
        self._release = threading.Event()  # set at close: held answers stop waiting
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/o/token/"

    def refreshes(self) -> int:
        """Refresh-token grants received so far."""
        with self._lock:
            return self.grants["refresh_token"]

    def hold_answers(self, seconds: float, *, count: int | None = None) -> None:
        """Hold the next ``count`` answers (default: all) ``seconds`` after the provider gave them."""
        with self._lock:
            self.hold_seconds, self.hold_count = seconds, count

    def _hold(self) -> float:
        with self._lock:
            if not self.hold_seconds or self.hold_count == 0:
                return 0.0
            if self.hold_count is not None:
                self.hold_count -= 1
            return self.hold_seconds

    def start(self) -> None:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                grant = parse_qs(body.decode()).get("grant_type", ["?"])[0]
                with proxy._lock:
                    proxy.grants[grant] += 1
                skip = ("host", "content-length")
                headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
                answer = httpx.post(proxy.upstream, content=body, headers=headers, timeout=30)
                hold = proxy._hold()
                if hold:
                    proxy._release.wait(hold)  # the provider has answered; the client waits in vain
                try:
                    self.send_response(answer.status_code)
                    self.send_header("Content-Type", answer.headers.get("content-type", "application/json"))
                    self.send_header("Content-Length", str(len(answer.content)))
                    self.end_headers()
                    self.wfile.write(answer.content)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting: exactly the case being tested

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop listening: connections to the port are refused until :meth:`start`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def close(self) -> None:
        self._release.set()
        self.stop()
