#!/usr/bin/env bash
# stackplan as users install it: build the wheel, install it into a fresh virtual
# environment, and run the demo (plan, apply, destroy on the embedded cloud) from there,
# away from the checkout so that only the installed package can be imported.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
python=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$root/.venv/bin/python" -m pip wheel --quiet --no-deps --wheel-dir "$work/dist" "$root"
"$root/.venv/bin/python" - "$work"/dist/stackplan-*.whl <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
missing = [n for n in ("state", "plan", "stackplan") if f"stackplan/schemas/{n}.schema.json" not in names]
sys.exit(f"the wheel lacks the schemas {missing}" if missing else 0)
PY
"$python" -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "$work"/dist/stackplan-*.whl
cd "$work"
"$work/venv/bin/stackplan" --version
PATH="$work/venv/bin:$PATH" bash "$root/examples/demo.sh"
echo "== the installed wheel ran the demo"
