//! `gitseal keygen --sealing`: an RSA sealing key pair and a controller-style certificate.

use std::time::SystemTime;

use gitseal_keys::sealing::{SealingCert, SealingKey, DEFAULT_TTL};

use super::args::KeygenArgs;
use super::exit;
use super::sealing_io::write_out;
use super::Failure;

pub(crate) fn run(a: KeygenArgs) -> Result<(), Failure> {
    let Some(key_path) = &a.output else {
        return Err(Failure::new(
            exit::GENERIC,
            "keygen --sealing needs -o KEY_FILE for the private key (it is never printed)",
        ));
    };
    for p in std::iter::once(key_path).chain(a.cert_output.as_ref()) {
        if p.exists() {
            return Err(Failure::new(
                exit::GENERIC,
                format!("{}: already exists; not overwriting a key file", p.display()),
            ));
        }
    }
    if !(2048..=16384).contains(&a.key_size) {
        return Err(Failure::new(exit::GENERIC, format!("--key-size {}: expected 2048 to 16384 bits", a.key_size)));
    }
    let key = SealingKey::generate(a.key_size).map_err(|e| Failure::new(exit::GENERIC, e.to_string()))?;
    let cert = SealingCert::self_signed(&key, &a.my_cn, SystemTime::now(), DEFAULT_TTL)
        .map_err(|e| Failure::new(exit::GENERIC, e.to_string()))?;
    let pem = key.to_pkcs1_pem().map_err(|e| Failure::new(exit::GENERIC, e.to_string()))?;
    write_out(Some(key_path), pem.as_bytes(), 0o600)?;
    write_out(a.cert_output.as_deref(), cert.to_pem().as_bytes(), 0o644)?;
    eprintln!("Sealing key fingerprint: {}", key.public_key().fingerprint());
    Ok(())
}
