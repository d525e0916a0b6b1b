"""Expansion: count and cloud names, references and dependencies, files, outputs, digest."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackplan.addr import Address
from stackplan.errors import SpecError
from stackplan.kinds.keypair import public_key_problem
from stackplan.kinds.server import NOVA_USER_DATA_LIMIT, user_data_problem
from stackplan.plan.render.reports import validate_summary
from stackplan.spec.interpolate import Reference, fill_references, references_in
from stackplan.workflow import SpecInput, validate
from stackplan.workflow import load as load_desired

# Not imported from conftest: several test folders have one, and `import conftest` is ambiguous.
VALID = Path(__file__).resolve().parents[2] / "data" / "specs" / "valid"
PUBLIC_KEY = (VALID / "keys" / "deploy.pub").read_text(encoding="utf-8").strip()


def _addresses(desired) -> list[str]:
    return [str(r.address) for r in desired.resources]


def _messages(info: pytest.ExceptionInfo[SpecError]) -> list[str]:
    return [p.render() for p in info.value.problems]


def test_count_expands_to_indexed_addresses_and_names(load) -> None:
    desired = load(
        "servers:\n  web: {count: 3, image: i, flavor: f}\n  db: {image: i, flavor: f}\n"
    )
    assert _addresses(desired) == ["server.db", "server.web[0]", "server.web[1]", "server.web[2]"]
    assert [r.attrs["name"] for r in desired.resources] == ["db", "web-0", "web-1", "web-2"]


def test_count_zero_makes_no_resource(load) -> None:
    assert load("servers:\n  web: {count: 0, image: i, flavor: f}\n").resources == ()


def test_name_override_with_and_without_count(load) -> None:
    text = """\
    servers:
      a: {name: alpha, image: i, flavor: f}
      b: {name: beta, count: 2, image: i, flavor: f}
      c: {name: "node${count.index}.example", count: 2, image: i, flavor: f}
    """
    names = [r.attrs["name"] for r in load(text).resources]
    assert names == ["alpha", "beta-0", "beta-1", "node0.example", "node1.example"]


def test_server_attributes_are_normalised(load) -> None:
    text = """\
    servers:
      a: {image: cirros, flavor: m1.tiny, security_groups: [web, default, web]}
      b: {image: {id: abc}, flavor: {id: "1"}, metadata: {n: 1, ok: true}, user_data: hi}
      c: {image: {name: u, most_recent: true}, flavor: f, availability_zone: az1,
          image_update: rebuild}
    """
    a, b, c = (dict(r.attrs) for r in load(text).resources)
    assert a == {
        "name": "a",
        "image": {"name": "cirros", "most_recent": False},
        "flavor": {"name": "m1.tiny"},
        "key_name": None,
        "server_group_id": None,
        "networks": None,
        # the cloud's groups, once each, for the resolver to find by name
        "security_groups": [
            {"$ref": "security_group", "name": "web", "$field": "security_groups[0]"},
            {"$ref": "security_group", "name": "default", "$field": "security_groups[1]"},
        ],
        "metadata": {},
        "user_data": None,
        "availability_zone": None,
        "image_update": "replace",
        "volumes": None,
        "boot_volume": None,
        "config_drive": None,
        "tags": None,
    }
    assert (b["image"], b["flavor"], b["metadata"]) == (
        {"id": "abc"},
        {"id": "1"},
        {"n": "1", "ok": "true"},
    )
    # Issue 10, point 18: groups nobody wrote are the cloud's choice, never enforced.
    assert b["security_groups"] is None and b["user_data"] == "hi"
    assert c["image"] == {"name": "u", "most_recent": True}
    assert (c["availability_zone"], c["image_update"]) == ("az1", "rebuild")


def test_resources_are_sorted_and_know_where_they_were_written(load) -> None:
    text = "servers:\n  zed: {image: i, flavor: f}\n  abc: {image: i, flavor: f}\n"
    desired = load(text)
    assert _addresses(desired) == ["server.abc", "server.zed"]
    assert [r.where for r in desired.resources] == ["spec.yaml:3:3", "spec.yaml:2:3"]


def test_key_pair_of_the_spec_is_a_dependency_and_a_reference_to_its_name(load, write) -> None:
    write("keys/deploy.pub", PUBLIC_KEY + "\n")
    text = """\
    keypairs:
      deploy: {name: deploy-key, public_key_file: keys/deploy.pub}
    servers:
      a: {image: i, flavor: f, key_pair: deploy}
      b: {image: i, flavor: f, key_pair: "${keypair.deploy.name}"}
      c: {image: i, flavor: f, key_pair: someone-elses}
    """
    by = load(text).by_address()
    keypair = by[Address("keypair", "deploy")]
    assert dict(keypair.attrs) == {"name": "deploy-key", "public_key": PUBLIC_KEY}
    for name in ("a", "b"):
        server = by[Address("server", name)]
        # The keypair's cloud name (deploy-key) is filled in by the diff and at apply.
        assert server.attrs["key_name"] == "${keypair.deploy.name}"
        assert server.depends_on == (Address("keypair", "deploy"),)
    # Not the spec's: the cloud's keypair of that name, for the resolver to find.
    expected = {"$ref": "keypair", "name": "someone-elses", "$field": "key_pair"}
    assert by[Address("server", "c")].attrs["key_name"] == expected
    assert by[Address("server", "c")].depends_on == ()


def test_references_stay_as_text_and_add_dependencies(load) -> None:
    text = """\
    servers:
      db: {image: i, flavor: f}
      web:
        count: 2
        image: i
        flavor: f
        metadata: {db: "${server.db.access_ip_v4}", me: "web-${count.index}"}
        user_data: "#!/bin/sh\\necho ${server.db.id} $${HOME}\\n"
      lb:
        image: i
        flavor: f
        depends_on: [server.web]
    """
    by = load(text).by_address()
    web0 = by[Address("server", "web", 0)]
    assert web0.attrs["metadata"] == {"db": "${server.db.access_ip_v4}", "me": "web-0"}
    assert web0.attrs["user_data"] == "#!/bin/sh\necho ${server.db.id} $${HOME}\n"
    assert web0.depends_on == (Address("server", "db"),)
    lb = by[Address("server", "lb")]
    assert lb.depends_on == (Address("server", "web", 0), Address("server", "web", 1))


def test_depends_on_one_instance(load) -> None:
    text = """\
    servers:
      web: {count: 2, image: i, flavor: f}
      lb: {image: i, flavor: f, depends_on: ["server.web[1]"]}
    """
    assert load(text).by_address()[Address("server", "lb")].depends_on == (
        Address("server", "web", 1),
    )


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ("${server.dbb.id}", "no resource server.dbb (did you mean 'server.db'?)"),
        ("${server.db.ip_address}", "server has no attribute 'ip_address'"),
        ("${server.db.access_ipv4}", "(did you mean 'access_ip_v4'?)"),
        ("${server.db[0].id}", "server.db has no count"),
        ("${server.web.id}", "server.web has count; name one instance as server.web[INDEX]"),
        ("${server.web[2].id}", "server.web[2] does not exist: server.web has count 2"),
        ("${server.web[*].id}", "[*] is only allowed in outputs"),
        ("${volume.v.id}", "no resource volume.v"),
        ("${server.db}", "cannot understand '${server.db}'"),
    ],
)
def test_bad_references(load, metadata: str, expected: str) -> None:
    text = f"""\
    servers:
      db: {{image: i, flavor: f}}
      web: {{count: 2, image: i, flavor: f}}
      app: {{image: i, flavor: f, metadata: {{x: "{metadata}"}}}}
    """
    with pytest.raises(SpecError) as info:
        load(text)
    (message,) = _messages(info)
    assert message.startswith("spec.yaml:4:") and expected in message, message


def test_references_are_refused_where_names_are_needed_at_plan_time(load) -> None:
    text = "servers:\n  db: {image: i, flavor: f}\n  w: {image: i, flavor: '${server.db.id}'}\n"
    with pytest.raises(SpecError, match="references are only allowed in metadata, user_data"):
        load(text)


def test_cycle_names_every_member(load) -> None:
    text = """\
    servers:
      a: {image: i, flavor: f, depends_on: [server.b]}
      b: {image: i, flavor: f, metadata: {c: "${server.c.id}"}}
      c: {image: i, flavor: f, depends_on: [server.a]}
      d: {image: i, flavor: f, depends_on: [server.a]}
    """
    with pytest.raises(SpecError) as info:
        load(text)
    (message,) = _messages(info)
    assert (
        message
        == "spec.yaml:2:3: servers.a: dependency cycle between server.a, server.b and server.c"
    )


def test_outputs_are_checked_and_kept_as_expressions(load) -> None:
    text = """\
    variables: {label: web}
    servers:
      web: {count: 2, image: i, flavor: f}
      db: {image: i, flavor: f}
    outputs:
      ids: ${server.web[*].id}
      db: {value: "${server.db.access_ip_v4}", description: the db}
      first: "${var.label}: ${server.web[0].access_ip_v4}"
    """
    assert dict(load(text).outputs) == {
        "ids": "${server.web[*].id}",
        "db": "${server.db.access_ip_v4}",
        "first": "web: ${server.web[0].access_ip_v4}",
    }


def test_outputs_referencing_unknown_resources(load) -> None:
    text = "servers:\n  web: {image: i, flavor: f}\noutputs:\n  x: ${server.wbe.id}\n"
    with pytest.raises(SpecError, match=r"spec.yaml:4:6: outputs.x: .*did you mean 'server.web'"):
        load(text)


def test_files_are_read_relative_to_the_spec(tmp_path: Path, write) -> None:
    write("project/keys/k.pub", PUBLIC_KEY)
    write("project/init/web.sh", "#!/bin/sh\necho ${HOME}\n")
    spec = write(
        "project/stack.yaml",
        "keypairs: {k: {public_key_file: keys/k.pub}}\n"
        "servers: {w: {image: i, flavor: f, user_data_file: init/web.sh}}\n",
    )
    desired = load_desired(SpecInput(spec, env={}))
    by = desired.by_address()
    assert by[Address("keypair", "k")].attrs["public_key"] == PUBLIC_KEY
    # File contents are taken as they are: ${HOME} is the script's own business.
    assert by[Address("server", "w")].attrs["user_data"] == "#!/bin/sh\necho ${HOME}\n"
    assert desired.stack == "stack" and desired.spec_path == spec


def test_missing_files_are_reported_at_the_line_naming_them(load) -> None:
    text = """\
    keypairs: {k: {public_key_file: keys/none.pub}}
    servers:
      w: {image: i, flavor: f, user_data_file: nothing.sh}
    """
    with pytest.raises(SpecError) as info:
        load(text)
    first, second = _messages(info)
    assert first.startswith("spec.yaml:1:33: keypairs.k.public_key_file: file 'keys/none.pub'")
    assert second.startswith("spec.yaml:3:44: servers.w.user_data_file: file 'nothing.sh'")


def test_user_data_over_novas_limit(load, write) -> None:
    write("big.sh", "x" * 49152)  # exactly 65536 bytes once base64-encoded
    write("ok.sh", "x" * 49149)  # 65532
    text = "servers:\n  a: {image: i, flavor: f, user_data_file: big.sh}\n"
    with pytest.raises(SpecError, match="user data is 65536 bytes once base64-encoded"):
        load(text)
    assert load(text.replace("big.sh", "ok.sh")).resources


def test_public_key_checks() -> None:
    assert public_key_problem(PUBLIC_KEY) is None
    assert public_key_problem("ssh-rsa AAAA") is not None  # damaged blob
    assert "does not look like" in public_key_problem("hello world")
    assert "private key" in public_key_problem("-----BEGIN OPENSSH PRIVATE KEY-----\nabc")
    assert "does not match its type" in public_key_problem("ssh-rsa " + PUBLIC_KEY.split()[1])
    assert user_data_problem("x" * 10) is None
    assert NOVA_USER_DATA_LIMIT == 65535


def test_digest_changes_with_a_variable_or_a_file(load, write) -> None:
    text = """\
    variables: {n: 1}
    keypairs: {k: {public_key_file: k.pub}}
    servers: {w: {count: "${var.n}", image: i, flavor: f, user_data_file: u.sh}}
    """
    write("k.pub", PUBLIC_KEY)
    write("u.sh", "one")
    base = load(text).digest
    assert load(text).digest == base
    assert load(text, vars=("n=2",)).digest != base
    write("u.sh", "two")
    changed = load(text).digest
    assert changed != base
    write("k.pub", PUBLIC_KEY + " other-comment")
    assert load(text).digest != changed


def test_lifecycle_uses_attribute_names(load) -> None:
    text = """\
    servers:
      w:
        image: i
        flavor: f
        lifecycle: {prevent_destroy: true, ignore_changes: [key_pair, metadata, key_pair]}
    """
    (server,) = load(text).resources
    assert server.lifecycle.prevent_destroy is True
    assert server.lifecycle.ignore_changes == ("key_name", "metadata")


def test_the_valid_example_validates() -> None:
    result = validate(SpecInput(VALID / "web.yaml", env={}))
    assert (
        validate_summary(result.desired, result.online)
        == f"Spec {VALID / 'web.yaml'} is valid: 3 servers, 1 keypair."
    )


def test_interpolation_helpers() -> None:
    text = "a ${server.db.id} b ${server.web[1].name} $${x}"
    assert references_in(text) == (
        Reference("server", "db", None, "id"),
        Reference("server", "web", 1, "name"),
    )
    assert fill_references(text, lambda ref: ref.attr.upper()) == "a ID b NAME ${x}"
