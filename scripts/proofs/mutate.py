#!/usr/bin/env python3
"""Differential mutation sweep: mutants of encrypted files, decrypted by gitseal and by real
sops with the same age key, outcomes compared.

Base files: five small plaintexts (YAML with nesting, a multi-line value, a list and an
unencrypted key; multi-document YAML; YAML with anchors, aliases, a merge key and a tag; JSON;
dotenv; INI), each encrypted once by gitseal and once by sops, plus for each a sibling made by
`set` with the same tool (same data key, one value changed; for value rollback). Mutant i is
made from (seed, i) alone, so a run can be resumed (`--state DIR`) and any mutant rebuilt.

Mutation classes (see CLASSES): bit flips inside ENC[...] of a value, inside the sops metadata,
and in the clear text (keys, structure, comments, unencrypted values); truncation; a byte
deleted; lines deleted, duplicated, swapped; ENC values swapped between keys of a file, taken
from another file, or rolled back to the sibling's value at the same key; YAML anchors and
aliases added or moved, tags added.

For each mutant: `gitseal decrypt FILE` and `sops decrypt FILE` (timeout 5 s each). Outcomes:

- gitseal panic (exit 101 or "panicked") / gitseal hang: bugs;
- sops refuses, gitseal opens data different from the original: bug (integrity);
- gitseal opens different data while sops opens the original: bug (integrity);
- gitseal refuses, sops opens the original data: reported per class (gitseal stricter);
- the other combinations (both refuse; both open the original; both open the same changed
  data; ...) are counted.

"Data" is the parsed decrypted output (YAML via PyYAML, JSON, dotenv and INI as key/value
lists; comments and layout ignored), compared with the same tool's decryption of the
unmutated base. Mutants that break a bug rule are saved under STATE/bugs/.

Usage: scripts/proofs/mutate.py [--count 100000] [--seed 1] [--workers 2] [--state DIR]
       [--minutes M]   (stop cleanly after M minutes; --state makes the run resumable)
"""

from __future__ import annotations

import argparse
import base64
import configparser
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    DEMO_KEY, DEMO_RECIPIENT, Scratch, clean_env, find_sops, gitseal_bin, loadavg, log, md_table,
)

try:
    import yaml
except ImportError:  # run with .peers/venv/bin/python, which has PyYAML
    sys.exit("mutate.py needs PyYAML: run it with .peers/venv/bin/python")

TIMEOUT = 5.0

PLAINTEXTS = {
    "app.yaml": "# application settings\napp:\n  name: billing\n  replicas: 3\n  ratio: 0.75\n  enabled: true\n"
                "  password: hunter2\n  token: \"abc:def\"\n# servers\nservers:\n  - name: alpha\n"
                "    roles: [web, worker]\n  - name: beta\n    ip: 10.0.0.2\nnote_unencrypted: visible\n"
                "multi: |\n  line one\n  line two\n",
    "multi.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  user: admin\n"
                  "  password: s3cr3t\n---\nsecond: doc\nlist:\n  - one\n  - two\n",
    "anchors.yaml": "defaults: &defaults\n  adapter: postgres\n  password: hunter2\ndevelopment:\n"
                    "  <<: *defaults\n  database: dev\nshared: &token abc123\nother: *token\n"
                    "tagged: !!str 123\nlist:\n  - &item first\n  - *item\n",
    "conf.json": '{\n  "db": {"user": "admin", "password": "hunter2", "ratio": 0.5},\n  "hosts": ["a", "b"],\n'
                 '  "flag": true,\n  "note_unencrypted": "visible"\n}\n',
    "app.env": "USER=admin\nPASSWORD=hunter2\n# a comment\nURL=https://example.com/?a=b\nNOTE_unencrypted=visible\n",
    "conf.ini": "[db]\nuser = admin\npassword = hunter2\n\n[server]\nhost = example.com\nport = 8080\n",
}
SET_PATH = {"app.yaml": '["app"]["password"]', "multi.yaml": '["stringData"]["password"]',
            "anchors.yaml": '["development"]["database"]', "conf.json": '["db"]["password"]',
            "app.env": '["PASSWORD"]', "conf.ini": '["db"]["password"]'}

