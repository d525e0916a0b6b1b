"""A create whose answer is lost after the cloud acted is found by its tag, never re-sent.

A loopback proxy between stackplan and the embedded cloud passes every request on, but
for the first few `POST /servers` it lets the cloud answer and then resets the client's
connection instead of passing the answer back: the server exists, its ID never arrived.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections import Counter

import pytest

from tests.conftest import env_for
from tests.integration.faults.faultkit import (
    cloud_servers,
    recorded_ids,
    servers_spec,
    sim_stats,
    stackplan,
)

CREATE = b"POST /compute/v2.1/servers "


class LossyProxy:
    """Relays 127.0.0.1:port -> upstream; drops the answers of the first `drops` creates."""

    def __init__(self, upstream_port: int, drops: int):
        self.upstream_port = upstream_port
        self.drops = drops
        self.dropped = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            drop_next = threading.Event()
            threading.Thread(
                target=self._requests, args=(client, upstream, drop_next), daemon=True
            ).start()
            threading.Thread(
                target=self._answers, args=(upstream, client, drop_next), daemon=True
            ).start()

    def _take(self) -> bool:
        with self._lock:
            if self.dropped < self.drops:
                self.dropped += 1
                return True
            return False

    def _requests(
        self, client: socket.socket, upstream: socket.socket, drop_next: threading.Event
    ) -> None:
        try:
            while data := client.recv(65536):
                if data.startswith(CREATE) and self._take():
                    drop_next.set()
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            _close(upstream)

    def _answers(
        self, upstream: socket.socket, client: socket.socket, drop_next: threading.Event
    ) -> None:
        try:
            while data := upstream.recv(65536):
                if drop_next.is_set():
                    # The cloud has answered, so it acted: cut the client's connection.
                    # (shutdown, not just close: the other thread is blocked reading it.)
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    client.shutdown(socket.SHUT_RDWR)
                    break
                client.sendall(data)
        except OSError:
            pass
        finally:
            _close(client)
            _close(upstream)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.close()


@pytest.mark.timeout(120)
def test_a_create_whose_answer_was_lost_is_found_by_its_tag_and_not_sent_again(make_sim, tmp_path):
    sim = make_sim(build_seconds=0.3)
    proxy = LossyProxy(int(sim.url.rsplit(":", 1)[1]), drops=3)
    try:
        env = env_for(f"http://127.0.0.1:{proxy.port}")
        spec, state = servers_spec(tmp_path, 5), tmp_path / "faults.json"
        done = stackplan(
            [
                "apply",
                "--auto-approve",
                "-f",
                str(spec),
                "--state",
                str(state),
                "--parallelism",
                "2",
            ],
            env,
        )
    finally:
        proxy.close()
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert proxy.dropped == 3
    assert output.count("create answer lost; found") == 3, output
    stats = sim_stats(sim.url)
    assert stats["routes"]["POST /compute/v2.1/servers"] == 5  # none sent twice
    servers = cloud_servers(env_for(sim.url))
    assert len(servers) == 5
    assert sorted(s.id for s in servers) == sorted(recorded_ids(state).values())
    assert Counter(s.metadata["stackplan:address"] for s in servers) == Counter(
        {f"server.node[{i}]": 1 for i in range(5)}
    )
