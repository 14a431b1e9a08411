//! age master keys: recipients wrap the data key into an ASCII-armored age file (one recipient
//! per file, as sops does); identities come from the places sops looks (`reference/sops-format.md`
//! §9). Recipients are X25519 (`age1...`), SSH public keys (`ssh-ed25519 ...`, `ssh-rsa ...`) and
//! plugin recipients (`age1<name>1...`, through `age-plugin-<name>` on PATH).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use age::armor::{ArmoredReader, ArmoredWriter, Format};
use age::secrecy::SecretString;
use age_core::format::{FileKey, Stanza};
use base64::Engine;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::KeyError;

/// Environment variable holding identities themselves.
pub const ENV_KEY: &str = "SOPS_AGE_KEY";
/// Environment variable naming an identity file.
pub const ENV_KEY_FILE: &str = "SOPS_AGE_KEY_FILE";
/// Environment variable holding a command that prints identities.
pub const ENV_KEY_CMD: &str = "SOPS_AGE_KEY_CMD";
/// Environment variable naming an SSH private key file.
pub const ENV_SSH_KEY_FILE: &str = "SOPS_AGE_SSH_PRIVATE_KEY_FILE";
/// Environment variable holding a command that prints an SSH private key (sops 3.12+).
pub const ENV_SSH_KEY_CMD: &str = "SOPS_AGE_SSH_PRIVATE_KEY_CMD";
/// Environment variable the key commands get: the recipient whose identity is wanted.
pub const ENV_RECIPIENT: &str = "SOPS_AGE_RECIPIENT";
/// Environment variable with comma-separated recipients for `encrypt`.
pub const ENV_RECIPIENTS: &str = "SOPS_AGE_RECIPIENTS";

#[derive(Clone)]
enum RecipientKey {
    X25519(age::x25519::Recipient),
    Ssh(age::ssh::Recipient),
    Plugin(age::plugin::Recipient),
}

/// An age recipient (public key).
#[derive(Clone)]
pub struct Recipient {
    text: String,
    key: RecipientKey,
}

impl Recipient {
    /// Parses one recipient (surrounding whitespace ignored). SSH keys keep their comment, as
    /// sops writes the whole string into the file.
    pub fn parse(s: &str) -> Result<Recipient, KeyError> {
        let text = s.trim().to_string();
        // An identity given where a recipient belongs is a secret: never echo any of the text
        // (a whole key file, `key=AGE-SECRET-KEY-1...`, a PEM private key).
        if holds_identity(&text) {
            return Err(KeyError::InvalidRecipient(
                crate::redact::REDACTED.into(),
                "this is an identity (a secret key), not a recipient; pass its public key (age-keygen -y FILE)".into(),
            ));
        }
        let invalid = |e: &dyn std::fmt::Display| KeyError::InvalidRecipient(text.clone(), e.to_string());
        let key = if text.starts_with("ssh-") {
            match age::ssh::Recipient::from_str(&text) {
                Ok(k) => RecipientKey::Ssh(k),
                Err(age::ssh::ParseRecipientKeyError::Unsupported(kind)) => {
                    return Err(KeyError::UnsupportedRecipient(
                        text,
                        format!("SSH key type {kind} is not supported; use ssh-ed25519 or ssh-rsa"),
                    ))
                }
                Err(e) => return Err(invalid(&format!("{e:?}"))),
            }
        } else if is_post_quantum(&text) {
            return Err(KeyError::UnsupportedRecipient(
                short_recipient(&text),
                format!("{PQ_UNSUPPORTED}; use an X25519 (age1...) or SSH recipient"),
            ));
        } else if text.starts_with("age1") && text[4..].contains('1') {
            // A second '1' cannot occur in an X25519 key's data part: the separator of a plugin
            // recipient's `age1<name>1...`.
            RecipientKey::Plugin(age::plugin::Recipient::from_str(&text).map_err(|e| invalid(&e))?)
        } else {
            RecipientKey::X25519(age::x25519::Recipient::from_str(&text).map_err(|e| invalid(&e))?)
        };
        Ok(Recipient { text, key })
    }

    /// Parses a comma-separated list, skipping empty entries.
    pub fn parse_list(s: &str) -> Result<Vec<Recipient>, KeyError> {
        s.split(',').filter(|p| !p.trim().is_empty()).map(Recipient::parse).collect()
    }