CLASSES = {
    # name: (weight, explanation)
    "bitflip_enc": (14, "one bit flipped inside the ENC[...] of a value (data, iv, tag or type)"),
    "bitflip_meta": (12, "one bit flipped inside the sops metadata (age stanza, mac, lastmodified, version, ...)"),
    "bitflip_clear": (12, "one bit flipped in the clear text: keys, structure, comments, unencrypted values"),
    "truncate": (8, "the file cut at a random byte"),
    "byte_delete": (4, "one byte removed"),
    "line_delete": (8, "one line removed"),
    "line_duplicate": (8, "one line repeated below itself"),
    "line_swap": (8, "two lines swapped"),
    "value_swap_keys": (6, "the ENC values of two different keys of the file swapped"),
    "value_from_other_file": (5, "an ENC value replaced by one from another file (another data key)"),
    "value_rollback": (5, "an ENC value replaced by the sibling version's ENC at the same key (same data key)"),
    "yaml_anchor_alias": (5, "YAML: an anchor added to one value and another value replaced by its alias"),
    "yaml_anchor_move": (3, "YAML: an existing anchor moved to another value"),
    "yaml_merge_key": (3, "YAML: a merge key (<<: *anchor) added into a mapping"),
    "yaml_tag": (5, "YAML: a tag (!!str, !!binary, !!int, !!bool, !!null, !!float, !custom) put before a value"),
}

ENC_RE = re.compile(rb"ENC\[AES256_GCM,[^\]\n]*\]")
YAML_VALUE_RE = re.compile(rb"^(\s*(?:- )*(?:[^\s:#&*!][^:\n]*?:[ \t]+|- ))(?![&*|>#])(\S[^\n]*)$", re.M)
ANCHOR_RE = re.compile(rb"&([A-Za-z0-9_-]+)")


def fmt_of(name: str) -> str:
    ext = name.rsplit(".", 1)[1]
    return {"yaml": "yaml", "json": "json", "env": "dotenv", "ini": "ini"}[ext]


# -- regions of a file ---------------------------------------------------------------------

def meta_ranges(data: bytes, fmt: str) -> list[tuple[int, int]]:
    """Byte ranges of the sops metadata."""
    out = []
    if fmt == "yaml":
        for m in re.finditer(rb"^sops:[^\n]*\n(?:[ \t]+[^\n]*\n|\n)*", data, re.M):
            out.append((m.start(), m.end()))
    elif fmt == "json":
        i = data.find(b'"sops":')
        if i >= 0:
            out.append((i, len(data)))
    elif fmt == "dotenv":
        for m in re.finditer(rb"^sops_[^\n]*\n?", data, re.M):
            out.append((m.start(), m.end()))
    elif fmt == "ini":
        i = data.find(b"[sops]")
        if i >= 0:
            out.append((i, len(data)))
    return out


def in_ranges(pos: int, ranges: list[tuple[int, int]]) -> bool:
    return any(a <= pos < b for a, b in ranges)


def body_encs(data: bytes, fmt: str) -> list[re.Match]:
    meta = meta_ranges(data, fmt)
    return [m for m in ENC_RE.finditer(data) if not in_ranges(m.start(), meta)]


# -- mutations -----------------------------------------------------------------------------

def flip(data: bytes, pos: int, rng: random.Random) -> bytes:
    b = bytearray(data)
    b[pos] ^= 1 << rng.randrange(8)
    return bytes(b)


