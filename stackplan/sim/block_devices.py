"""Nova's block device mappings (its `block_device_mapping` table) and what the compute
host does with them, over the simulator's Cinder in-process (`cinder.attach`):

- at create (`build`): a volume the user names is reserved (Cinder's attachment,
  `reserved`); one to be made from an image or blank is created in Cinder (`creating`
  for `--build-seconds`, named "" or `<server id>-blank-vol` as Nova names them);
- when the build ends (`settle`, before every Nova and Cinder request): each volume is
  attached (`in-use`, its attachment on the server's host, `/dev/vda` for the boot
  volume, `/dev/vdb`... for the others); a failed build attaches nothing;
- when the server is gone (delete finished): every attachment is deleted and the
  volumes with `delete_on_termination` are deleted, the others are `available`.

Each row carries `due`, when the compute host next acts on it; one indexed query finds
nothing due on almost every request. `config_drive` is kept per server here too (Nova's
instance column; the servers table has none). `os-volume_attachments` is
`volume_attachments.py`; the request parsing `bdm_requests.py`.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import uuid
import weakref
from dataclasses import dataclass
from typing import Any

from stackplan.sim import bdm_requests, identity, lifecycle
from stackplan.sim.bdm_requests import Storage
from stackplan.sim.cinder import attach, schema, volumes
from stackplan.sim.cinder.common import Caller
from stackplan.sim.db import Database
from stackplan.sim.nova_ports import NotRescheduled
from stackplan.sim.options import Context
from stackplan.sim.wire import ApiError, Request

_SCHEMA = """
CREATE TABLE IF NOT EXISTS nova_bdms (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    server_id TEXT NOT NULL,
    source_type TEXT NOT NULL,
    destination_type TEXT,
    image_id TEXT,
    volume_id TEXT,
    attachment_id TEXT,
    device_name TEXT,
    boot_index INTEGER,
    volume_size INTEGER,
    volume_type TEXT,
    delete_on_termination INTEGER NOT NULL,
    tag TEXT,
    due REAL
);
CREATE INDEX IF NOT EXISTS nova_bdms_server ON nova_bdms (server_id);
CREATE INDEX IF NOT EXISTS nova_bdms_volume ON nova_bdms (volume_id);
CREATE INDEX IF NOT EXISTS nova_bdms_due ON nova_bdms (due);
CREATE TABLE IF NOT EXISTS nova_instance_extra (
    server_id TEXT PRIMARY KEY,
    config_drive INTEGER NOT NULL
);
"""
_lock = threading.Lock()
_ready: weakref.WeakSet[Database] = weakref.WeakSet()
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def ready(ctx: Context) -> None:
    """Cinder's tables and Nova's BDM tables; call outside any write transaction."""
    schema.ready(ctx)
    if ctx.db in _ready:
        return
    with _lock:
        if ctx.db in _ready:
            return
        with ctx.db.write() as conn:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
        _ready.add(ctx.db)


def cinder_caller(token: Any) -> Caller:
    """Nova's Cinder client for the request's user."""
    return Caller(token.project_id, token.user_id, identity.is_admin(token))


def _owner(server: sqlite3.Row) -> Caller:
    """The compute host's Cinder calls for a server: as its owner."""
    return Caller(server["project_id"], server["user_id"])


def new_bdm_id() -> str:
    return str(uuid.uuid4())


def client_error(err: ApiError) -> str:
    """str() of cinderclient's exception for Cinder's answer, as Nova quotes it."""
    return f"{err.message} (HTTP {err.status}) (Request-ID: req-{uuid.uuid4()})"


# -- reading ---------------------------------------------------------------------------


def mappings(conn: sqlite3.Connection, server_id: str) -> list[sqlite3.Row]:
    """The server's BDMs in the order they were made."""
    return conn.execute(
        "SELECT * FROM nova_bdms WHERE server_id = ? ORDER BY seq", (server_id,)
    ).fetchall()


def find(conn: sqlite3.Connection, server_id: str, volume_id: str) -> sqlite3.Row | None:
    return conn.execute(
        "SELECT * FROM nova_bdms WHERE server_id = ? AND volume_id = ?", (server_id, volume_id)
    ).fetchone()


def of_volume(conn: sqlite3.Connection, volume_id: str) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT * FROM nova_bdms WHERE volume_id = ? ORDER BY seq", (volume_id,)
    ).fetchall()


def next_device(conn: sqlite3.Connection, server: sqlite3.Row) -> str:
    """libvirt's next free `/dev/vdX`: `vda` is the root disk (local or a volume)."""
    used: set[str] = set()
    if server["image_id"]:
        used.add("vda")
    for row in mappings(conn, server["id"]):
        if row["device_name"]:
            used.add(row["device_name"].removeprefix("/dev/"))
    letter = next((c for c in _LETTERS if f"vd{c}" not in used), "z")
    return f"/dev/vd{letter}"


