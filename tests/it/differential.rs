//! Differential tests: the same scenarios run with real sops 3.11 and with gitseal invoked as
//! `sops` (a symlink), each on its own copy of the same sops-written input in its own directory
//! (with its own copy of `.sops.yaml`). Compared: the exit codes (success and failure), the data
//! (every result decrypted by both tools), the master keys in the metadata (age recipients per
//! key group, effective Shamir threshold), which identities open each result, and what changed
//! in the file: `updatekeys` and `groups` touch only the metadata (every value line keeps its
//! exact ciphertext), `rotate` gives every value a new ciphertext under a new data key.
//!
//! Where gitseal differs from sops on purpose, the test says so and cites
//! `reference/sops-cli.md`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::peers::{demo_key, find_peer, gitseal, other_key, run, Peer, Work, DEMO_RECIPIENT, OTHER_RECIPIENT};

/// A YAML input: a comment, nested values, an int, a float, a list, an unencrypted value.
const YAML: (&str, &str) = (
    "s.yaml",
    "# settings\ndb:\n    user: admin\n    password: hunter2\n    port: 5432\n    ratio: 0.75\nhosts:\n    - alpha\n    - beta\nnote_unencrypted: visible\n",
);

/// A JSON input. No whole numbers: sops 3.11 stores them as `type:float`, see
/// [`sops_bools_and_whole_numbers_keep_their_ciphertext`].
const JSON: (&str, &str) = (
    "s.json",
    "{\n\t\"db\": {\n\t\t\"user\": \"admin\",\n\t\t\"password\": \"hunter2\",\n\t\t\"ratio\": 0.75\n\t},\n\t\"hosts\": [\"alpha\", \"beta\"],\n\t\"note_unencrypted\": \"visible\"\n}\n",
);

/// A creation rule for every YAML and JSON file, for the demo and the other recipient.
fn rule_for_both() -> String {
    format!("creation_rules:\n  - path_regex: \\.(yaml|json)$\n    age: {DEMO_RECIPIENT},{OTHER_RECIPIENT}\n")
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Tool {
    Sops,
    Gitseal,
}

const TOOLS: [Tool; 2] = [Tool::Sops, Tool::Gitseal];

impl Tool {
    /// The tool's own directory inside the work directory.
    fn dir(self) -> &'static str {
        match self {
            Tool::Sops => "theirs",
            Tool::Gitseal => "ours",
        }
    }
}

/// The age identities a command gets.
#[derive(Clone, Copy, Debug)]
enum Keys {
    None,
    Demo,
    Other,
    /// Both identities in `SOPS_AGE_KEY`, one after the other.
    Both,
}

/// Master keys as the metadata lists them.
#[derive(Debug, PartialEq)]
struct Recipients {
    /// The age recipients of each key group (a flat `age` list is one group).
    groups: Vec<Vec<String>>,
    /// How many groups are needed: `shamir_threshold`, or all groups when it is absent or 0.
    threshold: usize,
}

fn recipients(groups: &[&[&str]], threshold: usize) -> Recipients {
    Recipients { groups: groups.iter().map(|g| g.iter().map(|r| r.to_string()).collect()).collect(), threshold }
}

/// Exit codes of `decrypt` with the demo identity alone, the other alone, and both.
type Openers = [i32; 3];

/// The work directory with `theirs/` (for sops), `ours/` (for gitseal) and `bin/sops`, a symlink
/// to the gitseal binary.
struct Differential {
    work: Work,
    sops: Peer,
    gitseal: PathBuf,
}

impl Differential {
    /// `None` (after a note) when sops is missing outside CI.
    fn new() -> Option<Differential> {
        let sops = find_peer("sops")?;
        let work = Work::new();
        for dir in ["bin", Tool::Sops.dir(), Tool::Gitseal.dir()] {
            std::fs::create_dir_all(work.path(dir)).unwrap();
        }
        let link = work.path("bin/sops");
        std::os::unix::fs::symlink(gitseal().get_program(), &link).expect("symlink gitseal as sops");
        Some(Differential { work, sops, gitseal: link })
    }

    fn dir(&self, tool: Tool) -> PathBuf {
        self.work.path(tool.dir())
    }

    /// A command of `tool` with a clean environment and `keys`, running in `dir`.
    fn command(&self, tool: Tool, dir: &Path, keys: Keys) -> Command {
        let mut cmd = match tool {
            Tool::Sops => self.sops.cmd(),
            Tool::Gitseal => {
                let template = gitseal();
                let mut cmd = Command::new(&self.gitseal);
                for (k, v) in template.get_envs() {
                    match v {
                        Some(v) => cmd.env(k, v),
                        None => cmd.env_remove(k),
                    };
                }
                cmd
            }
        };
        cmd.current_dir(dir);
        match keys {
            Keys::None => {}
            Keys::Demo => {
                cmd.env("SOPS_AGE_KEY_FILE", demo_key());
            }
            Keys::Other => {
                cmd.env("SOPS_AGE_KEY_FILE", other_key());
            }
            Keys::Both => {
                let key = |p: PathBuf| std::fs::read_to_string(p).unwrap().trim_end().to_string();
                cmd.env("SOPS_AGE_KEY", format!("{}\n{}", key(demo_key()), key(other_key())));
            }
        }
        cmd
    }

    /// Writes the same file into both tools' directories.
    fn write(&self, name: &str, bytes: impl AsRef<[u8]>) {
        for tool in TOOLS {
            self.work.write(&format!("{}/{name}", tool.dir()), &bytes);
        }
    }

