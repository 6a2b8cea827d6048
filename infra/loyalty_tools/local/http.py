"""The small HTTP plumbing the emulators and the API Gateway emulation share."""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class JsonHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # no access log on stderr
        pass

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reply(self, status: int, data: bytes, content_type: str = "application/json",
              headers: dict[str, str] | None = None, repeated: list[tuple[str, str]] | None = None) -> None:
        """`repeated`: headers that may come more than once (Set-Cookie)."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in [*(headers or {}).items(), *(repeated or [])]:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def reply_json(self, status: int, payload: Any) -> None:
        self.reply(status, json.dumps(payload, ensure_ascii=False).encode())


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default listen backlog is 5: a burst of a hundred shoppers connecting at once overflowed it
    # and the kernel reset the connections it had no room for. The cloud's endpoints take such bursts.
    request_queue_size = 1024

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (a timeout under test) is not an error of ours; anything else is."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Server:
    """A threading HTTP server on a free local port, served from a daemon thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], name: str, host: str = "127.0.0.1", port: int = 0):
        self._server = _QuietServer((host, port), handler)
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
