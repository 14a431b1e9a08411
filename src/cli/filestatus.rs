//! `gitseal filestatus`: whether a file is encrypted, as sops prints it. It looks for sops
//! metadata with a `version` and a `mac` and decrypts nothing, so it needs no key.

use gitseal_formats::Format;

use super::args::FilestatusArgs;
use super::exit;
use super::Failure;
use gitseal::envelope;
use gitseal::error::Error;

pub(crate) fn run(a: FilestatusArgs) -> Result<(), Failure> {
    let name = a.file.display().to_string();
    let format = match &a.input_type {
        Some(t) => Format::from_name(t).ok_or_else(|| {
            Failure::new(exit::GENERIC, format!("unknown --input-type {t:?}: expected yaml, json, dotenv or binary"))
        })?,
        None => Format::from_path(&name),
    };
    // sops exits 1 for every failure here, a missing file included.
    let bytes = super::io::read_file(&a.file).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            Failure::new(exit::GENERIC, format!("{name}: cannot check file status: no such file"))
        }
        _ => Failure::new(exit::GENERIC, format!("{name}: cannot check file status: {e}")),
    })?;
    let encrypted = match envelope::open(&bytes, format, &name) {
        Ok(opened) => !opened.metadata.version.is_empty() && opened.metadata.mac.is_some_and(|m| !m.is_empty()),
        Err(Error::NotEncrypted { .. }) | Err(Error::Metadata { .. }) => false,
        Err(e) => return Err(Failure::new(exit::GENERIC, format!("cannot check file status: {e}"))),
    };
    super::io::print(format!("{{\"encrypted\":{encrypted}}}\n").as_bytes())
}