@dataclass(frozen=True, slots=True)
class Disks:
    """What a server view shows of its disks."""

    volumes: tuple[tuple[str, bool], ...] = ()  # (volume id, delete_on_termination)
    config_drive: bool = False


def of_servers(conn: sqlite3.Connection, server_ids: list[str]) -> dict[str, Disks]:
    """Each server's volumes and config drive; two queries per 500 servers."""
    found: dict[str, list[tuple[str, bool]]] = {}
    drives: set[str] = set()
    for start in range(0, len(server_ids), 500):
        chunk = server_ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        for row in conn.execute(
            "SELECT server_id, volume_id, delete_on_termination FROM nova_bdms"
            f" WHERE server_id IN ({marks}) AND volume_id IS NOT NULL ORDER BY seq",
            tuple(chunk),
        ):
            found.setdefault(row["server_id"], []).append(
                (row["volume_id"], bool(row["delete_on_termination"]))
            )
        drives |= {
            r["server_id"]
            for r in conn.execute(
                f"SELECT server_id FROM nova_instance_extra WHERE server_id IN ({marks})"
                " AND config_drive = 1",
                tuple(chunk),
            )
        }
    return {sid: Disks(tuple(found.get(sid, ())), sid in drives) for sid in server_ids}


def of_server(conn: sqlite3.Connection, server_id: str) -> Disks:
    return of_servers(conn, [server_id])[server_id]


def volumes_attached(req: Request, disks: Disks | None) -> list[dict[str, Any]]:
    """`os-extended-volumes:volumes_attached`: `[{id}]`, from 2.3 with
    `delete_on_termination`."""
    shown = []
    for volume_id, delete in disks.volumes if disks else ():
        entry: dict[str, Any] = {"id": volume_id}
        if req.version >= (2, 3):
            entry["delete_on_termination"] = delete
        shown.append(entry)
    return shown


def config_drive(disks: Disks | None) -> str:
    """Nova's string column: "True", or "" for none."""
    return "True" if disks and disks.config_drive else ""


# -- at create -------------------------------------------------------------------------


def requested(
    ctx: Context, req: Request, server: dict[str, Any], flavor: Any, max_count: int
) -> Storage:
    """The disks a `POST /servers` body asks for (`bdm_requests.parse`); before the
    create's write transaction."""
    ready(ctx)
    return bdm_requests.parse(ctx, req, server, flavor, max_count, cinder_caller(req.token))


def build(
    ctx: Context,
    conn: sqlite3.Connection,
    token: Any,
    server_id: str,
    storage: Storage,
    build_end: float,
    placed: bool,
) -> NotRescheduled | None:
    """Record a new server's disks (inside its create transaction). Reserving a named
    volume is the API's (Nova's 400 if Cinder refuses); creating the others is the
    compute host's, so only when the server got a host (`placed`); Cinder refusing
    then aborts the build (BuildAbortException, never rescheduled): returned."""
    if storage.config_drive:
        conn.execute("INSERT OR REPLACE INTO nova_instance_extra VALUES (?, 1)", (server_id,))
    who = cinder_caller(token)
    taken: set[str] = set() if storage.volume_backed else {"vda"}
    rows: list[dict[str, Any]] = []
    for m in storage.mappings:
        if m.boot_index == 0:
            device = "/dev/vda"
        elif m.device_name:
            device = m.device_name if m.device_name.startswith("/") else f"/dev/{m.device_name}"
        else:
            device = None
        row: dict[str, Any] = {
            "id": new_bdm_id(),
            "source_type": m.source_type,
            "destination_type": m.destination_type,
            "image_id": m.uuid if m.source_type == "image" else None,
            "volume_id": m.uuid if m.source_type == "volume" else None,
            "attachment_id": None,
            "device_name": device,
            "boot_index": m.boot_index,
            "volume_size": m.volume_size,
            "volume_type": m.volume_type,
            "delete_on_termination": int(m.delete_on_termination),
            "tag": m.tag,
            "due": build_end if m.is_volume and placed else None,
        }
        if device:
            taken.add(device.removeprefix("/dev/"))
        if row["volume_id"] is not None:
            try:
                reserved = attach.reserve(ctx, conn, who, row["volume_id"], server_id)
            except ApiError as err:
                message = f"Invalid input received: {client_error(err)}"
                raise ApiError(400, f"Invalid volume: {message}") from None
            row["attachment_id"] = reserved["id"]
        rows.append(row)
    for row in rows:  # the compute host names the devices left without one
        if row["destination_type"] == "volume" and not row["device_name"]:
            letter = next((c for c in _LETTERS if f"vd{c}" not in taken), "z")
            taken.add(f"vd{letter}")
            row["device_name"] = f"/dev/vd{letter}"
    reason = None
    for row in rows:
        if placed and reason is None and row["destination_type"] == "volume":
            reason = _make_volume(ctx, conn, who, server_id, storage, row)
        conn.execute(
            f"INSERT INTO nova_bdms (server_id, {', '.join(row)})"
            f" VALUES (?, {', '.join('?' for _ in row)})",
            (server_id, *row.values()),
        )
    return None if reason is None else NotRescheduled(500, reason)