    /// The recipient as written in files (`age1...`, `ssh-ed25519 AAAA... comment`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Encrypts `secret` to this recipient as an armored age file (64-column lines).
    pub fn wrap(&self, secret: &[u8]) -> Result<String, KeyError> {
        let err = |e: &dyn std::fmt::Display| KeyError::Wrap { recipient: self.text.clone(), reason: e.to_string() };
        let plugin;
        let recipient: &dyn age::Recipient = match &self.key {
            RecipientKey::X25519(k) => k,
            RecipientKey::Ssh(k) => k,
            RecipientKey::Plugin(k) => {
                plugin = age::plugin::RecipientPluginV1::new(
                    k.plugin(),
                    std::slice::from_ref(k),
                    &[],
                    TtyCallbacks::default(),
                )
                .map_err(|e| err(&plugin_error(e)))?;
                &plugin
            }
        };
        let encryptor = age::Encryptor::with_recipients(std::iter::once(recipient)).map_err(|e| err(&e))?;
        let mut out = Vec::new();
        let armor = ArmoredWriter::wrap_output(&mut out, Format::AsciiArmor).map_err(|e| err(&e))?;
        let mut w = encryptor.wrap_output(armor).map_err(|e| err(&e))?;
        w.write_all(secret).map_err(|e| err(&e))?;
        w.finish().and_then(|a| a.finish()).map_err(|e| err(&e))?;
        String::from_utf8(out).map_err(|e| err(&e))
    }
}

/// Why post-quantum recipients and identities cannot be used, for messages.
pub const PQ_UNSUPPORTED: &str =
    "post-quantum age keys (age1pq1... / AGE-SECRET-KEY-PQ-1...) are not supported by this build: \
     the age crate it is built on (0.12) has no ML-KEM-768 + X25519 hybrid type yet";

/// Whether a recipient is a post-quantum hybrid one (`age1pq1...`, sops 3.13 through age 1.3).
pub fn is_post_quantum(recipient: &str) -> bool {
    recipient.trim().to_ascii_lowercase().starts_with("age1pq1")
}

/// A recipient for messages: a post-quantum one (about 2,000 characters) by its two ends.
pub fn short_recipient(recipient: &str) -> String {
    let n = recipient.chars().count();
    if n <= 64 {
        return recipient.to_string();
    }
    let head: String = recipient.chars().take(16).collect();
    let tail: String = recipient.chars().skip(n - 8).collect();
    format!("{head}...{tail}")
}

/// Whether recipient text holds a secret key anywhere, in any letter case, even one too
/// damaged for the redactor to recognise.
fn holds_identity(text: &str) -> bool {
    let upper = text.to_ascii_uppercase();
    ["AGE-SECRET-KEY-", "AGE-PLUGIN-", "PRIVATE KEY", "PRIVATEKEY"].iter().any(|m| upper.contains(m))
        || crate::redact::contains_secret(text)
}

impl std::fmt::Debug for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Recipient").field(&self.text).finish()
    }
}

fn plugin_error(e: age::plugin::ResolveError) -> String {
    match e {
        age::plugin::ResolveError::MissingPlugin { binary_name } => {
            format!("the age plugin {binary_name} was not found on PATH; install it to use this key")
        }
        other => other.to_string().replace('\n', " "),
    }
}

/// Callbacks for plugins and passphrase-protected SSH keys: messages go to stderr, passphrases
/// are asked on the terminal; what could not be asked is remembered for the error message.
#[derive(Clone, Default)]
struct TtyCallbacks {
    notes: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl TtyCallbacks {
    fn note(&self, s: String) {
        if let Ok(mut n) = self.notes.lock() {
            if !n.contains(&s) {
                n.push(s);
            }
        }
    }
}

impl age::Callbacks for TtyCallbacks {
    fn display_message(&self, message: &str) {
        eprintln!("gitseal: {}", crate::redact::redact_secrets(message));
    }

    fn confirm(&self, _message: &str, _yes: &str, _no: Option<&str>) -> Option<bool> {
        None
    }

    fn request_public_string(&self, _description: &str) -> Option<String> {
        None
    }

