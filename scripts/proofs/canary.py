#!/usr/bin/env python3
"""Leak canaries: every command through every error path we can reach, with a random canary
in every secret value, must never show the canary: not on stderr, not on stdout of a failed
run, not in a panic message, not in a file left behind (the work directory, $TMPDIR, /dev/shm,
/run/user), not in debug output (each case runs three times: plain, RUST_BACKTRACE=1, and
RUST_BACKTRACE=full with RUST_LOG=trace).

Cases are of two kinds:
- strict: the canary is file content, standard input, or a value that is secret by its nature
  (a `set` value); it must never appear. A hit is a leak (exit code 1 at the end).
- argument: the canary is typed as a file name, a tree path or the value of an unrelated flag;
  an error that quotes what the user typed is usual (and naming the file is required), so a hit
  is only reported.

Then: are core dumps disabled while plaintext is held? The editor of `edit` and the commands of
`exec-env` and `exec-file` read /proc/$PPID/limits (RLIMIT_CORE) of the running gitseal, and,
with gitseal run as `nobody`, the owner of /proc/$PPID (root when the process is not dumpable,
PR_SET_DUMPABLE 0).

Usage: scripts/proofs/canary.py [--only WORD]
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    DEMO_KEY, DEMO_RECIPIENT, OTHER_KEY, OTHER_RECIPIENT, SEALING, Scratch, clean_env, error_lines,
    files_containing, gitseal_bin, loadavg, log, md_table, new_canary, shared_scan_roots,
)

GITSEAL = gitseal_bin()

ENV_VARIANTS = {
    "plain": {},
    "RUST_BACKTRACE=1": {"RUST_BACKTRACE": "1"},
    "RUST_BACKTRACE=full RUST_LOG=trace": {"RUST_BACKTRACE": "full", "RUST_LOG": "trace"},
}


@dataclass
class Case:
    group: str  # the command, for the summary
    name: str
    args: list[str]
    stdin: bytes = b""
    env: dict[str, str] = field(default_factory=dict)
    key: str = "demo"  # demo, other, none
    strict: bool = True
    must_fail: bool = True
    stdout_strict: bool = False  # stdout must not show the canary even on success


def needles(canary: str) -> list[bytes]:
    """The canary, and the base64 of the values that start with it at the three alignments."""
    c = canary.encode()
    out = [c]
    for pad in (b"", b"x", b"xy"):
        enc = base64.b64encode(pad + c)
        skip = {0: 0, 1: 4, 2: 4}[len(pad)]
        out.append(enc[skip:skip + 16])
    return out


def found(data: bytes, canary: str) -> bool:
    low = data.lower()
    return any(n.lower() in low for n in needles(canary))


class Canary:
    def __init__(self, scratch: Scratch):
        self.s = scratch
        self.c = new_canary()
        self.work = scratch.sub("work")
        self.tmp = scratch.sub("tmp")
        self.aux = scratch.sub("aux")
        self.env = clean_env(scratch.home, TMPDIR=self.tmp)
        self.files: dict[str, bytes] = {}
        self.content_files: set[str] = set()  # files that hold the canary by design

    def gs(self, args: list[str], stdin: bytes = b"", key: Path | None = DEMO_KEY) -> bytes:
        env = dict(self.env)
        if key:
            env["SOPS_AGE_KEY_FILE"] = str(key)
        out = subprocess.run([str(GITSEAL), *args], cwd=self.work, env=env, input=stdin, capture_output=True)
        if out.returncode != 0:
            sys.exit(f"setup: gitseal {args}: {out.stderr.decode(errors='replace')}")
        return out.stdout

    def add(self, name: str, data: bytes | str, content: bool = False) -> None:
        self.files[name] = data.encode() if isinstance(data, str) else data
        if content:
            self.content_files.add(name)

    def fixtures(self) -> None:
        c = self.c
        self.add("plain.yaml", f"db:\n  user: admin\n  password: {c}-pw\nlist:\n  - {c}-item\n  - two\n"
                               f"note_unencrypted: visible\n", True)
        self.add("plain.json", f'{{\n  "db": {{"password": "{c}-pw"}},\n  "list": ["{c}-item"]\n}}\n', True)
        self.add("plain.env", f"PASSWORD={c}-pw\nUSER=admin\n", True)
        self.add("plain.ini", f"[db]\npassword = {c}-pw\nuser = admin\n", True)
        self.add("flat.yaml", f"PASSWORD: {c}-pw\nUSER: admin\n", True)
        for ext in ("yaml", "json", "env", "ini"):
            (self.work / f"plain.{ext}").write_bytes(self.files[f"plain.{ext}"])
            self.add(f"s.{ext}", self.gs(["encrypt", "--age", DEMO_RECIPIENT, f"plain.{ext}"]))
        (self.work / "flat.yaml").write_bytes(self.files["flat.yaml"])
        self.add("flat.enc.yaml", self.gs(["encrypt", "--age", DEMO_RECIPIENT, "flat.yaml"]))
        enc = self.files["s.yaml"].decode()
        lines = enc.split("\n")
        pw = next(i for i, l in enumerate(lines) if l.strip().startswith("password: ENC["))
        user = next(i for i, l in enumerate(lines) if l.strip().startswith("user: ENC["))
        flipped = list(lines)
        at = flipped[pw].index("data:") + 5
        flipped[pw] = flipped[pw][:at] + ("A" if flipped[pw][at] != "A" else "B") + flipped[pw][at + 1:]
        self.add("flipped.yaml", "\n".join(flipped))
        swapped = list(lines)
        e = lambda l: l[l.index("ENC["):l.index("]", l.index("ENC[")) + 1]  # noqa: E731
        swapped[pw], swapped[user] = swapped[pw].replace(e(lines[pw]), e(lines[user])), \
            swapped[user].replace(e(lines[user]), e(lines[pw]))
        self.add("swapped.yaml", "\n".join(swapped))
        self.add("badmac.yaml", enc.replace("note_unencrypted: visible", "note_unencrypted: changed"))
        self.add("nomac.yaml", "\n".join(l for l in lines if not l.strip().startswith("mac:")))
        for frac in (0.3, 0.6, 0.9, 0.99):
            self.add(f"trunc{int(frac * 100)}.yaml", enc[:int(len(enc) * frac)])
        # Plaintext that does not parse, with the canary right where the parser stops.
        self.add("bad1.yaml", f'password: "{c}-pw\nother: [\n', True)
        self.add("bad2.yaml", f"db:\n\tpassword: {c}-pw\n", True)
        self.add("bad3.yaml", f"password: {c}-pw\n  nested: {c}-x\n", True)
        self.add("dup.yaml", f"password: {c}-1\npassword: {c}-2\n", True)
        self.add("bad.json", f'{{"password": "{c}-pw",}}', True)
        self.add("bad2.json", f'{{"password": "{c}-pw\\q"}}', True)
        self.add("bad.env", f"{c}-pw\n", True)
        self.add("bad.ini", f"[{c}-pw\npassword = {c}-pw\n", True)
        self.add("badutf8.yaml", b"password: " + c.encode() + b"-\xff\xfe\n", True)
        self.add("value.json", f'{{"a": "{c}-v"', True)
        self.add("secret.yaml", f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\n"
                                f"stringData:\n  password: {c}-pw\n", True)
        self.add("badb64.yaml", f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\n"
                                f"data:\n  password: {c}-pw!!\n", True)
        self.add("badsecret.yaml", f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n"
                                   f"  password: [{c}-pw\n", True)
        self.add("configmap.yaml", f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: db\ndata:\n"
                                   f"  password: {c}-pw\n", True)
        sealed = self.gs(["seal", "--cert", str(SEALING / "test-cert.pem"), "-o", "yaml", "-f", "secret.yaml"]) \
            if (self.work / "secret.yaml").write_bytes(self.files["secret.yaml"]) else b""
        self.add("sealed.yaml", sealed)
        self.add(".sops-other.yaml", f"creation_rules:\n  - age: {OTHER_RECIPIENT}\n")
        self.add("render/s.yaml", enc.replace("\ndb:", "\ndb:"))
        self.add("render/flipped.yaml", "\n".join(flipped))

    def script(self, name: str, body: str) -> str:
        p = self.aux / name
        p.write_text("#!/bin/sh\n" + body + "\n")
        p.chmod(0o755)
        return str(p)

    def cases(self) -> list[Case]:
        c = self.c
        A = DEMO_RECIPIENT
        cert = str(SEALING / "test-cert.pem")
        cases: list[Case] = []
        d = lambda *a, **k: cases.append(Case("decrypt", *a, **k))  # noqa: E731
        for ext in ("yaml", "json", "env", "ini"):
            d(f"wrong key ({ext})", ["decrypt", f"s.{ext}"], key="other")
            d(f"no key ({ext})", ["decrypt", f"s.{ext}"], key="none")
            d(f"not encrypted ({ext})", ["decrypt", f"plain.{ext}"])
            d(f"-i, wrong key ({ext})", ["decrypt", "-i", f"s.{ext}"], key="other")
        # trunc99 only cuts the end of the metadata (the `version` field), which is not authenticated.
        for f in ("flipped", "swapped", "badmac", "nomac", "trunc30", "trunc60", "trunc90"):
            d(f"{f}", ["decrypt", f"{f}.yaml"])
            # --ignore-mac opens a file whose MAC is wrong or cut off, not one whose values are.
            d(f"{f} --ignore-mac", ["decrypt", "--ignore-mac", f"{f}.yaml"],
              must_fail=f in ("flipped", "swapped", "trunc30", "trunc60"), stdout_strict=f in ("flipped", "swapped"))
            d(f"{f} -i", ["decrypt", "-i", f"{f}.yaml"])
            d(f"{f} --output", ["decrypt", "--output", "out.yaml", f"{f}.yaml"])
        d("--extract into a string", ["decrypt", "--extract", '["db"]["password"]["x"]', "s.yaml"])
        d("--extract index out of range", ["decrypt", "--extract", '["list"][9]', "s.yaml"])
        d("--extract missing key", ["decrypt", "--extract", '["nope"]', "s.yaml"])
        d("--extract canary as path", ["decrypt", "--extract", f'["{c}"]', "s.yaml"], strict=False)
        d("--output into a missing dir", ["decrypt", "--output", "missing/dir/out.yaml", "s.yaml"])
        d("--output is a directory", ["decrypt", "--output", "render", "s.yaml"])
        d("--output-type dotenv of nested", ["decrypt", "--output-type", "dotenv", "s.yaml"])
        d("--output-type bogus", ["decrypt", "--output-type", "bogus", "s.yaml"])
        d("--input-type json on yaml", ["decrypt", "--input-type", "json", "s.yaml"])
        d("canary as file name", ["decrypt", f"{c}.yaml"], strict=False)
        d("canary as --indent", ["decrypt", "--indent", c, "s.yaml"], strict=False)
        e = lambda *a, **k: cases.append(Case("encrypt", *a, **k))  # noqa: E731
        for f in ("bad1.yaml", "bad2.yaml", "bad3.yaml", "dup.yaml", "bad.json", "bad2.json", "bad.env", "bad.ini",
                  "badutf8.yaml"):
            e(f"unparsable {f}", ["encrypt", "--age", A, f])
            e(f"unparsable {f} -i", ["encrypt", "-i", "--age", A, f])
        e("no recipient", ["encrypt", "plain.yaml"], key="none")
        e("already encrypted", ["encrypt", "--age", A, "s.yaml"])
        e("--input-type json on yaml", ["encrypt", "--age", A, "--input-type", "json", "plain.yaml"])
        e("--input-type json on dotenv", ["encrypt", "--age", A, "--input-type", "json", "plain.env"])
        e("--input-type dotenv on yaml", ["encrypt", "--age", A, "--input-type", "dotenv", "plain.yaml"])
        e("--output-type dotenv of nested", ["encrypt", "--age", A, "--output-type", "dotenv", "plain.yaml"])
        e("stdin, unparsable", ["encrypt", "--age", A, "--input-type", "yaml", "/dev/stdin"],
          stdin=f'password: "{c}-pw\nx: [\n'.encode())
        e("invalid --encrypted-regex", ["encrypt", "--age", A, "--encrypted-regex", "(", "plain.yaml"])
        e("canary as recipient", ["encrypt", "--age", c, "plain.yaml"], strict=False)
        e("canary as file name", ["encrypt", "--age", A, c], strict=False)
        e("canary as --encrypted-regex", ["encrypt", "--age", A, "--encrypted-regex", f"({c}", "plain.yaml"],
          strict=False)
        s = lambda *a, **k: cases.append(Case("set", *a, **k))  # noqa: E731
        s("invalid JSON value", ["set", "s.yaml", '["db"]["password"]', f'{{"a": "{c}-new"'])
        s("bare word value", ["set", "s.yaml", '["db"]["password"]', f"{c}-new"])
        s("invalid JSON on stdin", ["set", "--value-stdin", "s.yaml", '["db"]["password"]'],
          stdin=f'"{c}-new'.encode())
        s("invalid JSON in --value-file", ["set", "--value-file", "s.yaml", '["db"]["password"]', "value.json"])
        s("index into a map", ["set", "s.yaml", '["db"][0]', '"v"'])
        s("key into a list", ["set", "s.yaml", '["list"]["x"]', '"v"'])
        s("bad MAC", ["set", "badmac.yaml", '["db"]["user"]', '"v"'])
        s("flipped ciphertext", ["set", "flipped.yaml", '["db"]["user"]', f'"{c}-new"'])
        s("wrong key", ["set", "s.yaml", '["db"]["user"]', f'"{c}-new"'], key="other")
        s("not encrypted", ["set", "plain.yaml", '["db"]["user"]', '"v"'])
        s("canary as path", ["set", "s.yaml", c, '"v"'], strict=False)
        u = lambda *a, **k: cases.append(Case("unset", *a, **k))  # noqa: E731
        u("missing key", ["unset", "s.yaml", '["nope"]'])
        u("path into a string", ["unset", "s.yaml", '["db"]["password"]["x"]'])
        u("flipped", ["unset", "flipped.yaml", '["db"]["user"]'])
        u("wrong key", ["unset", "s.yaml", '["db"]["user"]'], key="other")
        ed = lambda *a, **k: cases.append(Case("edit", *a, **k))  # noqa: E731
        bad_editor = self.script("bad-yaml.sh", f"printf 'password: \"{c}-edited\\nx: [\\n' > \"$1\"")
        sops_editor = self.script("sops-key.sh", f"printf 'sops: {c}-edited\\npassword: {c}-e\\n' > \"$1\"")
        fail_editor = self.script("fail.sh", "exit 1")
        empty_editor = self.script("empty.sh", ': > "$1"')
        ok_editor = self.script("ok.sh", f"printf 'password: {c}-ok\\n' > \"$1\"")
        ed("editor writes invalid YAML", ["edit", "s.yaml"], env={"EDITOR": bad_editor})
        ed("editor adds a sops key", ["edit", "s.yaml"], env={"EDITOR": sops_editor})
        ed("editor fails", ["edit", "s.yaml"], env={"EDITOR": fail_editor})
        ed("editor empties the file", ["edit", "s.yaml"], env={"EDITOR": empty_editor})
        ed("flipped", ["edit", "flipped.yaml"], env={"EDITOR": ok_editor})
        ed("wrong key", ["edit", "s.yaml"], env={"EDITOR": ok_editor}, key="other")
        ed("editor missing", ["edit", "s.yaml"], env={"EDITOR": "/nonexistent/editor"})
        ed("new file, editor writes invalid YAML", ["edit", "new.yaml"], env={"EDITOR": bad_editor})
        k = lambda *a, **kw: cases.append(Case("keys", *a, **kw))  # noqa: E731
        k("rotate -i flipped", ["rotate", "-i", "flipped.yaml"])
        k("rotate -i wrong key", ["rotate", "-i", "s.yaml"], key="other")
        k("rotate -i bad MAC", ["rotate", "-i", "badmac.yaml"])
        k("updatekeys -y flipped", ["updatekeys", "-y", "--config", ".sops-other.yaml", "flipped.yaml"])
        k("updatekeys -y wrong key", ["updatekeys", "-y", "--config", ".sops-other.yaml", "s.yaml"], key="other")
        k("groups add flipped", ["groups", "add", "-i", "-f", "flipped.yaml", "--age", OTHER_RECIPIENT])
        k("groups add wrong key", ["groups", "add", "-i", "-f", "s.yaml", "--age", OTHER_RECIPIENT], key="other")
        k("groups delete out of range", ["groups", "delete", "-i", "-f", "s.yaml", "5"])
        x = lambda *a, **kw: cases.append(Case("exec", *a, **kw))  # noqa: E731
        x("exec-env failing command", ["exec-env", "flat.enc.yaml", "exit 3"])
        x("exec-env missing command", ["exec-env", "flat.enc.yaml", "/nonexistent/cmd"])
        x("exec-env complex values", ["exec-env", "s.yaml", "true"])
        x("exec-env flipped", ["exec-env", "flipped.yaml", "true"])
        x("exec-env wrong key", ["exec-env", "flat.enc.yaml", "true"], key="other")
        x("exec-file failing command", ["exec-file", "s.yaml", "cat {} > /dev/null; exit 4"])
        x("exec-file --no-fifo failing command", ["exec-file", "--no-fifo", "s.yaml", "exit 4"])
        x("exec-file flipped", ["exec-file", "flipped.yaml", "cat {}"])
        x("exec-file bad --filename", ["exec-file", "--filename", "../x", "s.yaml", "cat {}"])
        g = lambda *a, **kw: cases.append(Case("sealing", *a, **kw))  # noqa: E731
        g("seal invalid base64", ["seal", "--cert", cert, "-f", "badb64.yaml"])
        g("seal unparsable Secret", ["seal", "--cert", cert, "-f", "badsecret.yaml"])
        g("seal a ConfigMap", ["seal", "--cert", cert, "-f", "configmap.yaml"])
        g("seal without a cert", ["seal", "-f", "secret.yaml"])
        g("seal bad cert", ["seal", "--cert", "plain.yaml", "-f", "secret.yaml"])
        g("seal --raw without --name", ["seal", "--cert", cert, "--raw"], stdin=f"{c}-raw".encode())
        g("seal -w into a missing dir", ["seal", "--cert", cert, "-f", "secret.yaml", "-w", "missing/x.yaml"])
        g("unseal wrong key", ["unseal", "--recovery-private-key", str(SEALING / "other-key.pem"), "sealed.yaml"])
        g("unseal a plain Secret", ["unseal", "--recovery-private-key", str(SEALING / "test-key.pem"),
                                    "secret.yaml"])
        g("reseal wrong key", ["reseal", "--recovery-private-key", str(SEALING / "other-key.pem"), "--cert",
                               cert, "sealed.yaml"])
        o = lambda *a, **kw: cases.append(Case("other", *a, **kw))  # noqa: E731
        o("filestatus unparsable", ["filestatus", "bad1.yaml"])
        o("diff with a flipped file", ["diff", "s.yaml", "flipped.yaml"])
        o("textconv flipped", ["textconv", "flipped.yaml"], must_fail=False, stdout_strict=True)
        o("check a plain Secret", ["check", "secret.yaml"])
        o("check plaintext", ["check", "plain.yaml", "plain.env"], must_fail=False)
        o("render with a flipped file", ["render", "render"])
        o("merge-driver with flipped", ["merge-driver", "s.yaml", "flipped.yaml", "s.yaml"])
        o("exec-env canary as command", ["exec-env", "flat.enc.yaml", f"exit 3 # {c}"], strict=False)
        return cases

    def reset(self) -> None:
        for entry in self.work.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        for name, data in self.files.items():
            p = self.work / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)

    def run_case(self, case: Case, variant: str) -> list[str]:
        """The problems of one run (empty: clean)."""
        self.reset()
        env = {**self.env, **case.env, **ENV_VARIANTS[variant]}
        if case.key == "demo":
            env["SOPS_AGE_KEY_FILE"] = str(DEMO_KEY)
        elif case.key == "other":
            env["SOPS_AGE_KEY_FILE"] = str(OTHER_KEY)
        out = subprocess.run([str(GITSEAL), *case.args], cwd=self.work, env=env, input=case.stdin,
                             capture_output=True, timeout=60)
        problems = []
        stderr = out.stderr.decode(errors="replace")
        failed = out.returncode != 0
        if out.returncode == 101 or "panicked" in stderr:
            problems.append(f"PANIC ({out.returncode}): {stderr.strip()[:300]}")
        if case.must_fail and not failed:
            problems.append("NOT AN ERROR: exit 0")
        if found(out.stderr, self.c):
            problems.append("canary on stderr: " + next(l for l in stderr.splitlines() if found(l.encode(), self.c)
                                                      ) if any(found(l.encode(), self.c) for l in stderr.splitlines())
                            else "canary on stderr")
        if (failed or case.stdout_strict) and found(out.stdout, self.c):
            problems.append("canary on stdout of a failed run")
        skip = {self.work / n for n in self.content_files}
        left = [p for p in files_containing([self.work, self.tmp, *shared_scan_roots()], self.c.encode(), skip)]
        # base64 forms in files too (a sealed or decoded Secret)
        if left:
            problems.append(f"canary in files left: {[str(p) for p in left][:3]}")
        temps = [p for p in self.work.rglob(".gitseal-*")] + list(self.tmp.iterdir())
        if temps:
            problems.append(f"temp files left: {[str(p) for p in temps][:3]}")
        for p in left + temps:  # do not let one case's leftovers count again
            try:
                shutil.rmtree(p) if p.is_dir() else p.unlink()
            except OSError:
                pass
        lines = error_lines(stderr)
        if failed and case.must_fail and len(lines) != 1 and not case.args[0].startswith(("exec", "check")):
            problems.append(f"note: {len(lines)} error lines")
        return problems

    # -- core dumps --------------------------------------------------------------------------

    def core_dumps(self) -> list[list[object]]:
        """RLIMIT_CORE and dumpability of gitseal while it holds plaintext, run as nobody."""
        rows = []
        base = self.s.path / "core"
        base.mkdir(mode=0o755)
        os.chmod(self.s.path, 0o711)
        try:
            for name in ("s.yaml", "flat.enc.yaml"):
                (base / name).write_bytes(self.files[name])
            key = base / "key.txt"
            key.write_bytes(DEMO_KEY.read_bytes())
            report = base / "report"
            probe = base / "probe.sh"
            probe.write_text("#!/bin/sh\n"
                             # The nearest ancestor that is gitseal (exec-env and exec-file run sh -c).
                             'p=$PPID; while [ "$p" -gt 1 ] && [ "$(cat /proc/$p/comm)" != gitseal ]; do '
                             "p=$(cut -d' ' -f4 /proc/$p/stat); done\n"
                             f'{{ echo "limit $(grep -i "core file" /proc/$p/limits | tr -s " ")"; '
                             f'echo "owner $(stat -c %u /proc/$p/status)"; '
                             f'echo "self $(grep -i "core file" /proc/self/limits | tr -s " ")"; '
                             f'echo "comm $(cat /proc/$p/comm)"; }} > {report}\n'
                             'case "$1" in *.yaml) printf "x: 1\\n" > "$1";; esac\n')
            os.chmod(probe, 0o755)
            for d in (base,):
                os.chown(d, 65534, 65534)
            env = clean_env(base, SOPS_AGE_KEY_FILE=key, EDITOR=str(probe), TMPDIR="/tmp")
            runs = {
                "edit (while the editor runs)": ["edit", "s.yaml"],
                "exec-env (while the command runs)": ["exec-env", "flat.enc.yaml", f"{probe}"],
                "exec-file (while the command runs)": ["exec-file", "--no-fifo", "s.yaml", f"{probe}"],
                "exec-file FIFO (while the command runs)": ["exec-file", "s.yaml", f"cat {{}} >/dev/null; {probe}"],
            }
            ulimit = subprocess.run(["sh", "-c", "ulimit -c; ulimit -Hc"], capture_output=True, text=True,
                                    preexec_fn=allow_core_dumps).stdout.split()
            pattern = Path("/proc/sys/kernel/core_pattern").read_text().strip()
            for what, args in runs.items():
                if report.exists():
                    report.unlink()
                # Core dumps allowed when gitseal starts (soft limit = hard limit), so what the
                # probe sees is what gitseal itself did.
                out = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                      str(GITSEAL), *args], cwd=base, env=env, capture_output=True, timeout=60,
                                     preexec_fn=allow_core_dumps)
                text = report.read_text() if report.exists() else ""
                lim = re.search(r"limit Max core file size (\S+) (\S+)", text)
                owner = re.search(r"owner (\d+)", text)
                comm = re.search(r"comm (\S+)", text)
                selfl = re.search(r"self Max core file size (\S+) (\S+)", text)
                if not text:
                    rows.append([what, "probe did not run", "", "", "", out.stderr.decode(errors="replace")[:120]])
                    continue
                dumpable = "0 (not dumpable)" if owner and owner.group(1) == "0" else "1 (dumpable)"
                disabled = lim and lim.group(1) == "0" or dumpable.startswith("0")
                rows.append([what, comm.group(1) if comm else "?",
                             f"{lim.group(1)}/{lim.group(2)}" if lim else "?", dumpable,
                             f"{selfl.group(1)}/{selfl.group(2)}" if selfl else "?",
                             "yes" if disabled else "NO"])
            rows.append(["(shell that started gitseal)", "sh", f"{ulimit[0]}/{ulimit[1]}" if len(ulimit) == 2 else "?",
                         "", "", f"(as started) core_pattern: {pattern[:60]}"])
        finally:
            os.chmod(self.s.path, 0o700)
            shutil.rmtree(base, ignore_errors=True)
        return rows


def allow_core_dumps() -> None:
    import resource
    _, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="", help="run the cases whose group or name contains this")
    a = ap.parse_args()
    with Scratch("canary") as scratch:
        proof = Canary(scratch)
        proof.fixtures()
        cases = [c for c in proof.cases() if not a.only or a.only in c.group or a.only in c.name]
        summary: dict[str, dict[str, int]] = {}
        leaks, echoes, notes = [], [], []
        for case in cases:
            row = summary.setdefault(case.group, dict(cases=0, runs=0, panics=0, leaks=0, echoes=0, other=0))
            row["cases"] += 1
            for variant in ENV_VARIANTS:
                row["runs"] += 1
                problems = proof.run_case(case, variant)
                for p in problems:
                    line = f"{case.group}: {case.name} [{variant}]: `gitseal {' '.join(case.args)}`: {p}"
                    if p.startswith("PANIC"):
                        row["panics"] += 1
                        leaks.append(line)
                    elif p.startswith("note:"):
                        if variant == "plain":
                            notes.append(line)
                    elif "canary" in p and not case.strict:
                        row["echoes"] += 1
                        if variant == "plain":
                            echoes.append(line)
                    elif "canary" in p:
                        row["leaks"] += 1
                        leaks.append(line)
                    else:
                        row["other"] += 1
                        leaks.append(line)
            log(f"  {case.group}: {case.name}")
        print("### Leak canaries: error paths\n")
        print(f"gitseal: `{GITSEAL}`; {len(cases)} cases x {len(ENV_VARIANTS)} environments "
              f"({', '.join(ENV_VARIANTS)}); load: {loadavg()}\n")
        print(md_table(["command", "cases", "runs", "panics", "canary leaks (strict)", "argument echoes (info)",
                        "other failures"],
                       [[g, r["cases"], r["runs"], r["panics"], r["leaks"], r["echoes"], r["other"]]
                        for g, r in summary.items()]))
        print()
        if leaks:
            print("**Failures:**\n")
            for line in leaks:
                print(f"- {line}")
            print()
        if echoes:
            print("**Arguments echoed in errors** (the canary was typed as a file name, path or flag value):\n")
            for line in echoes:
                print(f"- {line}")
            print()
        if notes:
            print("**Notes** (errors of more than one line):\n")
            for line in notes:
                print(f"- {line}")
            print()
        if os.geteuid() == 0 and shutil.which("setpriv"):
            print("### Core dumps while plaintext is held\n")
            print(md_table(["gitseal state", "process", "RLIMIT_CORE soft/hard", "PR_GET_DUMPABLE",
                            "child's RLIMIT_CORE", "core dumps disabled"], proof.core_dumps()))
            print("\n(gitseal run as `nobody`; /proc/PID is owned by root exactly when the process is not "
                  "dumpable.)\n")
        sys.exit(1 if leaks else 0)


if __name__ == "__main__":
    main()
