"""Shared helpers of the reliability proofs (crash.py, canary.py, mutate.py).

Python 3.11 standard library only (mutate.py also uses PyYAML from .peers/venv). Every proof
works in a private scratch directory (mktemp -d style) that it removes at the end, runs
gitseal and the peers with a scrubbed environment (no key, config or editor of the machine
leaks in), and prints markdown tables to stdout; progress goes to stderr.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository (where Cargo.toml is)."""

DEMO_KEY = ROOT / "keys/testdata/demo-age-key.txt"
OTHER_KEY = ROOT / "keys/testdata/other-age-key.txt"
DEMO_RECIPIENT = "age1sv4edj3t7tzg9cmf4c0325u5yntlhs9smnqkxajq5xsrs09tlfqq60yt0d"
OTHER_RECIPIENT = "age1ts7974g6kt9rxzh65r8z636p9ypefh9u5365p2uuzll2hfnx3gusyddl7z"
SEALING = ROOT / "keys/testdata/sealing"

# Variables that could point sops or gitseal at keys, config or an editor outside the proof.
SCRUBBED = [
    "SOPS_AGE_KEY", "SOPS_AGE_KEY_FILE", "SOPS_AGE_KEY_CMD", "SOPS_AGE_RECIPIENTS",
    "SOPS_AGE_SSH_PRIVATE_KEY_FILE", "SOPS_AGE_SSH_PRIVATE_KEY_CMD", "SOPS_CONFIG", "SOPS_PGP_FP",
    "SOPS_KMS_ARN", "SOPS_GCP_KMS_IDS", "SOPS_AZURE_KEYVAULT_URLS", "SOPS_VAULT_URIS",
    "SOPS_HUAWEICLOUD_KMS_IDS", "SOPS_DECRYPTION_ORDER", "SOPS_KEYSERVICE", "SOPS_EDITOR",
    "EDITOR", "VISUAL", "GITSEAL_RSA_CERTS", "GITSEAL_RSA_PRIVATE_KEYS", "SEALED_SECRETS_CERT",
    "RUST_BACKTRACE", "RUST_LOG", "XDG_RUNTIME_DIR", "TMPDIR",
]


def log(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


def gitseal_bin() -> Path:
    """`$GITSEAL` (a path), else the release build in /work/target-rel, else target/release,
    else target/debug."""
    env = os.environ.get("GITSEAL")
    candidates = [Path(env)] if env else [
        Path("/work/target-rel/release/gitseal"),
        ROOT / "target/release/gitseal",
        ROOT / "target/debug/gitseal",
    ]
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return c
    sys.exit("gitseal binary not found: build it (CARGO_TARGET_DIR=/work/target-rel cargo build --release "
             "-p gitseal) or set GITSEAL=/path/to/gitseal")


def find_sops() -> Path | None:
    """`$SOPS`, sops on PATH, or the one scripts/install-peers put into .peers/venv."""
    env = os.environ.get("SOPS")
    if env:
        return Path(env)
    found = shutil.which("sops")
    if found:
        return Path(found)
    venv = ROOT / ".peers/venv/bin/sops"
    return venv if venv.exists() else None


def clean_env(home: Path, **extra: str | os.PathLike) -> dict[str, str]:
    """The environment for gitseal and the peers: no sops/age variables of the machine, an
    empty HOME, and `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env["HOME"] = str(home)
    env["XDG_CONFIG_HOME"] = str(home / ".config")
    env["SOPS_DISABLE_VERSION_CHECK"] = "1"
    env["LC_ALL"] = "C.UTF-8"
    for k, v in extra.items():
        env[k] = str(v)
    return env


class Scratch:
    """A private scratch directory (0700, like mktemp -d), removed on exit."""

    def __init__(self, prefix: str):
        # SIGTERM ends the proof through __exit__, so the scratch directory is still removed.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        self.path = Path(tempfile.mkdtemp(prefix=f"gitseal-proof-{prefix}-"))
        os.chmod(self.path, 0o700)
        self.home = self.path / "home"
        self.home.mkdir()

    def __enter__(self) -> "Scratch":
        return self

    def __exit__(self, *exc: object) -> None:
        if os.environ.get("PROOFS_KEEP"):
            log(f"kept {self.path}")
            return
        shutil.rmtree(self.path, ignore_errors=True)

    def sub(self, name: str, mode: int = 0o700) -> Path:
        p = self.path / name
        p.mkdir(parents=True, exist_ok=True)
        os.chmod(p, mode)
        return p


def new_canary() -> str:
    """A value that appears nowhere else: CNRY- and 24 random hex digits."""
    return "CNRY-" + secrets.token_hex(12)


def files_containing(roots: list[Path], needle: bytes, skip: set[Path] = frozenset(),
                     max_size: int = 64 << 20) -> list[Path]:
    """Regular files under `roots` (symlinks not followed) whose bytes contain `needle`,
    except the paths in `skip`. Unreadable entries are ignored."""
    found = []
    for root in roots:
        if not root.exists():
            continue
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            for name in filenames:
                p = Path(dirpath) / name
                if p in skip:
                    continue
                try:
                    st = p.lstat()
                    if not (st.st_mode & 0o170000 == 0o100000) or st.st_size > max_size:
                        continue
                    if needle in p.read_bytes():
                        found.append(p)
                except OSError:
                    continue
    return found


def shared_scan_roots() -> list[Path]:
    """The machine-wide places plaintext could land: /dev/shm and /run/user."""
    return [p for p in (Path("/dev/shm"), Path("/run/user")) if p.exists()]


def median_runtime(run_once, n: int = 7) -> float:
    """Median wall time in seconds of `run_once()` (which runs one command to completion)."""
    times = []
    for _ in range(n):
        t = time.perf_counter()
        run_once()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def md_table(headers: list[str], rows: list[list[object]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in r) + " |")
    return "\n".join(out)


def loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return "?"


def run(argv: list[str], env: dict[str, str], cwd: Path, stdin: bytes | None = None,
        timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=env, cwd=cwd, input=stdin if stdin is not None else b"",
                          capture_output=True, timeout=timeout)


def error_lines(stderr: str) -> list[str]:
    """Non-empty stderr lines that are not hints (a one-line error may carry a hint line)."""
    return [l for l in stderr.splitlines() if l.strip() and not l.strip().lower().startswith("hint")]
