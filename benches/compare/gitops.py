#!/usr/bin/env python3
"""Times gitseal against real sops where GitOps tools run them once per file.

    python3 benches/compare/gitops.py --gitseal BIN --sops BIN [--runs 5] [--files 200]

Called by gitops.sh, which builds gitseal and finds the peers. Python stdlib only; hyperfine times
every command (--warmup 1, --runs N). In one private temporary directory it builds:

- a git repository of N encrypted YAML files (20 keys each) with two commits, the second
  changing one value in every file; `git diff HEAD~1 HEAD` and `git log -p` run with the diff
  driver's textconv set to `gitseal textconv` and to `sops decrypt` (sops's documented textconv);
- 50 encrypted Secret manifests and a KSOPS generator naming them: `gitseal kustomize gen.yaml`
  (one process, as kustomize runs the plugin) against `sops decrypt` once per file (what KSOPS
  does inside one process; KSOPS itself is not on these registries) and `gitseal decrypt` once
  per file, and the whole `kubectl kustomize --enable-alpha-plugins` with gitseal as ksops;
- a 5,000-key file changed on two branches at different keys: `gitseal merge-driver` on it, and
  as a floor for any sops-based merge, sops decrypting the three versions.

Every command is checked once before it is timed (textconv output holds the plaintext, the merge
gives the merged values). Prints a markdown table with the load average before and after.
"""
import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEY = os.path.join(ROOT, "keys", "testdata", "demo-age-key.txt")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gitseal", required=True)
    p.add_argument("--sops", required=True)
    p.add_argument("--kubectl", default=shutil.which("kubectl") or "")
    p.add_argument("--hyperfine", default=shutil.which("hyperfine") or "")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--files", type=int, default=200)
    return p.parse_args()


def sh(cmd, cwd, env=None, stdin=None, ok=True):
    p = subprocess.run(cmd, cwd=cwd, env=env, input=stdin, capture_output=True, shell=isinstance(cmd, str))
    if ok and p.returncode != 0:
        sys.exit(f"gitops.py: {cmd!r} failed ({p.returncode}): {p.stderr.decode(errors='replace')[:400]}")
    return p


def recipient():
    with open(KEY) as f:
        for line in f:
            if line.startswith("# public key: "):
                return line.split(": ", 1)[1].strip()
    sys.exit("gitops.py: no public key line in " + KEY)


def encrypt_all(gitseal, cwd, names, env):
    """Encrypts the named plaintext files in place, by creation rule, in one gitseal call each."""
    for n in names:
        sh([gitseal, "encrypt", "-i", n], cwd, env)


def time_cmd(hyperfine, runs, cmd, cwd, env, prepare=None):
    """Mean and standard deviation in ms of `cmd` (a shell string), by hyperfine."""
    out = os.path.join(cwd, ".hf.json")
    # The default shell (hyperfine subtracts its start-up): the loops and redirections need one.
    args = [hyperfine, "--warmup", "1", "--runs", str(runs), "--export-json", out, "--style", "none"]
    if prepare:
        args += ["--prepare", prepare]
    sh(args + [cmd], cwd, env)
    with open(out) as f:
        r = json.load(f)["results"][0]
    os.remove(out)
    return r["mean"] * 1000, r["stddev"] * 1000


