"""Nova's instance actions (`/servers/{id}/os-instance-actions[/{request_id}]`): the API
records one per server action it takes, under the request's id, and the conductor and
the compute host add events (`compute_stop_instance`, `conductor_migrate_server`...).

An event here runs from the request to the end of the task it belongs to (a time that
may lie ahead); a read shows it as it stands then: unfinished (no finish time, no result)
until the task ends. An action's message is "Error" once one of its events failed.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from stackplan.sim import identity, lifecycle
from stackplan.sim.options import Context
from stackplan.sim.wire import ApiError, Request, Response

# Where the API and the conductor run (`availability_zones`: the `internal` zone's host).
CONTROLLER = "sim-controller"
_MAX_LIMIT = 1000  # [api] max_limit


@dataclass(frozen=True, slots=True)
class Event:
    name: str
    host: str
    result: str = "Success"  # or "Error"
    traceback: str | None = None  # Nova's, shown to the admin: only failures have one


def no_valid_host(message: str) -> str:
    """The traceback an event keeps when the scheduler found no host (its last lines)."""
    return (
        '  File "nova/scheduler/manager.py", in select_destinations\n'
        '    raise exception.NoValidHost(reason="")\n'
        f"nova.exception.NoValidHost: {message}\n"
    )


def build_events(host: str | None, fault: str | None) -> list[Event]:
    """A create's event: the conductor's when no host was found, else the host's build
    (failed when the build ends with `fault`)."""
    if host is None:
        name = "conductor_schedule_and_build_instances"
        return [Event(name, CONTROLLER, "Error", no_valid_host(fault or ""))]
    if fault is not None:
        trace = f"nova.exception.BuildAbortException: {fault}\n"
        return [Event("compute__do_build_and_run_instance", host, "Error", trace)]
    return [Event("compute__do_build_and_run_instance", host)]


def record(
    ctx: Context,
    conn: sqlite3.Connection,
    req: Request,
    server_id: str,
    action: str,
    events: Sequence[Event],
    until: float | None = None,
) -> None:
    """Start `action` now under the request's id; its events end at `until` (now when
    None), in the order Nova starts them."""
    now = ctx.now()
    cursor = conn.execute(
        "INSERT INTO instance_actions (server_id, request_id, action, project_id, user_id,"
        " start) VALUES (?, ?, ?, ?, ?, ?)",
        (server_id, req.request_id, action, req.token.project_id, req.token.user_id, now),
    )
    end = now if until is None else max(until, now)
    conn.executemany(
        "INSERT INTO instance_action_events (action_seq, event, start, finish, result, host,"
        " traceback) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(cursor.lastrowid, e.name, now, end, e.result, e.host, e.traceback) for e in events],
    )


def record_on_host(
    ctx: Context, conn: sqlite3.Connection, req: Request, row: sqlite3.Row, action: str
) -> None:
    """An action done at once by the server's compute host: its one event is
    `compute_<action>` (attach_interface, detach_volume...)."""
    event = Event(f"compute_{action}", row["host"] or CONTROLLER)
    record(ctx, conn, req, row["id"], action, [event])


# -- reading ---------------------------------------------------------------------------


def _iso(t: float | None) -> str | None:
    """Nova's naive datetime as JSON: microseconds, no zone (none when they are 0)."""
    if t is None:
        return None
    return datetime.fromtimestamp(t, UTC).replace(tzinfo=None).isoformat()


@dataclass(frozen=True, slots=True)
class _Action:
    row: sqlite3.Row
    events: list[sqlite3.Row]  # started by now, newest first
    now: float

    def done(self, event: sqlite3.Row) -> bool:
        return event["finish"] <= self.now

    @property
    def updated(self) -> float:
        # Nova moves updated_at to each event's start, then to its finish
        times = [self.row["start"]]
        times += [e["finish"] if self.done(e) else e["start"] for e in self.events]
        return max(times)

    @property
    def message(self) -> str | None:
        failed = any(self.done(e) and e["result"] == "Error" for e in self.events)
        return "Error" if failed else None

    def view(self, req: Request) -> dict[str, Any]:
        body: dict[str, Any] = {
            "action": self.row["action"],
            "instance_uuid": self.row["server_id"],
            "request_id": self.row["request_id"],
            "user_id": self.row["user_id"],
            "project_id": self.row["project_id"],
            "start_time": _iso(self.row["start"]),
            "message": self.message,
        }
        if req.version >= (2, 58):
            body["updated_at"] = _iso(self.updated)
        return body

    def event_view(self, req: Request, event: sqlite3.Row, admin: bool) -> dict[str, Any]:
        done = self.done(event)
        body: dict[str, Any] = {
            "event": event["event"],
            "start_time": _iso(event["start"]),
            "finish_time": _iso(event["finish"]) if done else None,
            "result": event["result"] if done else None,
        }
        if admin:  # the events policy (admin) shows the traceback, from 2.62 the host
            body["traceback"] = event["traceback"] if done else None
            if req.version >= (2, 62):
                body["host"] = event["host"]
        if req.version >= (2, 62):  # every caller gets the hashed host
            seed = f"{self.row['project_id']}{event['host']}"
            body["hostId"] = hashlib.sha224(seed.encode()).hexdigest()
        return body


