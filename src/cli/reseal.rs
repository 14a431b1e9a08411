//! `gitseal reseal`: re-encrypt SealedSecrets (files or whole directories) from old private keys
//! to a new certificate, offline. Every file is checked before any is written.

use super::args::ResealArgs;
use super::exit;
use super::sealing_io::{collect_files, load_cert, load_keys, read_text, write_out};
use super::Failure;
use gitseal::sealed::reseal::reseal_text;
use gitseal::sealed::seal::DEFAULT_NAMESPACE;

pub(crate) fn run(a: ResealArgs) -> Result<(), Failure> {
    let cert = load_cert(a.cert.as_deref())?;
    if a.keys.private_keys.is_empty() {
        return Err(Failure::new(exit::GENERIC, "reseal needs the old private keys: pass --recovery-private-key FILE"));
    }
    let keys = load_keys(&a.keys.private_keys)?;
    let namespace = a.namespace.as_deref().unwrap_or(DEFAULT_NAMESPACE);
    let mut updates = Vec::new();
    let mut objects = 0;
    for (path, in_dir) in collect_files(&a.paths)? {
        let (text, name) = read_text(Some(&path))?;
        if in_dir && !text.contains(gitseal::sealed::KIND) {
            continue;
        }
        match reseal_text(&text, &keys, cert.public_key(), namespace) {
            Ok(Some(r)) => {
                objects += r.objects;
                updates.push((path, r.text));
            }
            Ok(None) if in_dir => {}
            Ok(None) => return Err(Failure::new(exit::GENERIC, format!("{name}: no SealedSecret found"))),
            Err(e) => return Err(Failure::new(exit::GENERIC, format!("{name}: {e}"))),
        }
    }
    for (path, text) in &updates {
        write_out(Some(path), text.as_bytes(), 0o644)?;
    }
    eprintln!("resealed {objects} SealedSecret(s) in {} file(s) to {}", updates.len(), cert.public_key().fingerprint());
    Ok(())
}
