"""Run the test authorization server: migrate, create the clients, serve, print one ready line.

    python -m tests.oauth_server.serve   (environment: OAUTH_TEST_DIR, OAUTH_TEST_ACCESS_TOKEN_SECONDS)

Prints ``{"port": ..., "clients": {...}}`` as one JSON line on stdout once it accepts connections.
The port is chosen by the OS (bind to port 0), so parallel test workers never collide.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time

CLIENTS = {
    "web": {
        "client_id": "tether-web",
        "client_secret": "web-secret-value-1234567890",
        "client_type": "confidential",
        "authorization_grant_type": "authorization-code",
        # RFC 8252: any port on the loopback address matches.
        "redirect_uris": "http://127.0.0.1/redirect/conn-1 http://127.0.0.1/redirect",
    },
    "sso": {
        "client_id": "tether-sso",
        "client_secret": "sso-secret-value-5647382910",
        "client_type": "confidential",
        "authorization_grant_type": "authorization-code",
        "redirect_uris": "http://127.0.0.1/sso/callback",
        "algorithm": "RS256",
    },
    "service": {
        "client_id": "tether-service",
        "client_secret": "service-secret-value-0987654321",
        "client_type": "confidential",
        "authorization_grant_type": "client-credentials",
        "redirect_uris": "",
    },
}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.oauth_server.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0, interactive=False)
    for name, spec in CLIENTS.items():
        # The secret is given in plain text; django-oauth-toolkit hashes it on save.
        Application.objects.create(name=name, skip_authorization=True, **{"algorithm": "", **spec})

    server = ThreadedWSGIServer(("127.0.0.1", 0), WSGIRequestHandler)
    server.set_app(get_wsgi_application())
    port = server.server_address[1]
    _exit_with_parent(server)
    sys.stdout.write(json.dumps({"port": port, "clients": CLIENTS}) + "\n")
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def _exit_with_parent(server) -> None:
    """Stop serving if the test process dies without stopping us (killed pytest, crashed worker)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        server.shutdown()

    threading.Thread(target=watch, daemon=True).start()


if __name__ == "__main__":
    main()
