#!/usr/bin/env python3
"""Crash consistency of every command that writes a file: kill -9 at spread-out moments, then
check the target and look for plaintext left behind. Then the failure cases: full disk,
read-only directory, permission denied, and the file replaced or deleted while `edit`'s editor
runs.

For each command: the median runtime of unkilled runs is measured; run i is SIGKILLed after a
delay drawn from the i-th of N equal slices of [0, 1.2 x median] (so the kills cover the whole
run, start-up to the final rename; some runs finish before their kill and are counted apart).
After each kill:

- the target must be byte for byte the old version, or a complete new version: one that gitseal
  decrypts (MAC checked) to the plaintext, and with the master keys, of an unkilled reference
  run (new encrypted files differ in their random IVs, so bytes cannot be compared);
- plaintext left: files holding the run's canary (a random string in every plaintext value)
  anywhere in the target directory (except the target itself and the command's plaintext
  input), $TMPDIR, /dev/shm and /run/user;
- the old version is put back and the command run again unkilled (the "next run"); afterwards
  nothing with the canary, and no temp file, may remain anywhere.

The same is run against real sops (`encrypt -i`, `set`, `edit`) with the same counting, for
comparison. Output: markdown tables on stdout; progress on stderr.

Usage: scripts/proofs/crash.py [--runs 200] [--keys 3000] [--sops-runs 200] [--seed N]
       [--only 'encrypt -i,set'] [--no-scenarios]
Needs root for the full-disk (tmpfs), read-only (bind mount) and run-as-nobody cases.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    DEMO_KEY, DEMO_RECIPIENT, OTHER_KEY, OTHER_RECIPIENT, SEALING, Scratch, clean_env, error_lines,
    files_containing, find_sops, gitseal_bin, loadavg, log, md_table, new_canary, shared_scan_roots,
)

GITSEAL = gitseal_bin()
SOPS = find_sops()


@dataclass
class Case:
    """One command to kill: `argv` runs in the target directory, which holds `files` (name ->
    bytes) before every run; `targets` are the files it rewrites."""

    name: str
    tool: str  # "gitseal" or "sops"
    argv: list[str]
    files: dict[str, bytes]
    targets: list[str]
    kind: str = "sops"  # how a version is recognised: "sops" (decrypt) or "sealed" (unseal)
    unseal_key: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    plaintext_inputs: set[str] = field(default_factory=set)  # files that hold the canary by design


class Proof:
    def __init__(self, scratch: Scratch, keys: int, canary: str):
        self.s = scratch
        self.canary = canary
        self.aux = scratch.sub("aux")  # scripts, reference data: never scanned
        self.tdir = scratch.sub("target", 0o755)
        self.tmp = scratch.sub("tmp")
        self.check = scratch.sub("check")
        # Both identities: a file with two key groups (Shamir threshold 2) needs both.
        both = DEMO_KEY.read_text().strip() + "\n" + OTHER_KEY.read_text().strip()
        self.base_env = clean_env(scratch.home, TMPDIR=self.tmp, SOPS_AGE_KEY=both)
        self.fp_env = self.base_env
        self.fp_cache: dict[str, object] = {}
        self.plain = self._plaintext(keys, "")
        self.edited = self._plaintext(keys, "edited").replace(b"key3:", b"renamed3:") + \
            f"added: {canary}-added\n".encode()

    def _plaintext(self, keys: int, tag: str) -> bytes:
        lines = ["# reliability proof input", "db:", f"    password: {self.canary}-pw{tag}",
                 "    port: 5432", "note_unencrypted: visible"]
        lines += [f"key{i}: {self.canary}-value-{i}{tag}" for i in range(keys)]
        return ("\n".join(lines) + "\n").encode()

    def gitseal(self, args: list[str], stdin: bytes | None = None, cwd: Path | None = None,
                env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([str(GITSEAL), *args], cwd=cwd or self.aux, env=env or self.base_env,
                              input=stdin or b"", capture_output=True, timeout=120)

    def must(self, args: list[str], stdin: bytes | None = None, cwd: Path | None = None,
             env: dict | None = None) -> bytes:
        out = self.gitseal(args, stdin, cwd, env)
        if out.returncode != 0:
            sys.exit(f"gitseal {' '.join(args)} failed: {out.stderr.decode(errors='replace')}")
        return out.stdout

    # -- recognising versions -------------------------------------------------------------

    def fingerprint(self, case: Case, data: bytes) -> object:
        """What a version means: the plaintext for a plaintext file; the decrypted data and the
        master keys for an encrypted one; None when it cannot be read (torn)."""
        key = hashlib.sha256(case.kind.encode() + str(case.unseal_key).encode() + data).hexdigest()
        if key in self.fp_cache:
            return self.fp_cache[key]
        if case.kind == "sealed":
            out = self.gitseal(["unseal", "--recovery-private-key", str(case.unseal_key)], data)
            fp = ("sealed", out.stdout) if out.returncode == 0 and out.stdout else None
        elif not re.search(rb"^sops:", data, re.M):
            fp = ("plain", data)
        else:
            out = self.gitseal(["decrypt", "--input-type", "yaml"], data, env=self.fp_env)
            meta = data[data.rfind(b"\nsops:"):]
            keys = tuple(l.strip() for l in meta.splitlines()
                         if any(w in l for w in (b"recipient:", b"key_groups", b"shamir", b"- age:")))
            fp = ("enc", out.stdout, keys) if out.returncode == 0 else None
        self.fp_cache[key] = fp
        return fp

    def state(self, case: Case, name: str, old: bytes, new_fp: object) -> str:
        path = self.tdir / name
        if not path.exists():
            return "missing"
        data = path.read_bytes()
        if data == old:
            return "old"
        fp = self.fingerprint(case, data)
        return "new" if fp is not None and fp == new_fp else "torn"

    # -- running ----------------------------------------------------------------------------

    def reset(self, case: Case) -> None:
        for entry in self.tdir.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                import shutil
                shutil.rmtree(entry)
            else:
                entry.unlink()
        self.put_back(case, case.files)

    def put_back(self, case: Case, files: dict[str, bytes]) -> None:
        for name, data in files.items():
            p = self.tdir / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)

    def argv(self, case: Case) -> list[str]:
        binary = str(GITSEAL) if case.tool == "gitseal" else str(SOPS)
        return [binary, *case.argv]

    def env(self, case: Case) -> dict[str, str]:
        return {**self.base_env, **case.env}

    def run_unkilled(self, case: Case) -> subprocess.CompletedProcess:
        return subprocess.run(self.argv(case), cwd=self.tdir, env=self.env(case), stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=120)

    def run_unkilled_pid(self, case: Case) -> tuple[subprocess.CompletedProcess, int]:
        p = subprocess.Popen(self.argv(case), cwd=self.tdir, env=self.env(case), stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = p.communicate(timeout=120)
        return subprocess.CompletedProcess(p.args, p.returncode, out, err), p.pid

    def leftovers(self, case: Case, states: dict[str, str], pids: list[int]) -> tuple[list[Path], list[Path]]:
        """(files with the canary that should not hold it, temp files and private dirs of the
        processes `pids`) now."""
        skip = {self.tdir / n for n in case.plaintext_inputs}
        skip |= {self.tdir / n for n, s in states.items() if s in ("old", "new")}
        roots = [self.tdir, self.tmp, *shared_scan_roots()]
        plain = files_containing(roots, self.canary.encode(), skip)
        temps = [p for p in self.tdir.rglob("*") if p.name.startswith(".gitseal-")]
        temps += [p for p in self.tmp.iterdir()]
        for root in shared_scan_roots():
            for pid in pids:
                temps += list(root.glob(f"gitseal-{pid}-*"))
        return plain, temps

    def wipe(self, paths: list[Path]) -> None:
        import shutil
        for p in paths:
            # Only what this run made: files under our dirs, or with our canary.
            try:
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p)
                else:
                    p.unlink()
                # An emptied private dir in /dev/shm or /run/user named by gitseal or sops.
                parent = p.parent
                if parent not in (self.tdir, self.tmp) and parent.parent in shared_scan_roots() \
                        and not any(parent.iterdir()):
                    parent.rmdir()
            except OSError:
                pass

    def kill_sweep(self, case: Case, runs: int, rng: random.Random) -> list[object]:
        self.reset(case)
        ref = self.run_unkilled(case)
        if ref.returncode != 0:
            sys.exit(f"{case.tool} {case.name}: the reference run failed: {ref.stderr.decode(errors='replace')}")
        new_fps = {n: self.fingerprint(case, (self.tdir / n).read_bytes()) for n in case.targets}
        olds = {n: case.files[n] for n in case.targets}
        for n in case.targets:
            if new_fps[n] is None or (self.tdir / n).read_bytes() == olds[n]:
                sys.exit(f"{case.tool} {case.name}: the reference result of {n} is not a readable new version")
        times = []
        for _ in range(7):
            self.reset(case)
            t = time.perf_counter()
            self.run_unkilled(case)
            times.append(time.perf_counter() - t)
        median = sorted(times)[len(times) // 2]
        delays = [(i + rng.random()) / runs * 1.2 * median for i in range(runs)]
        rng.shuffle(delays)
        counts = dict(killed=0, old=0, new=0, mixed=0, torn=0, plain=0, temps=0, after=0, next_failed=0)
        examples: list[str] = []
        modes: set[str] = set()
        for i, delay in enumerate(delays):
            self.reset(case)
            p = subprocess.Popen(self.argv(case), cwd=self.tdir, env=self.env(case), stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            if delay > 0.0001:
                time.sleep(delay)
            p.send_signal(signal.SIGKILL)
            rc = p.wait()
            try:  # an editor gitseal started outlives it; end it before looking
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            time.sleep(0.002)
            counts["killed"] += rc == -signal.SIGKILL
            states = {n: self.state(case, n, olds[n], new_fps[n]) for n in case.targets}
            values = set(states.values())
            if values == {"old"}:
                counts["old"] += 1
            elif values == {"new"}:
                counts["new"] += 1
            elif values <= {"old", "new"}:
                counts["mixed"] += 1
            else:
                counts["torn"] += 1
                if len(examples) < 3:
                    examples.append(f"run {i} (kill at {delay * 1000:.2f} ms): {states}")
            plain, temps = self.leftovers(case, states, [p.pid])
            counts["plain"] += bool(plain)
            modes.update(oct(x.stat().st_mode & 0o777) for x in plain if x.exists())
            counts["temps"] += bool(temps)
            # The next run, from the old version, must remove what this one left.
            self.put_back(case, olds)
            nxt, nxt_pid = self.run_unkilled_pid(case)
            nxt_states = {n: self.state(case, n, olds[n], new_fps[n]) for n in case.targets}
            if nxt.returncode != 0 or set(nxt_states.values()) != {"new"}:
                counts["next_failed"] += 1
                if len(examples) < 3:
                    examples.append(f"run {i}: the next run failed ({nxt.returncode}): "
                                    f"{nxt.stderr.decode(errors='replace').strip()[:200]}")
            plain2, temps2 = self.leftovers(case, nxt_states, [p.pid, nxt_pid])
            if plain2 or temps2:
                counts["after"] += 1
                if len(examples) < 3:
                    examples.append(f"run {i}: left after the next run: {[str(x) for x in plain2 + temps2][:4]}")
            self.wipe(plain2 + temps2 + plain + temps)
            if (i + 1) % 50 == 0:
                log(f"  {case.tool} {case.name}: {i + 1}/{runs}")
        self.reset(case)
        return [case.tool, case.name, runs, f"{median * 1000:.1f}", counts["killed"], counts["old"],
                counts["new"], counts["mixed"] if len(case.targets) > 1 else "-", counts["torn"],
                f"{counts['plain']}" + (f" (mode {', '.join(sorted(modes))})" if modes else ""), counts["temps"], counts["after"], counts["next_failed"],
                "; ".join(examples)]

    # -- the cases --------------------------------------------------------------------------

    def script(self, name: str, body: str) -> Path:
        p = self.aux / name
        p.write_text("#!/bin/sh\n" + body + "\n")
        p.chmod(0o755)
        return p

    def cases(self) -> list[Case]:
        plain = self.plain
        edited_src = self.aux / "edited.yaml"
        edited_src.write_bytes(self.edited)
        editor = self.script("editor.sh", f'cat "{edited_src}" > "$1"')
        enc = self.must(["encrypt", "--age", DEMO_RECIPIENT, "--input-type", "yaml", "--output-type", "yaml"], plain)
        (self.check / "s.yaml").write_bytes(enc)
        two_groups = self.must(["groups", "add", "-f", str(self.check / "s.yaml"), "--age", OTHER_RECIPIENT])
        rule_both = f"creation_rules:\n  - path_regex: \\.yaml$\n    age: {DEMO_RECIPIENT},{OTHER_RECIPIENT}\n".encode()
        set_value = f'"{self.canary}-set"'
        g = "gitseal"
        cases = [
            Case("encrypt -i", g, ["encrypt", "-i", "--age", DEMO_RECIPIENT, "s.yaml"], {"s.yaml": plain}, ["s.yaml"]),
            Case("decrypt -i", g, ["decrypt", "-i", "s.yaml"], {"s.yaml": enc}, ["s.yaml"]),
            Case("edit", g, ["edit", "s.yaml"], {"s.yaml": enc}, ["s.yaml"], env={"EDITOR": str(editor)}),
            Case("set", g, ["set", "s.yaml", '["key7"]', set_value], {"s.yaml": enc}, ["s.yaml"]),
            Case("unset", g, ["unset", "s.yaml", '["key9"]'], {"s.yaml": enc}, ["s.yaml"]),
            Case("rotate -i", g, ["rotate", "-i", "s.yaml"], {"s.yaml": enc}, ["s.yaml"]),
            Case("updatekeys -y", g, ["updatekeys", "-y", "s.yaml"], {"s.yaml": enc, ".sops.yaml": rule_both},
                 ["s.yaml"]),
            Case("groups add", g, ["groups", "add", "-i", "-f", "s.yaml", "--age", OTHER_RECIPIENT],
                 {"s.yaml": enc}, ["s.yaml"]),
            Case("groups delete", g, ["groups", "delete", "-i", "-f", "s.yaml", "--shamir-secret-sharing-threshold", "1", "1"], {"s.yaml": two_groups},
                 ["s.yaml"]),
        ]
        cases += self.sealing_cases()
        if SOPS:
            enc_sops = subprocess.run([str(SOPS), "encrypt", "--age", DEMO_RECIPIENT, "--input-type", "yaml",
                                       "--output-type", "yaml", "/dev/stdin"], input=plain, capture_output=True,
                                      env=self.base_env, cwd=self.aux).stdout
            assert b"sops:" in enc_sops, "sops encrypt failed"
            cases += [
                Case("encrypt -i", "sops", ["encrypt", "-i", "--age", DEMO_RECIPIENT, "s.yaml"], {"s.yaml": plain},
                     ["s.yaml"]),
                Case("set", "sops", ["set", "s.yaml", '["key7"]', set_value], {"s.yaml": enc_sops}, ["s.yaml"]),
                Case("edit", "sops", ["edit", "s.yaml"], {"s.yaml": enc_sops}, ["s.yaml"],
                     env={"EDITOR": str(editor)}),
            ]
        return cases

    def secret_manifest(self, name: str, items: int, tag: str) -> bytes:
        lines = ["apiVersion: v1", "kind: Secret", "metadata:", f"  name: {name}", "  namespace: prod",
                 "stringData:"]
        lines += [f"  k{i}: {self.canary}-{name}-{i}{tag}" for i in range(items)]
        return ("\n".join(lines) + "\n").encode()

    def sealing_cases(self) -> list[Case]:
        cert, key = SEALING / "test-cert.pem", SEALING / "test-key.pem"
        other_cert, other_key = SEALING / "other-cert.pem", SEALING / "other-key.pem"
        v1, v2 = self.secret_manifest("db", 40, "-v1"), self.secret_manifest("db", 40, "-v2")
        old_sealed = self.must(["seal", "--cert", str(cert), "-o", "yaml"], v1)
        seal = Case("seal -w", "gitseal", ["seal", "--cert", str(cert), "-f", "secret.yaml", "-w", "sealed.yaml"],
                    {"secret.yaml": v2, "sealed.yaml": old_sealed}, ["sealed.yaml"], kind="sealed",
                    unseal_key=key, plaintext_inputs={"secret.yaml"})
        files = {f"dir/s{i}.yaml": self.must(["seal", "--cert", str(cert), "-o", "yaml"],
                                             self.secret_manifest(f"app{i}", 10, "")) for i in range(6)}
        reseal = Case("reseal DIR", "gitseal", ["reseal", "--recovery-private-key", str(key), "--cert",
                                                str(other_cert), "dir"],
                      files, sorted(files), kind="sealed", unseal_key=other_key)
        return [seal, reseal]

    # -- failure scenarios ------------------------------------------------------------------

    def scenarios(self) -> list[list[object]]:
        rows = []
        # Small enough that the old version fits the 64k tmpfs, but a second copy does not.
        small = self.small = self._plaintext(150, "")
        enc = self.must(["encrypt", "--age", DEMO_RECIPIENT, "--input-type", "yaml", "--output-type", "yaml"],
                        small)
        set_value = f'"{self.canary}-set"'
        commands = {
            "encrypt -i": (["encrypt", "-i", "--age", DEMO_RECIPIENT, "s.yaml"], small),
            "decrypt -i": (["decrypt", "-i", "s.yaml"], enc),
            "set": (["set", "s.yaml", '["key7"]', set_value], enc),
            "rotate -i": (["rotate", "-i", "s.yaml"], enc),
            "edit": (["edit", "s.yaml"], enc),
        }
        editor = self.aux / "editor.sh"
        tools = [("gitseal", str(GITSEAL))] + ([("sops", str(SOPS))] if SOPS else [])
        sops_enc = None
        if SOPS:
            sops_enc = subprocess.run([str(SOPS), "encrypt", "--age", DEMO_RECIPIENT, "--input-type", "yaml",
                                       "--output-type", "yaml", "/dev/stdin"], input=small,
                                      capture_output=True, env=self.base_env, cwd=self.aux).stdout
        for scenario in ("full disk (64k tmpfs)", "read-only bind mount", "chattr +i target",
                         "as nobody, dir not writable", "as nobody, file 0444 in writable dir"):
            for tool, binary in tools:
                for cname, (args, old) in commands.items():
                    if tool == "sops" and old is enc:
                        old = sops_enc
                    rows.append(self.scenario(scenario, tool, binary, cname, args, old, editor))
        for tool, binary in tools:
            rows.append(self.hard_link(tool, binary))
            rows.append(self.owner(tool, binary, sops_enc if tool == "sops" else enc))
        for race in ("replaced", "deleted"):
            for tool, binary in tools:
                old = enc if tool == "gitseal" else sops_enc
                rows.append(self.edit_race(race, tool, binary, old))
        return rows

    def scenario(self, scenario: str, tool: str, binary: str, cname: str, args: list[str], old: bytes,
                 editor: Path) -> list[object]:
        import shutil
        base = self.s.path / "scenario"
        base.mkdir(mode=0o755)
        work = base / "w"
        work.mkdir(mode=0o755)
        env = {**self.base_env, "EDITOR": str(editor)}
        prefix: list[str] = []
        cleanup = []
        target = work / "s.yaml"
        try:
            if scenario.startswith("full disk"):
                subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(work)], check=True)
                cleanup.append(["umount", str(work)])
                target.write_bytes(old)
                # Fill the rest, leaving less room than the new version needs.
                filler = work / "filler"
                fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
                try:
                    while True:
                        os.write(fd, b"\0" * 512)
                except OSError:
                    pass
                finally:
                    os.close(fd)
            elif scenario.startswith("read-only"):
                src = base / "src"
                src.mkdir()
                (src / "s.yaml").write_bytes(old)
                subprocess.run(["mount", "--bind", str(src), str(work)], check=True)
                cleanup.append(["umount", str(work)])
                subprocess.run(["mount", "-o", "remount,bind,ro", str(work)], check=True)
            elif scenario.startswith("chattr"):
                target.write_bytes(old)
                subprocess.run(["chattr", "+i", str(target)], check=True)
                cleanup.append(["chattr", "-i", str(target)])
            else:
                target.write_bytes(old)
                os.chmod(target, 0o644 if "not writable" in scenario else 0o444)
                if "writable dir" in scenario:
                    os.chown(work, 65534, 65534)
                key = base / "key.txt"
                key.write_bytes(DEMO_KEY.read_bytes())
                os.chmod(key, 0o644)
                home = base / "home"
                home.mkdir(mode=0o755)
                os.chmod(self.s.path, 0o711)
                env.update(SOPS_AGE_KEY_FILE=str(key), HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
                           TMPDIR="/tmp")
                editor_copy = base / "editor.sh"
                edited = base / "edited.yaml"
                edited.write_bytes(self.edited)
                editor_copy.write_text(f'#!/bin/sh\ncat "{edited}" > "$1"\n')
                os.chmod(editor_copy, 0o755)
                os.chmod(edited, 0o644)
                env["EDITOR"] = str(editor_copy)
                prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
            before = target.read_bytes()
            out = subprocess.run(prefix + [binary, *args], cwd=work, env=env, stdin=subprocess.DEVNULL,
                                 capture_output=True, timeout=120)
            after = target.read_bytes() if target.exists() else None
            stderr = out.stderr.decode(errors="replace")
            lines = error_lines(stderr)
            plain = files_containing([work, self.tmp, *shared_scan_roots()], self.canary.encode(), {target})
            temps = [p for p in work.iterdir() if p.name.startswith(".gitseal-")]
            intact = after == before
            if out.returncode != 0:
                verdict = "ok" if intact and len(lines) == 1 and not plain and not temps else \
                    "FAILED AND DAMAGED THE FILE" if not intact else "CHECK"
            else:
                complete = after is not None and (
                    (re.search(rb"^sops:", after, re.M) and self.gitseal(["decrypt", "--input-type", "yaml"], after,
                                                                        env=self.fp_env).returncode == 0)
                    or after == self.small)
                verdict = "succeeded, result complete" if complete else "SUCCEEDED WITH A TORN FILE"
                if scenario.endswith("0444 in writable dir") and target.exists():
                    st = target.stat()
                    verdict += f"; REPLACED A READ-ONLY FILE (now uid {st.st_uid}, mode {oct(st.st_mode & 0o777)})"
            return [scenario, tool, cname, out.returncode, len(lines), "yes" if intact else "NO",
                    len(plain), len(temps), verdict, (lines[0] if lines else "")[:160]]
        finally:
            for c in reversed(cleanup):
                subprocess.run(c, capture_output=True)
            os.chmod(self.s.path, 0o700)
            shutil.rmtree(base, ignore_errors=True)

    def hard_link(self, tool: str, binary: str) -> list[object]:
        """`encrypt -i` of a file with a second hard link: the plaintext must not stay under the
        other name."""
        import shutil
        work = self.s.sub("link", 0o755)
        (work / "s.yaml").write_bytes(self.small)
        os.link(work / "s.yaml", work / "other-name.yaml")
        out = subprocess.run([binary, "encrypt", "-i", "--age", DEMO_RECIPIENT, "s.yaml"], cwd=work,
                             env=self.base_env, stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
        lines = error_lines(out.stderr.decode(errors="replace"))
        other = (work / "other-name.yaml").read_bytes()
        left = self.canary.encode() in other
        # Refusing, with the file and its other name as they were (the user's own plaintext,
        # not a copy gitseal made), is as good as encrypting both names.
        refused_cleanly = out.returncode != 0 and len(lines) == 1 and (work / "s.yaml").read_bytes() == self.small
        verdict = "ok" if not left else "ok (refused)" if refused_cleanly else \
            "PLAINTEXT LEFT UNDER THE OTHER LINK" if out.returncode == 0 else "refused"
        shutil.rmtree(work)
        return ["encrypt -i of a hard-linked file", tool, "encrypt -i", out.returncode, len(lines),
                "n/a", int(left), 0, verdict, (lines[0] if lines else "")[:160]]

    def owner(self, tool: str, binary: str, old: bytes) -> list[object]:
        """`set` run by root on a file of another user: the owner must stay."""
        import shutil
        work = self.s.sub("owner", 0o755)
        target = work / "s.yaml"
        target.write_bytes(old)
        os.chown(target, 65534, 65534)
        os.chmod(target, 0o640)
        out = subprocess.run([binary, "set", "s.yaml", '["key7"]', '"x"'], cwd=work, env=self.base_env,
                             stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
        st = target.stat()
        kept = (st.st_uid, st.st_gid) == (65534, 65534)
        lines = error_lines(out.stderr.decode(errors="replace"))
        shutil.rmtree(work)
        return ["set by root on a file owned by nobody:nogroup (0640)", tool, "set", out.returncode, len(lines),
                "owner kept" if kept else f"OWNER CHANGED to {st.st_uid}:{st.st_gid}", 0, 0,
                "ok" if kept and out.returncode == 0 else "OWNER CHANGED", (lines[0] if lines else "")[:160]]

    def edit_race(self, race: str, tool: str, binary: str, old: bytes) -> list[object]:
        """The editor replaces (or deletes) the target, then saves its change: the replacement
        (or the deletion) must stand, with an error."""
        import shutil
        work = self.s.sub("race", 0o755)
        target = work / "s.yaml"
        target.write_bytes(old)
        replacement = b"# written by someone else while the editor ran\nother: file\n"
        (self.aux / "replacement.yaml").write_bytes(replacement)
        action = (f'cp "{self.aux}/replacement.yaml" "{target}.new" && mv "{target}.new" "{target}"'
                  if race == "replaced" else f'rm -f "{target}"')
        editor = self.script(f"race-{race}.sh", f'{action}\ncat "{self.aux}/edited.yaml" > "$1"')
        env = {**self.base_env, "EDITOR": str(editor)}
        out = subprocess.run([binary, "edit", "s.yaml"], cwd=work, env=env, stdin=subprocess.DEVNULL,
                             capture_output=True, timeout=120)
        lines = error_lines(out.stderr.decode(errors="replace"))
        if race == "replaced":
            kept = target.exists() and target.read_bytes() == replacement
        else:
            kept = not target.exists()
        plain = files_containing([work, self.tmp, *shared_scan_roots()], self.canary.encode())
        verdict = "ok" if out.returncode != 0 and kept and len(lines) == 1 else "LOST UPDATE" if not kept else "CHECK"
        shutil.rmtree(work)
        return [f"edit: target {race} while the editor runs", tool, "edit", out.returncode, len(lines),
                "yes" if kept else "NO (overwritten)" if race == "replaced" else "NO (re-created)",
                len(plain), 0, verdict, (lines[0] if lines else "")[:160]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=200, help="kills per gitseal command (default 200)")
    ap.add_argument("--sops-runs", type=int, default=200, help="kills per sops command (default 200)")
    ap.add_argument("--keys", type=int, default=3000, help="keys in the input file (default 3000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", default="", help="comma-separated command names")
    ap.add_argument("--no-scenarios", action="store_true")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    with Scratch("crash") as scratch:
        proof = Proof(scratch, a.keys, new_canary())
        only = {x.strip() for x in a.only.split(",") if x.strip()}
        rows = []
        for case in proof.cases():
            if only and case.name not in only:
                continue
            runs = a.runs if case.tool == "gitseal" else a.sops_runs
            log(f"{case.tool} {case.name}: {runs} kills")
            rows.append(proof.kill_sweep(case, runs, rng))
        failed = any(r[0] == "gitseal" and (r[8] or r[11] or r[12]) for r in rows)
        print("### Crash consistency: kill -9 at spread-out moments\n")
        print(f"gitseal: `{GITSEAL}`; sops: `{SOPS}`; input: {a.keys} keys "
              f"({len(proof.plain)} bytes plaintext); seed {a.seed}; load: {loadavg()}\n")
        print(md_table(["tool", "command", "runs", "median ms", "killed mid-run", "old intact", "new complete",
                        "mixed (dir)", "torn", "plaintext left", "temp files left", "left after next run",
                        "next run failed", "examples"], rows))
        print("\n*killed mid-run*: runs that died of the SIGKILL (the others had finished before it). "
              "*mixed (dir)*: some files of the directory resealed, the others old, each complete. "
              "*plaintext left*: runs after which a file with the canary was found outside the target "
              "(in the target's directory, $TMPDIR, /dev/shm or /run/user). "
              "*left after next run*: the same, plus temp files, after the next unkilled run.\n")
        if not a.no_scenarios:
            if os.geteuid() != 0:
                print("(failure scenarios skipped: they need root)\n")
            else:
                log("failure scenarios")
                srows = proof.scenarios()
                print("### Failure cases: full disk, read-only, permission denied, edit races\n")
                print(md_table(["scenario", "tool", "command", "exit", "error lines", "target intact",
                                "plaintext left", "temp files left", "verdict", "error"], srows))
                print("\n*verdict ok*: non-zero exit, exactly one error line, target unchanged, nothing left.\n")
                failed |= any(r[1] == "gitseal" and r[8] not in ("ok", "ok (refused)", "succeeded, result complete")
                              for r in srows)
    # gitseal must never leave a torn file, or anything after the next run.
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
