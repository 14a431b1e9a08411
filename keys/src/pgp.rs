//! PGP master keys through the `gpg` binary, as sops does: the data key (or share) is encrypted to
//! a fingerprint into an ASCII-armored `PGP MESSAGE`, and decrypted by gpg and its agent.
//!
//! `SOPS_GPG_EXEC` names the gpg binary (default `gpg`); gpg itself honours `GNUPGHOME`.

use std::ffi::OsString;
use std::io::Write;
use std::process::{Command, Stdio};

use zeroize::Zeroizing;

use crate::KeyError;

/// Environment variable with comma-separated fingerprints for `encrypt`.
pub const ENV_FP: &str = "SOPS_PGP_FP";
/// Environment variable naming the gpg binary.
pub const ENV_GPG_EXEC: &str = "SOPS_GPG_EXEC";

/// A PGP key named by its fingerprint (or long key id), spaces removed.
#[derive(Clone, Debug)]
pub struct PgpKey {
    fp: String,
}

impl PgpKey {
    /// Parses a fingerprint: hex digits, spaces ignored (as sops does).
    pub fn parse(s: &str) -> Result<PgpKey, KeyError> {
        let fp: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        let bad = |reason: &str| KeyError::InvalidKey { kind: "pgp", key: fp.clone(), reason: reason.into() };
        if fp.len() < 16 || fp.len() > 40 || !fp.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(bad("expected a fingerprint of 16 to 40 hex digits"));
        }
        Ok(PgpKey { fp })
    }

    /// Parses a comma-separated list, skipping empty entries.
    pub fn parse_list(s: &str) -> Result<Vec<PgpKey>, KeyError> {
        s.split(',').filter(|p| !p.trim().is_empty()).map(PgpKey::parse).collect()
    }

    /// The fingerprint as written in files.
    pub fn fingerprint(&self) -> &str {
        &self.fp
    }

    /// Encrypts `secret` to this key with gpg; returns the armored message.
    pub fn wrap(&self, secret: &[u8]) -> Result<String, KeyError> {
        let err = |reason: String| KeyError::Wrap { recipient: format!("PGP key {}", self.fp), reason };
        let mut cmd = gpg();
        cmd.args(["--batch", "--yes", "--no-default-recipient", "--no-encrypt-to", "--trust-model", "always"]).args([
            "--armor",
            "--encrypt",
            "--recipient",
            &self.fp,
        ]);
        let out = run(cmd, secret).map_err(err)?;
        let text = String::from_utf8(out.to_vec()).map_err(|_| err("gpg wrote output that is not text".into()))?;
        // sops stores the armor without its final newline (YAML `enc: |-`).
        Ok(text.trim_end_matches('\n').to_string())
    }
}

/// Decrypts an armored PGP message holding a data key (or share) with gpg.
pub fn unwrap(armored: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let mut cmd = gpg();
    cmd.args(["--batch", "--yes", "--decrypt"]);
    run(cmd, armored.as_bytes()).map_err(|why| {
        KeyError::Unwrap(format!("{why}; the secret key must be in the gpg keyring at {}", keyring_location()))
    })
}

/// Where gpg looks for keys, for messages: `GNUPGHOME` or `~/.gnupg`.
pub fn keyring_location() -> String {
    match std::env::var_os("GNUPGHOME").filter(|v| !v.is_empty()) {
        Some(home) => format!("GNUPGHOME ({})", std::path::Path::new(&home).display()),
        None => "~/.gnupg (set GNUPGHOME to use another)".into(),
    }
}

fn gpg_binary() -> OsString {
    std::env::var_os(ENV_GPG_EXEC).filter(|v| !v.is_empty()).unwrap_or_else(|| "gpg".into())
}

fn gpg() -> Command {
    let mut cmd = Command::new(gpg_binary());
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

/// Runs gpg with `input` on stdin; its stdout, or the reason it failed (gpg's own last
/// message, which never contains the plaintext).
fn run(mut cmd: Command, input: &[u8]) -> Result<Zeroizing<Vec<u8>>, String> {
    let bin = gpg_binary();
    let mut child = cmd.spawn().map_err(|e| {
        format!("could not run {:?}: {e} (install gnupg, or set {ENV_GPG_EXEC} to the gpg binary)", bin)
    })?;
    let mut stdin = child.stdin.take().ok_or("gpg has no standard input")?;
    let input = Zeroizing::new(input.to_vec());
    // Write from a thread: gpg may produce output before it has read all of its input.
    let writer = std::thread::Builder::new().spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let writer = match writer {
        Ok(w) => w,
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("gpg was not given its input: no thread to write it ({e})"));
        }
    };
    let out = child.wait_with_output().map_err(|e| format!("gpg failed: {e}"))?;
    let _ = writer.join();
    let stdout = Zeroizing::new(out.stdout);
    if out.status.success() && !stdout.is_empty() {
        return Ok(stdout);
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().map(str::trim).rfind(|l| !l.is_empty()).unwrap_or("no message");
    Err(format!("gpg failed ({}): {last}", out.status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_checked() {
        let k = PgpKey::parse(" FBC7 B9E2 A4F9 289A C0C1  D4843D16CEE4A27381B4 ").unwrap();
        assert_eq!(k.fingerprint(), "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4");
        assert!(PgpKey::parse("not-a-fingerprint").is_err());
        assert!(PgpKey::parse("ABCD").is_err());
        assert_eq!(PgpKey::parse_list("1234567890ABCDEF, ,FEDCBA0987654321").unwrap().len(), 2);
    }
}
