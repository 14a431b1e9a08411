//! `gitseal unseal`: kubeseal `--recovery-unseal` offline, for every SealedSecret of the input.

use super::args::UnsealArgs;
use super::exit;
use super::sealing_io::{load_keys, output_format, read_text, write_out};
use super::Failure;
use gitseal::sealed::manifest;
use gitseal::sealed::seal::DEFAULT_NAMESPACE;
use gitseal::sealed::unseal::{unseal, OwnerReference, UnsealOptions};

pub(crate) fn run(mut a: UnsealArgs) -> Result<(), Failure> {
    a.file = a.file.take().or(a.path.take());
    let format = output_format(a.format.as_deref(), a.output.as_deref())?;
    if a.keys.private_keys.is_empty() {
        return Err(Failure::new(exit::GENERIC, "no key could decrypt secret: pass --recovery-private-key FILE"));
    }
    let keys = load_keys(&a.keys.private_keys)?;
    let (text, name) = read_text(a.file.as_deref())?;
    let objects = manifest::parse_stream(&text).map_err(|e| Failure::new(exit::GENERIC, format!("{name}: {e}")))?;
    if objects.is_empty() {
        return Err(Failure::new(exit::GENERIC, format!("{name}: no SealedSecret found")));
    }
    let opts = UnsealOptions {
        keys: &keys,
        owner_reference: OwnerReference::WhenUid,
        default_namespace: a.namespace.as_deref().unwrap_or(DEFAULT_NAMESPACE),
        render_templates: true,
    };
    let secrets = objects
        .iter()
        .enumerate()
        .map(|(i, o)| unseal(o, i, &opts).map_err(|e| Failure::new(exit::GENERIC, format!("{name}: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let out = zeroize::Zeroizing::new(manifest::emit(&secrets, format).map_err(|e| Failure::new(exit::GENERIC, e))?);
    write_out(a.output.as_deref(), out.as_bytes(), 0o600)
}
