#!/usr/bin/env bash
# Runs the reliability proofs (crash consistency, leak canaries, the differential mutation sweep
# against sops) and writes their markdown tables to stdout, for the README; progress goes to
# stderr. Needs: a gitseal build (release by default: CARGO_TARGET_DIR=/work/target-rel cargo
# build --release -p gitseal, or GITSEAL=/path/to/gitseal), the peers from scripts/install-peers
# (sops and PyYAML in .peers/venv), and root for the full-disk, read-only, run-as-nobody and
# core-dump checks (they are skipped otherwise).
#
#   scripts/proofs/run.sh [--quick]
#
# Environment: MUTANTS (default 100000), MUTATE_MINUTES (default 0 = no limit), MUTATE_STATE (a
# directory to resume the sweep from; default a fresh temp dir), CRASH_RUNS (default 200),
# SEED (default 1). --quick: 20 kills per command, 1000 mutants.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/.peers/venv/bin"
[ -d "$venv" ] && export PATH="$venv:$PATH"
python="python3"
[ -x "$venv/python" ] && python="$venv/python"

mutants="${MUTANTS:-100000}"
runs="${CRASH_RUNS:-200}"
if [ "${1:-}" = "--quick" ]; then
    mutants=1000
    runs=20
fi

work="$(mktemp -d)"
keep=""
trap '[ -n "$keep" ] || rm -rf "$work"' EXIT
state="${MUTATE_STATE:-$work/mutate-state}"

echo "## Reliability proofs"
echo
echo "Run on $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load before: $(cut -d' ' -f1-3 /proc/loadavg)."
echo

status=0
"$python" "$here/crash.py" --runs "$runs" --sops-runs "$runs" --seed "${SEED:-1}" || status=1
"$python" "$here/canary.py" || status=1
if ! "$python" "$here/mutate.py" --count "$mutants" --seed "${SEED:-1}" --workers 2 --state "$state" \
    --minutes "${MUTATE_MINUTES:-0}"; then
    status=1
    keep=1 # the mutants that show a bug are in $state/bugs
    echo "kept $state (mutants that show a bug are in bugs/)" >&2
fi
exit "$status"
