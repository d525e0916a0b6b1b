#!/usr/bin/env bash
# `make conformance`: the real-OpenStack harness (../shared/openstack, read-only: wrapped,
# never changed) installed into HARNESS_HOME, started from empty databases, tests/real run
# against it with the project's venv, and the harness stopped again whatever happened.
#   HARNESS_DIR   the harness's scripts (default: ../shared/openstack beside this repo,
#                 else /work/shared/openstack)
#   HARNESS_HOME  its venvs, config, databases, logs (default: .openstack, git-ignored)
#   CONFORMANCE_KEEP=1  keep the data of the last run (no --reset: a faster start)
#   extra arguments go to pytest, e.g. `tests/real/run.sh -k network`
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
# The harness beside the clone (../shared/openstack), else the workplace's copy.
if [ -z "${HARNESS_DIR:-}" ]; then
    for dir in "$ROOT/../shared/openstack" /work/shared/openstack; do
        [ -x "$dir/start-all.sh" ] && HARNESS_DIR="$dir" && break
    done
fi
if [ -z "${HARNESS_DIR:-}" ] || [ ! -x "$HARNESS_DIR/start-all.sh" ]; then
    echo "conformance: no harness found; set HARNESS_DIR to the folder of start-all.sh" >&2
    exit 1
fi
HARNESS_DIR="$(cd "$HARNESS_DIR" && pwd)"
export HARNESS_DIR
export HARNESS_HOME="${HARNESS_HOME:-$ROOT/.openstack}"
mkdir -p "$HARNESS_HOME/logs" "$HARNESS_HOME/tmp"
LOG="$HARNESS_HOME/logs/conformance.log"
: > "$LOG"
now() { date +%s; }
say() { echo "conformance: $*"; echo "$(date -Is) $*" >> "$LOG"; }

# Install: the apt parts first (one dpkg at a time), then the venvs side by side. Each
# part is skipped when it is there already, so a second run costs nothing here.
t0=$(now)
"$HARNESS_DIR/install.sh" rabbitmq mariadb >> "$LOG" 2>&1
pids=()
for part in keystone clients nova neutron cinder; do
    "$HARNESS_DIR/install.sh" "$part" > "$HARNESS_HOME/logs/install-$part.log" 2>&1 &
    pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
if [ "$failed" != 0 ]; then
    tail -n 20 "$HARNESS_HOME"/logs/install-*.log >&2
    say "install failed (logs in $HARNESS_HOME/logs/install-*.log)"
    exit 1
fi
t_install=$(( $(now) - t0 ))
say "harness installed in ${t_install}s"

stop() {
    local t=$(now)
    "$HARNESS_DIR/stop-all.sh" >> "$LOG" 2>&1 || true
    say "harness stopped in $(( $(now) - t ))s"
}
trap stop EXIT
trap 'exit 130' INT TERM

t0=$(now)
reset=(--reset)
[ "${CONFORMANCE_KEEP:-}" = 1 ] && reset=()
if ! "$HARNESS_DIR/start-all.sh" "${reset[@]}" neutron cinder >> "$LOG" 2>&1; then
    tail -n 30 "$LOG" >&2
    say "the harness did not start (see $HARNESS_HOME/logs)"
    exit 1
fi
if ! .venv/bin/python -m tests.real.ready >> "$LOG" 2>&1; then
    tail -n 5 "$LOG" >&2
    say "the harness started but Neutron never listed \`public\` to demo"
    exit 1
fi
t_start=$(( $(now) - t0 ))
say "harness started in ${t_start}s"

# Two groups side by side: what uses Nova (RegionOne; Placement on SQLite likes one writer)
# and what uses only Neutron and Cinder (RegionTwo; the tests that count everything a
# project holds work in projects of their own). A new test file goes to the first group.
TWO=(tests/real/test_real_network.py tests/real/test_real_network_races.py
     tests/real/test_real_chaos.py)
ONE=()
for f in tests/real/test_*.py; do
    [[ " ${TWO[*]} " == *" $f "* ]] || ONE+=("$f")
done
t0=$(now)
pids=()
for group in ONE TWO; do
    declare -n files=$group
    STACKPLAN_REAL=1 .venv/bin/python -m pytest -q -p no:cacheprovider \
        --basetemp="$HARNESS_HOME/tmp/$group" "${files[@]}" "$@" \
        > "$HARNESS_HOME/logs/conformance-$group.log" 2>&1 &
    pids+=($!)
    unset -n files
done
rc=0
for i in 0 1; do
    code=0
    wait "${pids[$i]}" || code=$?
    [ "$code" = 5 ] && code=0  # `-k` left a group nothing to run
    [ "$code" != 0 ] && rc=$code
done
for group in ONE TWO; do
    echo "----- tests/real, group $group"
    cat "$HARNESS_HOME/logs/conformance-$group.log"
done
t_tests=$(( $(now) - t0 ))
say "tests/real: exit $rc in ${t_tests}s (install ${t_install}s, start ${t_start}s)"
exit "$rc"