def mutate(cls: str, data: bytes, fmt: str, rng: random.Random, others: list[bytes], sibling: bytes) -> bytes | None:
    """The mutant, or None when the class does not apply to this file."""
    meta = meta_ranges(data, fmt)
    encs = body_encs(data, fmt)
    lines = data.split(b"\n")
    if cls == "bitflip_enc":
        if not encs:
            return None
        m = rng.choice(encs)
        return flip(data, rng.randrange(m.start() + 4, m.end() - 1), rng)
    if cls == "bitflip_meta":
        if not meta:
            return None
        a, b = rng.choice(meta)
        return flip(data, rng.randrange(a, b), rng)
    if cls == "bitflip_clear":
        spans = [(m.start(), m.end()) for m in encs] + meta
        for _ in range(50):
            pos = rng.randrange(len(data))
            if not in_ranges(pos, spans):
                return flip(data, pos, rng)
        return None
    if cls == "truncate":
        return data[:rng.randrange(len(data))]
    if cls == "byte_delete":
        pos = rng.randrange(len(data))
        return data[:pos] + data[pos + 1:]
    if cls == "line_delete":
        i = rng.randrange(len(lines))
        return b"\n".join(lines[:i] + lines[i + 1:])
    if cls == "line_duplicate":
        i = rng.randrange(len(lines))
        return b"\n".join(lines[:i + 1] + [lines[i]] + lines[i + 1:])
    if cls == "line_swap":
        if len(lines) < 3:
            return None
        i, j = rng.sample(range(len(lines)), 2)
        lines[i], lines[j] = lines[j], lines[i]
        return b"\n".join(lines)
    if cls == "value_swap_keys":
        if len(encs) < 2:
            return None
        a, b = sorted(rng.sample(encs, 2), key=lambda m: m.start())
        return data[:a.start()] + b.group() + data[a.end():b.start()] + a.group() + data[b.end():]
    if cls == "value_from_other_file":
        pool = [m.group() for o in others for m in ENC_RE.finditer(o)]
        if not encs or not pool:
            return None
        m = rng.choice(encs)
        return data[:m.start()] + rng.choice(pool) + data[m.end():]
    if cls == "value_rollback":
        # The sibling differs from this file in one value (set) and the MAC: put the sibling's
        # ENC of a changed value here, at the same key, under the same data key.
        sib = body_encs(sibling, fmt)
        pairs = [(m, s) for m, s in zip(encs, sib) if m.group() != s.group()]
        if not pairs or len(sib) != len(encs):
            return None
        m, s = rng.choice(pairs)
        return data[:m.start()] + s.group() + data[m.end():]
    if fmt != "yaml":
        return None
    values = [m for m in YAML_VALUE_RE.finditer(data) if not in_ranges(m.start(), meta)]
    if cls == "yaml_tag":
        if not values:
            return None
        m = rng.choice(values)
        tag = rng.choice([b"!!str", b"!!binary", b"!!int", b"!!bool", b"!!null", b"!!float", b"!custom", b"!!map"])
        return data[:m.start(2)] + tag + b" " + data[m.start(2):]
    if cls == "yaml_anchor_alias":
        if len(values) < 2:
            return None
        a, b = rng.sample(values, 2)
        name = b"m" + str(rng.randrange(100)).encode()
        edits = sorted([(a.start(2), a.start(2), b"&" + name + b" "), (b.start(2), b.end(2), b"*" + name)],
                       reverse=True)
        out = data
        for s, e, text in edits:
            out = out[:s] + text + out[e:]
        return out
    if cls == "yaml_anchor_move":
        anchors = [m for m in ANCHOR_RE.finditer(data) if not in_ranges(m.start(), meta)]
        if not anchors or not values:
            return None
        a = rng.choice(anchors)
        text = a.group() + b" "
        without = data[:a.start()] + data[a.end():].lstrip(b" ") if data[a.end():a.end() + 1] == b" " \
            else data[:a.start()] + data[a.end():]
        values2 = [m for m in YAML_VALUE_RE.finditer(without) if not in_ranges(m.start(), meta_ranges(without, fmt))]
        if not values2:
            return None
        v = rng.choice(values2)
        return without[:v.start(2)] + text + without[v.start(2):]
    if cls == "yaml_merge_key":
        anchors = [m.group(1) for m in ANCHOR_RE.finditer(data) if not in_ranges(m.start(), meta)]
        maps = [i for i, l in enumerate(lines) if re.match(rb"^\s*[^\s#-][^:]*:\s*$", l) and not l.startswith(b"sops")]
        if not maps:
            return None
        if not anchors:
            # Anchor a mapping first.
            i = rng.choice(maps)
            lines[i] = lines[i].rstrip() + b" &mm"
            anchors = [b"mm"]
        j = rng.choice(maps)
        nxt = lines[j + 1] if j + 1 < len(lines) else b"  "
        indent = nxt[:len(nxt) - len(nxt.lstrip())] or b"  "
        lines.insert(j + 1, indent + b"<<: *" + rng.choice(anchors))
        return b"\n".join(lines)
    return None