def _make_volume(
    ctx: Context,
    conn: sqlite3.Connection,
    who: Caller,
    server_id: str,
    storage: Storage,
    row: dict[str, Any],
) -> str | None:
    """The compute host's `volume_api.create` for an image or blank source; Cinder's
    refusal as the build's fault reason."""
    if row["source_type"] not in ("image", "blank"):
        return None
    image = None
    if row["source_type"] == "image":
        from stackplan.sim import image_store

        image = image_store.get(ctx, row["image_id"])
    name = "" if row["source_type"] == "image" else f"{server_id}-blank-vol"
    spec = volumes.VolumeSpec(
        size=row["volume_size"],
        name=name,
        description="",
        volume_type=row["volume_type"],
        image=image,
    )
    try:
        volume = volumes.create(ctx, conn, who, spec)
    except ApiError as err:
        row["due"] = None
        if err.status == 413:  # OverQuota(message=...) keeps Cinder's words alone
            return err.message
        return client_error(err)
    row["volume_id"] = volume["id"]
    return None


# -- the compute host, lazily ----------------------------------------------------------


def settle(ctx: Context) -> None:
    """Attach the volumes of servers whose build has ended; release a gone server's."""
    ready(ctx)
    now = ctx.now()
    probe = (
        "SELECT 1 FROM nova_bdms b JOIN servers s ON s.id = b.server_id"
        " WHERE b.due <= ? OR s.gone_at <= ? LIMIT 1"
    )
    if ctx.db.read().execute(probe, (now, now)).fetchone() is None:
        return
    with ctx.db.write() as conn:
        due = conn.execute(
            "SELECT DISTINCT b.server_id FROM nova_bdms b JOIN servers s ON s.id = b.server_id"
            " WHERE b.due <= ? OR s.gone_at <= ?",
            (now, now),
        ).fetchall()
        for (server_id,) in due:
            server = conn.execute("SELECT * FROM servers WHERE id = ?", (server_id,)).fetchone()
            state = lifecycle.settle(server, now)
            if state.gone:
                release(ctx, conn, server)
                continue
            for row in mappings(conn, server_id):
                if row["due"] is not None and row["due"] <= now:
                    _attach_built(ctx, conn, server, state, row)


def _attach_built(
    ctx: Context,
    conn: sqlite3.Connection,
    server: sqlite3.Row,
    state: lifecycle.Settled,
    row: sqlite3.Row,
) -> None:
    if state.vm_state == "building":
        return
    done = "UPDATE nova_bdms SET due = NULL, attachment_id = ? WHERE id = ?"
    if state.vm_state == "error" or row["volume_id"] is None:
        conn.execute(done, (row["attachment_id"], row["id"]))
        return
    who = _owner(server)
    try:
        volume = volumes.load(ctx, conn, who, row["volume_id"], write=True)
    except ApiError:
        conn.execute(done, (row["attachment_id"], row["id"]))
        return
    if volume["status"] == "creating":
        return  # still being made: the host waits for it
    attachment_id = row["attachment_id"]
    try:
        if attachment_id is None:
            attachment_id = attach.reserve(ctx, conn, who, volume["id"], server["id"])["id"]
        attach.complete(ctx, conn, who, attachment_id, row["device_name"], server["host"] or "")
    except ApiError:
        pass  # the volume went to an error state: nothing is attached
    conn.execute(done, (attachment_id, row["id"]))


def release(ctx: Context, conn: sqlite3.Connection, server: sqlite3.Row) -> None:
    """A server's delete has finished: its attachments go, its `delete_on_termination`
    volumes are deleted, and Nova forgets its BDMs."""
    who = _owner(server)
    for row in mappings(conn, server["id"]):
        if row["attachment_id"] is not None:
            with contextlib.suppress(ApiError):  # unless deleted behind Nova's back
                attach.remove_attachment(ctx, conn, who, row["attachment_id"])
        if row["volume_id"] is not None and row["delete_on_termination"]:
            with contextlib.suppress(ApiError):
                volumes.delete(ctx, conn, who, row["volume_id"], force=True)
    conn.execute("DELETE FROM nova_bdms WHERE server_id = ?", (server["id"],))
