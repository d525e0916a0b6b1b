"""What the tests repeat, written once: the CLI as a subprocess, the simulator's counters,
and specs of servers.

- `stackplan_command(*args)`      `python -m stackplan ARGS` (with `--debug` first if asked).
- `run_stackplan(args, ...)`      runs it to the end, stdin closed; `start_stackplan` starts it.
- `SimStats(url)`                 `/_sim/stats` over plain urllib (not our HTTP layer).
- `servers_spec(count, ...)`      the text of a spec of `count` cirros servers.
- `PostgresServer()`              a private PostgreSQL cluster (initdb) on a free loopback
                                  port, with a password-protected role for stackplan.

The fixtures (simulators, stacks) stay in the conftest files; these are plain functions so
that scripts (tests/bench, tests/chaos, tests/data/*/regenerate.py) can use them too.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

CIRROS = "cirros-0.6.2-x86_64-disk"
CIRROS_ID = "5c1f3b8e-6b0a-4c5e-9d1f-0a2b3c4d5e01"


def stackplan_command(*args: str, debug: bool = False) -> list[str]:
    """The command line of the CLI as a user runs it: this Python, `-m stackplan`."""
    return [sys.executable, "-m", "stackplan", *(["--debug"] if debug else []), *args]


def run_stackplan(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    inherit_env: bool = True,
    cwd: Path | None = None,
    timeout: float = 120,
    stdin: str | None = None,
    debug: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run the CLI to the end: `env` on top of this process's (or alone without
    `inherit_env`), stdin closed unless text is given for it."""
    full_env = {**(os.environ if inherit_env else {}), **(env or {})}
    return subprocess.run(
        stackplan_command(*args, debug=debug),
        env=full_env,
        cwd=cwd,
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_stackplan(
    args: Sequence[str], env: Mapping[str, str], **popen: Any
) -> subprocess.Popen[str]:
    """Start the CLI (stdin closed, output unbuffered) and return the process."""
    return subprocess.Popen(
        stackplan_command(*args),
        env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
        stdin=subprocess.DEVNULL,
        text=True,
        **popen,
    )


class SimStats:
    """The simulator's request counters at `url`, read over plain urllib."""

    def __init__(self, url: str):
        self.url = f"{url}/_sim/stats"

    def read(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url, timeout=30) as response:
            return json.load(response)

    def reset(self) -> None:
        request = urllib.request.Request(self.url, method="DELETE")
        urllib.request.urlopen(request, timeout=30).close()

    def total(self) -> int:
        return self.read()["total"]

    def route(self, key: str) -> int:
        return self.read()["routes"].get(key, 0)

    def status(self, status: int) -> int:
        return self.read()["statuses"].get(str(status), 0)

    def token_posts(self) -> int:
        routes = self.read()["routes"]
        return routes.get("POST /identity/v3/auth/tokens", 0) + routes.get(
            "POST /identity/v2.0/tokens", 0
        )


def servers_spec(
    count: int,
    *,
    stack: str = "servers",
    name: str = "node",
    image: str = CIRROS,
    flavor: str = "m1.tiny",
) -> str:
    """A spec of `count` servers `NAME[0..count-1]`, nothing else."""
    return (
        f"stack: {stack}\nservers:\n  {name}:\n    count: {count}\n"
        f"    image: {image}\n    flavor: {flavor}\n"
    )


class PostgresServer:
    """A PostgreSQL cluster of its own, from the system's binaries: `initdb` in `directory`,
    listening on 127.0.0.1 at a free port, a role `stackplan` with a password (scram), the
    database `stackplan`. Run as the `postgres` user when we are root (initdb refuses root).

    `url` has no password: it goes in `PGPASSWORD`, as users are told to do.
    """

    USER, PASSWORD, DATABASE = "stackplan", "pg-secret-4a7f", "stackplan"

    def __init__(self) -> None:
        # Its own folder under /tmp, not the test's tmp_path: the `postgres` user must be
        # able to reach it, and pytest's folders are private to root.
        self.dir = Path(tempfile.mkdtemp(prefix="stackplan-pg-"))
        os.chmod(self.dir, 0o755)
        self.data = self.dir / "data"
        self.port = _free_port()
        self.bin = _postgres_bin()
        self.url = f"postgresql://{self.USER}@127.0.0.1:{self.port}/{self.DATABASE}"
        self.env = {"PGPASSWORD": self.PASSWORD}

    def _run(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, **kwargs)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)}: {done.stdout}{done.stderr}")
        return done

    def start(self) -> PostgresServer:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        pwfile = self.dir / "pw"
        pwfile.write_text("superuser-secret\n", encoding="utf-8")
        os.chmod(pwfile, 0o644)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=scram-sha-256",
            f"--pwfile={pwfile}",
            "-E",
            "UTF8",
            "--no-sync",
        )
        options = f"-c listen_addresses=127.0.0.1 -c port={self.port} -k {self.dir} -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-w",
            "-l",
            str(self.dir / "log"),
            "start",
        )
        admin = {"PGPASSWORD": "superuser-secret"}
        sql = (
            f"CREATE ROLE {self.USER} LOGIN PASSWORD '{self.PASSWORD}';"
            f"CREATE DATABASE {self.DATABASE} OWNER {self.USER};"
        )
        for statement in sql.split(";")[:-1]:
            self.psql(statement, user="postgres", database="postgres", env=admin)
        return self

    def psql(
        self,
        sql: str,
        *,
        user: str = USER,
        database: str = DATABASE,
        env: Mapping[str, str] | None = None,
    ) -> str:
        """Run `sql` with psql over TCP; its output (tuples only)."""
        done = subprocess.run(
            [
                str(self.bin / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                user,
                "-d",
                database,
                "-tAc",
                sql,
            ],
            env={**os.environ, **(env or self.env)},
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


def _postgres_bin() -> Path:
    """The server binaries: Debian puts them in /usr/lib/postgresql/N/bin."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql")
    return Path(initdb).resolve().parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Any, timeout: float = 10.0, every: float = 0.05) -> bool:
    """Poll `predicate` until it is true or `timeout` passes; its last answer."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(every)