# -- outcomes ------------------------------------------------------------------------------

class Loader(yaml.SafeLoader):
    pass


def _any_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return ("tag", suffix, loader.construct_scalar(node))
    if isinstance(node, yaml.SequenceNode):
        return ("tag", suffix, loader.construct_sequence(node, deep=True))
    return ("tag", suffix, tuple(sorted(map(repr, loader.construct_mapping(node, deep=True).items()))))


Loader.add_multi_constructor("!", _any_tag)
Loader.add_multi_constructor("tag:", _any_tag)
for _tag in ("tag:yaml.org,2002:binary", "tag:yaml.org,2002:timestamp"):
    Loader.add_constructor(_tag, lambda loader, node: ("scalar", loader.construct_scalar(node)))


def normalize(out: bytes, fmt: str) -> object:
    """The data of a decrypted output, without comments and layout."""
    try:
        if fmt == "yaml":
            return repr(list(yaml.load_all(out, Loader=Loader)))
        if fmt == "json":
            return repr(json.loads(out, object_pairs_hook=list))
        if fmt == "dotenv":
            return repr([tuple(l.split("=", 1)) for l in out.decode().splitlines()
                         if l.strip() and not l.lstrip().startswith("#")])
        if fmt == "ini":
            cp = configparser.ConfigParser(interpolation=None, strict=False)
            cp.read_string(out.decode())
            return repr([(s, list(cp[s].items())) for s in cp.sections()])
    except Exception as e:  # noqa: BLE001  output that does not parse is data too
        return ("unparsable", out, type(e).__name__)
    return out


