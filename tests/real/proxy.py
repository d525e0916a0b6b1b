"""A loopback HTTP proxy in front of one real service, for tests that need to see or hold
what stackplan sends: the token Keystone hands out, a tag PUT held until stackplan is
killed, a create answered late. stackplan reaches it through OS_AUTH_URL or an endpoint
override (OS_NETWORK_ENDPOINT_OVERRIDE); the real service does the work.

`hook(method, path, body) -> float | None` runs before a request is forwarded: a number
holds the request that many seconds first (`HOLD`: until `release()`; `release(drop=True)`
answers the held ones 502 without forwarding them, as if the client had died with them).
`after(method, path, response)` runs once the service answered, before the answer goes on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

HOLD = float("inf")
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}

Hook = Callable[[str, str, bytes | None], "float | None"]
After = Callable[[str, str, requests.Response], None]


class Proxy:
    def __init__(self, upstream: str, hook: Hook | None = None, after: After | None = None):
        self.upstream = upstream.rstrip("/")
        self.hook = hook
        self.after = after
        self.seen: list[tuple[str, str]] = []
        self.held = 0  # requests waiting in `hook` right now
        self._released = threading.Event()
        self._drop = False
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if not proxy._wait(self.command, self.path, body):
                    self.close_connection = True  # dropped: the client is gone anyway
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                headers.pop("Host", None)
                try:
                    resp = requests.request(
                        self.command,
                        proxy.upstream + self.path,
                        headers=headers,
                        data=body,
                        timeout=120,
                        allow_redirects=False,
                    )
                except requests.RequestException:
                    self.close_connection = True
                    return
                if proxy.after is not None:
                    proxy.after(self.command, self.path, resp)
                try:
                    self.send_response(resp.status_code)
                    for key, value in resp.headers.items():
                        if key.lower() not in _HOP:
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(resp.content)))
                    self.end_headers()
                    self.wfile.write(resp.content)
                except OSError:  # the client was killed while its request was held
                    self.close_connection = True

            do_GET = do_POST = do_HEAD = do_DELETE = do_PUT = do_PATCH = _forward

            def log_message(self, format: str, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _wait(self, method: str, path: str, body: bytes | None) -> bool:
        """Whether to forward the request (after the hook's delay)."""
        with self._lock:
            self.seen.append((method, path))
        delay = self.hook(method, path, body) if self.hook else None
        if not delay:
            return True
        with self._lock:
            self.held += 1
        try:
            released = self._released.wait(None if delay == HOLD else delay)
        finally:
            with self._lock:
                self.held -= 1
        return not (released and self._drop)

    def release(self, drop: bool = False) -> None:
        self._drop = drop
        self._released.set()

    def stop(self) -> None:
        self.release(drop=True)
        self.server.shutdown()
        self.server.server_close()
