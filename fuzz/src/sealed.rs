//! Bitnami Sealed Secrets (`gitseal::sealed`): manifest streams, offline validation, unsealing
//! with the test sealing key, and `spec.template.data` rendering.

use std::sync::OnceLock;

use gitseal::keys::sealing::{SealingCert, SealingKey};
use gitseal::sealed::manifest::{self, OutputFormat};
use gitseal::sealed::template::{self, Items};
use gitseal::sealed::unseal::{unseal, OwnerReference, UnsealOptions};
use gitseal::sealed::validate::{validate, ValidateOptions};
use zeroize::Zeroizing;

fn sealing_keys() -> &'static [SealingKey] {
    static KEYS: OnceLock<Vec<SealingKey>> = OnceLock::new();
    KEYS.get_or_init(|| SealingKey::from_pem(crate::SEALING_KEY).expect("the test sealing key parses"))
}

fn sealing_cert() -> &'static SealingCert {
    static CERT: OnceLock<SealingCert> = OnceLock::new();
    CERT.get_or_init(|| SealingCert::from_pem(crate::SEALING_CERT).expect("the test certificate parses"))
}

/// A manifest stream (YAML or JSON): parsing it does not panic; each object is validated
/// offline against the test certificate and unsealed (templates rendered) with the test key,
/// and the objects and unsealed Secrets are written as YAML and JSON, without panicking.
pub fn sealed_manifest(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(objects) = manifest::parse_stream(text) else { return };
    let check = ValidateOptions { cert: Some(sealing_cert().public_key()), keys: &[], default_namespace: "default" };
    let open = UnsealOptions {
        keys: sealing_keys(),
        owner_reference: OwnerReference::Always,
        default_namespace: "default",
        render_templates: true,
    };
    let mut secrets = Vec::new();
    for (i, obj) in objects.iter().enumerate() {
        let _ = gitseal::sealed::describe(obj, i);
        let _ = validate(obj, i, &check);
        secrets.extend(unseal(obj, i, &open).ok());
    }
    for out in [OutputFormat::Yaml, OutputFormat::Json] {
        let _ = manifest::emit(&objects, out);
        let _ = manifest::emit(&secrets, out);
    }
}

fn template_items() -> &'static Items {
    static ITEMS: OnceLock<Items> = OnceLock::new();
    ITEMS.get_or_init(|| {
        let items: [(&str, &[u8]); 5] = [
            ("username", b"admin"),
            ("password", b"hunter2"),
            ("config.json", b"{\"a\": [1, 2]}"),
            ("empty", b""),
            ("binary", b"\xff\x00\xfe\n\"'\\"),
        ];
        items.iter().map(|(k, v)| (k.to_string(), Zeroizing::new(v.to_vec()))).collect()
    })
}

/// A `spec.template.data` template (the input text) rendered against fixed decrypted items:
/// rendering does not panic.
pub fn sealed_template(data: &[u8]) {
    let Ok(src) = std::str::from_utf8(data) else { return };
    let _ = template::render(src, template_items());
}
