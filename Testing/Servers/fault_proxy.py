"""An HTTP gateway in front of a real server that injects the faults a hospital network produces.

It forwards every request to ``upstream`` unchanged, except that the first ``fail_count`` requests
are answered with ``fail_status`` instead (an overloaded or restarting PACS: 500/502/503), and, when
``bearer_token`` is set, it acts as a token gateway: requests must carry that bearer token and are
forwarded with the upstream's Basic credentials (as an OAuth proxy in front of a PACS does).
Listens on 127.0.0.1 only; ``requests_seen`` records (method, path, status) for the test.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from ports import free_port

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host",
              "authorization"}


class FaultProxy:
    def __init__(self, upstream: str, upstream_auth: tuple[str, str] | None = None, bearer_token: str = "") -> None:
        self.upstream = upstream.rstrip("/")
        self.upstream_auth = upstream_auth
        self.bearer_token = bearer_token
        self.fail_count = 0
        self.fail_status = 503
        self.requests_seen: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", free_port()), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def fail_next(self, count: int, status: int) -> None:
        with self._lock:
            self.fail_count, self.fail_status = count, status

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _decide(self, authorization: str) -> int | None:
        """Status to answer with instead of forwarding, or None to forward."""
        with self._lock:
            if self.bearer_token and authorization != f"Bearer {self.bearer_token}":
                return 401
            if self.fail_count > 0:
                self.fail_count -= 1
                return self.fail_status
        return None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) if self.command in ("POST", "PUT") else None
                status = proxy._decide(self.headers.get("Authorization", ""))
                if status is not None:
                    self._answer(status, {"Content-Type": "text/plain"}, f"injected fault {status}\n".encode())
                else:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                    auth = proxy.upstream_auth if proxy.bearer_token else None
                    if not proxy.bearer_token and "Authorization" in self.headers:
                        headers["Authorization"] = self.headers["Authorization"]
                    reply = requests.request(self.command, proxy.upstream + self.path, headers=headers, data=body,
                                             auth=auth, timeout=60)
                    status = reply.status_code
                    self._answer(status, {k: v for k, v in reply.headers.items() if k.lower() not in HOP_BY_HOP},
                                 reply.content)
                with proxy._lock:
                    proxy.requests_seen.append((self.command, self.path, status))

            def _answer(self, status: int, headers: dict[str, str], content: bytes) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, *args) -> None:  # keep the test output quiet
                pass

        return Handler
