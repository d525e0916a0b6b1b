"""The HTTP layer against the simulator: injected faults, rate limits, errors, no repeats."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from stackplan.cloud import ServerCreate
from stackplan.cloud.http import HttpClient, HttpOptions, RetryEvent
from stackplan.errors import CloudError
from tests.conftest import env_for

CIRROS = "5c1f3b8e-6b0a-4c5e-9d1f-0a2b3c4d5e01"


def test_injected_500s_and_503s_are_retried_for_reads(make_sim, cloud_for, stats_of):
    handle = make_sim(fault_rate=0.3, seed=7)
    retries: list[RetryEvent] = []
    cloud = cloud_for(env_for(handle.url), max_retries=10)
    cloud.http.on_retry = retries.append
    for _ in range(30):
        assert len(cloud.compute.list_flavors()) == 7
    statuses = stats_of(handle.url).read()["statuses"]
    faults = statuses.get("500", 0) + statuses.get("503", 0)
    assert faults > 0
    assert len(retries) == faults  # every fault was answered by exactly one retry
    assert all(e.status in (500, 503) for e in retries)


def test_a_server_create_is_never_repeated_blindly(make_sim, cloud_for, stats_of):
    handle = make_sim(fault_rate=0.5, seed=3, build_seconds=0)
    cloud = cloud_for(env_for(handle.url), max_retries=10)
    cloud.compute.microversion  # noqa: B018 - negotiate now
    stats = stats_of(handle.url)
    failures = []
    for i in range(10):
        try:
            cloud.compute.create_server(ServerCreate(f"once-{i}", CIRROS, "1"))
        except CloudError as exc:
            failures.append(exc)
    assert stats.route("POST /compute/v2.1/servers") == 10  # one request per call
    assert failures and all(f.status in (500, 503) for f in failures)
    assert all(f.method == "POST" and f.path == "/compute/v2.1/servers" for f in failures)


def test_429_is_retried_after_retry_after(make_sim, cloud_for, stats_of):
    handle = make_sim(rate_limit=15)
    cloud = cloud_for(env_for(handle.url))
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(5):
                cloud.compute.get_limits()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert stats_of(handle.url).status(429) > 0
    assert cloud.backpressure.total > 0


def test_error_statuses_become_cloud_errors_with_the_servers_message(sim, sim_env, cloud_for):
    cloud = cloud_for(sim_env)
    with pytest.raises(CloudError) as err:
        cloud.compute.get_server("00000000-0000-0000-0000-000000000000")
    e = err.value
    assert e.status == 404
    assert "could not be found" in e.message
    assert e.method == "GET" and e.path.endswith("/servers/00000000-0000-0000-0000-000000000000")
    assert e.request_id and e.request_id.startswith("req-")
    with pytest.raises(CloudError) as glance:
        cloud.image.get_image("no-such-image")
    assert glance.value.status == 404


def test_connection_refused_names_the_url_and_retries(stats_of):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    http = HttpClient(HttpOptions(max_retries=2, backoff_base=0.01))
    with pytest.raises(CloudError) as err:
        http.request("POST", f"http://127.0.0.1:{port}/identity/v3/auth/tokens", json_body={})
    assert f"http://127.0.0.1:{port}/identity/v3/auth/tokens" in err.value.message
    assert "reachable" in err.value.hint
    # Nothing reached the server, so even a POST was tried again.
    assert http.request_count == 3


def test_request_counter_counts_every_request(sim, sim_env, cloud_for, stats_of):
    cloud = cloud_for(sim_env)
    cloud.compute.get_limits()  # negotiates the microversion first
    start = cloud.request_count
    cloud.compute.get_limits()
    cloud.compute.get_limits()
    assert cloud.request_count == start + 2


class _ForwardProxy(ThreadingHTTPServer):
    """An HTTP forward proxy on loopback that records the absolute URLs it is asked for."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        super().__init__(("127.0.0.1", 0), _ForwardHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ForwardHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.server.seen.append(self.path)  # type: ignore[attr-defined]
        upstream = requests.get(self.path, timeout=10, proxies={"http": "", "https": ""})
        self.send_response(upstream.status_code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(upstream.content)))
        self.end_headers()
        self.wfile.write(upstream.content)

    def log_message(self, *args: object) -> None:
        pass


def _proxy_env(monkeypatch: pytest.MonkeyPatch, proxy: str, no_proxy: str) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy)
    if no_proxy:
        monkeypatch.setenv("NO_PROXY", no_proxy)


def test_http_proxy_and_no_proxy_from_the_environment_are_honoured(sim, monkeypatch):
    # The proxies are resolved once per origin, not per request: both settings must still
    # reach every request, the first and the ones after it.
    proxy = _ForwardProxy()
    try:
        _proxy_env(monkeypatch, proxy.url, no_proxy="")
        through = HttpClient(HttpOptions(max_retries=0))
        for _ in range(3):
            assert through.request("GET", f"{sim.url}/compute/").status == 200
        assert proxy.seen == [f"{sim.url}/compute/"] * 3

        _proxy_env(monkeypatch, proxy.url, no_proxy="127.0.0.1")
        direct = HttpClient(HttpOptions(max_retries=0))
        for _ in range(2):
            assert direct.request("GET", f"{sim.url}/compute/").status == 200
        assert len(proxy.seen) == 3  # NO_PROXY: straight to the cloud
    finally:
        proxy.shutdown()
        proxy.server_close()
