//! `gitseal validate`: offline checks of SealedSecret files or directories, for CI. Every
//! problem is printed, one line each; the exit code is 1 when there is any.

use gitseal_formats::Value;

use super::args::ValidateArgs;
use super::exit;
use super::sealing_io::{collect_files, load_cert, load_keys, read_text};
use super::{report, Failure};
use gitseal::sealed::manifest;
use gitseal::sealed::seal::DEFAULT_NAMESPACE;
use gitseal::sealed::validate::{validate, ValidateOptions};

pub(crate) fn run(a: ValidateArgs) -> Result<(), Failure> {
    let cert = match a.cert.as_deref() {
        Some(c) => Some(load_cert(Some(c))?),
        None => None,
    };
    let keys = load_keys(&a.keys.private_keys)?;
    let opts = ValidateOptions {
        cert: cert.as_ref().map(|c| c.public_key()),
        keys: &keys,
        default_namespace: a.namespace.as_deref().unwrap_or(DEFAULT_NAMESPACE),
    };
    let (mut checked, mut problems) = (0usize, Vec::new());
    for (path, in_dir) in collect_files(&a.paths)? {
        let (text, name) = read_text(Some(&path))?;
        if in_dir && !text.contains(gitseal::sealed::KIND) {
            continue;
        }
        let objects = match manifest::parse_stream(&text) {
            Ok(o) => o,
            Err(e) => {
                problems.push(format!("{name}: {e}"));
                continue;
            }
        };
        let sealed: Vec<(usize, &Value)> = objects
            .iter()
            .enumerate()
            .filter(|(_, o)| o.get("kind").and_then(Value::as_str) == Some(gitseal::sealed::KIND))
            .collect();
        if sealed.is_empty() && !in_dir {
            problems.push(format!("{name}: no SealedSecret found"));
        }
        for (i, obj) in sealed {
            checked += 1;
            problems.extend(validate(obj, i, &opts).into_iter().map(|p| format!("{name}: {p}")));
        }
    }
    if problems.is_empty() {
        let how = if keys.is_empty() { "structure" } else { "unsealed" };
        eprintln!("ok: {checked} SealedSecret(s) checked ({how})");
        return Ok(());
    }
    for p in &problems[..problems.len() - 1] {
        report(p);
    }
    Err(Failure::new(exit::GENERIC, problems.last().cloned().unwrap_or_default()))
}
