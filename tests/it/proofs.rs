//! Reliability proofs, the fast CI versions of `scripts/proofs/` (crash.py, canary.py,
//! mutate.py): a kill -9 sample of `encrypt -i` and `set`, leak canaries over the error paths,
//! and a 300-mutant differential sample against real sops. The scripts run the same checks at
//! full size (hundreds of kills per command, 100,000 mutants).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::peers::{demo_key, find_peer, must, other_key, run, Peer, Work, DEMO_RECIPIENT};

/// A small deterministic generator (xorshift64*), so a failure can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A value that appears nowhere else: from the clock and the pid.
fn canary() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("CNRY-{:x}{:x}", nanos, std::process::id())
}

/// Regular files under `dirs` (symlinks not followed) that contain `needle`, except `skip`.
fn files_containing(dirs: &[PathBuf], needle: &str, skip: &[PathBuf]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack: Vec<PathBuf> = dirs.iter().filter(|d| d.exists()).cloned().collect();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
            if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file() && meta.len() < (64 << 20) && !skip.contains(&path) {
                let hit = std::fs::read(&path).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()));
                if hit {
                    found.push(path);
                }
            }
        }
    }
    found
}

/// The machine-wide places plaintext could land.
fn shared_dirs() -> Vec<PathBuf> {
    ["/dev/shm", "/run/user"].iter().map(PathBuf::from).filter(|p| p.exists()).collect()
}

/// Temp files that gitseal names `.gitseal-<pid>-<random>.tmp`, in `dir`.
fn temp_files(dir: &Path) -> Vec<String> {
    let names = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned());
    names.filter(|n| n.starts_with(".gitseal-")).collect()
}

// -- kill -9 ------------------------------------------------------------------------------

/// A work dir with a private `tmp/` (TMPDIR and XDG_RUNTIME_DIR), so leftovers are easy to see.
fn private_work() -> Work {
    let work = Work::new();
    std::fs::create_dir(work.path("tmp")).unwrap();
    let private = <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o700);
    std::fs::set_permissions(work.path("tmp"), private).unwrap();
    work
}

fn keyed(work: &Work) -> Command {
    let mut cmd = work.gitseal_with_key();
    cmd.env("TMPDIR", work.path("tmp")).env("XDG_RUNTIME_DIR", work.path("tmp"));
    cmd
}

/// What a version of `s.yaml` decrypts to (`None`: it does not decrypt), or the bytes
/// themselves when it is not encrypted.
fn meaning(work: &Work, bytes: &[u8]) -> Option<Vec<u8>> {
    let text = String::from_utf8_lossy(bytes);
    if !text.lines().any(|l| l.starts_with("sops:")) {
        return Some(bytes.to_vec());
    }
    let out = run(keyed(work).args(["decrypt", "--input-type", "yaml", "--output-type", "yaml"]), Some(bytes));
    out.status.success().then_some(out.stdout)
}

/// Kills `args` (run in a fresh copy of `old` as `s.yaml`) at `kills` moments spread over 0 to
/// 1.2 times its median runtime. After each kill `s.yaml` must be the old bytes or a complete
/// new version, no plaintext may be left outside it, and the next (unkilled) run must leave no
/// temp file. Returns how many runs the kill really interrupted.
fn kill_sweep(args: &[&str], old: &[u8], canary: &str, kills: usize, seed: u64) -> usize {
    let work = private_work();
    let target = work.path("s.yaml");
    let reset = |work: &Work| {
        for name in temp_files(work.dir()) {
            std::fs::remove_file(work.path(&name)).unwrap();
        }
        work.write("s.yaml", old);
    };
    reset(&work);
    must(keyed(&work).args(args), None);
    let new_version = work.read("s.yaml");
    assert!(new_version != old, "{args:?}: the reference run changed nothing");
    let new_meaning = meaning(&work, &new_version).expect("the reference run's result decrypts");
    let mut times = Vec::new();
    for _ in 0..3 {
        reset(&work);
        let start = Instant::now();
        must(keyed(&work).args(args), None);
        times.push(start.elapsed());
    }
    times.sort();
    let median = times[1];
    let mut rng = Rng(seed);
    let mut interrupted = 0;
    for i in 0..kills {
        reset(&work);
        let slice = median.mul_f64(1.2 / kills as f64);
        let delay = slice.mul_f64(i as f64 + (rng.below(1000) as f64) / 1000.0);
        let mut child =
            keyed(&work).args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        interrupted += usize::from(status.code().is_none());
        let now = std::fs::read(&target).unwrap_or_else(|e| panic!("{args:?} kill {i}: s.yaml is gone: {e}"));
        let state = if now == old {
            "old"
        } else if meaning(&work, &now).as_ref() == Some(&new_meaning) {
            "new"
        } else {
            panic!("{args:?} kill {i} after {delay:?}: s.yaml is torn ({} bytes)", now.len())
        };
        let mut dirs = vec![work.dir().to_path_buf()];
        dirs.extend(shared_dirs());
        let skip = [target.clone()];
        let leaked = files_containing(&dirs, canary, &skip);
        assert!(leaked.is_empty(), "{args:?} kill {i} ({state}): plaintext left in {leaked:?}");
        // The next run starts from the old version and removes what the killed one left.
        work.write("s.yaml", old);
        must(keyed(&work).args(args), None);
        assert_eq!(temp_files(work.dir()), Vec::<String>::new(), "{args:?} kill {i}: temp files after the next run");
    }
    interrupted
}

