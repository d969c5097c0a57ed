"""The ``tether`` command line: paconn-compatible connector commands, offline validation,
the server, and the tutorial. Every command goes through the services layer (over HTTP for
server-side state) so the CLI enforces nothing the API does not.
"""

from tether.cli._app import app, main

__all__ = ["app", "main"]
