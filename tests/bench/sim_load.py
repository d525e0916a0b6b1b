"""Load figures for the simulator (not a test): loopback only, bounded in count and time.

    .venv/bin/python tests/bench/sim_load.py [--servers 1000] [--workers 50]

Starts an in-process simulator (no quotas, instant builds), creates N servers with
parallel requests, then prints requests per second for 50 concurrent creates and for
`GET /servers/detail` with all N servers listed.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from stackplan.sim.app import SimOptions, start

CIRROS = "5c1f3b8e-6b0a-4c5e-9d1f-0a2b3c4d5e01"


def _token(url: str) -> str:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": "demo", "domain": {"id": "default"}, "password": "secret"}
                },
            },
            "scope": {"project": {"name": "demo", "domain": {"id": "default"}}},
        }
    }
    resp = requests.post(f"{url}/identity/v3/auth/tokens", json=body, timeout=10)
    resp.raise_for_status()
    return resp.headers["X-Subject-Token"]


def _rate(label: str, count: int, seconds: float) -> None:
    print(f"{label}: {count} requests in {seconds:.2f} s = {count / seconds:.1f} req/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--servers", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=50)
    parser.add_argument("--detail-requests", type=int, default=20)
    args = parser.parse_args()

    sim = start(
        SimOptions(port=0, build_seconds=0, quota_instances=-1, quota_cores=-1, quota_ram=-1)
    )
    try:
        token = _token(sim.url)
        url = f"{sim.url}/compute/v2.1"
        headers = {"X-Auth-Token": token, "OpenStack-API-Version": "compute 2.60"}
        sessions: dict[int, requests.Session] = {}

        def session() -> requests.Session:
            import threading

            key = threading.get_ident()
            if key not in sessions:
                sessions[key] = requests.Session()
                sessions[key].headers.update(headers)
            return sessions[key]

        def create(n: int) -> int:
            body = {
                "server": {
                    "name": f"load-{n}",
                    "imageRef": CIRROS,
                    "flavorRef": "1",
                    "networks": "none",
                }
            }
            return session().post(f"{url}/servers", json=body, timeout=30).status_code

        with ThreadPoolExecutor(args.workers) as pool:
            started = time.monotonic()
            codes = list(pool.map(create, range(args.servers)))
            elapsed = time.monotonic() - started
        assert codes.count(202) == args.servers, codes
        _rate(f"POST /servers, {args.workers} concurrent", args.servers, elapsed)

        http = requests.Session()
        http.headers.update(headers)
        started = time.monotonic()
        for _ in range(args.detail_requests):
            resp = http.get(f"{url}/servers/detail", timeout=30)
            assert len(resp.json()["servers"]) == args.servers
        elapsed = time.monotonic() - started
        _rate(f"GET /servers/detail with {args.servers} servers", args.detail_requests, elapsed)
        print(
            f"  one page: {len(resp.content) / 1e6:.2f} MB, "
            f"{elapsed / args.detail_requests * 1000:.0f} ms per request"
        )
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
