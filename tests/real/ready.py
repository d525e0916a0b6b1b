"""Wait until the harness's Neutron answers as it will for the tests (not a test).

    STACKPLAN_REAL=1 .venv/bin/python -m tests.real.ready [--timeout 120]

`start-all.sh` returns once the services answer, but a CI run once saw Neutron's first
answers (its API workers were loading their extensions) list no network the demo user
could use: stackplan then said `no network named 'public'` and the first RegionTwo test
failed. This asks, as the demo user, until `public` is listed with `router:external` on
several answers in a row (they go to either API worker), then returns; exit 1 on timeout.
"""

from __future__ import annotations

import argparse
import sys
import time

import requests

from tests.real.harness import DEMO, Api

IN_A_ROW = 6


def _public_is_listed(api: Api) -> bool:
    try:
        listed = api.neutron_list("networks", name="public")
    except requests.RequestException:
        return False
    return any(n.get("router:external") is True for n in listed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    started = time.monotonic()
    deadline = started + args.timeout
    in_a_row = 0
    while time.monotonic() < deadline:
        try:
            api = Api(*DEMO)
        except requests.RequestException:
            time.sleep(1)
            continue
        in_a_row = in_a_row + 1 if _public_is_listed(api) else 0
        if in_a_row >= IN_A_ROW:
            print(f"Neutron ready in {time.monotonic() - started:.1f}s")
            return 0
        time.sleep(0.2)
    print(f"Neutron did not list `public` to demo within {args.timeout:.0f}s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