    fn read(&self, tool: Tool, name: &str) -> String {
        self.work.read_string(&format!("{}/{name}", tool.dir()))
    }

    /// `plain` encrypted by real sops for `recipients` (comma-separated), written as `name` into
    /// both directories; returns the text.
    fn sops_encrypted(&self, name: &str, plain: &str, recipients: &str) -> String {
        let ext = name.rsplit('.').next().unwrap();
        let source = format!("plain-input.{ext}");
        self.work.write(&source, plain);
        let mut cmd = self.command(Tool::Sops, self.work.dir(), Keys::None);
        let out = run(cmd.args(["encrypt", "--age", recipients, &source]), None);
        assert!(out.status.success(), "sops encrypt: {}", String::from_utf8_lossy(&out.stderr));
        self.write(name, &out.stdout);
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs `sops ARGS` with both tools, each in its own directory.
    fn both(&self, keys: Keys, args: &[&str], stdin: Option<&[u8]>) -> [Output; 2] {
        TOOLS.map(|tool| run(self.command(tool, &self.dir(tool), keys).args(args), stdin))
    }

    /// Runs `sops ARGS` with both tools and checks that sops exits `code` (the premise) and
    /// gitseal exits the same. Returns both outputs.
    fn exits(&self, keys: Keys, args: &[&str], stdin: Option<&[u8]>, code: i32) -> [Output; 2] {
        let outs = self.both(keys, args, stdin);
        let [theirs, ours] = &outs;
        let err = |o: &Output| String::from_utf8_lossy(&o.stderr).trim_end().to_string();
        assert_eq!(
            theirs.status.code(),
            Some(code),
            "premise: `sops {}` with {keys:?}: {}",
            args.join(" "),
            err(theirs)
        );
        assert_eq!(
            ours.status.code(),
            theirs.status.code(),
            "`sops {}` with {keys:?}: sops said ({}), gitseal said ({})",
            args.join(" "),
            err(theirs),
            err(ours)
        );
        outs
    }

    /// Every file of both directories, to check that a failure wrote nothing.
    fn snapshot(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut files = Vec::new();
        for tool in TOOLS {
            for entry in std::fs::read_dir(self.dir(tool)).unwrap() {
                let path = entry.unwrap().path();
                files.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
        files.sort();
        files
    }

    /// A failing command: the same exit code from both tools, and no file changed.
    fn fails(&self, keys: Keys, args: &[&str], code: i32) {
        let before = self.snapshot();
        self.exits(keys, args, Some(b""), code);
        assert!(self.snapshot() == before, "`sops {}` changed a file", args.join(" "));
    }

    /// `name` in `side`'s directory decrypted by `reader` with `keys`, as JSON.
    fn decrypt(&self, reader: Tool, side: Tool, name: &str, keys: Keys) -> Output {
        let mut cmd = self.command(reader, &self.dir(side), keys);
        run(cmd.args(["decrypt", "--output-type", "json", name]), None)
    }

    /// The data of `name` in both directories, decrypted by both tools (all four the same).
    fn data(&self, name: &str) -> Value {
        let mut seen: Vec<(String, Value)> = Vec::new();
        for side in TOOLS {
            for reader in TOOLS {
                let out = self.decrypt(reader, side, name, Keys::Both);
                let what = format!("{reader:?} decrypting {}/{name}", side.dir());
                assert!(out.status.success(), "{what}: {}", String::from_utf8_lossy(&out.stderr));
                seen.push((what, serde_json::from_slice(&out.stdout).unwrap()));
            }
        }
        for (what, value) in &seen[1..] {
            assert_eq!(value, &seen[0].1, "{what} differs from {}", seen[0].0);
        }
        seen.remove(0).1
    }

    /// The data of the input `name` before any command, as real sops reads it.
    fn reference(&self, name: &str) -> Value {
        let out = self.decrypt(Tool::Sops, Tool::Sops, name, Keys::Both);
        assert!(out.status.success(), "sops decrypt {name}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Which identities open `name` in `side`'s directory; both tools must agree.
    fn openers_of(&self, side: Tool, name: &str) -> Openers {
        let codes = |reader| {
            [Keys::Demo, Keys::Other, Keys::Both]
                .map(|keys| self.decrypt(reader, side, name, keys).status.code().expect("exit code"))
        };
        let (theirs, ours) = (codes(Tool::Sops), codes(Tool::Gitseal));
        assert_eq!(ours, theirs, "gitseal and sops open {}/{name} differently (demo, other, both)", side.dir());
        theirs
    }

    /// Which identities open `name`, the same in both directories.
    fn openers(&self, name: &str) -> Openers {
        let theirs = self.openers_of(Tool::Sops, name);
        assert_eq!(self.openers_of(Tool::Gitseal, name), theirs, "the results for {name} open differently");
        theirs
    }

    /// The master keys of `name` in both directories, which must be `expected`.
    fn expect_recipients(&self, name: &str, expected: &Recipients) {
        for tool in TOOLS {
            assert_eq!(&recipients_of(&self.read(tool, name)), expected, "{}/{name}", tool.dir());
        }
    }

    /// `name` changed only in its metadata since `before`, in both directories: every value
    /// line (and comment) is byte for byte the same, and so are the metadata settings.
    fn only_metadata_changed(&self, before: &str, name: &str) {
        for tool in TOOLS {
            let after = self.read(tool, name);
            assert!(
                body(&after) == body(before),
                "{}/{name}: a value line changed:\n{}",
                tool.dir(),
                line_diff(before, &after)
            );
            assert_eq!(settings(&after), settings(before), "{}/{name}: a metadata setting changed", tool.dir());
        }
    }

    /// `name` has a new ciphertext for every value (in both directories), and the data key of
    /// `before` no longer opens them: its metadata on the new values fails the AES-GCM check.
    fn every_value_reencrypted(&self, before: &str, name: &str) {
        let old = value_ciphertexts(before);
        assert!(old.len() >= 5, "{before}");
        for tool in TOOLS {
            let after = self.read(tool, name);
            let new = value_ciphertexts(&after);
            assert_eq!(new.len(), old.len(), "{}/{name}", tool.dir());
            for (o, n) in old.iter().zip(&new) {
                assert_ne!(o, n, "{}/{name}: a value kept its ciphertext", tool.dir());
            }
            let spliced = format!("{}{}", body(&after), metadata(before));
            let ext = name.rsplit('.').next().unwrap();
            self.write(&format!("spliced.{ext}"), &spliced);
            // sops: `Error decrypting tree: … cipher: message authentication failed`, 25 (§2).
            self.exits(Keys::Both, &["decrypt", &format!("spliced.{ext}")], None, 25);
            for t in TOOLS {
                std::fs::remove_file(self.dir(t).join(format!("spliced.{ext}"))).unwrap();
            }
        }
    }
}

/// The text before the sops metadata (YAML: the `sops:` line; JSON: the `"sops":` line).
fn body(text: &str) -> &str {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with("sops:") || line.trim_start().starts_with("\"sops\":") {
            return &text[..at];
        }
        at += line.len();
    }
    panic!("no sops metadata in:\n{text}")
}

/// The sops metadata, from its key to the end of the file.
fn metadata(text: &str) -> &str {
    &text[body(text).len()..]
}

/// The value ciphertexts (`ENC[...]` before the metadata), in file order.
fn value_ciphertexts(text: &str) -> Vec<&str> {
    body(text).split("ENC[").skip(1).map(|s| s.split(']').next().unwrap()).collect()
}

/// The metadata lines that are neither master keys nor `lastmodified`/`mac`.
fn settings(text: &str) -> Vec<&str> {
    const NAMES: [&str; 7] = [
        "unencrypted_suffix",
        "encrypted_suffix",
        "unencrypted_regex",
        "encrypted_regex",
        "unencrypted_comment_regex",
        "encrypted_comment_regex",
        "mac_only_encrypted",
    ];
    metadata(text)
        .lines()
        .map(str::trim)
        .filter(|l| NAMES.iter().chain(&["version"]).any(|n| l.trim_start_matches('"').starts_with(n)))
        .collect()
}

/// The body lines that differ, for messages.
fn line_diff(before: &str, after: &str) -> String {
    let (b, a): (Vec<_>, Vec<_>) = (body(before).lines().collect(), body(after).lines().collect());
    let mut out = String::new();
    for i in 0..b.len().max(a.len()) {
        let (x, y) = (b.get(i).copied().unwrap_or(""), a.get(i).copied().unwrap_or(""));
        if x != y {
            out += &format!("- {x}\n+ {y}\n");
        }
    }
    out
}

/// The keys of the body lines that differ (the line counts must be the same).
fn changed_value_keys(before: &str, after: &str) -> Vec<String> {
    let (b, a): (Vec<_>, Vec<_>) = (body(before).lines().collect(), body(after).lines().collect());
    assert_eq!(b.len(), a.len(), "{}", line_diff(before, after));
    b.iter()
        .zip(&a)
        .filter(|(x, y)| x != y)
        .map(|(x, _)| x.trim_start().split(':').next().unwrap().trim_matches('"').to_string())
        .collect()
}

/// The master keys listed in a YAML or JSON file's metadata.
fn recipients_of(text: &str) -> Recipients {
    let (groups, threshold) =
        if text.trim_start().starts_with('{') { json_recipients(text) } else { yaml_recipients(text) };
    let threshold = threshold.filter(|&t| t > 0).unwrap_or(groups.len());
    Recipients { groups, threshold }
}

fn json_recipients(text: &str) -> (Vec<Vec<String>>, Option<usize>) {
    let doc: Value = serde_json::from_str(text).unwrap();
    let sops = &doc["sops"];
    let ages = |group: &Value| -> Vec<String> {
        group["age"].as_array().into_iter().flatten().map(|a| a["recipient"].as_str().unwrap().to_string()).collect()
    };
    let groups = match sops["key_groups"].as_array() {
        Some(groups) => groups.iter().map(ages).collect(),
        None => vec![ages(sops)],
    };
    (groups, sops["shamir_threshold"].as_u64().map(|t| t as usize))
}

/// Reads the `sops:` block by indentation: the emitters of both tools write block YAML.
fn yaml_recipients(text: &str) -> (Vec<Vec<String>>, Option<usize>) {
    let mut groups: Vec<Vec<String>> = Vec::new();
    let mut threshold = None;
    // The indentation of the `key_groups:` line and of its items, while inside it.
    let mut key_groups: Option<(usize, Option<usize>)> = None;
    for line in metadata(text).lines().skip(1) {
        let indent = line.len() - line.trim_start().len();
        let item = line.trim_start();
        if let Some((at, items)) = key_groups {
            if indent <= at && !item.is_empty() {
                key_groups = None;
            } else if item.starts_with("- ") && items.is_none_or(|i| i == indent) {
                key_groups = Some((at, Some(indent)));
                groups.push(Vec::new());
            }
        }
        if let Some(t) = item.strip_prefix("shamir_threshold:") {
            threshold = Some(t.trim().parse().unwrap());
        } else if item.starts_with("key_groups:") {
            key_groups = Some((indent, None));
        } else if let Some(r) = item.trim_start_matches("- ").strip_prefix("recipient:") {
            if groups.is_empty() {
                groups.push(Vec::new());
            }
            groups.last_mut().unwrap().push(r.trim().to_string());
        }
    }
    (groups, threshold)
}

fn both_recipients() -> Recipients {
    recipients(&[&[DEMO_RECIPIENT, OTHER_RECIPIENT]], 1)
}

// ---------------------------------------------------------------------------------- updatekeys

#[test]
fn updatekeys_adds_a_recipient_from_the_creation_rule() {
    for (name, plain) in [YAML, JSON] {
        let Some(d) = Differential::new() else { return };
        let before = d.sops_encrypted(name, plain, DEMO_RECIPIENT);
        let data = d.reference(name);
        d.write(".sops.yaml", rule_for_both());
        d.exits(Keys::Demo, &["updatekeys", "-y", name], None, 0);
        d.only_metadata_changed(&before, name);
        d.expect_recipients(name, &both_recipients());
        assert_eq!(d.openers(name), [0, 0, 0], "{name}");
        assert_eq!(d.data(name), data, "{name}");
        // In sync now: nothing to do, nothing written (no -y needed).
        let synced = d.snapshot();
        d.exits(Keys::Demo, &["updatekeys", name], Some(b""), 0);
        assert!(d.snapshot() == synced, "{name}: an in-sync updatekeys wrote");
    }
}

#[test]
fn updatekeys_removes_a_recipient() {
    for (name, plain) in [YAML, JSON] {
        let Some(d) = Differential::new() else { return };
        let before = d.sops_encrypted(name, plain, &format!("{DEMO_RECIPIENT},{OTHER_RECIPIENT}"));
        let data = d.reference(name);
        d.write(".sops.yaml", format!("creation_rules:\n  - age: {DEMO_RECIPIENT}\n"));
        // Opened with the identity whose recipient goes away.
        d.exits(Keys::Other, &["updatekeys", "-y", name], None, 0);
        d.only_metadata_changed(&before, name);
        d.expect_recipients(name, &recipients(&[&[DEMO_RECIPIENT]], 1));
        assert_eq!(d.openers(name), [0, 128, 0], "{name}");
        assert_eq!(d.data(name), data, "{name}");
    }
}

#[test]
fn updatekeys_makes_two_key_groups_with_a_shamir_threshold() {
    for (name, plain) in [YAML, JSON] {
        let Some(d) = Differential::new() else { return };
        let before = d.sops_encrypted(name, plain, DEMO_RECIPIENT);
        let data = d.reference(name);
        d.write(
            ".sops.yaml",
            format!(
                "creation_rules:\n  - key_groups:\n      - age: [{DEMO_RECIPIENT}]\n      - age: [{OTHER_RECIPIENT}]\n    shamir_threshold: 2\n"
            ),
        );
        d.exits(Keys::Demo, &["updatekeys", "-y", name], None, 0);
        d.only_metadata_changed(&before, name);
        d.expect_recipients(name, &recipients(&[&[DEMO_RECIPIENT], &[OTHER_RECIPIENT]], 2));
        assert_eq!(d.openers(name), [128, 128, 0], "{name}");
        assert_eq!(d.data(name), data, "{name}");
    }
}

/// A deliberate difference: sops's updatekeys ignores the rule's `shamir_threshold` and writes
/// the number of groups (`reference/sops-cli.md` §6 #11: "a threshold change isn't picked up");
/// gitseal writes the rule's threshold. Both tools still agree on what opens each result.
#[test]
fn updatekeys_takes_the_threshold_from_the_rule_unlike_sops() {
    let Some(d) = Differential::new() else { return };
    let (name, plain) = YAML;
    let before = d.sops_encrypted(name, plain, DEMO_RECIPIENT);
    d.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - key_groups:\n      - age: [{DEMO_RECIPIENT}]\n      - age: [{OTHER_RECIPIENT}]\n      - age: [{DEMO_RECIPIENT}]\n    shamir_threshold: 2\n"
        ),
    );
    d.exits(Keys::Demo, &["updatekeys", "-y", name], None, 0);
    d.only_metadata_changed(&before, name);
    let groups: &[&[&str]] = &[&[DEMO_RECIPIENT], &[OTHER_RECIPIENT], &[DEMO_RECIPIENT]];
    assert_eq!(recipients_of(&d.read(Tool::Sops, name)), recipients(groups, 3), "premise");
    assert_eq!(recipients_of(&d.read(Tool::Gitseal, name)), recipients(groups, 2));
    // The demo identity opens two of the three groups: enough for 2, not for 3.
    assert_eq!(d.openers_of(Tool::Sops, name), [128, 128, 0]);
    assert_eq!(d.openers_of(Tool::Gitseal, name), [0, 128, 0]);
}

#[test]
fn updatekeys_several_files_at_once() {
    let Some(d) = Differential::new() else { return };
    let a = d.sops_encrypted("a.yaml", YAML.1, DEMO_RECIPIENT);
    let b = d.sops_encrypted("b.json", JSON.1, DEMO_RECIPIENT);
    d.sops_encrypted("c.yaml", YAML.1, &format!("{DEMO_RECIPIENT},{OTHER_RECIPIENT}"));
    let c = d.read(Tool::Sops, "c.yaml");
    d.write(".sops.yaml", rule_for_both());
    d.exits(Keys::Demo, &["updatekeys", "-y", "a.yaml", "b.json", "c.yaml"], None, 0);
    for (name, before) in [("a.yaml", &a), ("b.json", &b)] {
        d.only_metadata_changed(before, name);
        d.expect_recipients(name, &both_recipients());
        assert_eq!(d.openers(name), [0, 0, 0], "{name}");
    }
    // Already in sync: not rewritten.
    for tool in TOOLS {
        assert_eq!(d.read(tool, "c.yaml"), c, "{}/c.yaml", tool.dir());
    }

    // A file that fails (not encrypted) between two that do not: exit 1, the others updated.
    let e = d.sops_encrypted("e.yaml", YAML.1, DEMO_RECIPIENT);
    let f = d.sops_encrypted("f.json", JSON.1, DEMO_RECIPIENT);
    d.write("plain.yaml", YAML.1);
    d.exits(Keys::Demo, &["updatekeys", "-y", "e.yaml", "plain.yaml", "f.json"], None, 1);
    for (name, before) in [("e.yaml", &e), ("f.json", &f)] {
        d.only_metadata_changed(before, name);
        d.expect_recipients(name, &both_recipients());
    }
    for tool in TOOLS {
        assert_eq!(d.read(tool, "plain.yaml"), YAML.1);
    }
}

#[test]
fn updatekeys_failures_exit_as_sops() {
    let Some(d) = Differential::new() else { return };
    let (name, plain) = YAML;
    d.sops_encrypted(name, plain, DEMO_RECIPIENT);
    d.write("plain.yaml", plain);
    d.write(".sops.yaml", rule_for_both());
    // No -y, and standard input is not a terminal: sops fails on end of input, gitseal says to
    // pass -y (reference/sops-cli.md §7.2); both exit 1 and write nothing.
    d.fails(Keys::Demo, &["updatekeys", name], 1);
    // No identity for the file's recipient: CouldNotRetrieveKey.
    d.fails(Keys::Other, &["updatekeys", "-y", name], 128);
    d.fails(Keys::None, &["updatekeys", "-y", name], 128);
    // Not encrypted.
    d.fails(Keys::Demo, &["updatekeys", "-y", "plain.yaml"], 1);
    // No creation rule for the file.
    d.write(".sops.yaml", format!("creation_rules:\n  - path_regex: ^elsewhere/\n    age: {OTHER_RECIPIENT}\n"));
    d.fails(Keys::Demo, &["updatekeys", "-y", name], 1);
    // No .sops.yaml at all.
    for tool in TOOLS {
        std::fs::remove_file(d.dir(tool).join(".sops.yaml")).unwrap();
    }
    d.fails(Keys::Demo, &["updatekeys", "-y", name], 1);
}

#[test]
fn updatekeys_on_a_missing_file_exits_as_sops() {
    let Some(d) = Differential::new() else { return };
    d.write(".sops.yaml", rule_for_both());
    d.fails(Keys::Demo, &["updatekeys", "-y", "missing.yaml"], 1);
}

#[test]
fn updatekeys_takes_the_answer_from_a_pipe() {
    let Some(d) = Differential::new() else { return };
    let (name, plain) = YAML;
    let before = d.sops_encrypted(name, plain, DEMO_RECIPIENT);
    d.write(".sops.yaml", rule_for_both());
    d.exits(Keys::Demo, &["updatekeys", name], Some(b"y\n"), 0);
    d.only_metadata_changed(&before, name);
    d.expect_recipients(name, &both_recipients());
}

// -------------------------------------------------------------------------------------- rotate

#[test]
fn rotate_makes_a_new_data_key_for_every_value() {
    for (name, plain) in [YAML, JSON] {
        for form in [&["rotate", "-i"][..], &["-r", "-i"]] {
            let Some(d) = Differential::new() else { return };
            let before = d.sops_encrypted(name, plain, DEMO_RECIPIENT);
            let data = d.reference(name);
            // Without -i (subcommand form): the result on standard output, the file untouched.
            if form[0] == "rotate" {
                let outs = d.exits(Keys::Demo, &["rotate", name], None, 0);
                for (tool, out) in TOOLS.iter().zip(&outs) {
                    assert_eq!(d.read(*tool, name), before, "{form:?} {name}");
                    d.work.write(&format!("{}/stdout-{name}", tool.dir()), &out.stdout);
                }
                let stdout = format!("stdout-{name}");
                d.every_value_reencrypted(&before, &stdout);
                assert_eq!(d.data(&stdout), data, "{name}");
            }
            d.exits(Keys::Demo, &[form, &[name]].concat(), None, 0);
            d.every_value_reencrypted(&before, name);
            d.expect_recipients(name, &recipients(&[&[DEMO_RECIPIENT]], 1));
            assert_eq!(d.openers(name), [0, 128, 0], "{form:?} {name}");
            assert_eq!(d.data(name), data, "{form:?} {name}");
        }
    }
}

/// `rotate -i --add-age`, then `--rm-age` (and sops's legacy `-r -i --add-age R file`).
#[test]
fn rotate_adds_and_removes_age_recipients() {
    for (name, plain) in [YAML, JSON] {
        for form in [&["rotate", "-i"][..], &["-r", "-i"]] {
            let Some(d) = Differential::new() else { return };
            let before = d.sops_encrypted(name, plain, DEMO_RECIPIENT);
            let data = d.reference(name);
            d.exits(Keys::Demo, &[form, &["--add-age", OTHER_RECIPIENT, name]].concat(), None, 0);
            d.every_value_reencrypted(&before, name);
            d.expect_recipients(name, &both_recipients());
            assert_eq!(d.openers(name), [0, 0, 0], "{form:?} {name}");
            assert_eq!(d.data(name), data, "{form:?} {name}");

            // Both copies were rewritten apart; continue from sops's result on both sides.
            let middle = d.read(Tool::Sops, name);
            d.write(name, &middle);
            d.exits(Keys::Other, &[form, &["--rm-age", DEMO_RECIPIENT, name]].concat(), None, 0);
            d.every_value_reencrypted(&middle, name);
            d.expect_recipients(name, &recipients(&[&[OTHER_RECIPIENT]], 1));
            // The removed recipient's identity no longer opens the file.
            assert_eq!(d.openers(name), [128, 0, 0], "{form:?} {name}");
            assert_eq!(d.data(name), data, "{form:?} {name}");
        }
    }
}

#[test]
fn rotate_failures_exit_as_sops() {
    for form in [&["rotate", "-i"][..], &["-r", "-i"]] {
        let Some(d) = Differential::new() else { return };
        let (name, plain) = YAML;
        d.sops_encrypted(name, plain, DEMO_RECIPIENT);
        d.write("plain.yaml", plain);
        let with = |rest: &[&'static str]| [form, rest].concat();
        if form[0] == "-r" {
            // sops: `cannot operate on non-existent file`, NoFileSpecified (the subcommand:
            // see rotate_on_a_missing_file_exits_as_sops).
            d.fails(Keys::Demo, &with(&["missing.yaml"]), 100);
        }
        // sops: CannotChangeKeysFromNonExistentFile.
        d.fails(Keys::Demo, &with(&["--add-age", OTHER_RECIPIENT, "missing.yaml"]), 49);
        d.fails(Keys::Demo, &with(&["--rm-age", DEMO_RECIPIENT, "missing.yaml"]), 49);
        d.fails(Keys::Demo, &with(&["plain.yaml"]), 1);
        d.fails(Keys::Other, &with(&[name]), 128);
        d.fails(Keys::Other, &with(&["--add-age", OTHER_RECIPIENT, name]), 128);
        // Removing the only key: sops `Could not generate data key: [empty key group provided]`.
        d.fails(Keys::Demo, &with(&["--rm-age", DEMO_RECIPIENT, name]), 1);
    }
}

#[test]
fn rotate_on_a_missing_file_exits_as_sops() {
    let Some(d) = Differential::new() else { return };
    d.fails(Keys::Demo, &["rotate", "missing.yaml"], 2);
    d.fails(Keys::Demo, &["rotate", "-i", "missing.yaml"], 2);
}

// -------------------------------------------------------------------------------------- groups

#[test]
fn groups_add_and_delete() {
    for (name, plain) in [YAML, JSON] {
        let Some(d) = Differential::new() else { return };
        let before = d.sops_encrypted(name, plain, DEMO_RECIPIENT);
        let data = d.reference(name);
        let two = recipients(&[&[DEMO_RECIPIENT], &[OTHER_RECIPIENT]], 2);

        // Without -i: the result on standard output, the file untouched.
        let outs = d.exits(Keys::Demo, &["groups", "add", "-f", name, "--age", OTHER_RECIPIENT], None, 0);
        for (tool, out) in TOOLS.iter().zip(&outs) {
            assert_eq!(d.read(*tool, name), before, "{name}");
            d.work.write(&format!("{}/stdout-{name}", tool.dir()), &out.stdout);
        }
        d.only_metadata_changed(&before, &format!("stdout-{name}"));
        d.expect_recipients(&format!("stdout-{name}"), &two);

        d.exits(Keys::Demo, &["groups", "add", "-f", name, "-i", "--age", OTHER_RECIPIENT], None, 0);
        d.only_metadata_changed(&before, name);
        d.expect_recipients(name, &two);
        assert_eq!(d.openers(name), [128, 128, 0], "{name}");
        assert_eq!(d.data(name), data, "{name}");
        // Continue from sops's result on both sides.
        let grouped = d.read(Tool::Sops, name);
        d.write(name, &grouped);

        // One group left would be fewer than the threshold of 2: refused.
        d.fails(Keys::Both, &["groups", "delete", "-f", name, "-i", "1"], 1);
        // A deliberate difference (reference/sops-cli.md §7.2): an index out of range makes
        // sops panic (exit 2); gitseal refuses it with exit 1. Neither writes.
        let snapshot = d.snapshot();
        let [theirs, ours] = d.both(Keys::Both, &["groups", "delete", "-f", name, "-i", "5"], None);
        assert_eq!(theirs.status.code(), Some(2), "premise: {}", String::from_utf8_lossy(&theirs.stderr));
        assert_eq!(ours.status.code(), Some(1), "{}", String::from_utf8_lossy(&ours.stderr));
        assert!(d.snapshot() == snapshot, "groups delete 5 wrote");

        // Without -i: group 0 removed, to standard output.
        let args = ["groups", "delete", "-f", name, "--shamir-secret-sharing-threshold", "1", "0"];
        let outs = d.exits(Keys::Both, &args, None, 0);
        for (tool, out) in TOOLS.iter().zip(&outs) {
            assert_eq!(d.read(*tool, name), grouped, "{name}");
            d.work.write(&format!("{}/stdout-{name}", tool.dir()), &out.stdout);
        }
        d.expect_recipients(&format!("stdout-{name}"), &recipients(&[&[OTHER_RECIPIENT]], 1));

        // sops writes `shamir_threshold: 1` and one key group, gitseal a flat age list: the same
        // keys and the same threshold, compared here as such.
        let args = ["groups", "delete", "-f", name, "-i", "--shamir-secret-sharing-threshold", "1", "1"];
        d.exits(Keys::Both, &args, None, 0);
        d.only_metadata_changed(&before, name);
        d.expect_recipients(name, &recipients(&[&[DEMO_RECIPIENT]], 1));
        assert_eq!(d.openers(name), [0, 128, 0], "{name}");
        assert_eq!(d.data(name), data, "{name}");
    }
}

#[test]
fn groups_failures_exit_as_sops() {
    let Some(d) = Differential::new() else { return };
    d.write("plain.yaml", YAML.1);
    d.fails(Keys::Demo, &["groups", "add", "-f", "plain.yaml", "-i", "--age", OTHER_RECIPIENT], 1);
    d.fails(Keys::Both, &["groups", "delete", "-f", "plain.yaml", "-i", "0"], 1);
}

#[test]
fn groups_on_a_missing_file_exits_as_sops() {
    let Some(d) = Differential::new() else { return };
    d.fails(Keys::Demo, &["groups", "add", "-f", "missing.yaml", "-i", "--age", OTHER_RECIPIENT], 2);
    d.fails(Keys::Demo, &["groups", "delete", "-f", "missing.yaml", "-i", "0"], 2);
}

#[test]
fn groups_without_a_usable_key_exits_as_sops() {
    let Some(d) = Differential::new() else { return };
    d.sops_encrypted("s.yaml", YAML.1, DEMO_RECIPIENT);
    d.fails(Keys::Other, &["groups", "add", "-f", "s.yaml", "-i", "--age", OTHER_RECIPIENT], 1);
    d.fails(Keys::Other, &["groups", "delete", "-f", "s.yaml", "-i", "0"], 1);
}

// ---------------------------------------------------------------------------------- legacy mode

#[test]
fn legacy_decrypt_encrypt_and_set() {
    for (name, plain) in [YAML, JSON] {
        let Some(d) = Differential::new() else { return };
        let before = d.sops_encrypted(name, plain, DEMO_RECIPIENT);
        let data = d.reference(name);
        d.write(".sops.yaml", rule_for_both());

        // -d: the same plaintext, byte for byte.
        let [theirs, ours] = d.exits(Keys::Demo, &["-d", name], None, 0);
        assert_eq!(String::from_utf8_lossy(&ours.stdout), String::from_utf8_lossy(&theirs.stdout), "{name}");

        // -e with the creation rule, to standard output and in place.
        let ext = name.rsplit('.').next().unwrap();
        let (out_name, inplace) = (format!("out.{ext}"), format!("plain.{ext}"));
        d.write(&inplace, plain);
        let outs = d.exits(Keys::None, &["-e", &inplace], None, 0);
        for (tool, out) in TOOLS.iter().zip(&outs) {
            d.work.write(&format!("{}/{out_name}", tool.dir()), &out.stdout);
        }
        d.exits(Keys::None, &["-e", "-i", &inplace], None, 0);
        for file in [&out_name, &inplace] {
            d.expect_recipients(file, &both_recipients());
            assert_eq!(d.openers(file), [0, 0, 0], "{file}");
            assert_eq!(d.data(file), data, "{file}");
        }

        // --set of one value: only its line (plus lastmodified and mac) changes.
        d.exits(Keys::Demo, &["--set", r#"["db"]["password"] "s3cr3t""#, name], None, 0);
        for tool in TOOLS {
            assert_eq!(changed_value_keys(&before, &d.read(tool, name)), ["password"], "{}/{name}", tool.dir());
        }
        let mut expected = data.clone();
        expected["db"]["password"] = "s3cr3t".into();
        assert_eq!(d.data(name), expected, "{name}");
        // --set of a new key.
        d.exits(Keys::Demo, &["--set", r#"["a"] 1"#, name], None, 0);
        expected["a"] = 1.into();
        assert_eq!(d.data(name), expected, "{name}");
        d.expect_recipients(name, &recipients(&[&[DEMO_RECIPIENT]], 1));
    }
}

#[test]
fn legacy_failures_exit_as_sops() {
    let Some(d) = Differential::new() else { return };
    let (name, plain) = YAML;
    d.sops_encrypted(name, plain, DEMO_RECIPIENT);
    d.write("plain.yaml", plain);
    d.write(".sops.yaml", format!("creation_rules:\n  - path_regex: \\.yaml$\n    age: {DEMO_RECIPIENT}\n"));
    d.fails(Keys::Demo, &["-d"], 100);
    d.fails(Keys::Demo, &["-d", "missing.yaml"], 100);
    d.fails(Keys::Demo, &["-d", "plain.yaml"], 1);
    d.fails(Keys::Other, &["-d", name], 128);
    d.fails(Keys::Demo, &["-e", name], 203);
    d.fails(Keys::Demo, &["-e", "-i", name], 203);
    d.fails(Keys::Demo, &["-e", "missing.yaml"], 100);
    d.fails(Keys::Demo, &["--set", r#"["db"]["password"] {bad"#, name], 7);
    d.fails(Keys::Demo, &["--set", "no-path", name], 7);
    d.fails(Keys::Other, &["--set", r#"["a"] 1"#, name], 128);
    d.fails(Keys::Demo, &["--set", r#"["a"] 1"#, "plain.yaml"], 1);
    d.write("plain.json", JSON.1);
    // The config has no rule for JSON files.
    d.fails(Keys::Demo, &["-e", "plain.json"], 1);
    d.fails(Keys::Demo, &["-e", "--age", OTHER_RECIPIENT, "-i", "--output", "o.yaml", "plain.yaml"], 8);
}

/// A deliberate difference: a `.sops.yaml` without a rule for the file makes sops refuse the
/// legacy `--set` and `-r` (reference/sops-cli.md §3.2: "if one is found it must … contain a
/// matching rule"), though neither uses a creation rule and the subcommands `set` and `rotate`
/// do not ask for one; gitseal's legacy forms behave as its subcommands (§7.2 lists the config
/// that blocks explicit keys as a sops gap; the README: "where gitseal differs from sops, it is
/// on purpose").
#[test]
fn legacy_set_and_rotate_need_no_creation_rule_unlike_sops() {
    let Some(d) = Differential::new() else { return };
    let (name, plain) = YAML;
    d.sops_encrypted(name, plain, DEMO_RECIPIENT);
    let mut expected = d.reference(name);
    d.write(".sops.yaml", format!("creation_rules:\n  - path_regex: ^elsewhere/\n    age: {OTHER_RECIPIENT}\n"));
    d.exits(Keys::Demo, &["rotate", "-i", name], None, 0);
    d.exits(Keys::Demo, &["set", name, r#"["db"]["port"]"#, "1"], None, 0);
    for args in [&["--set", r#"["db"]["port"] 2"#, name][..], &["-r", "-i", name]] {
        let [theirs, ours] = d.both(Keys::Demo, args, None);
        let stderr = String::from_utf8_lossy(&theirs.stderr);
        assert_eq!(theirs.status.code(), Some(1), "premise: {args:?}: {stderr}");
        assert!(stderr.contains("no matching creation rules found"), "premise: {args:?}: {stderr}");
        assert_eq!(ours.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&ours.stderr));
    }
    // sops refused the legacy --set, so its file keeps port 1.
    for (side, port) in [(Tool::Sops, 1), (Tool::Gitseal, 2)] {
        expected["db"]["port"] = port.into();
        for reader in TOOLS {
            let out = d.decrypt(reader, side, name, Keys::Demo);
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap(), expected, "{reader:?} reading {side:?}");
        }
    }
}

#[test]
fn set_on_a_missing_file_exits_as_sops() {
    let Some(d) = Differential::new() else { return };
    d.fails(Keys::Demo, &["--set", r#"["a"] 1"#, "missing.yaml"], 2);
    d.fails(Keys::Demo, &["set", "missing.yaml", r#"["a"]"#, "1"], 2);
    d.fails(Keys::Demo, &["unset", "missing.yaml", r#"["a"]"#], 2);
}

// -------------------------------------------------------- ciphertext stability on sops's files

/// sops 3.11 encrypts booleans and whole-number floats in its own way (JSON numbers are
/// float64, so every JSON integer is `type:float`); a rewrite that keeps the data key must
/// still keep their exact ciphertext (reference/sops-cli.md §4.1).
#[test]
fn sops_bools_and_whole_numbers_keep_their_ciphertext() {
    let cases = [
        ("b.yaml", "name: x\nenabled: true\n\"on\": false\nwhole: 2.0\nport: 5432\n"),
        ("b.json", "{\"name\": \"x\", \"enabled\": true, \"port\": 5432, \"big\": 12345678901, \"ratio\": 0.5}"),
    ];
    for (name, plain) in cases {
        let Some(d) = Differential::new() else { return };
        let before = d.sops_encrypted(name, plain, DEMO_RECIPIENT);
        d.write(".sops.yaml", rule_for_both());
        d.exits(Keys::Demo, &["updatekeys", "-y", name], None, 0);
        d.only_metadata_changed(&before, name);
        d.write(name, &before);
        d.exits(Keys::Demo, &["groups", "add", "-f", name, "-i", "--age", OTHER_RECIPIENT], None, 0);
        d.only_metadata_changed(&before, name);
        d.write(name, &before);
        d.exits(Keys::Demo, &["set", name, r#"["name"]"#, r#""y""#], None, 0);
        for tool in TOOLS {
            assert_eq!(changed_value_keys(&before, &d.read(tool, name)), ["name"], "{}/{name}", tool.dir());
        }
    }
}

/// sops writes a multi-line string's ciphertext as a plain scalar and a comment inside a list
/// as a list item (`- ENC[…,type:comment]`); a rewrite that keeps the data key must keep
/// those lines as they are.
#[test]
fn sops_layout_of_multiline_strings_and_list_comments_is_kept() {
    let Some(d) = Differential::new() else { return };
    let name = "m.yaml";
    let before = d.sops_encrypted(
        name,
        "text: |\n    line one\n    line two\nlist:\n    - a\n    # in the list\n    - b\n",
        DEMO_RECIPIENT,
    );
    d.write(".sops.yaml", rule_for_both());
    d.exits(Keys::Demo, &["updatekeys", "-y", name], None, 0);
    d.only_metadata_changed(&before, name);
    d.write(name, &before);
    d.exits(Keys::Demo, &["groups", "add", "-f", name, "-i", "--age", OTHER_RECIPIENT], None, 0);
    d.only_metadata_changed(&before, name);
}