def main():
    a = parse_args()
    if not a.hyperfine:
        sys.exit("gitops.py: hyperfine not found")
    work = tempfile.mkdtemp(prefix="gitseal-gitops.")
    os.chmod(work, 0o700)
    env = dict(os.environ, SOPS_AGE_KEY_FILE=KEY, SOPS_DISABLE_VERSION_CHECK="1", GIT_PAGER="cat",
               GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1", HOME=work,
               GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@example.com",
               GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@example.com")
    rows = []
    load_before = open("/proc/loadavg").read().split()[:3]
    try:
        rows += textconv(a, os.path.join(work, "repo"), env)
        rows += kustomize(a, os.path.join(work, "kust"), env)
        rows += merge(a, os.path.join(work, "merge"), env)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load_after = open("/proc/loadavg").read().split()[:3]
    print(f"{os.cpu_count()} CPUs; load average before {' '.join(load_before)}, after {' '.join(load_after)}; "
          f"hyperfine --warmup 1 --runs {a.runs}; mean ± sd")
    print()
    print("| task | gitseal | sops | sops / gitseal |")
    print("|---|---|---|---|")
    for task, g, s in rows:
        ratio = f"{s[0] / g[0]:.1f}x" if s else "–"
        sops = f"{s[0]:.1f} ± {s[1]:.1f} ms" if s else "–"
        print(f"| {task} | {g[0]:.1f} ± {g[1]:.1f} ms | {sops} | {ratio} |")


def textconv(a, repo, env):
    os.makedirs(repo)
    sh(["git", "init", "-q", "-b", "main"], repo, env)
    with open(os.path.join(repo, ".sops.yaml"), "w") as f:
        f.write(f"creation_rules:\n  - path_regex: \\.enc\\.yaml$\n    age: {recipient()}\n")
    with open(os.path.join(repo, ".gitattributes"), "w") as f:
        f.write("*.enc.yaml diff=sealed\n")
    names = []
    for i in range(a.files):
        name = f"app{i:03}.enc.yaml"
        names.append(name)
        with open(os.path.join(repo, name), "w") as f:
            f.write(f"app: app{i}\ndb:\n  host: db{i}.internal\n  user: svc{i}\n  password: pw-{i}-initial\n")
            for k in range(16):
                f.write(f"key{k:02}: value-{i}-{k}\n")
    encrypt_all(a.gitseal, repo, names, env)
    sh("git add -A && git commit -q -m one", repo, env)
    for n in names:
        sh([a.gitseal, "set", n, '["db"]["password"]', '"pw-changed"'], repo, env)
    sh("git commit -q -am two", repo, env)
    rows = []
    for what, cmd in [("git diff HEAD~1 HEAD", "diff HEAD~1 HEAD"), ("git log -p", "log -p")]:
        results = {}
        for tool, conv in [("gitseal", f"{a.gitseal} textconv"), ("sops", f"{a.sops} decrypt")]:
            full = f"git -c diff.sealed.textconv={shlex.quote(conv)} {cmd}"
            out = sh(full, repo, env).stdout.decode()
            # sops writes YAML anew with 4-space indents; gitseal keeps the file's 2.
            changed = sum(1 for l in out.splitlines() if l.startswith("+") and l.strip("+ ") == "password: pw-changed")
            if changed != a.files:
                sys.exit(f"gitops.py: {tool} as textconv showed {changed} changed passwords, not {a.files}")
            results[tool] = time_cmd(a.hyperfine, a.runs, full, repo, env)
        rows.append((f"{what}, {a.files} files (textconv)", results["gitseal"], results["sops"]))
    return rows


def kustomize(a, d, env):
    app = os.path.join(d, "app")
    os.makedirs(app)
    with open(os.path.join(app, ".sops.yaml"), "w") as f:
        f.write(f"creation_rules:\n  - encrypted_regex: ^(data|stringData)$\n    age: {recipient()}\n")
    names = []
    for i in range(50):
        name = f"secret{i:02}.yaml"
        names.append(name)
        with open(os.path.join(app, name), "w") as f:
            f.write(f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s{i}\ntype: Opaque\nstringData:\n"
                    f"  user: u{i}\n  password: p{i}\n  token: t{i}\n")
    encrypt_all(a.gitseal, app, names, env)
    with open(os.path.join(app, "gen.yaml"), "w") as f:
        # The legacy exec plugin (kubectl's kustomize skips exec KRM functions).
        f.write("apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata:\n  name: secrets\nfiles:\n")
        f.writelines(f"  - ./{n}\n" for n in names)
    with open(os.path.join(app, "kustomization.yaml"), "w") as f:
        f.write("generators:\n  - gen.yaml\n")
    plugin = os.path.join(d, "xdg", "kustomize", "plugin", "viaduct.ai", "v1", "ksops")
    os.makedirs(plugin)
    os.symlink(a.gitseal, os.path.join(plugin, "ksops"))
    out = sh([a.gitseal, "kustomize", "gen.yaml"], app, env).stdout.decode()
    if out.count("kind: Secret") != 50 or "p49" not in out:
        sys.exit("gitops.py: gitseal kustomize did not give the 50 decrypted Secrets")
    loop = " ".join(names)
    rows = [
        ("kustomize plugin, 50 Secrets (gitseal kustomize, one process; sops once per file)",
         time_cmd(a.hyperfine, a.runs, f"{a.gitseal} kustomize gen.yaml", app, env),
         time_cmd(a.hyperfine, a.runs, f"for f in {loop}; do {a.sops} decrypt $f >/dev/null; done", app, env)),
        ("50 Secrets, each tool once per file",
         time_cmd(a.hyperfine, a.runs, f"for f in {loop}; do {a.gitseal} decrypt $f >/dev/null; done", app, env),
         time_cmd(a.hyperfine, a.runs, f"for f in {loop}; do {a.sops} decrypt $f >/dev/null; done", app, env)),
    ]
    if a.kubectl:
        kenv = dict(env, XDG_CONFIG_HOME=os.path.join(d, "xdg"))
        out = sh([a.kubectl, "kustomize", "--enable-alpha-plugins", "app"], d, kenv).stdout.decode()
        if out.count("kind: Secret") != 50:
            sys.exit("gitops.py: kubectl kustomize did not give the 50 Secrets")
        rows.append(("kubectl kustomize --enable-alpha-plugins, 50 Secrets (gitseal as ksops)",
                     time_cmd(a.hyperfine, a.runs, f"{a.kubectl} kustomize --enable-alpha-plugins app", d, kenv),
                     None))
    return rows


def merge(a, d, env):
    os.makedirs(d)
    with open(os.path.join(d, ".sops.yaml"), "w") as f:
        f.write(f"creation_rules:\n  - path_regex: \\.yaml$\n    age: {recipient()}\n")
    with open(os.path.join(d, "base.yaml"), "w") as f:
        for i in range(5000):
            f.write(f"key{i:04}: value-{i}\n")
    encrypt_all(a.gitseal, d, ["base.yaml"], env)
    shutil.copy(os.path.join(d, "base.yaml"), os.path.join(d, "ours0.yaml"))
    shutil.copy(os.path.join(d, "base.yaml"), os.path.join(d, "theirs.yaml"))
    sh([a.gitseal, "set", "ours0.yaml", '["key0010"]', '"ours"'], d, env)
    sh([a.gitseal, "set", "theirs.yaml", '["key4990"]', '"theirs"'], d, env)
    prepare = "cp ours0.yaml ours.yaml"
    sh(prepare, d, env)
    sh([a.gitseal, "merge-driver", "base.yaml", "ours.yaml", "theirs.yaml", "secrets.yaml"], d, env)
    merged = sh([a.gitseal, "decrypt", "ours.yaml", "--input-type", "yaml"], d, env).stdout.decode()
    if "key0010: ours" not in merged or "key4990: theirs" not in merged:
        sys.exit("gitops.py: the merge driver did not merge both changes")
    cmd = f"{a.gitseal} merge-driver base.yaml ours.yaml theirs.yaml secrets.yaml"
    floor = (f"{a.sops} decrypt base.yaml >/dev/null; {a.sops} decrypt ours0.yaml >/dev/null; "
             f"{a.sops} decrypt theirs.yaml >/dev/null")
    return [("merge driver, 5,000 keys (sops: only decrypting the three versions)",
             time_cmd(a.hyperfine, a.runs, cmd, d, env, prepare=prepare),
             time_cmd(a.hyperfine, a.runs, floor, d, env))]


if __name__ == "__main__":
    main()
