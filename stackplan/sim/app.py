"""The simulator's HTTP server: routing, token checks, knobs (latency, faults, rate
limit), request counters at `/_sim/stats`, and the `start()` handle used by tests.

Public API: `SimOptions`, `start(options) -> SimHandle`, `serve(options)` (blocking).
"""

from __future__ import annotations

import json
import math
import random
import shutil
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from stackplan.sim import block_devices, compute, identity, port_settle, routes
from stackplan.sim.db import Database
from stackplan.sim.options import DEFAULT_PORT, Context, SimOptions
from stackplan.sim.wire import (
    ApiError,
    Request,
    Response,
    glance_error_body,
    keystone_error_body,
    nova_error_body,
)

__all__ = ["DEFAULT_PORT", "SimHandle", "SimOptions", "serve", "start"]


class Stats:
    """Request counters by `METHOD /route/template` and by status, and when the first
    request since the last reset arrived and the last one was handled (before the added
    latency; Unix seconds): a benchmark tells a command's start-up and wind-down apart
    from its time on the wire."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: Counter[str] = Counter()
        self._statuses: Counter[str] = Counter()
        self._first: float | None = None
        self._last: float | None = None

    def count(self, key: str, status: int, arrived: float) -> None:
        with self._lock:
            self._routes[key] += 1
            self._statuses[str(status)] += 1
            self._first = arrived if self._first is None else min(self._first, arrived)
            self._last = time.time()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": sum(self._routes.values()),
                "routes": dict(self._routes),
                "statuses": dict(self._statuses),
                "first_arrived": self._first,
                "last_handled": self._last,
            }

    def reset(self) -> None:
        with self._lock:
            self._routes.clear()
            self._statuses.clear()
            self._first = self._last = None


class RateLimiter:
    """A token bucket over all API requests; `retry_after()` is 0 when one may pass."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._tokens = max(rate, 1.0)
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def retry_after(self) -> int:
        if self.rate <= 0:
            return 0
        with self._lock:
            now = time.monotonic()
            self._tokens = min(max(self.rate, 1.0), self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1:
                self._tokens -= 1
                return 0
            return max(1, math.ceil((1 - self._tokens) / self.rate))


def _error_body(service: str, err: ApiError) -> Any:
    if err.status == 401:  # keystonemiddleware answers for every service, in keystone's shape
        return keystone_error_body(err.status, err.message)
    if service == "compute":
        extra = {"retryAfter": err.headers["Retry-After"]} if "Retry-After" in err.headers else None
        return nova_error_body(err.status, err.message, extra)
    if service == "image":
        return glance_error_body(err.status, err.message)
    if service == "network":
        from stackplan.sim.neutron.common import error_body

        return error_body(err)
    if service == "volume":
        from stackplan.sim.cinder.common import error_body as cinder_error_body

        return cinder_error_body(err)
    return keystone_error_body(err.status, err.message)


# Nova's and Neutron's unversioned version documents are served outside the pipeline
# that stamps request ids: they carry none.
_NO_REQUEST_ID = frozenset({"/compute", "/networking"})


def _request_ids(
    service: str, template: str | None, status: int, request_id: str
) -> dict[str, str]:
    """The request id headers of an answer: every service sends
    `x-openstack-request-id`; Nova also the older `x-compute-request-id`, and Cinder too
    but not on the 401 that keystonemiddleware gives before Cinder's own middleware."""
    if template in _NO_REQUEST_ID:
        return {}
    ids = {"x-openstack-request-id": request_id}
    if service == "compute" or (service == "volume" and status != 401):
        ids["x-compute-request-id"] = request_id
    return ids


class Simulator:
    """Everything one running cloud holds; `handle()` turns a Request into a Response."""

    def __init__(self, options: SimOptions, db: Database) -> None:
        self.options = options
        self.ctx = Context(options, db, random.Random(options.seed))
        self.stats = Stats()
        self.limiter = RateLimiter(options.rate_limit)
        self._rng_lock = threading.Lock()

    def handle(self, req: Request) -> tuple[Response, str]:
        """The response and the service whose conventions it follows."""
        arrived = time.time()
        # the id Nova records an instance action under is the one the answer carries
        req = replace(req, request_id=f"req-{uuid.uuid4()}")
        path, url_project = routes.split_project(req.path.rstrip("/") or "/")
        route, params, path_found = routes.match(req.method, path)
        service = route.service if route else routes.service_of(path)
        key = f"{req.method} {route.template if route else '<unmatched>'}"
        headers: dict[str, str] = {}
        try:
            if route is None:
                raise ApiError(
                    405 if path_found else 404,
                    "Method not allowed." if path_found else "The resource could not be found.",
                )
            if service == "sim":
                response = self._sim(req)
            else:
                response = self._api(req, route, params, url_project, headers)
        except ApiError as err:
            body = _error_body(service, err)
            response = Response(err.status, body, err.headers)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            err = ApiError(
                500,
                "Unexpected API Error. Please report this at "
                "http://bugs.launchpad.net/nova/ and attach the Nova API log.",
            )
            response = Response(500, _error_body(service, err))
        if response.status == 401:  # keystone and keystonemiddleware always say where to go
            headers["WWW-Authenticate"] = f'Keystone uri="{req.base}/identity"'
        template = route.template if route else None
        headers.update(_request_ids(service, template, response.status, req.request_id))
        response = replace(response, headers={**headers, **response.headers})
        if service != "sim":
            self.stats.count(key, response.status, arrived)
        return response, service

    def _sim(self, req: Request) -> Response:
        if req.method == "DELETE":
            self.stats.reset()
            return Response(204)
        return Response(200, self.stats.snapshot())

    def _api(
        self,
        req: Request,
        route: routes.Route,
        params: dict[str, str],
        url_project: str | None,
        headers: dict[str, str],
    ) -> Response:
        wait = self.limiter.retry_after()
        if wait:
            raise ApiError(429, "This request was rate-limited.", {"Retry-After": str(wait)})
        if not route.discovery and self.options.fault_rate > 0:
            with self._rng_lock:
                hit = self.ctx.rng.random() < self.options.fault_rate
                status = self.ctx.rng.choice((500, 503))
            if hit:
                raise ApiError(status, "Injected fault (stackplan sim --fault-rate).")
        root = f"{req.base}/compute/v2.1" + (f"/{url_project}" if url_project else "")
        req = replace(req, params=params, root=root)
        # keystonemiddleware runs before Nova's microversion handling: its 401 names none
        if route.authenticated:
            req = replace(req, token=self._authenticate(req, url_project))
        if route.service == "compute" and route.template.startswith(routes.C):
            version = compute.negotiate(req)
            headers.update(compute.version_headers(version))
            req = replace(req, version=version)
        if route.service in ("compute", "network") and not route.discovery:
            # Servers settle lazily; their ports must agree with what this request sees.
            port_settle.settle(self.ctx)
        if route.service in ("compute", "volume") and not route.discovery:
            block_devices.settle(self.ctx)  # attach boot volumes, release a gone server's
        assert route.handler is not None
        return route.handler(self.ctx, req)

    def _authenticate(self, req: Request, url_project: str | None) -> identity.Token:
        token = identity.lookup(self.ctx, req.header("X-Auth-Token"))
        if token is None or token.project_id is None:
            raise ApiError(
                401,
                identity.UNAUTHORIZED,
                {"WWW-Authenticate": f'Keystone uri="{req.base}/identity"'},
            )
        if url_project is not None and url_project != token.project_id:
            raise ApiError(
                400,
                f"Malformed request URL: URL's project_id '{url_project}' "
                f"doesn't match Context's project_id '{token.project_id}'",
            )
        return token


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; with Nagle on, the body waits for the
    # client's delayed ACK (~40 ms) on a kept-alive connection. TCP_NODELAY sends it now.
    disable_nagle_algorithm = True
    server: _Server

    def _run(self) -> None:
        sim = self.server.sim
        started = time.monotonic()
        url = urlsplit(self.path)
        body = self._body()
        host = self.headers.get("Host") or f"{sim.options.host}:{self.server.server_port}"
        req = Request(
            self.command,
            url.path,
            parse_qs(url.query, keep_blank_values=True),
            {k.lower(): v for k, v in self.headers.items()},
            body,
            f"http://{host}",
        )
        response, _ = sim.handle(req)
        delay = sim.options.latency_ms / 1000 - (time.monotonic() - started)
        if delay > 0:
            time.sleep(delay)
        self._send(response)

    def _body(self) -> bytes:
        # An image upload from a generator (openstacksdk given an iterable) comes chunked.
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, response: Response) -> None:
        payload = b""
        if response.body is not None and self.command != "HEAD":
            payload = json.dumps(response.body).encode()
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _run

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request would drown test output; /_sim/stats counts instead


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512
    sim: Simulator