def _actions(conn: sqlite3.Connection, server_id: str, now: float) -> list[_Action]:
    """The server's actions newest first (Nova orders by created_at, then id)."""
    rows = conn.execute(
        "SELECT * FROM instance_actions WHERE server_id = ? AND start <= ?"
        " ORDER BY start DESC, seq DESC",
        (server_id, now),
    ).fetchall()
    found = []
    for row in rows:
        events = conn.execute(
            "SELECT * FROM instance_action_events WHERE action_seq = ? AND start <= ?"
            " ORDER BY start DESC, seq DESC",
            (row["seq"], now),
        ).fetchall()
        found.append(_Action(row, events, now))
    return found


def _server(ctx: Context, req: Request, conn: sqlite3.Connection) -> sqlite3.Row:
    """The caller's server; a deleted one too from 2.21 (Nova reads deleted instances)."""
    server_id = req.params["server_id"]
    row = conn.execute(
        "SELECT * FROM servers WHERE id = ? AND project_id = ?",
        (server_id, req.token.project_id),
    ).fetchone()
    if row is None or (lifecycle.settle(row, ctx.now()).gone and req.version < (2, 21)):
        raise ApiError(404, f"Instance {server_id} could not be found.")
    return row


def _query_error(name: str, value: Any, reason: str) -> ApiError:
    return ApiError(400, f"Invalid input for query parameters {name}. Value: {value}. {reason}")


def _since(req: Request) -> float | None:
    raw = req.arg("changes-since")
    if raw is None:
        return None
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise _query_error("changes-since", raw, f"'{raw}' is not a 'date-time'") from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _paging(req: Request) -> tuple[int, str | None, float | None]:
    """2.58's query: `limit`, `marker`, `changes-since`, one value each, nothing else."""
    for name, values in req.query.items():
        if name not in ("limit", "marker", "changes-since"):
            raise ApiError(400, f"Additional properties are not allowed ('{name}' was unexpected)")
        if len(values) > 1:
            raise _query_error(name, values, f"{values} is too long")
    raw = req.arg("limit")
    if raw is not None and not raw.isdigit():
        raise _query_error("limit", raw, f"'{raw}' does not match '^[0-9]*$'")
    limit = min(int(raw), _MAX_LIMIT) if raw is not None else _MAX_LIMIT
    return limit, req.arg("marker"), _since(req)


def listing(ctx: Context, req: Request) -> Response:
    conn = ctx.db.read()
    row = _server(ctx, req, conn)
    actions = _actions(conn, row["id"], ctx.now())
    if req.version < (2, 58):
        return Response(200, {"instanceActions": [a.view(req) for a in actions]})
    limit, marker, since = _paging(req)
    if since is not None:
        actions = [a for a in actions if a.updated >= since]
    if marker is not None:
        ids = [a.row["request_id"] for a in actions]
        if marker not in ids:
            # Nova formats the marker it failed to find: None
            raise ApiError(400, "Marker None could not be found.")
        actions = actions[ids.index(marker) + 1 :]
    page = actions[:limit]
    body: dict[str, Any] = {"instanceActions": [a.view(req) for a in page]}
    if page and len(page) == limit:
        path = f"{req.root.removeprefix(req.base)}/servers/{row['id']}/os-instance-actions"
        href = req.url_with(path, marker=page[-1].row["request_id"])
        body["links"] = [{"rel": "next", "href": href}]
    return Response(200, body)


def show(ctx: Context, req: Request) -> Response:
    conn = ctx.db.read()
    row = _server(ctx, req, conn)
    request_id = req.params["request_id"]
    action = next(
        (a for a in _actions(conn, row["id"], ctx.now()) if a.row["request_id"] == request_id),
        None,
    )
    if action is None:
        raise ApiError(404, f"Action {request_id} not found")
    body = action.view(req)
    admin = identity.is_admin(req.token)
    # Before 2.51 only the events policy (the admin) sees events; from 2.51 the owner too.
    if admin or req.version >= (2, 51):
        body["events"] = [action.event_view(req, e, admin) for e in action.events]
    return Response(200, {"instanceAction": body})
