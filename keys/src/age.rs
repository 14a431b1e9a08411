//! age master keys: X25519 recipients wrap the data key into an ASCII-armored age file (one
//! recipient per file, as sops does); identities come from the places sops looks.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use age::armor::{ArmoredReader, ArmoredWriter, Format};
use zeroize::Zeroizing;

use crate::KeyError;

/// Environment variable holding identities themselves.
pub const ENV_KEY: &str = "SOPS_AGE_KEY";
/// Environment variable naming an identity file.
pub const ENV_KEY_FILE: &str = "SOPS_AGE_KEY_FILE";
/// Environment variable holding a command that prints identities.
pub const ENV_KEY_CMD: &str = "SOPS_AGE_KEY_CMD";
/// Environment variable with comma-separated recipients for `encrypt`.
pub const ENV_RECIPIENTS: &str = "SOPS_AGE_RECIPIENTS";

/// An age recipient (public key).
#[derive(Clone)]
pub struct Recipient {
    text: String,
    key: age::x25519::Recipient,
}

impl Recipient {
    /// Parses one recipient (surrounding whitespace ignored).
    pub fn parse(s: &str) -> Result<Recipient, KeyError> {
        let text = s.trim().to_string();
        // ssh keys, post-quantum and plugin recipients (a second '1' after the bech32 prefix
        // cannot occur in an X25519 key) are other master-key kinds.
        let plugin = text.starts_with("age1") && text[4..].contains('1');
        if text.starts_with("ssh-") || plugin {
            return Err(KeyError::UnsupportedRecipient(text));
        }
        match age::x25519::Recipient::from_str(&text) {
            Ok(key) => Ok(Recipient { text, key }),
            Err(e) => Err(KeyError::InvalidRecipient(text, e.to_string())),
        }
    }

    /// Parses a comma-separated list, skipping empty entries.
    pub fn parse_list(s: &str) -> Result<Vec<Recipient>, KeyError> {
        s.split(',').filter(|p| !p.trim().is_empty()).map(Recipient::parse).collect()
    }

    /// The recipient as written in files (`age1...`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Encrypts `secret` to this recipient as an armored age file (64-column lines).
    pub fn wrap(&self, secret: &[u8]) -> Result<String, KeyError> {
        let err = |e: &dyn std::fmt::Display| KeyError::Wrap { recipient: self.text.clone(), reason: e.to_string() };
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(&self.key as &dyn age::Recipient)).map_err(|e| err(&e))?;
        let mut out = Vec::new();
        let armor = ArmoredWriter::wrap_output(&mut out, Format::AsciiArmor).map_err(|e| err(&e))?;
        let mut w = encryptor.wrap_output(armor).map_err(|e| err(&e))?;
        w.write_all(secret).map_err(|e| err(&e))?;
        w.finish().and_then(|a| a.finish()).map_err(|e| err(&e))?;
        String::from_utf8(out).map_err(|e| err(&e))
    }
}

impl std::fmt::Debug for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Recipient").field(&self.text).finish()
    }
}

/// The age identities available to this process, with the places that were searched.
pub struct Identities {
    keys: Vec<age::x25519::Identity>,
    searched: Vec<String>,
}

impl Identities {
    /// Identities from text (one `AGE-SECRET-KEY-1...` per line; blank and `#` lines skipped).
    pub fn from_text(text: &str, source_name: &str) -> Result<Identities, KeyError> {
        let mut ids = Identities { keys: Vec::new(), searched: vec![source_name.to_string()] };
        ids.add_text(text, source_name)?;
        Ok(ids)
    }