class Runner:
    def __init__(self, gitseal: Path, sops: Path, home: Path):
        self.tools = {"gitseal": gitseal, "sops": sops}
        self.env = clean_env(home, SOPS_AGE_KEY_FILE=DEMO_KEY)

    def decrypt(self, tool: str, path: Path) -> tuple[str, bytes, str]:
        """(status, stdout, stderr head): status is ok, refused, panic or hang."""
        try:
            out = subprocess.run([str(self.tools[tool]), "decrypt", str(path)], env=self.env, cwd=path.parent,
                                 stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            return "hang", b"", ""
        err = out.stderr.decode(errors="replace")
        if tool == "gitseal" and (out.returncode == 101 or "panicked" in err):
            return "panic", b"", err[:400]
        if tool == "sops" and "panic:" in err:
            return "panic", b"", err[:200]
        return ("ok" if out.returncode == 0 else "refused"), out.stdout, err[:200]


def outcome(g: str, gdata: object, s: str, sdata: object, g_orig: object, s_orig: object) -> str:
    if g == "panic":
        return "BUG gitseal panic"
    if g == "hang":
        return "BUG gitseal hang"
    if g == "ok" and isinstance(gdata, tuple) and gdata[0] == "unparsable" and gdata != g_orig:
        # The values may be right, but a reader cannot parse what gitseal wrote.
        return "gitseal opens, its output does not parse" + (" (sops refuses)" if s != "ok" else "")
    gs = "refuse" if g == "refused" else ("orig" if gdata == g_orig else "diff")
    ss = {"refused": "refuse", "panic": "refuse", "hang": "hang"}.get(s) or ("orig" if sdata == s_orig else "diff")
    if ss == "hang":
        return "sops hangs"
    if ss == "refuse":
        return {"refuse": "both refuse", "orig": "sops refuses, gitseal opens the original",
                "diff": "BUG sops refuses, gitseal opens changed data"}[gs]
    if gs == "refuse":
        return "gitseal refuses, sops opens the original" if ss == "orig" else \
            "gitseal refuses, sops opens changed data"
    if gs == "orig" and ss == "orig":
        return "both open the original"
    if gs == "diff" and ss == "orig":
        return "BUG gitseal opens changed data, sops the original"
    if gs == "orig":
        return "gitseal opens the original, sops changed data"
    return "both open changed data (same change)" if same_change(gdata, sdata) else "both open changed data (differently)"


def same_change(gdata: object, sdata: object) -> bool:
    return gdata == sdata


# What an earlier outcome says of sops's own result (sops and the mutant unchanged, so the same
# result again); outcomes that hold sops's changed data are not reused, sops runs again for them.
SOPS_FROM_OUTCOME = {
    "both refuse": "refused",
    "sops refuses, gitseal opens the original": "refused",
    "BUG sops refuses, gitseal opens changed data": "refused",
    "gitseal opens, its output does not parse (sops refuses)": "refused",
    "both open the original": "orig",
    "gitseal refuses, sops opens the original": "orig",
    "BUG gitseal opens changed data, sops the original": "orig",
}


class Sweep:
    def __init__(self, state: Path, seed: int, runner: Runner):
        self.state = state
        self.seed = seed
        self.runner = runner
        self.bases: dict[str, bytes] = {}
        self.siblings: dict[str, bytes] = {}
        self.orig: dict[tuple[str, str], object] = {}
        self.cache: dict[str, tuple] = {}
        self.lock = threading.Lock()
        # --sops-from: outcomes of an earlier run of the same seed and bases, by mutant.
        self.sops_from: dict[int, str] = {}

    def prepare(self, scratch: Path) -> None:
        """Makes (or loads from the state dir) the base files and their siblings."""
        bdir = self.state / "bases"
        if not bdir.exists():
            tmp = self.state / "bases.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            for name, plain in PLAINTEXTS.items():
                (scratch / name).write_text(plain)
                for tool in ("gitseal", "sops"):
                    out = subprocess.run([str(self.runner.tools[tool]), "encrypt", "--age", DEMO_RECIPIENT, name],
                                         cwd=scratch, env=self.runner.env, capture_output=True)
                    if out.returncode != 0:
                        sys.exit(f"{tool} encrypt {name}: {out.stderr.decode()}")
                    base = tmp / f"{tool}-{name}"
                    base.write_bytes(out.stdout)
                    sib = tmp / f"{tool}-{name}.sibling"
                    shutil.copy(base, scratch / f"sib-{name}")
                    out = subprocess.run([str(self.runner.tools[tool]), "set", f"sib-{name}", SET_PATH[name],
                                          '"rolled-back"'], cwd=scratch, env=self.runner.env, capture_output=True)
                    if out.returncode != 0:
                        sys.exit(f"{tool} set {name}: {out.stderr.decode()}")
                    sib.write_bytes((scratch / f"sib-{name}").read_bytes())
            tmp.rename(bdir)
        for p in sorted(bdir.iterdir()):
            if p.name.endswith(".sibling"):
                continue
            self.bases[p.name] = p.read_bytes()
            self.siblings[p.name] = (bdir / (p.name + ".sibling")).read_bytes()
        for name, data in self.bases.items():
            path = scratch / ("orig-" + name.split("-", 1)[1])
            path.write_bytes(data)
            for tool in ("gitseal", "sops"):
                st, out, err = self.runner.decrypt(tool, path)
                if st != "ok":
                    sys.exit(f"{tool} cannot decrypt the base {name}: {err}")
                self.orig[(name, tool)] = normalize(out, fmt_of(name))

    def make(self, i: int) -> tuple[str, str, bytes] | None:
        rng = random.Random(f"{self.seed}:{i}")
        names = sorted(self.bases)
        classes = list(CLASSES)
        weights = [CLASSES[c][0] for c in classes]
        for _ in range(20):
            name = rng.choice(names)
            cls = rng.choices(classes, weights)[0]
            data = self.bases[name]
            others = [self.bases[n] for n in names if n != name]
            m = mutate(cls, data, fmt_of(name), rng, others, self.siblings[name])
            if m is not None and m != data:
                return name, cls, m
        return None

    def run_one(self, i: int, wdir: Path) -> dict:
        made = self.make(i)
        if made is None:
            return {"i": i, "skip": True}
        name, cls, data = made
        key = hashlib.sha256(name.encode() + data).hexdigest()
        with self.lock:
            cached = self.cache.get(key)
        if cached is None:
            path = wdir / ("m-" + name.split("-", 1)[1])
            path.write_bytes(data)
            fmt = fmt_of(name)
            g, gout, gerr = self.runner.decrypt("gitseal", path)
            known = SOPS_FROM_OUTCOME.get(self.sops_from.get(i, ""))
            if known == "refused":
                s, sdata, serr = "refused", None, ""
            elif known == "orig":
                s, sdata, serr = "ok", self.orig[(name, "sops")], ""
            else:
                s, sout, serr = self.runner.decrypt("sops", path)
                sdata = normalize(sout, fmt) if s == "ok" else None
            gdata = normalize(gout, fmt) if g == "ok" else None
            res = outcome(g, gdata, s, sdata, self.orig[(name, "gitseal")], self.orig[(name, "sops")])
            keep = res.startswith("BUG") or "does not parse" in res
            cached = (res, gerr if keep else "", serr if keep else "")
            with self.lock:
                self.cache[key] = cached
            if keep:
                bugs = self.state / "bugs"
                bugs.mkdir(exist_ok=True)
                (bugs / f"{i}-{cls}-{name}").write_bytes(data)
        res, gerr, serr = cached
        rec = {"i": i, "base": name, "class": cls, "outcome": res}
        if gerr or serr:
            rec["gitseal_stderr"] = gerr
            rec["sops_stderr"] = serr
        return rec


def recheck(state: Path, sweep: "Sweep", wdir: Path) -> int:
    """Decrypts each mutant of STATE/bugs again with both tools; prints the outcomes as a table;
    1 when any is still a bug."""
    counts: dict[tuple[str, str], int] = {}
    for path in sorted((state / "bugs").iterdir()) if (state / "bugs").is_dir() else []:
        _, cls, name = path.name.split("-", 2)
        m = wdir / ("m-" + name.split("-", 1)[1])
        m.write_bytes(path.read_bytes())
        fmt = fmt_of(name)
        g, gout, _ = sweep.runner.decrypt("gitseal", m)
        s, sout, _ = sweep.runner.decrypt("sops", m)
        res = outcome(g, normalize(gout, fmt) if g == "ok" else None, s, normalize(sout, fmt) if s == "ok" else None,
                      sweep.orig[(name, "gitseal")], sweep.orig[(name, "sops")])
        counts[(cls, res)] = counts.get((cls, res), 0) + 1
        if os.environ.get("MUTATE_VERBOSE"):
            print(path.name, res, file=sys.stderr)
    print(md_table(["class", "outcome now", "mutants"], [[c, r, n] for (c, r), n in sorted(counts.items())]))
    return 1 if any(r.startswith("BUG") or "does not parse" in r for (_, r) in counts) else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--state", type=Path, help="directory for the base files and results (resumable)")
    ap.add_argument("--minutes", type=float, default=0, help="stop after this many minutes (0: no limit)")
    ap.add_argument("--sops-from", type=Path, metavar="STATE",
                    help="take sops's result for each mutant from the results of an earlier run of the same seed, "
                         "with the same base files and the same sops (copy its bases/ into --state): a re-run after "
                         "a gitseal fix then only runs gitseal, except where sops opened changed data or hung")
    ap.add_argument("--recheck", action="store_true",
                    help="only decrypt again the mutants kept in STATE/bugs (after a fix), and count the outcomes")
    a = ap.parse_args()
    sops = find_sops()
    if not sops:
        sys.exit("sops not found (scripts/install-peers puts it into .peers/venv)")
    gitseal = gitseal_bin()
    with Scratch("mutate") as scratch:
        state = a.state or scratch.sub("state")
        state.mkdir(parents=True, exist_ok=True)
        meta = state / "run.json"
        if meta.exists():
            prev = json.loads(meta.read_text())
            if prev["seed"] != a.seed:
                sys.exit(f"{state} holds a run with seed {prev['seed']}; use another --state")
        meta.write_text(json.dumps({"seed": a.seed}))
        runner = Runner(gitseal, sops, scratch.home)
        sweep = Sweep(state, a.seed, runner)
        sweep.prepare(scratch.sub("prep"))
        if a.recheck:
            sys.exit(recheck(state, sweep, scratch.sub("recheck")))
        if a.sops_from:
            prev_meta = json.loads((a.sops_from / "run.json").read_text())
            if prev_meta["seed"] != a.seed:
                sys.exit(f"{a.sops_from} holds a run with seed {prev_meta['seed']}, not {a.seed}")
            for name in sweep.bases:
                if (a.sops_from / "bases" / name).read_bytes() != sweep.bases[name]:
                    sys.exit(f"{a.sops_from}: base {name} differs from {state}/bases/{name}")
            for line in (a.sops_from / "results.jsonl").read_text().splitlines():
                try:
                    r = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if "outcome" in r:
                    sweep.sops_from[r["i"]] = r["outcome"]
            log(f"sops's results taken from {a.sops_from} where they are known ({len(sweep.sops_from)} mutants)")
        results_path = state / "results.jsonl"
        done: dict[int, dict] = {}
        if results_path.exists():
            for line in results_path.read_text().splitlines():
                try:
                    r = json.loads(line)
                    done[r["i"]] = r
                except json.JSONDecodeError:
                    pass  # a line cut by a kill
        todo = [i for i in range(a.count) if i not in done]
        log(f"{len(done)} mutants already done, {len(todo)} to go; gitseal {gitseal}, sops {sops}")
        start = time.monotonic()
        deadline = start + a.minutes * 60 if a.minutes else None
        wdirs = [scratch.sub(f"w{k}") for k in range(a.workers)]
        local = threading.local()
        counter = iter(range(1 << 62))
        stop = threading.Event()

        def task(i: int) -> dict | None:
            if stop.is_set() or (deadline and time.monotonic() > deadline):
                stop.set()
                return None
            if not hasattr(local, "wdir"):
                with sweep.lock:
                    local.wdir = wdirs[next(counter) % len(wdirs)]
            return sweep.run_one(i, local.wdir)

        new = 0
        with open(results_path, "a") as out, ThreadPoolExecutor(max_workers=a.workers) as pool:
            for rec in pool.map(task, todo, chunksize=16):
                if rec is None:
                    continue
                done[rec["i"]] = rec
                out.write(json.dumps(rec) + "\n")
                new += 1
                if new % 1000 == 0:
                    out.flush()
                    rate = new / (time.monotonic() - start)
                    log(f"  {len(done)}/{a.count} mutants, {rate:.1f}/s")
        elapsed = time.monotonic() - start
        if new:
            with open(state / "sessions.jsonl", "a") as f:
                f.write(json.dumps({"mutants": new, "seconds": round(elapsed, 1), "workers": a.workers,
                                    "load": loadavg()}) + "\n")
        bugs = report(done, a, elapsed, new, gitseal, sops, state, sweep)
    sys.exit(1 if bugs else 0)


def report(done: dict[int, dict], a, elapsed: float, new: int, gitseal: Path, sops: Path, state: Path,
           sweep: Sweep) -> int:
    """Prints the tables; returns the number of mutants that show a gitseal bug."""
    recs = [r for r in done.values() if not r.get("skip") and r["i"] < a.count]
    distinct = set()
    for r in recs:
        made = sweep.make(r["i"])
        if made:
            distinct.add(hashlib.sha256(made[0].encode() + made[2]).digest())
    sessions = []
    if (state / "sessions.jsonl").exists():
        sessions = [json.loads(l) for l in (state / "sessions.jsonl").read_text().splitlines() if l.strip()]
    by_class: dict[str, Counter] = defaultdict(Counter)
    for r in recs:
        by_class[r["class"]][r["outcome"]] += 1
    outcomes = [
        "BUG gitseal panic", "BUG gitseal hang", "BUG sops refuses, gitseal opens changed data",
        "BUG gitseal opens changed data, sops the original", "both refuse", "both open the original",
        "both open changed data (same change)", "both open changed data (differently)",
        "gitseal refuses, sops opens the original", "gitseal refuses, sops opens changed data",
        "sops refuses, gitseal opens the original", "gitseal opens the original, sops changed data", "sops hangs",
        "gitseal opens, its output does not parse (sops refuses)", "gitseal opens, its output does not parse",
    ]
    short = ["panic", "hang", "sops refuses, gitseal changed data", "gitseal changed, sops original",
             "both refuse", "both original", "both same change", "both changed differently",
             "gitseal refuses, sops original", "gitseal refuses, sops changed", "sops refuses, gitseal original",
             "gitseal original, sops changed", "sops hangs", "gitseal output unparsable (sops refuses)",
             "gitseal output unparsable (sops opens)"]
    total = Counter()
    rows = []
    for cls in CLASSES:
        c = by_class.get(cls, Counter())
        total.update(c)
        rows.append([cls, sum(c.values())] + [c.get(o, 0) for o in outcomes])
    rows.append(["**total**", sum(total.values())] + [total.get(o, 0) for o in outcomes])
    print("### Differential mutation sweep against sops\n")
    rate = f"{new / elapsed:.1f} mutants/s" if new and elapsed > 0 else "n/a"
    print(f"{len(recs)} mutants ({len(distinct)} distinct; identical mutants are decrypted once), seed {a.seed}; "
          f"gitseal `{gitseal}`, sops `{sops}` ({sops_version(sops)}); timeout {TIMEOUT:.0f} s; this run: {new} "
          f"mutants in {elapsed / 60:.1f} min ({rate}, {a.workers} workers), load now: {loadavg()}\n")
    if len(sessions) > 1 or (sessions and not new):
        print("Sessions of this state directory: " + "; ".join(
            f"{x['mutants']} in {x['seconds'] / 60:.1f} min ({x['mutants'] / max(x['seconds'], 1):.1f}/s, "
            f"{x['workers']} workers, load {x['load'].split(' ')[0]})" for x in sessions) + "\n")
    print(md_table(["class", "mutants"] + short, rows))
    print("\nColumns 3-6 are bugs of gitseal: a panic, a hang (> 5 s), or data that differs from the original "
          "where sops refuses or opens the original. *gitseal refuses, sops original*: gitseal is stricter.\n")
    print("Classes: " + "; ".join(f"*{k}*: {v[1]}" for k, v in CLASSES.items()) + ".\n")
    bugs = [r for r in recs if r["outcome"].startswith("BUG")]
    bugs += [r for r in recs if "does not parse" in r["outcome"]]
    if bugs:
        print(f"**Bugs and unparsable outputs** ({len(bugs)}; mutants saved in {state}/bugs/; up to 3 per class "
          f"and outcome shown):\n")
        seen = Counter()
        for r in sorted(bugs, key=lambda r: r["i"]):
            k = (r["class"], r["outcome"])
            seen[k] += 1
            if seen[k] <= 3:
                print(f"- #{r['i']} {r['class']} of {r['base']}: {r['outcome']}; gitseal: "
                      f"`{r.get('gitseal_stderr', '').strip()[:200]}`; sops: `{r.get('sops_stderr', '').strip()[:160]}`")
        print()
    stricter = Counter((r["class"], r["base"].split("-")[0]) for r in recs
                       if r["outcome"] == "gitseal refuses, sops opens the original")
    if stricter:
        print("*gitseal refuses, sops opens the original*, by class and by the tool that wrote the base file: " +
              ", ".join(f"{c} ({w}): {n}" for (c, w), n in sorted(stricter.items())) + "\n")
    return sum(1 for r in recs if r["outcome"].startswith("BUG"))


def sops_version(sops: Path) -> str:
    try:
        out = subprocess.run([str(sops), "--version", "--disable-version-check"], capture_output=True, text=True)
        return out.stdout.split("\n")[0].strip()
    except OSError:
        return "?"


if __name__ == "__main__":
    main()
