#!/usr/bin/env bash
# The main job on the embedded cloud: start it, then for examples/web and examples/three-tier
# plan and apply, print the outputs, show that a second plan has nothing to do, destroy it
# all; stop the cloud.
# Run by `make demo`; needs `stackplan` on PATH (the Makefile puts .venv/bin there).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

stackplan sim serve --port 0 --db "$work/cloud.sqlite" --build-seconds 2 >"$work/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 100); do
  url=$(sed -n 's/^stackplan sim listening on //p' "$work/sim.log")
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "${url:-}" ] || { echo "the embedded cloud did not start:"; cat "$work/sim.log"; exit 1; }
port=${url##*:}
echo "== Embedded OpenStack cloud at $url"
eval "$(stackplan sim env --port "$port")"

cd "$here/web"
state="$work/web.json"
echo "== stackplan plan"
stackplan plan --state "$state"
echo "== stackplan apply --auto-approve"
stackplan apply --auto-approve --state "$state"
echo "== stackplan output"
stackplan output --state "$state"
echo "== stackplan plan --detailed-exitcode (the cloud now matches the spec)"
stackplan plan --state "$state" --detailed-exitcode
echo "== stackplan destroy --auto-approve"
stackplan destroy --auto-approve --state "$state"

cd "$here/three-tier"
state="$work/three-tier.json"
echo "== three tiers: stackplan plan"
stackplan plan --state "$state"
echo "== three tiers: stackplan apply --auto-approve"
stackplan apply --auto-approve --state "$state"
echo "== three tiers: stackplan output"
stackplan output --state "$state"
echo "== three tiers: stackplan plan --detailed-exitcode (the cloud now matches the spec)"
stackplan plan --state "$state" --detailed-exitcode
echo "== three tiers: stackplan destroy --auto-approve"
stackplan destroy --auto-approve --state "$state"
echo "== Done; stopping the embedded cloud."
