//! `gitseal check`: the pre-commit guard. Files a `.sops.yaml` creation rule covers must be
//! encrypted, every value their recorded rule encrypts in ciphertext, and their MAC valid where a
//! key is at hand; plaintext Kubernetes Secrets and credentials (private keys, cloud keys,
//! tokens) in any checked file are findings too, named by file, line and rule, never by value.
//! Any finding exits 1.

use std::path::PathBuf;
use std::process::Command;

use gitseal::config::Config;
use gitseal::envelope::{self, DecryptOptions};
use gitseal::ErrorKind;
use gitseal_formats::{Format, Node, Scalar};
use regex::Regex;
use zeroize::Zeroizing;

use super::args::CheckArgs;
use super::{exit, files, warn, Failure};

/// Credential patterns (`name`, regex), as Gitleaks names such rules; matched line by line.
const CREDENTIALS: &[(&str, &str)] = &[
    ("private-key", r"-----BEGIN[ A-Z0-9]*PRIVATE KEY( BLOCK)?-----"),
    ("age-secret-key", r"AGE-SECRET-KEY-1[0-9A-Za-z]{58}"),
    ("aws-access-key-id", r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    ("github-token", r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b"),
    ("slack-token", r"\bxox[baprs]-[A-Za-z0-9-]{10,}"),
    ("vault-token", r"\bhvs\.[A-Za-z0-9_-]{24,}"),
];

pub(crate) fn run(a: CheckArgs) -> Result<(), Failure> {
    let config = files::load_config(false)?;
    let explicit = !a.paths.is_empty();
    let paths = if explicit {
        a.paths.clone()
    } else {
        let listing = if a.staged {
            git(&["diff", "--cached", "--name-only", "--diff-filter=ACMR", "-z"])?
        } else {
            git(&["ls-files", "-z"])?
        };
        listing.split('\0').filter(|p| !p.is_empty()).map(PathBuf::from).collect()
    };
    let detectors: Vec<(&str, Regex)> =
        CREDENTIALS.iter().map(|(name, re)| (*name, Regex::new(re).expect("a valid built-in pattern"))).collect();
    let mut keys = files::keyring(None)?;
    let mut findings = Vec::new();
    for path in &paths {
        let name = path.display().to_string();
        let bytes = if a.staged { git_bytes(&["show", &format!(":{name}")]) } else { std::fs::read(path).ok() };
        let Some(bytes) = bytes.map(Zeroizing::new) else { continue };
        // A rule without path_regex covers every file: only for files named on the command line
        // (pre-commit passes the ones its `files` pattern selects).
        let rule = config
            .as_ref()
            .and_then(|c| c.rule_for(path).filter(|r| explicit || r.path_regex().is_some()).map(|r| (c, r)));
        findings.extend(check_file(&name, &bytes, rule, &mut keys));
        findings.extend(credentials(&name, &bytes, &detectors));
    }
    if let Ok(on) = git(&["config", "--get", "diff.gitseal.cachetextconv"]) {
        if on.trim() == "true" {
            warn("diff.gitseal.cachetextconv is on: git keeps decrypted files in refs/notes/textconv/gitseal; run gitseal git setup to turn it off");
        }
    }
    for f in &findings {
        println!("{f}");
    }
    if findings.is_empty() {
        return Ok(());
    }
    Err(Failure::new(
        exit::GENERIC,
        format!(
            "check: {} finding(s) in {} file(s) checked; nothing with a secret may be committed as it is",
            findings.len(),
            paths.len()
        ),
    ))
}

/// The findings of one file's encryption: a covered file in the clear, values in the clear, a
/// MAC that does not match; and a plaintext Kubernetes Secret.
fn check_file(
    name: &str,
    bytes: &[u8],
    rule: Option<(&Config, &gitseal::config::CreationRule)>,
    keys: &mut gitseal::keyring::Keyring,
) -> Vec<String> {
    let format = Format::from_path(name);
    match envelope::plaintext_values(bytes, format, name) {
        Ok(paths) if !paths.is_empty() => paths
            .into_iter()
            .map(|p| format!("{name}: the value at {p} is not encrypted, but the file's rule encrypts it (added after encryption?)"))
            .collect(),
        Ok(_) => match envelope::decrypt(bytes, format, name, keys, &DecryptOptions::default()) {
            Err(e) if e.kind() == ErrorKind::Mac || e.kind() == ErrorKind::DecryptValue => vec![format!("{e}")],
            // No key at hand (or one that does not fit): the structure was checked.
            _ => Vec::new(),
        },
        Err(e) if e.kind() == ErrorKind::NotEncrypted || e.kind() == ErrorKind::Parse => {
            let mut out = Vec::new();
            if let Some((cfg, r)) = rule {
                out.push(format!(
                    "{name}: not encrypted, but {} of {} covers it; encrypt it: gitseal encrypt -i {name}",
                    r.describe(),
                    cfg.name
                ));
            }
            out.extend(plaintext_secrets(name, bytes, format));
            out
        }
        Err(e) => vec![e.to_string()],
    }
}

/// Plaintext `kind: Secret` manifests with `data` or `stringData`.
fn plaintext_secrets(name: &str, bytes: &[u8], format: Format) -> Vec<String> {
    if !matches!(format, Format::Yaml | Format::Json) {
        return Vec::new();
    }
    let Ok(text) = std::str::from_utf8(bytes) else { return Vec::new() };
    let Ok(doc) = gitseal_formats::parse(format, text) else { return Vec::new() };
    let mut out = Vec::new();
    for (n, root) in doc.roots.iter().enumerate() {
        let kind = root.node.get("kind").map(|e| &e.value);
        let is_secret = matches!(kind, Some(Node::Leaf(l)) if matches!(&l.value, Scalar::Str(k) if k == "Secret"));
        let has_data = ["data", "stringData"].iter().any(
            |k| matches!(root.node.get(k).map(|e| e.value.resolved()), Some(Node::Map(items)) if !items.is_empty()),
        );
        if is_secret && has_data {
            let which = if doc.roots.len() > 1 { format!(" (document {})", n + 1) } else { String::new() };
            out.push(format!(
                "{name}: a Kubernetes Secret{which} with data in the clear; encrypt it (gitseal encrypt -i {name}) or seal it (gitseal seal)"
            ));
        }
    }
    out
}

/// `file:line: rule` for each line that holds a credential; never the value.
fn credentials(name: &str, bytes: &[u8], detectors: &[(&str, Regex)]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        for (rule, re) in detectors {
            if re.is_match(line) {
                out.push(format!("{name}:{}: {rule} (value not shown)", n + 1));
            }
        }
    }
    out
}

fn git(args: &[&str]) -> Result<String, Failure> {
    git_bytes(args).map(|b| String::from_utf8_lossy(&b).into_owned()).ok_or_else(|| {
        Failure::new(exit::GENERIC, format!("git {} failed (is this a git repository?)", args.join(" ")))
    })
}

fn git_bytes(args: &[&str]) -> Option<Vec<u8>> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status.success().then_some(out.stdout)
}