    fn add_text(&mut self, text: &str, source_name: &str) -> Result<(), KeyError> {
        let bad = |reason: String| KeyError::Identity { source_name: source_name.to_string(), reason };
        if text.trim_start().starts_with("age-encryption.org") || text.trim_start().starts_with("-----BEGIN AGE") {
            return Err(bad("passphrase-protected identity files are not supported yet".into()));
        }
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let key = age::x25519::Identity::from_str(line)
                .map_err(|_| bad(format!("line {} is not an age identity (AGE-SECRET-KEY-1...)", n + 1)))?;
            self.keys.push(key);
        }
        Ok(())
    }

    /// Loads identities from every place sops reads them, all combined: `SOPS_AGE_KEY`,
    /// `SOPS_AGE_KEY_FILE`, `SOPS_AGE_KEY_CMD`, and the default `keys.txt`.
    /// `recipient` is passed to the key command as `SOPS_AGE_RECIPIENT`.
    pub fn load_default(recipient: Option<&str>) -> Result<Identities, KeyError> {
        let mut ids = Identities { keys: Vec::new(), searched: Vec::new() };
        if let Ok(text) = std::env::var(ENV_KEY) {
            ids.searched.push(ENV_KEY.to_string());
            ids.add_text(&Zeroizing::new(text), ENV_KEY)?;
        }
        if let Some(path) = std::env::var_os(ENV_KEY_FILE) {
            let path = PathBuf::from(path);
            ids.searched.push(format!("{ENV_KEY_FILE} ({})", path.display()));
            let text = read_identity_file(&path, ENV_KEY_FILE)?;
            ids.add_text(&text, &format!("{ENV_KEY_FILE} ({})", path.display()))?;
        }
        if let Ok(cmd) = std::env::var(ENV_KEY_CMD) {
            ids.searched.push(ENV_KEY_CMD.to_string());
            let text = run_key_command(&cmd, recipient)?;
            ids.add_text(&text, ENV_KEY_CMD)?;
        }
        for path in default_key_files() {
            ids.searched.push(path.display().to_string());
            if path.is_file() {
                let name = path.display().to_string();
                let text = read_identity_file(&path, &name)?;
                ids.add_text(&text, &name)?;
            }
        }
        Ok(ids)
    }

    /// How many identities were found.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when none was found.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The places searched, for error messages.
    pub fn searched(&self) -> &[String] {
        &self.searched
    }

    /// The public keys of the identities found.
    pub fn recipients(&self) -> Vec<String> {
        self.keys.iter().map(|k| k.to_public().to_string()).collect()
    }

    /// Decrypts an armored age file holding a data key (or key-group share).
    pub fn unwrap(&self, armored: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        if self.keys.is_empty() {
            return Err(KeyError::Unwrap(format!(
                "no age identity found (looked in {}); set {ENV_KEY_FILE} to your key file",
                self.searched.join(", ")
            )));
        }
        let reader = ArmoredReader::new(armored.as_bytes());
        let decryptor =
            age::Decryptor::new(reader).map_err(|e| KeyError::Unwrap(format!("malformed age data: {e}")))?;
        let mut r = decryptor.decrypt(self.keys.iter().map(|k| k as &dyn age::Identity)).map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => KeyError::Unwrap(format!(
                "none of the {} age identities found ({}) matches",
                self.keys.len(),
                self.searched.join(", ")
            )),
            other => KeyError::Unwrap(format!("age decryption failed: {other}")),
        })?;
        let mut out = Zeroizing::new(Vec::with_capacity(33));
        r.read_to_end(&mut out).map_err(|e| KeyError::Unwrap(format!("age decryption failed: {e}")))?;
        Ok(out)
    }
}

/// A new X25519 identity file in age's format (`# created:`, `# public key:`, the key).
pub fn generate_identity_file(created: &str) -> (Zeroizing<String>, String) {
    let id = age::x25519::Identity::generate();
    let public = id.to_public().to_string();
    let secret = id.to_string();
    use age::secrecy::ExposeSecret;
    let text = Zeroizing::new(format!("# created: {created}\n# public key: {public}\n{}\n", secret.expose_secret()));
    (text, public)
}

fn read_identity_file(path: &Path, name: &str) -> Result<Zeroizing<String>, KeyError> {
    std::fs::read_to_string(path)
        .map(Zeroizing::new)
        .map_err(|e| KeyError::Identity { source_name: name.to_string(), reason: e.to_string() })
}