@dataclass(frozen=True, slots=True)
class SimHandle:
    """A running simulator: `url` is its base (`http://127.0.0.1:PORT`)."""

    url: str
    options: SimOptions
    _server: _Server
    _thread: threading.Thread
    _tempdir: str | None

    @property
    def auth_url(self) -> str:
        return f"{self.url}/identity/v3"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        if self._tempdir:
            shutil.rmtree(self._tempdir, ignore_errors=True)


def _bind(options: SimOptions) -> tuple[_Server, str | None]:
    tempdir = None
    path = options.db
    if path is None:
        tempdir = tempfile.mkdtemp(prefix="stackplan-sim-")
        path = str(Path(tempdir) / "sim.sqlite")
    server = _Server((options.host, options.port), _Handler)
    server.sim = Simulator(options, Database(path))
    return server, tempdir


def start(options: SimOptions | None = None) -> SimHandle:
    """Start a simulator in a background thread of this process; call `.stop()` after."""
    options = options or SimOptions(port=0)
    server, tempdir = _bind(options)
    host, port = server.server_address[:2]
    thread = threading.Thread(target=server.serve_forever, name="stackplan-sim", daemon=True)
    thread.start()
    return SimHandle(f"http://{host}:{port}", replace(options, port=port), server, thread, tempdir)


def serve(options: SimOptions) -> None:
    """Serve in the foreground until interrupted or terminated (SIGTERM)."""
    import signal

    handle = start(options)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"stackplan sim listening on {handle.url}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        handle.stop()
