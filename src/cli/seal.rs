//! `gitseal seal`: kubeseal without a cluster. Secrets in, SealedSecrets out.

use gitseal_formats::Value;
use gitseal_keys::sealing::{PublicKey, Scope};

use super::args::SealArgs;
use super::sealing_io::{load_cert, output_format, read_file, read_text, write_out};
use super::{exit, Failure};
use gitseal::sealed::manifest::{self, OutputFormat};
use gitseal::sealed::seal::{seal_raw, seal_secret, SealOptions};
use gitseal::sealed::{field, map_mut, set};

pub(crate) fn run(mut a: SealArgs) -> Result<(), Failure> {
    a.secret_file = a.secret_file.take().or(a.path.take());
    let scope = match a.scope.as_deref() {
        None => None,
        Some(s) => Some(Scope::parse(s).ok_or_else(|| {
            Failure::new(
                exit::GENERIC,
                format!("unknown --scope {s:?}: expected strict, namespace-wide or cluster-wide"),
            )
        })?),
    };
    check_flags(&a)?;
    let format = output_format(a.format.as_deref(), a.output.as_deref())?;
    let cert = load_cert(a.cert.as_deref())?;
    if a.raw {
        return raw(&a, cert.public_key(), scope.unwrap_or(Scope::Strict));
    }
    let (text, name) = read_text(a.secret_file.as_deref())?;
    let secrets = manifest::parse_stream(&text).map_err(|e| Failure::new(exit::GENERIC, format!("{name}: {e}")))?;
    if secrets.is_empty() {
        return Err(Failure::new(exit::GENERIC, format!("{name}: no Secret to seal")));
    }
    if let Some(target) = &a.merge_into {
        return merge_into(&a, target, &secrets, &name, cert.public_key());
    }
    let opts = SealOptions {
        key: cert.public_key(),
        scope,
        name: a.name.as_deref(),
        namespace: a.namespace.as_deref(),
        allow_empty_data: a.allow_empty_data,
    };
    let sealed = secrets
        .iter()
        .enumerate()
        .map(|(i, s)| seal_secret(s, i, &opts).map_err(|e| Failure::new(exit::GENERIC, format!("{name}: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let out = manifest::emit(&sealed, format).map_err(|e| Failure::new(exit::GENERIC, e))?;
    write_out(a.output.as_deref(), out.as_bytes(), 0o644)
}

fn check_flags(a: &SealArgs) -> Result<(), Failure> {
    let conflict = |m: &str| Err(Failure::new(exit::CONFLICT, m.to_string()));
    if a.from_file.is_some() && !a.raw {
        return conflict("--from-file only works with --raw");
    }
    if a.raw && a.merge_into.is_some() {
        return conflict("cannot use --raw together with --merge-into");
    }
    if a.raw && a.secret_file.is_some() {
        return conflict("--raw reads the value from standard input or --from-file, not --secret-file");
    }
    Ok(())
}

fn raw(a: &SealArgs, key: &PublicKey, scope: Scope) -> Result<(), Failure> {
    let value = match &a.from_file {
        Some(spec) => {
            let path = spec.split_once('=').map_or(spec.as_str(), |(_, p)| p);
            read_file(std::path::Path::new(path))?
        }
        None => {
            let (text, _) = read_text(None)?;
            zeroize::Zeroizing::new(text.as_bytes().to_vec())
        }
    };
    let sealed = seal_raw(key, scope, a.namespace.as_deref(), a.name.as_deref(), &value)
        .map_err(|e| Failure::new(exit::GENERIC, e))?;
    write_out(a.output.as_deref(), sealed.as_bytes(), 0o644)
}

/// Seals the input for the target's name, namespace and scope, and merges `encryptedData`,
/// template labels, annotations and data into it; the target is rewritten atomically.
fn merge_into(
    a: &SealArgs,
    target: &std::path::Path,
    secrets: &[Value],
    input: &str,
    key: &PublicKey,
) -> Result<(), Failure> {
    let tname = target.display().to_string();
    let (ttext, _) = read_text(Some(target))?;
    let mut objects =
        manifest::parse_stream(&ttext).map_err(|e| Failure::new(exit::GENERIC, format!("{tname}: {e}")))?;
    if objects.len() != 1 || objects[0].get("kind").and_then(Value::as_str) != Some(gitseal::sealed::KIND) {
        return Err(Failure::new(
            exit::GENERIC,
            format!("{tname}: --merge-into needs a file with exactly one SealedSecret"),
        ));
    }
    let target_obj = &mut objects[0];
    let name = field(target_obj, &["metadata", "name"]).and_then(Value::as_str).map(str::to_string);
    let namespace = field(target_obj, &["metadata", "namespace"]).and_then(Value::as_str).map(str::to_string);
    let scope = gitseal::sealed::scope_of(target_obj.get("metadata"));
    let opts = SealOptions {
        key,
        scope: Some(scope),
        name: name.as_deref(),
        namespace: namespace.as_deref().or(a.namespace.as_deref()),
        allow_empty_data: a.allow_empty_data,
    };
    for (i, secret) in secrets.iter().enumerate() {
        let mut secret = secret.clone();
        if let Some(ns) = &namespace {
            set(map_mut(&mut secret, "metadata"), "namespace", Value::str(ns.clone()));
        }
        let sealed =
            seal_secret(&secret, i, &opts).map_err(|e| Failure::new(exit::GENERIC, format!("{input}: {e}")))?;
        merge(target_obj, &sealed);
    }
    let format = if ttext.trim_start().starts_with('{') { OutputFormat::Json } else { OutputFormat::Yaml };
    let mut out = manifest::emit(&objects, format).map_err(|e| Failure::new(exit::GENERIC, e))?;
    if format == OutputFormat::Yaml && !ttext.trim_start().starts_with("---") {
        out = out.trim_start_matches("---\n").to_string();
    }
    write_out(Some(target), out.as_bytes(), 0o644)
}

fn merge(target: &mut Value, sealed: &Value) {
    let pairs = [
        (&["spec", "encryptedData"][..], &["spec", "encryptedData"][..]),
        (&["spec", "template", "metadata", "labels"], &["spec", "template", "metadata", "labels"]),
        (&["spec", "template", "metadata", "annotations"], &["spec", "template", "metadata", "annotations"]),
        (&["spec", "template", "data"], &["spec", "template", "data"]),
    ];
    for (from, to) in pairs {
        let Some(Value::Map(items)) = field(sealed, from) else { continue };
        let mut slot = &mut *target;
        for k in to {
            slot = map_mut(slot, k);
        }
        for (k, v) in items {
            set(slot, k, v.clone());
        }
    }
}
