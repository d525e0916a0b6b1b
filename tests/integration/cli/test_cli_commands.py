"""Every other command once, as a user strings them together: output, show, graph,
refresh, state list | show | mv | rm | pull | push | unlock, import, plan --target and
--replace, apply refused without approval, security groups changed in place."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap

from tests.integration.cli.conftest import Stack

SPEC = """\
stack: tools
keypairs:
  deploy:
    public_key_file: keys/deploy.pub
servers:
  web:
    count: {count}
    image: cirros-0.6.2-x86_64-disk
    flavor: m1.tiny
    key_pair: deploy
    security_groups: {groups}
    metadata: {{role: web}}
  {db}:
    name: db
    image: cirros-0.6.2-x86_64-disk
    flavor: m1.tiny
{more}outputs:
  web_ids: ${{server.web[*].id}}
  db_id: ${{server.{db}.id}}
"""


def _spec(count: int = 2, groups: str = "[default]", db: str = "db", more: str = "") -> str:
    return SPEC.format(count=count, groups=groups, db=db, more=more)


def test_outputs_show_graph_refresh_and_no_approval(stack: Stack) -> None:
    cli, cloud = stack.cli, stack.cloud
    stack.write_spec(_spec())
    cli("apply", "--auto-approve")
    servers = cloud.by_name()
    web_ids = [servers["web-0"]["id"], servers["web-1"]["id"]]

    # apply with no terminal and no --auto-approve: the plan is shown, nothing is done
    stack.write_spec(_spec(count=3))
    result = cli("apply", rc=1)
    assert "Plan: 1 to add" in result.stdout
    assert "apply needs approval and there is no terminal to ask on" in result.stderr
    assert "--auto-approve" in result.stderr
    assert sorted(cloud.by_name()) == ["db", "web-0", "web-1"]
    stack.write_spec(_spec())

    # output, all and one
    out = cli("output").stdout
    assert f'db_id = "{servers["db"]["id"]}"' in out
    assert f"web_ids = {json.dumps(web_ids)}" in out
    assert json.loads(cli("output", "web_ids", "--json").stdout) == web_ids
    assert cli("output", "db_id").stdout.strip() == servers["db"]["id"]
    result = cli("output", "nope", rc=1)
    assert "no output named 'nope'" in result.stderr and "db_id, web_ids" in result.stderr

    # show: the state's resources with their cloud IDs
    shown = cli("show").stdout
    for name, address in (("web-0", "server.web[0]"), ("db", "server.db")):
        assert f"# {address}\n" in shown
        assert f'"id": "{servers[name]["id"]}"' in shown
    assert "# keypair.deploy" in shown

    # graph: DOT with an edge from each web server to the keypair it needs
    dot = cli("graph").stdout
    assert dot.startswith("digraph stackplan {")
    assert '"server.web[0]" -> "keypair.deploy";' in dot
    assert '"server.web[1]" -> "keypair.deploy";' in dot
    assert '"server.db";' in dot

    # refresh: a rename made outside is taken into the state, the cloud left alone
    db_id = servers["db"]["id"]
    resp = cloud.http.put(
        f"{cloud.url}/compute/v2.1/servers/{db_id}",
        json={"server": {"name": "db-outside"}},
        timeout=10,
    )
    assert resp.status_code == 200, resp.text
    result = cli("refresh")
    assert "server.db: attributes updated from the cloud" in result.stdout
    assert "Refresh complete: 4 resources in the state." in result.stdout
    records = {r["address"]: r for r in json.loads(stack.state.read_text())["resources"]}
    assert records["server.db"]["attributes"]["name"] == "db-outside"
    assert cloud.server(db_id)["name"] == "db-outside"
    result = cli("plan", "--detailed-exitcode", rc=2)
    assert '~ name: "db-outside" → "db"' in result.stdout
    assert "changed outside stackplan" not in result.stdout  # the state knows it now


def test_state_commands_import_target_and_replace(stack: Stack) -> None:
    cli, cloud = stack.cli, stack.cloud
    stack.write_spec(_spec())
    cli("apply", "--auto-approve")
    ids = {n: s["id"] for n, s in cloud.by_name().items()}

    listed = cli("state", "list").stdout.splitlines()
    assert listed == [
        "keypair.deploy  deploy",
        f"server.db  {ids['db']}",
        f"server.web[0]  {ids['web-0']}",
        f"server.web[1]  {ids['web-1']}",
    ]
    record = json.loads(cli("state", "show", "server.web[1]").stdout)
    assert (record["id"], record["attributes"]["name"]) == (ids["web-1"], "web-1")
    assert record["dependencies"] == ["keypair.deploy"]

    # state mv after renaming the resource in the spec: nothing to do in the cloud
    stack.write_spec(_spec(db="database"))
    cli("state", "mv", "server.db", "server.database")
    cli("plan", "--detailed-exitcode")

    # state rm forgets a server (the cloud keeps it, and the spec still has it: the next
    # plan finds it by its tag and adopts it back, as state rm says); push restores it
    pulled = cli("state", "pull").stdout
    result = cli("state", "rm", "server.web[1]")
    assert "the next plan adopts it again" in result.stdout
    assert ids["web-1"] in {s["id"] for s in cloud.servers()}
    result = cli("plan", "--detailed-exitcode", rc=2)
    assert "~ server.web[1] (adopted" in result.stdout
    assert f"id: {ids['web-1']}" in result.stdout
    stale = stack.dir / "stale.json"
    stale.write_text(pulled, encoding="utf-8")
    result = cli("state", "push", str(stale), rc=1)
    assert "older than the current state" in result.stderr
    current = json.loads(cli("state", "pull").stdout)
    current["resources"] = json.loads(pulled)["resources"]
    edited = stack.dir / "edited.json"
    edited.write_text(json.dumps(current), encoding="utf-8")
    result = cli("state", "push", str(edited))
    assert f"serial {current['serial'] + 1}" in result.stdout
    cli("plan", "--detailed-exitcode")

    # import a server made with the openstack client: no replacement planned
    more = textwrap.indent(
        textwrap.dedent("""\
        extra:
          image: cirros-0.6.2-x86_64-disk
          flavor: m1.tiny
          key_pair: deploy
        """),
        "  ",
    )
    stack.write_spec(_spec(db="database", more=more))
    # (no --wait: the client polls every 5 s; the sim builds in 0.3 s)
    made = stack.openstack(
        "server",
        "create",
        "--image",
        "cirros-0.6.2-x86_64-disk",
        "--flavor",
        "m1.tiny",
        "--key-name",
        "deploy",
        "-f",
        "value",
        "-c",
        "id",
        "extra",
    ).strip()
    stack.wait_for(made, "ACTIVE")
    result = cli("import", "server.extra", made)
    assert f"server.extra: imported [id={made}]" in result.stdout
    result = cli("plan")
    assert "server.extra" not in result.stdout, result.stdout  # matches the spec already
    assert "No changes" in result.stdout

    # plan --target covers the target and what it needs; --replace forces a replacement
    stack.write_spec(_spec(count=3, db="database", more=more))
    result = cli("plan", "--target", "server.database", "--replace", "server.database")
    assert "-/+ server.database" in result.stdout
    assert "--replace" in result.stdout or "replace requested" in result.stdout.lower()
    assert "server.web[2]" not in result.stdout
    assert "Plan: 0 to add, 0 to change, 1 to replace, 0 to destroy." in result.stdout
    result = cli("plan", "--target", "server.web[2]")
    assert "+ server.web[2]" in result.stdout and "server.database" not in result.stdout
    assert "Plan: 1 to add, 0 to change, 0 to replace, 0 to destroy." in result.stdout
    assert cloud.server(ids["db"])["id"] == ids["db"]  # plans change nothing

    # destroy deletes everything the state manages, the imported server too
    cli("destroy", "--auto-approve")
    assert cloud.servers() == [] and cloud.keypairs() == []


HOLD_LOCK = """\
import sys, time
from stackplan.state.local import LocalStateStore
from stackplan.state.store import LockInfo
store = LocalStateStore(sys.argv[1])
print(store.lock(LockInfo.new("apply")), flush=True)
time.sleep(60)
"""


def test_state_unlock_removes_a_lock_left_behind(stack: Stack) -> None:
    stack.write_spec(_spec(count=1))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(stack.state)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        lock_id = holder.stdout.readline().strip()
        assert lock_id, "the holder did not print its lock ID"
        result = stack.cli("plan", rc=1)
        assert f"(pid {holder.pid}) running 'apply'" in result.stderr
        assert f"lock ID {lock_id}" in result.stderr

        result = stack.cli("state", "unlock", "not-the-id", rc=1)
        assert f"the lock on the state is {lock_id}" in result.stderr
        result = stack.cli("state", "unlock", lock_id, rc=1)  # its holder still runs
        assert "held by a run that is still going" in result.stderr
        assert "--force" in result.stderr
        result = stack.cli("state", "unlock", "--force", lock_id)
        assert f"Lock {lock_id} removed." in result.stdout
        assert f"pid {holder.pid}" in result.stderr  # warned: the holder still runs
        assert not stack.state.with_name(stack.state.name + ".lock").exists()
        stack.cli("plan", "--detailed-exitcode", rc=2)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert stack.cloud.servers() == []


def test_security_groups_are_added_and_removed_in_place(stack: Stack) -> None:
    cli, cloud = stack.cli, stack.cloud
    stack.openstack("security", "group", "create", "web")  # the cloud's, not the spec's
    stack.write_spec(_spec(count=1))
    cli("apply", "--auto-approve")
    web = cloud.by_name()["web-0"]["id"]
    for groups, want in (("[default, web]", ["default", "web"]), ("[web]", ["web"])):
        stack.write_spec(_spec(count=1, groups=groups))
        result = cli("apply", "--auto-approve")
        assert "~ server.web[0] (update in place)" in result.stdout
        assert "Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy." in result.stdout
        server = cloud.server(web)
        assert sorted(g["name"] for g in server["security_groups"]) == want
    cli("plan", "--detailed-exitcode")