/// A YAML file whose values all hold `canary`, large enough that a run takes a few ms.
fn canary_yaml(canary: &str, keys: usize) -> String {
    let mut text = format!("db:\n  password: {canary}-pw\nnote_unencrypted: visible\n");
    for i in 0..keys {
        text.push_str(&format!("key{i}: {canary}-value-{i}\n"));
    }
    text
}

#[test]
fn kill_9_leaves_the_old_or_the_new_file_and_no_plaintext() {
    let canary = canary();
    let plain = canary_yaml(&canary, 400);
    let encrypted = {
        let work = Work::new();
        work.write("p.yaml", &plain);
        must(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "p.yaml"]), None)
    };
    let value = format!("\"{canary}-set\"");
    let encrypt = ["encrypt", "-i", "--age", DEMO_RECIPIENT, "s.yaml"];
    let set = ["set", "s.yaml", r#"["key7"]"#, value.as_str()];
    let a = kill_sweep(&encrypt, plain.as_bytes(), &canary, 20, 0x9E37_79B9_7F4A_7C15);
    let b = kill_sweep(&set, &encrypted, &canary, 20, 0xD1B5_4A32_D192_ED03);
    // The sweep proves little if no kill lands inside a run.
    assert!(a + b >= 10, "only {a} + {b} of 40 kills interrupted a run");
}

// -- leak canaries ------------------------------------------------------------------------

/// One error path: arguments, standard input, extra environment, and which key gitseal has.
struct ErrorPath {
    what: &'static str,
    args: Vec<String>,
    stdin: Vec<u8>,
    env: Vec<(&'static str, String)>,
    key: Option<PathBuf>,
}

fn path(what: &'static str, args: &[&str]) -> ErrorPath {
    ErrorPath {
        what,
        args: args.iter().map(|s| s.to_string()).collect(),
        stdin: Vec::new(),
        env: Vec::new(),
        key: Some(demo_key()),
    }
}

impl ErrorPath {
    fn key(mut self, key: Option<PathBuf>) -> Self {
        self.key = key;
        self
    }
    fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = bytes.into();
        self
    }
    fn env(mut self, k: &'static str, v: impl Into<String>) -> Self {
        self.env.push((k, v.into()));
        self
    }
}

/// The inputs of the canary test, all holding `c`: plaintexts, broken plaintexts, and
/// encrypted files broken in the ways an attacker or a bad merge would.
fn canary_files(work: &Work, c: &str) -> Vec<&'static str> {
    let plain = format!("db:\n  user: admin\n  password: {c}-pw\nlist:\n  - {c}-item\nnote_unencrypted: visible\n");
    work.write("plain.yaml", &plain);
    work.write("flat.yaml", format!("PASSWORD: {c}-pw\nUSER: admin\n"));
    let enc =
        String::from_utf8(must(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "plain.yaml"]), None)).unwrap();
    work.write("s.yaml", &enc);
    work.write("flat.enc.yaml", must(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, "flat.yaml"]), None));
    let at = enc.find("password: ENC[AES256_GCM,data:").unwrap() + "password: ENC[AES256_GCM,data:".len();
    let mut flipped = enc.clone().into_bytes();
    flipped[at] = if flipped[at] == b'A' { b'B' } else { b'A' };
    work.write("flipped.yaml", flipped);
    work.write("badmac.yaml", enc.replace("note_unencrypted: visible", "note_unencrypted: changed"));
    work.write("trunc.yaml", &enc[..enc.len() * 6 / 10]);
    work.write("bad.yaml", format!("password: \"{c}-pw\nother: [\n"));
    work.write("bad.json", format!("{{\"password\": \"{c}-pw\",}}"));
    work.write("bad.env", format!("{c}-pw\n"));
    work.write("bad.ini", format!("[{c}-pw\npassword = {c}-pw\n"));
    work.write("value.json", format!("{{\"a\": \"{c}-v\""));
    work.write(
        "badb64.yaml",
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\ndata:\n  password: {c}-pw!!\n"
        ),
    );
    vec!["plain.yaml", "flat.yaml", "bad.yaml", "bad.json", "bad.env", "bad.ini", "value.json", "badb64.yaml"]
}

