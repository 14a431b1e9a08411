//! `gitseal flux-secret`: the Secret Flux's kustomize-controller decrypts SOPS files with
//! (`decryption: {provider: sops, secretRef: {name: sops-age}}`): the age identities of a key
//! file under the key `identity.agekey`, as `kubectl create secret generic sops-age
//! --from-file=identity.agekey=keys.txt` makes it, comments left out. It holds private keys:
//! written to stdout for `kubectl apply -f -`, or with `--output` to a new file of mode 0600.

use gitseal::keys::age::Identities;
use gitseal_formats::{self as formats, Document, Format, Root, Value};
use zeroize::Zeroizing;

use super::args::FluxSecretArgs;
use super::io::write_atomic;
use super::{exit, Failure};

pub(crate) fn run(a: FluxSecretArgs) -> Result<(), Failure> {
    let Some(path) = a.identity.as_ref() else {
        return Err(Failure::new(exit::GENERIC, "no identity file: pass --identity FILE or set SOPS_AGE_KEY_FILE"));
    };
    let name = path.display().to_string();
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| Failure::new(exit::CANNOT_READ, format!("{name}: cannot read: {e}")))?,
    );
    // Refuses a file that holds no usable identity, with the line that is wrong.
    Identities::from_text(&text, &name).map_err(|e| Failure::new(exit::GENERIC, e.to_string()))?;
    let identities = Zeroizing::new(
        text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect::<Vec<_>>().join("\n")
            + "\n",
    );
    let secret = Value::Map(vec![
        ("apiVersion".into(), Value::str("v1")),
        ("kind".into(), Value::str("Secret")),
        (
            "metadata".into(),
            Value::Map(vec![
                ("name".into(), Value::str(a.name.clone())),
                ("namespace".into(), Value::str(a.namespace.clone())),
            ]),
        ),
        ("type".into(), Value::str("Opaque")),
        ("stringData".into(), Value::Map(vec![("identity.agekey".into(), Value::str(identities.as_str()))])),
    ]);
    let doc = Document { format: Format::Yaml, roots: vec![Root { node: secret.to_node(), end: 0 }], indent: Some(2) };
    let out = Zeroizing::new(
        formats::emit(&doc, Format::Yaml, formats::WriteOptions { indent: Some(2), ..Default::default() })
            .map_err(|e| Failure::new(exit::CANNOT_EMIT, e.to_string()))?,
    );
    match &a.output {
        Some(file) => write_atomic(file, out.as_bytes(), 0o600)
            .map_err(|e| Failure::new(exit::CANNOT_WRITE, format!("{}: cannot write: {e}", file.display()))),
        None => super::io::print(out.as_bytes()),
    }
}
