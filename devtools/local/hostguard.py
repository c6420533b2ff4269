"""The local stack answers only its own host names, on its HTTP server and on the AWS emulator.

A web page of another site whose name an attacker re-points at 127.0.0.1 (DNS rebinding) reaches
these servers with its own name in ``Host``; refusing every other name keeps it from reading the
pages, the mailbox's tokens or the emulator's tables.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

LOCAL_NAMES = frozenset({"127.0.0.1", "localhost"})
REFUSED = b"Misdirected Request: use http://127.0.0.1 or http://localhost\n"


def own_host(host: str | None, port: int) -> bool:
    """``Host`` is 127.0.0.1 or localhost, with this server's port or none."""
    value = (host or "").strip().lower()
    name, _, given = value.rpartition(":") if value.count(":") == 1 else (value, "", "")
    return name in LOCAL_NAMES and given in {"", str(port)}


class GuardedEmulator:
    """moto's server (the same WSGI app and request handler as its ``ThreadedMotoServer``) behind
    the host check, on ``host`` and a free port."""

    def __init__(self, host: str) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        moto = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(host, 0, self._guard(moto), threaded=True, request_handler=MotoRequestHandler)
        self.port = int(self._server.server_port)
        self._thread = threading.Thread(target=self._server.serve_forever, name="emulator", daemon=True)

    def _guard(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if own_host(environ.get("HTTP_HOST"), self.port):
                return app(environ, start_response)
            start_response(
                "421 Misdirected Request", [("Content-Type", "text/plain"), ("Content-Length", str(len(REFUSED)))]
            )
            return [REFUSED]

        return guarded

    def start(self) -> None:
        self._thread.start()

    def get_host_and_port(self) -> tuple[str, int]:
        return str(self._server.server_address[0]), self.port

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
