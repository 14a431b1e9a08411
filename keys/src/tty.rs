//! Asking the user for a passphrase on the controlling terminal (never on stdin, which may carry
//! the file being encrypted).

use zeroize::Zeroizing;

/// Whether there is a controlling terminal to prompt on.
pub(crate) fn available() -> bool {
    std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty").is_ok()
}

/// Prompts for a passphrase without echo; an error when there is no terminal.
pub(crate) fn passphrase(prompt: &str) -> Result<Zeroizing<String>, String> {
    if !available() {
        return Err("there is no terminal to ask for its passphrase".into());
    }
    rpassword::prompt_password(prompt).map(Zeroizing::new).map_err(|e| format!("could not read the passphrase: {e}"))
}