    fn request_passphrase(&self, description: &str) -> Option<SecretString> {
        match crate::tty::passphrase(&format!("{description} ")) {
            Ok(p) => Some(SecretString::from(p.to_string())),
            Err(why) => {
                self.note(format!("{description}: {why}"));
                None
            }
        }
    }
}

/// A passphrase-protected SSH key: asked about only for SSH stanzas, and only for its own
/// stanzas when its public key (`.pub` beside it) is known, so that other files never prompt.
struct LockedSsh {
    inner: Box<dyn age::Identity>,
    tag: Option<String>,
}

impl age::Identity for LockedSsh {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        if stanza.tag != "ssh-ed25519" && stanza.tag != "ssh-rsa" {
            return None;
        }
        if let Some(tag) = &self.tag {
            if stanza.args.first() != Some(tag) {
                return None;
            }
        }
        self.inner.unwrap_stanza(stanza)
    }
}

/// The stanza tag of an SSH public key line (`ssh-ed25519 AAAA... comment`): the first four bytes
/// of the SHA-256 of the key blob, base64 without padding.
fn ssh_tag(public_line: &str) -> Option<String> {
    let blob = public_line.split_whitespace().nth(1)?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(blob).ok()?;
    Some(base64::engine::general_purpose::STANDARD_NO_PAD.encode(&Sha256::digest(&bytes)[..4]))
}

/// The age identities available to this process, with the places that were searched.
pub struct Identities {
    keys: Vec<Box<dyn age::Identity>>,
    /// Passphrase-protected SSH keys, tried after all others so a key without a prompt wins.
    locked: Vec<LockedSsh>,
    /// The X25519 identities again, for their public keys (computed only when asked: a scalar
    /// multiplication each, which decryption does not need).
    x25519: Vec<age::x25519::Identity>,
    plugins: BTreeMap<String, Vec<age::plugin::Identity>>,
    callbacks: TtyCallbacks,
    searched: Vec<String>,
    /// Where post-quantum identities were skipped (see [`PQ_UNSUPPORTED`]), for messages.
    skipped_pq: Vec<String>,
}

impl Identities {
    fn empty() -> Identities {
        Identities {
            keys: Vec::new(),
            locked: Vec::new(),
            x25519: Vec::new(),
            plugins: BTreeMap::new(),
            callbacks: TtyCallbacks::default(),
            searched: Vec::new(),
            skipped_pq: Vec::new(),
        }
    }

    /// Identities from text (one `AGE-SECRET-KEY-1...` or `AGE-PLUGIN-...` per line; blank and `#`
    /// lines skipped). A passphrase-protected identity file is decrypted after a prompt.
    pub fn from_text(text: &str, source_name: &str) -> Result<Identities, KeyError> {
        let mut ids = Identities::empty();
        ids.searched.push(source_name.to_string());
        ids.add_text(text, source_name, false)?;
        Ok(ids)
    }

