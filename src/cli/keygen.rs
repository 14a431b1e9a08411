//! `gitseal keygen`: a new age identity file.

use super::args::KeygenArgs;
use super::exit;
use super::io::write_atomic;
use super::Failure;

pub(crate) fn run(a: KeygenArgs) -> Result<(), Failure> {
    if a.sealing {
        return super::keygen_sealing::run(a);
    }
    let (text, public) = gitseal_keys::age::generate_identity_file(&gitseal::timefmt::now_rfc3339());
    match &a.output {
        Some(path) => {
            if path.exists() {
                return Err(Failure::new(
                    exit::GENERIC,
                    format!("{}: already exists; not overwriting a key file", path.display()),
                ));
            }
            write_atomic(path, text.as_bytes(), 0o600)
                .map_err(|e| Failure::new(exit::CANNOT_WRITE, format!("{}: cannot write: {e}", path.display())))?;
            eprintln!("Public key: {public}");
        }
        None => print!("{}", text.as_str()),
    }
    Ok(())
}