/// An executable script in `dir` (a directory that is not scanned for the canary).
fn editor(dir: &Work, name: &str, body: &str) -> String {
    let path = dir.write(name, format!("#!/bin/sh\n{body}\n"));
    let exec = <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755);
    std::fs::set_permissions(&path, exec).unwrap();
    path.display().to_string()
}

#[test]
fn canary_never_shows_on_error_paths() {
    let work = private_work();
    let c = canary();
    let inputs = canary_files(&work, &c);
    let scripts = Work::new();
    let bad_editor = editor(&scripts, "bad-editor.sh", &format!("printf 'password: \"{c}-e\\nx: [\\n' > \"$1\""));
    let fail_editor = editor(&scripts, "fail-editor.sh", "exit 1");
    let cert = crate::peers::manifest_dir().join("keys/testdata/sealing/test-cert.pem").display().to_string();
    let a = DEMO_RECIPIENT;
    let new_value = format!("{{\"a\": \"{c}-new\"");
    let paths = vec![
        path("wrong key", &["decrypt", "s.yaml"]).key(Some(other_key())),
        path("no key", &["decrypt", "s.yaml"]).key(None),
        path("changed ciphertext", &["decrypt", "flipped.yaml"]),
        path("changed ciphertext, --ignore-mac", &["decrypt", "--ignore-mac", "flipped.yaml"]),
        path("bad MAC", &["decrypt", "badmac.yaml"]),
        path("bad MAC in place", &["decrypt", "-i", "badmac.yaml"]),
        path("truncated", &["decrypt", "trunc.yaml"]),
        path("not encrypted", &["decrypt", "plain.yaml"]),
        path("--extract into a string", &["decrypt", "--extract", r#"["db"]["password"]["x"]"#, "s.yaml"]),
        path("unparsable YAML", &["encrypt", "--age", a, "bad.yaml"]),
        path("unparsable JSON", &["encrypt", "--age", a, "bad.json"]),
        path("unparsable dotenv", &["encrypt", "--age", a, "bad.env"]),
        path("unparsable INI", &["encrypt", "-i", "--age", a, "bad.ini"]),
        path("YAML read as JSON", &["encrypt", "--age", a, "--input-type", "json", "plain.yaml"]),
        path("no recipient", &["encrypt", "plain.yaml"]).key(None),
        path("set: invalid JSON value", &["set", "s.yaml", r#"["db"]["password"]"#, &new_value]),
        path("set: invalid JSON on stdin", &["set", "--value-stdin", "s.yaml", r#"["db"]["password"]"#])
            .stdin(format!("\"{c}-new")),
        path(
            "set: invalid JSON in --value-file",
            &["set", "--value-file", "s.yaml", r#"["db"]["password"]"#, "value.json"],
        ),
        path("set: bad MAC", &["set", "badmac.yaml", r#"["db"]["user"]"#, "\"v\""]),
        path("edit: the editor writes invalid YAML", &["edit", "s.yaml"]).env("EDITOR", bad_editor),
        path("edit: the editor fails", &["edit", "s.yaml"]).env("EDITOR", fail_editor),
        path("rotate: changed ciphertext", &["rotate", "-i", "flipped.yaml"]),
        path("exec-env: the command fails", &["exec-env", "flat.enc.yaml", "exit 3"]),
        path("exec-env: complex values", &["exec-env", "s.yaml", "true"]),
        path("exec-file: the command fails", &["exec-file", "s.yaml", "cat {} > /dev/null; exit 4"]),
        path("seal: invalid base64", &["seal", "--cert", &cert, "-f", "badb64.yaml"]),
    ];
    let skip: Vec<PathBuf> = inputs.iter().map(|n| work.path(n)).collect();
    let mut problems = Vec::new();
    for p in &paths {
        for debug in [&[][..], &[("RUST_BACKTRACE", "1")][..], &[("RUST_BACKTRACE", "full"), ("RUST_LOG", "trace")][..]]
        {
            let mut cmd = work.gitseal();
            cmd.env("TMPDIR", work.path("tmp")).env("XDG_RUNTIME_DIR", work.path("tmp"));
            if let Some(key) = &p.key {
                cmd.env("SOPS_AGE_KEY_FILE", key);
            }
            for (k, v) in p.env.iter().map(|(k, v)| (*k, v.as_str())).chain(debug.iter().copied()) {
                cmd.env(k, v);
            }
            let out = run(cmd.args(&p.args), Some(&p.stdin));
            let stderr = String::from_utf8_lossy(&out.stderr);
            let what = format!("{} {debug:?}", p.what);
            if out.status.success() {
                problems.push(format!("{what}: succeeded"));
            }
            if out.status.code() == Some(101) || stderr.contains("panicked") {
                problems.push(format!("{what}: panic: {stderr}"));
            }
            if stderr.to_lowercase().contains(&c.to_lowercase()) {
                problems.push(format!("{what}: the canary is on stderr: {stderr}"));
            }
            if String::from_utf8_lossy(&out.stdout).contains(&c) {
                problems.push(format!("{what}: the canary is on stdout of a failed run"));
            }
            let mut dirs = vec![work.dir().to_path_buf()];
            dirs.extend(shared_dirs());
            let left = files_containing(&dirs, &c, &skip);
            if !left.is_empty() {
                problems.push(format!("{what}: plaintext left in {left:?}"));
            }
            if !temp_files(work.dir()).is_empty() || std::fs::read_dir(work.path("tmp")).unwrap().next().is_some() {
                problems.push(format!("{what}: temp files left"));
            }
        }
    }
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}

// -- differential mutants -----------------------------------------------------------------

/// Runs `cmd` with a timeout; `None` when it had to be killed.
fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Option<Output> {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let (mut so, mut se) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = so.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = se.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let (stdout, stderr) = (out_reader.join().unwrap(), err_reader.join().unwrap());
    status.map(|status| Output { status, stdout, stderr })
}

#[derive(Debug, PartialEq)]
enum Opened {
    Refused,
    Data(serde_json::Value),
    Panic(String),
    Hang,
}

/// Decrypts `file` to JSON (so both tools' outputs compare as data) with the demo key.
fn open(cmd: Command, file: &Path) -> Opened {
    let mut cmd = cmd;
    cmd.env("SOPS_AGE_KEY_FILE", demo_key()).args(["decrypt", "--output-type", "json"]).arg(file);
    let Some(out) = run_with_timeout(&mut cmd, Duration::from_secs(5)) else { return Opened::Hang };
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.code() == Some(101) || stderr.contains("panicked") {
        return Opened::Panic(stderr);
    }
    if !out.status.success() {
        return Opened::Refused;
    }
    match serde_json::from_slice(&out.stdout) {
        Ok(v) => Opened::Data(v),
        Err(_) => Opened::Data(serde_json::Value::String(String::from_utf8_lossy(&out.stdout).into_owned())),
    }
}

/// The byte ranges of the `ENC[...]` strings of `data`.
fn enc_spans(data: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(start) = data[from..].windows(4).position(|w| w == b"ENC[").map(|p| p + from) {
        let Some(end) = data[start..].iter().position(|&b| b == b']').map(|p| p + start + 1) else { break };
        spans.push((start, end));
        from = end;
    }
    spans
}

/// One mutant of `data` and the name of its class.
fn mutant(data: &[u8], rng: &mut Rng) -> (&'static str, Vec<u8>) {
    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    let join = |ls: Vec<&[u8]>| ls.join(&b"\n"[..]);
    let encs = enc_spans(data);
    match rng.below(7) {
        0 if !encs.is_empty() => {
            let (s, e) = encs[rng.below(encs.len())];
            let mut m = data.to_vec();
            m[s + 4 + rng.below(e - s - 5)] ^= 1 << rng.below(8);
            ("bit flip in ENC", m)
        }
        0 | 1 => {
            let mut m = data.to_vec();
            m[rng.below(data.len())] ^= 1 << rng.below(8);
            ("bit flip anywhere", m)
        }
        2 => ("truncation", data[..rng.below(data.len())].to_vec()),
        3 => {
            let i = rng.below(lines.len());
            ("line deleted", join(lines.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, l)| *l).collect()))
        }
        4 => {
            let i = rng.below(lines.len());
            let mut ls = lines.clone();
            ls.insert(i, lines[i]);
            ("line duplicated", join(ls))
        }
        5 => {
            let (i, j) = (rng.below(lines.len()), rng.below(lines.len()));
            let mut ls = lines.clone();
            ls.swap(i, j);
            ("lines swapped", join(ls))
        }
        _ if encs.len() >= 2 => {
            let (i, j) = (rng.below(encs.len()), rng.below(encs.len()));
            let (a, b) = (encs[i.min(j)], encs[i.max(j)]);
            if a == b {
                return ("values swapped", data.to_vec());
            }
            let mut m = data[..a.0].to_vec();
            m.extend_from_slice(&data[b.0..b.1]);
            m.extend_from_slice(&data[a.1..b.0]);
            m.extend_from_slice(&data[a.0..a.1]);
            m.extend_from_slice(&data[b.1..]);
            ("values swapped", m)
        }
        _ => ("truncation", data[..rng.below(data.len())].to_vec()),
    }
}

#[test]
fn mutants_never_open_to_changed_data_where_sops_refuses() {
    let Some(sops) = find_peer("sops") else { return };
    let work = Work::new();
    let plains = [
        ("a.yaml", "app:\n  name: billing\n  password: hunter2\n  ratio: 0.75\nlist:\n  - one\n  - two\nnote_unencrypted: visible\n"),
        ("b.json", "{\n  \"db\": {\"user\": \"admin\", \"password\": \"hunter2\"},\n  \"hosts\": [\"a\", \"b\"]\n}\n"),
        ("c.env", "USER=admin\nPASSWORD=hunter2\n# comment\nNOTE_unencrypted=visible\n"),
    ];
    // Each plaintext encrypted by gitseal and by sops: the bases.
    let mut bases: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, plain) in plains {
        work.write(name, plain);
        let ours = must(work.gitseal().args(["encrypt", "--age", DEMO_RECIPIENT, name]), None);
        let theirs = must(work.peer(&sops).args(["encrypt", "--age", DEMO_RECIPIENT, name]), None);
        bases.push((format!("gitseal-{name}"), ours));
        bases.push((format!("sops-{name}"), theirs));
    }
    let originals: Vec<(Opened, Opened)> = bases
        .iter()
        .map(|(name, data)| {
            let file = work.write(&format!("orig-{name}"), data);
            let both = (open(work.gitseal(), &file), open(work.peer(&sops), &file));
            assert!(matches!(both, (Opened::Data(_), Opened::Data(_))), "{name} does not open: {both:?}");
            both
        })
        .collect();
    let (bases, originals) = (&bases, &originals);
    let bugs = std::sync::Mutex::new(Vec::new());
    let stats = std::sync::Mutex::new(std::collections::BTreeMap::<String, usize>::new());
    let check = |worker: u64, sops: &Peer| {
        let mut rng = Rng(0x5EED_0000 + worker);
        for i in 0..150 {
            let b = rng.below(bases.len());
            let (name, data) = &bases[b];
            let (class, m) = mutant(data, &mut rng);
            let ext = name.rsplit('.').next().unwrap();
            let file = work.write(&format!("m{worker}.{ext}"), &m);
            let (g, s) = (open(work.gitseal(), &file), open(work.peer(sops), &file));
            let (g0, s0) = &originals[b];
            let verdict = match (&g, &s) {
                (Opened::Panic(e), _) => Some(format!("gitseal panicked: {e}")),
                (Opened::Hang, _) => Some("gitseal hangs".to_string()),
                (Opened::Data(_), Opened::Refused) if &g != g0 => {
                    Some("sops refuses, gitseal opens changed data".into())
                }
                (Opened::Data(_), Opened::Data(_)) if &g != g0 && &s == s0 => {
                    Some("gitseal opens changed data, sops the original".into())
                }
                _ => None,
            };
            let outcome = match (&g, &s) {
                (Opened::Refused, Opened::Refused) => "both refuse",
                (Opened::Refused, _) => "gitseal refuses",
                (_, Opened::Refused) => "sops refuses",
                _ => "both open",
            };
            *stats.lock().unwrap().entry(outcome.to_string()).or_default() += 1;
            if let Some(v) = verdict {
                let text = String::from_utf8_lossy(&m);
                bugs.lock()
                    .unwrap()
                    .push(format!("worker {worker} mutant {i} ({class} of {name}): {v}; the mutant:\n{text}"));
            }
        }
    };
    std::thread::scope(|scope| {
        for worker in 0..2 {
            let sops = sops.clone();
            let check = &check;
            scope.spawn(move || check(worker, &sops));
        }
    });
    let bugs = bugs.into_inner().unwrap();
    let stats = stats.into_inner().unwrap();
    assert_eq!(stats.values().sum::<usize>(), 300, "{stats:?}");
    assert!(stats.get("both refuse").copied().unwrap_or(0) > 100, "too few mutants were refused: {stats:?}");
    assert!(bugs.is_empty(), "{} of 300 mutants ({stats:?}):\n{}", bugs.len(), bugs.join("\n"));
}