    /// Adds the identities of `text`, one per line, or with `several_per_line` (`SOPS_AGE_KEY`,
    /// as sops 3.13 reads it) every word of a line. Post-quantum identities are skipped (this
    /// build cannot use them) and remembered for the error message.
    fn add_text(&mut self, text: &str, source_name: &str, several_per_line: bool) -> Result<(), KeyError> {
        let bad = |reason: String| KeyError::Identity { source_name: source_name.to_string(), reason };
        let start = text.trim_start();
        if start.starts_with("age-encryption.org") || start.starts_with("-----BEGIN AGE") {
            let plain = decrypt_identity_file(text, source_name).map_err(bad)?;
            return self.add_text(&plain, source_name, several_per_line);
        }
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words: Vec<&str> = if several_per_line { line.split_whitespace().collect() } else { vec![line] };
            let several = words.len() > 1;
            for (w, word) in words.into_iter().enumerate() {
                let place = if several { format!("line {}, word {}", n + 1, w + 1) } else { format!("line {}", n + 1) };
                let added = self.add_identity(word, &place).map_err(|why| {
                    if !several_per_line && word.split_whitespace().nth(1).is_some() {
                        bad(format!("{why}: one identity per line (only {ENV_KEY} takes several on a line)"))
                    } else {
                        bad(why)
                    }
                })?;
                if !added {
                    self.skipped_pq.push(format!("{source_name} {place}"));
                }
            }
        }
        Ok(())
    }

    /// Adds one identity; `place` (`line 3`) names it in errors, never its text. False for a
    /// post-quantum identity, which is skipped: another identity may open the file, and the
    /// error says why when none does.
    fn add_identity(&mut self, word: &str, place: &str) -> Result<bool, String> {
        if word.starts_with("AGE-PLUGIN-") {
            let id = age::plugin::Identity::from_str(word)
                .map_err(|e| format!("{place} is not a valid age plugin identity: {e}"))?;
            self.plugins.entry(id.plugin().to_string()).or_default().push(id);
            return Ok(true);
        }
        if word.to_ascii_uppercase().starts_with("AGE-SECRET-KEY-PQ-1") {
            return Ok(false);
        }
        let key = age::x25519::Identity::from_str(word)
            .map_err(|_| format!("{place} is not an age identity (AGE-SECRET-KEY-1... or AGE-PLUGIN-...)"))?;
        self.x25519.push(key.clone());
        self.keys.push(Box::new(key));
        Ok(true)
    }

    /// Adds an SSH private key file (OpenSSH or PEM). Passphrase-protected keys prompt on first
    /// use.
    fn add_ssh(&mut self, path: &Path, source_name: &str) -> Result<(), KeyError> {
        let text = read_identity_file(path, source_name)?;
        let mut pub_path = path.as_os_str().to_owned();
        pub_path.push(".pub");
        self.add_ssh_text(&text, Some(&PathBuf::from(pub_path)), &path.display().to_string(), source_name)
    }

    /// Adds an SSH private key given as text; `public` is where its public key may be (to ask
    /// for a passphrase only for the key's own stanzas); `label` names it in prompts.
    fn add_ssh_text(
        &mut self,
        text: &str,
        public: Option<&Path>,
        label: &str,
        source_name: &str,
    ) -> Result<(), KeyError> {
        let bad = |reason: String| KeyError::Identity { source_name: source_name.to_string(), reason };
        let id = age::ssh::Identity::from_buffer(text.as_bytes(), Some(label.to_string()))
            .map_err(|e| bad(format!("not a supported SSH private key: {e}")))?;
        match id {
            age::ssh::Identity::Unencrypted(_) => self.keys.push(Box::new(id)),
            age::ssh::Identity::Encrypted(_) => {
                let tag = public.and_then(|p| std::fs::read_to_string(p).ok()).and_then(|l| ssh_tag(&l));
                let inner = Box::new(id.with_callbacks(self.callbacks.clone()));
                self.locked.push(LockedSsh { inner, tag });
            }
            age::ssh::Identity::Unsupported(_) => {
                return Err(bad("this SSH key type is not supported (use ed25519 or RSA)".into()))
            }
        }
        Ok(())
    }

    /// Loads identities from every place sops reads them, all combined: the SSH key in
    /// `SOPS_AGE_SSH_PRIVATE_KEY_FILE` and the one `SOPS_AGE_SSH_PRIVATE_KEY_CMD` prints (else
    /// `~/.ssh/id_ed25519` and `~/.ssh/id_rsa` when they exist), `SOPS_AGE_KEY` (several
    /// identities may share a line, separated by spaces), `SOPS_AGE_KEY_FILE`,
    /// `SOPS_AGE_KEY_CMD`, and the default `keys.txt`. `recipient` is passed to both commands as
    /// `SOPS_AGE_RECIPIENT`.
    pub fn load_default(recipient: Option<&str>) -> Result<Identities, KeyError> {
        let mut ids = Identities::empty();
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let ssh_file = std::env::var_os(ENV_SSH_KEY_FILE).filter(|p| !p.is_empty());
        let ssh_cmd = std::env::var(ENV_SSH_KEY_CMD).ok().filter(|c| !c.trim().is_empty());
        if let Some(path) = &ssh_file {
            let path = PathBuf::from(path);
            let name = format!("{ENV_SSH_KEY_FILE} ({})", path.display());
            ids.searched.push(name.clone());
            ids.add_ssh(&path, &name)?;
        }
        if let Some(cmd) = &ssh_cmd {
            ids.searched.push(ENV_SSH_KEY_CMD.to_string());
            let text = run_key_command(ENV_SSH_KEY_CMD, cmd, recipient)?;
            let locked = ids.locked.len();
            ids.add_ssh_text(&text, None, ENV_SSH_KEY_CMD, ENV_SSH_KEY_CMD)?;
            if ids.locked.len() > locked {
                // As sops: the command has no terminal to share with a passphrase prompt.
                return Err(KeyError::Identity {
                    source_name: ENV_SSH_KEY_CMD.into(),
                    reason: "the SSH key it prints is passphrase-protected, which is not supported; have it print an unencrypted key, or use SOPS_AGE_SSH_PRIVATE_KEY_FILE".into(),
                });
            }
        }
        if ssh_file.is_none() && ssh_cmd.is_none() {
            if let Some(h) = &home {
                for file in ["id_ed25519", "id_rsa"] {
                    let path = h.join(".ssh").join(file);
                    ids.searched.push(format!("~/.ssh/{file}"));
                    if path.is_file() {
                        // A default key that cannot be used is skipped (it may be of another
                        // kind), but the reason is kept for the error message.
                        if let Err(e) = ids.add_ssh(&path, &format!("~/.ssh/{file}")) {
                            ids.searched.pop();
                            ids.searched.push(format!("~/.ssh/{file} (skipped: {e})"));
                        }
                    }
                }
            }
        }
        if let Ok(text) = std::env::var(ENV_KEY) {
            ids.searched.push(ENV_KEY.to_string());
            ids.add_text(&Zeroizing::new(text), ENV_KEY, true)?;
        }
        if let Some(path) = std::env::var_os(ENV_KEY_FILE) {
            let path = PathBuf::from(path);
            let name = format!("{ENV_KEY_FILE} ({})", path.display());
            ids.searched.push(name.clone());
            let text = read_identity_file(&path, &name)?;
            ids.add_text(&text, &name, false)?;
        }
        if let Ok(cmd) = std::env::var(ENV_KEY_CMD) {
            ids.searched.push(ENV_KEY_CMD.to_string());
            let text = run_key_command(ENV_KEY_CMD, &cmd, recipient)?;
            ids.add_text(&text, ENV_KEY_CMD, false)?;
        }
        for path in default_key_files() {
            ids.searched.push(path.display().to_string());
            if path.is_file() {
                let name = path.display().to_string();
                let text = read_identity_file(&path, &name)?;
                ids.add_text(&text, &name, false)?;
            }
        }
        Ok(ids)
    }

    /// How many identities were found.
    pub fn len(&self) -> usize {
        self.keys.len() + self.locked.len() + self.plugins.values().map(Vec::len).sum::<usize>()
    }

    /// True when none was found.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The places searched, for error messages.
    pub fn searched(&self) -> &[String] {
        &self.searched
    }

    /// The public keys of the X25519 identities found.
    pub fn recipients(&self) -> Vec<String> {
        self.x25519.iter().map(|k| k.to_public().to_string()).collect()
    }

    /// Decrypts an armored age file holding a data key (or key-group share).
    pub fn unwrap(&self, armored: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let skipped = if self.skipped_pq.is_empty() {
            String::new()
        } else {
            format!("; skipped the post-quantum identity at {}: {PQ_UNSUPPORTED}", self.skipped_pq.join(", "))
        };
        if self.is_empty() {
            return Err(KeyError::Unwrap(format!(
                "no age identity found (looked in {}); set {ENV_KEY_FILE} to your key file, or {ENV_SSH_KEY_FILE} to your SSH key{skipped}",
                self.searched.join(", ")
            )));
        }
        let mut plugins = Vec::new();
        let mut missing = Vec::new();
        for (name, ids) in &self.plugins {
            match age::plugin::IdentityPluginV1::new(name, ids, self.callbacks.clone()) {
                Ok(p) => plugins.push(p),
                Err(e) => missing.push(plugin_error(e)),
            }
        }
        let reader = ArmoredReader::new(armored.as_bytes());
        let decryptor =
            age::Decryptor::new(reader).map_err(|e| KeyError::Unwrap(format!("malformed age data: {e}")))?;
        let all = self
            .keys
            .iter()
            .map(|k| k.as_ref())
            .chain(plugins.iter().map(|p| p as &dyn age::Identity))
            .chain(self.locked.iter().map(|k| k as &dyn age::Identity));
        let mut r = decryptor.decrypt(all).map_err(|e| {
            let mut notes = self.callbacks.notes.lock().map(|n| n.clone()).unwrap_or_default();
            notes.extend(missing);
            let extra = if notes.is_empty() { String::new() } else { format!(" ({})", notes.join("; ")) };
            match e {
                age::DecryptError::NoMatchingKeys => KeyError::Unwrap(format!(
                    "none of the {} age identities found ({}) matches{extra}{skipped}",
                    self.len(),
                    self.searched.join(", ")
                )),
                other => KeyError::Unwrap(format!("age decryption failed: {}{extra}", one_line(&other))),
            }
        })?;
        let mut out = Zeroizing::new(Vec::with_capacity(33));
        r.read_to_end(&mut out).map_err(|e| KeyError::Unwrap(format!("age decryption failed: {e}")))?;
        Ok(out)
    }
}