/// The default identity files: `$XDG_CONFIG_HOME/sops/age/keys.txt` (else `~/.config/...`),
/// and on macOS also `~/Library/Application Support/sops/age/keys.txt`.
fn default_key_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let home = std::env::var_os("HOME").map(PathBuf::from);
    match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(xdg) => out.push(PathBuf::from(xdg).join("sops/age/keys.txt")),
        None => {
            if let Some(h) = &home {
                out.push(h.join(".config/sops/age/keys.txt"));
            }
        }
    }
    if cfg!(target_os = "macos") {
        if let Some(h) = &home {
            out.push(h.join("Library/Application Support/sops/age/keys.txt"));
        }
    }
    out
}

fn run_key_command(cmd: &str, recipient: Option<&str>) -> Result<Zeroizing<String>, KeyError> {
    let bad = |reason: String| KeyError::Identity { source_name: ENV_KEY_CMD.to_string(), reason };
    let words = split_command(cmd).ok_or_else(|| bad("unbalanced quotes in the command".into()))?;
    let (prog, args) = words.split_first().ok_or_else(|| bad("the command is empty".into()))?;
    let mut c = Command::new(prog);
    c.args(args).stdin(std::process::Stdio::null()).stderr(std::process::Stdio::inherit());
    if let Some(r) = recipient {
        c.env("SOPS_AGE_RECIPIENT", r);
    }
    let out = c.output().map_err(|e| bad(format!("could not run {prog:?}: {e}")))?;
    if !out.status.success() {
        return Err(bad(format!("{prog:?} failed with {}", out.status)));
    }
    let text = Zeroizing::new(out.stdout);
    String::from_utf8(text.to_vec()).map(Zeroizing::new).map_err(|_| bad("its output is not UTF-8".into()))
}

/// Splits a command line into words the way a POSIX shell would for quotes and backslashes
/// (no expansion).
fn split_command(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => cur.push(c),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => cur.push(chars.next()?),
                        c => cur.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                cur.push(chars.next()?);
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: &str = include_str!("../testdata/demo-age-key.txt");
    const DEMO_PUBLIC: &str = "age1sv4edj3t7tzg9cmf4c0325u5yntlhs9smnqkxajq5xsrs09tlfqq60yt0d";

    #[test]
    fn wraps_and_unwraps_with_64_column_armor() {
        let r = Recipient::parse(DEMO_PUBLIC).unwrap();
        let armored = r.wrap(&[7u8; 32]).unwrap();
        assert!(armored.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"));
        assert!(armored.ends_with("-----END AGE ENCRYPTED FILE-----\n"));
        assert!(armored.lines().all(|l| l.len() <= 64));
        let ids = Identities::from_text(DEMO, "demo").unwrap();
        assert_eq!(ids.recipients(), vec![DEMO_PUBLIC.to_string()]);
        assert_eq!(ids.unwrap(&armored).unwrap().as_slice(), &[7u8; 32]);
    }

    #[test]
    fn wrong_identity_is_a_clear_error() {
        let other = include_str!("../testdata/other-age-key.txt");
        let armored = Recipient::parse(DEMO_PUBLIC).unwrap().wrap(&[1u8; 32]).unwrap();
        let err = Identities::from_text(other, "other").unwrap().unwrap(&armored).unwrap_err().to_string();
        assert!(err.contains("matches"), "{err}");
        assert!(!err.contains("AGE-SECRET-KEY"), "{err}");
    }

    #[test]
    fn bad_inputs_are_errors_without_secrets() {
        assert!(Recipient::parse("age1notakey").is_err());
        assert!(matches!(Recipient::parse("ssh-ed25519 AAAA"), Err(KeyError::UnsupportedRecipient(_))));
        let e = Identities::from_text("AGE-SECRET-KEY-1BOGUS\n", "x").err().unwrap().to_string();
        assert!(e.contains("line 1") && !e.contains("BOGUS"), "{e}");
        let ids = Identities::from_text(DEMO, "demo").unwrap();
        assert!(ids.unwrap("-----BEGIN AGE ENCRYPTED FILE-----\nnope\n").is_err());
    }

    #[test]
    fn splits_commands_like_a_shell() {
        assert_eq!(split_command("cat 'a b' \"c\\\"d\" e\\ f").unwrap(), vec!["cat", "a b", "c\"d", "e f"]);
        assert!(split_command("cat 'open").is_none());
    }
}