fn one_line(e: &dyn std::fmt::Display) -> String {
    e.to_string().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Decrypts a passphrase-protected (scrypt) identity file after asking for its passphrase.
fn decrypt_identity_file(text: &str, source_name: &str) -> Result<Zeroizing<String>, String> {
    let decryptor = age::Decryptor::new(ArmoredReader::new(text.as_bytes()))
        .map_err(|e| format!("not a valid passphrase-protected age file: {e}"))?;
    if !decryptor.is_scrypt() {
        return Err("the identity file is encrypted, but not with a passphrase".into());
    }
    let passphrase = crate::tty::passphrase(&format!("Enter passphrase for identity file {source_name}:"))
        .map_err(|why| format!("the identity file is passphrase-protected and {why}"))?;
    let mut id = age::scrypt::Identity::new(SecretString::from(passphrase.to_string()));
    // age's default limit is a time estimate that debug builds exceed; 2^22 bounds the work (a
    // few seconds) while accepting what `age -p` writes (2^18).
    id.set_max_work_factor(22);
    let mut r = decryptor
        .decrypt(std::iter::once(&id as &dyn age::Identity))
        .map_err(|e| format!("could not decrypt the identity file (wrong passphrase?): {}", one_line(&e)))?;
    let mut out = Zeroizing::new(Vec::new());
    r.read_to_end(&mut out).map_err(|e| format!("could not decrypt the identity file: {e}"))?;
    String::from_utf8(out.to_vec()).map(Zeroizing::new).map_err(|_| "the decrypted identity file is not text".into())
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

/// Runs the command of the variable `var` (split like a shell would, run without a shell, as
/// sops runs it) with `SOPS_AGE_RECIPIENT` set, and returns what it prints.
fn run_key_command(var: &str, cmd: &str, recipient: Option<&str>) -> Result<Zeroizing<String>, KeyError> {
    let bad = |reason: String| KeyError::Identity { source_name: var.to_string(), reason };
    let words = split_command(cmd).ok_or_else(|| bad("unbalanced quotes in the command".into()))?;
    let (prog, args) = words.split_first().ok_or_else(|| bad("the command is empty".into()))?;
    let mut c = Command::new(prog);
    c.args(args).stdin(std::process::Stdio::null()).stderr(std::process::Stdio::inherit());
    if let Some(r) = recipient {
        c.env(ENV_RECIPIENT, r);
    }
    let out = c.output().map_err(|e| bad(format!("could not run {prog:?}: {e}")))?;
    let text = Zeroizing::new(out.stdout);
    if !out.status.success() {
        return Err(bad(format!("{prog:?} failed with {}", out.status)));
    }
    String::from_utf8(text.to_vec()).map(Zeroizing::new).map_err(|_| bad("its output is not UTF-8".into()))
}

/// Splits a command line into words the way a POSIX shell would for quotes and backslashes
/// (no expansion).
pub fn split_command(s: &str) -> Option<Vec<String>> {
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
    fn a_secret_key_given_as_recipient_is_not_echoed() {
        let secret = DEMO.lines().find(|l| l.starts_with("AGE-SECRET-KEY-")).unwrap();
        for text in [secret.to_string(), secret.to_ascii_lowercase(), format!("{DEMO_PUBLIC},{secret}")] {
            let err = Recipient::parse_list(&text).unwrap_err().to_string();
            assert!(!err.to_ascii_uppercase().contains(&secret[15..]), "{err}");
            assert!(err.contains("not a recipient"), "{err}");
        }
    }

    #[test]
    fn a_secret_key_anywhere_in_the_text_is_not_echoed() {
        let secret = DEMO.lines().find(|l| l.starts_with("AGE-SECRET-KEY-")).unwrap();
        let body = &secret[16..];
        let pem = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
        for text in [
            DEMO.to_string(),
            DEMO.to_ascii_lowercase(),
            format!("key={secret}"),
            format!("# note\n{}", secret.to_ascii_lowercase()),
            format!("{DEMO_PUBLIC} {secret}"),
            pem.to_string(),
        ] {
            let err = Recipient::parse_list(&text).unwrap_err().to_string();
            let upper = err.to_ascii_uppercase();
            assert!(!upper.contains(body) && !upper.contains("B3BLBNNZ"), "{err}");
            assert!(err.contains("not a recipient") && !err.contains("created"), "{err}");
        }
    }

    #[test]
    fn other_recipient_errors_show_the_text_redacted() {
        let secret = DEMO.lines().find(|l| l.starts_with("AGE-SECRET-KEY-")).unwrap();
        let err = KeyError::InvalidRecipient(format!("x{secret}"), "bad".into()).to_string();
        assert!(!err.contains(&secret[16..]) && err.contains("x<secret key>"), "{err}");
        let err = KeyError::InvalidKey { kind: "pgp", key: secret.to_ascii_lowercase(), reason: "bad".into() };
        assert!(!err.to_string().to_ascii_uppercase().contains(&secret[16..]), "{err}");
        let ok = Recipient::parse("age1notakey").unwrap_err().to_string();
        assert!(ok.contains("\"age1notakey\""), "{ok}");
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
        assert!(Recipient::parse("ssh-ed25519 AAAA").is_err());
        assert!(matches!(Recipient::parse("age1pq1abc"), Err(KeyError::UnsupportedRecipient(..))));
        let e = Identities::from_text("AGE-SECRET-KEY-1BOGUS\n", "x").err().unwrap().to_string();
        assert!(e.contains("line 1") && !e.contains("BOGUS"), "{e}");
        let ids = Identities::from_text(DEMO, "demo").unwrap();
        assert!(ids.unwrap("-----BEGIN AGE ENCRYPTED FILE-----\nnope\n").is_err());
    }

    /// `SOPS_AGE_KEY` takes several identities on a line (sops 3.13, getsops/sops#2086); a
    /// file takes one per line, and says so.
    #[test]
    fn several_identities_on_a_line_only_where_sops_takes_them() {
        let other = include_str!("../testdata/other-age-key.txt");
        let secret = |text: &str| text.lines().find(|l| l.starts_with("AGE-SECRET-KEY-1")).unwrap().to_string();
        let line = format!("{} {}\n", secret(DEMO), secret(other));
        let mut ids = Identities::empty();
        ids.add_text(&line, ENV_KEY, true).unwrap();
        assert_eq!(ids.len(), 2);
        for r in [DEMO_PUBLIC, "age1ts7974g6kt9rxzh65r8z636p9ypefh9u5365p2uuzll2hfnx3gusyddl7z"] {
            let armored = Recipient::parse(r).unwrap().wrap(&[3u8; 32]).unwrap();
            assert_eq!(ids.unwrap(&armored).unwrap().as_slice(), &[3u8; 32]);
        }
        let e = Identities::from_text(&line, "keys.txt").err().unwrap().to_string();
        assert!(e.contains("line 1") && e.contains("one identity per line") && !e.contains(&secret(DEMO)[16..]), "{e}");
    }

    #[test]
    fn post_quantum_keys_are_refused_with_the_reason() {
        let pq = format!("age1pq1{}", "q".repeat(1900));
        let e = Recipient::parse(&pq).unwrap_err().to_string();
        assert!(e.contains("not supported by this build") && e.contains("age crate") && e.len() < 400, "{e}");
        // An identity is skipped: the others still work, and the error says why when none does.
        let text = format!("AGE-SECRET-KEY-PQ-1{}\n{DEMO}", "Q".repeat(60));
        let ids = Identities::from_text(&text, "keys.txt").unwrap();
        assert_eq!(ids.len(), 1);
        let armored = Recipient::parse(DEMO_PUBLIC).unwrap().wrap(&[5u8; 32]).unwrap();
        assert_eq!(ids.unwrap(&armored).unwrap().as_slice(), &[5u8; 32]);
        let only = Identities::from_text(&format!("AGE-SECRET-KEY-PQ-1{}", "Q".repeat(60)), "keys.txt").unwrap();
        let e = only.unwrap(&armored).unwrap_err().to_string();
        assert!(e.contains("post-quantum identity at keys.txt line 1") && !e.contains("QQQQ"), "{e}");
    }

    #[test]
    fn splits_commands_like_a_shell() {
        assert_eq!(split_command("cat 'a b' \"c\\\"d\" e\\ f").unwrap(), vec!["cat", "a b", "c\"d", "e f"]);
        assert!(split_command("cat 'open").is_none());
    }
}
