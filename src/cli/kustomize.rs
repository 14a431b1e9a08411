//! `gitseal kustomize [GENERATOR]`: a kustomize generator that takes KSOPS's own configuration
//! (`kind: ksops`, `files`, `secretFrom` with `files`, `binaryFiles`, `envs`, `metadata`,
//! `type`), so a KSOPS user installs gitseal under KSOPS's plugin path (or as `ksops`) and
//! changes nothing else (`reference/gitops-integrations.md` §1.1-§1.4). Two modes, as KSOPS:
//! - legacy exec plugin: the generator file is the one argument; stdout is the generated objects
//!   as one YAML stream;
//! - KRM exec function: no argument and a `ResourceList` on standard input; every item that is a
//!   generator is replaced by what it generates, and a `ResourceList` goes to stdout.
//!
//! Either way it runs in the kustomization's directory, and errors go to stderr with a non-zero
//! exit and nothing on stdout (kustomize ignores `results` when the exit code is 0).

use std::path::Path;

use base64::Engine;
use gitseal::envelope::{self, DecryptOptions};
use gitseal_formats::{self as formats, Document, Format, Root, Value};
use zeroize::Zeroizing;

use super::args::KustomizeArgs;
use super::{exit, files, Failure};

pub(crate) fn run(a: KustomizeArgs) -> Result<(), Failure> {
    let path = match a.args.as_slice() {
        [] => return krm(),
        [verb, dir] if verb.as_os_str() == "install" => return install(dir),
        [path] => path.clone(),
        _ => {
            return Err(Failure::new(
                exit::GENERIC,
                "kustomize takes one generator file, or `install DIR`, or a ResourceList on standard input",
            ))
        }
    };
    let name = path.display().to_string();
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Failure::new(exit::CANNOT_READ, format!("{name}: cannot read the generator: {e}")))?;
    let doc = formats::parse(Format::Yaml, &text)
        .map_err(|e| Failure::new(exit::CANNOT_READ, format!("{name}: invalid YAML: {e}")))?;
    let generator = doc.roots.first().map(|r| Value::from_node(&r.node)).unwrap_or(Value::Map(Vec::new()));
    let mut keys = files::keyring(None)?;
    let docs = generate(&generator, &name, &mut keys)?;
    let joined = Zeroizing::new(docs.iter().map(|d| d.as_str()).collect::<Vec<_>>().join("\n---\n") + "\n");
    super::io::print(joined.as_bytes())
}

/// `kustomize install DIR`: this binary as `DIR/ksops` (the KRM exec path and `/custom-tools`
/// of an Argo CD init container) and as `DIR/kustomize/plugin/viaduct.ai/v1/ksops/ksops` (the
/// legacy plugin path under `XDG_CONFIG_HOME=DIR`), both mode 0755, each written atomically.
fn install(dir: &Path) -> Result<(), Failure> {
    let exe = std::env::current_exe()
        .map_err(|e| Failure::new(exit::GENERIC, format!("cannot find this program's own file: {e}")))?;
    let bytes =
        std::fs::read(&exe).map_err(|e| Failure::new(exit::GENERIC, format!("{}: cannot read: {e}", exe.display())))?;
    for target in [dir.join("ksops"), dir.join("kustomize/plugin/viaduct.ai/v1/ksops/ksops")] {
        let parent = target.parent().unwrap_or(dir);
        std::fs::create_dir_all(parent)
            .map_err(|e| Failure::new(exit::CANNOT_WRITE, format!("{}: cannot create: {e}", parent.display())))?;
        use std::os::unix::fs::PermissionsExt;
        gitseal::fs::write_atomic(&target, &bytes, 0o755)
            .and_then(|_| std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755)))
            .map_err(|e| Failure::new(exit::CANNOT_WRITE, format!("{}: cannot write: {e}", target.display())))?;
        eprintln!("installed {}", target.display());
    }
    Ok(())
}

/// The KRM function mode: every generator item of the `ResourceList` on stdin is replaced by the
/// objects it generates (other items are dropped, as KSOPS does: kustomize hands a generator
/// function only a copy of the generator).
fn krm() -> Result<(), Failure> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        return Err(Failure::new(
            exit::GENERIC,
            "kustomize: pass the generator file (legacy exec plugin), or a ResourceList on standard input (KRM function)",
        ));
    }
    // The list may hold Secrets in the clear (the kustomization's other resources): read into
    // wiped buffers.
    let bytes = super::io::read_wiped(std::io::stdin().lock())
        .map_err(|e| Failure::new(exit::CANNOT_READ, format!("standard input: cannot read the ResourceList: {e}")))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        Failure::new(exit::CANNOT_READ, "standard input: cannot read the ResourceList: it is not UTF-8 text")
    })?;
    let doc = formats::parse(Format::Yaml, text)
        .map_err(|e| Failure::new(exit::CANNOT_READ, format!("standard input: invalid YAML: {e}")))?;
    let list = doc.roots.first().map(|r| Value::from_node(&r.node)).unwrap_or(Value::Map(Vec::new()));
    if list.get("kind").and_then(Value::as_str) != Some("ResourceList") {
        return Err(Failure::new(exit::GENERIC, "standard input: expected a ResourceList (kind: ResourceList)"));
    }
    let items = match list.get("items") {
        Some(Value::Seq(items)) => items.clone(),
        None | Some(Value::Scalar(_)) => Vec::new(),
        Some(_) => return Err(Failure::new(exit::GENERIC, "standard input: ResourceList items must be a list")),
    };
    let mut keys = files::keyring(None)?;
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let name = item
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str)
            .map_or_else(|| format!("ResourceList item {}", i + 1), |n| format!("generator {n}"));
        for text in generate(item, &name, &mut keys)? {
            let parsed = formats::parse(Format::Yaml, &text)
                .map_err(|e| Failure::new(exit::GENERIC, format!("{name}: a generated object is not YAML: {e}")))?;
            out.extend(parsed.roots.iter().map(|r| Value::from_node(&r.node)).filter(|v| matches!(v, Value::Map(_))));
        }
    }
    let result = Value::Map(vec![
        ("apiVersion".into(), Value::str("config.kubernetes.io/v1")),
        ("kind".into(), Value::str("ResourceList")),
        ("items".into(), Value::Seq(out)),
    ]);
    let doc = Document { format: Format::Yaml, roots: vec![Root { node: result.to_node(), end: 0 }], indent: Some(2) };
    let text = Zeroizing::new(
        formats::emit(&doc, Format::Yaml, formats::WriteOptions { indent: Some(2), ..Default::default() })
            .map_err(|e| Failure::new(exit::CANNOT_EMIT, format!("ResourceList: {e}")))?,
    );
    super::io::print(text.as_bytes())
}

/// The objects one generator (`kind: ksops`) makes, each a YAML document without `---`.
fn generate(
    generator: &Value,
    name: &str,
    keys: &mut gitseal::keyring::Keyring,
) -> Result<Vec<Zeroizing<String>>, Failure> {
    let kind = generator.get("kind").and_then(Value::as_str).unwrap_or_default();
    if kind != "ksops" {
        return Err(Failure::new(
            exit::GENERIC,
            format!("{name}: kind {kind:?} is not a generator gitseal knows (kind: ksops)"),
        ));
    }
    let list = |key: &str| -> Vec<Value> {
        match generator.get(key) {
            Some(Value::Seq(items)) => items.clone(),
            _ => Vec::new(),
        }
    };
    let (file_list, secret_from) = (list("files"), list("secretFrom"));
    if file_list.is_empty() && secret_from.is_empty() {
        return Err(Failure::new(exit::GENERIC, format!("{name}: missing the required 'files' or 'secretFrom' key")));
    }
    let mut docs: Vec<Zeroizing<String>> = Vec::new();
    for f in &file_list {
        let path =
            f.as_str().ok_or_else(|| Failure::new(exit::GENERIC, format!("{name}: files: every entry is a path")))?;
        let plain = decrypt(path, keys)?;
        let text = String::from_utf8(plain.to_vec())
            .map_err(|_| Failure::new(exit::GENERIC, format!("{path}: the decrypted manifest is not UTF-8")))?;
        docs.push(Zeroizing::new(text.trim_end_matches('\n').to_string()));
    }
    for s in &secret_from {
        docs.push(secret(s, name, keys)?);
    }
    Ok(docs)
}

/// A file decrypted in its own format (from its extension, as KSOPS does).
fn decrypt(path: &str, keys: &mut gitseal::keyring::Keyring) -> Result<Zeroizing<Vec<u8>>, Failure> {
    let bytes = Zeroizing::new(
        std::fs::read(path).map_err(|e| Failure::new(exit::NO_FILE, format!("{path}: cannot read: {e}")))?,
    );
    let format = Format::from_path(path);
    let d = envelope::decrypt(&bytes, format, path, keys, &DecryptOptions::default())?;
    Ok(Zeroizing::new(d.output))
}

/// One `secretFrom` entry as a `v1/Secret` manifest: `files` into `stringData`, `binaryFiles`
/// base64 into `data`, `envs` (dotenv files) into `stringData`; keys `KEY=path` or the file name.
fn secret(spec: &Value, generator: &str, keys: &mut gitseal::keyring::Keyring) -> Result<Zeroizing<String>, Failure> {
    let paths = |key: &str| -> Vec<(String, String)> {
        match spec.get(key) {
            Some(Value::Seq(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(|item| match item.split_once('=') {
                    Some((k, p)) => (k.to_string(), p.to_string()),
                    None => (
                        Path::new(item).file_name().map_or(item.into(), |n| n.to_string_lossy().into_owned()),
                        item.to_string(),
                    ),
                })
                .collect(),
            _ => Vec::new(),
        }
    };
    let mut string_data: Vec<(String, Value)> = Vec::new();
    let mut data: Vec<(String, Value)> = Vec::new();
    for (key, path) in paths("files") {
        let plain = decrypt(&path, keys)?;
        let text = String::from_utf8(plain.to_vec())
            .map_err(|_| Failure::new(exit::GENERIC, format!("{path}: not UTF-8 text; list it under binaryFiles")))?;
        string_data.push((key, Value::str(text)));
    }
    for (key, path) in paths("binaryFiles") {
        let plain = decrypt(&path, keys)?;
        data.push((key, Value::str(base64::engine::general_purpose::STANDARD.encode(&plain[..]))));
    }
    for (_, path) in paths("envs") {
        let plain = decrypt(&path, keys)?;
        let text =
            std::str::from_utf8(&plain).map_err(|_| Failure::new(exit::GENERIC, format!("{path}: not UTF-8")))?;
        let doc =
            formats::parse(Format::Dotenv, text).map_err(|e| Failure::new(exit::GENERIC, format!("{path}: {e}")))?;
        if let Some(Value::Map(items)) = doc.roots.first().map(|r| Value::from_node(&r.node)) {
            string_data.extend(items);
        }
    }
    let metadata = spec.get("metadata").cloned().unwrap_or(Value::Map(Vec::new()));
    if metadata.get("name").and_then(Value::as_str).is_none() {
        return Err(Failure::new(exit::GENERIC, format!("{generator}: secretFrom: every entry needs metadata.name")));
    }
    let mut secret = vec![
        ("apiVersion".to_string(), Value::str("v1")),
        ("kind".to_string(), Value::str("Secret")),
        ("metadata".to_string(), metadata),
        ("type".to_string(), spec.get("type").cloned().unwrap_or(Value::str("Opaque"))),
    ];
    if !data.is_empty() {
        secret.push(("data".into(), Value::Map(data)));
    }
    if !string_data.is_empty() {
        secret.push(("stringData".into(), Value::Map(string_data)));
    }
    let doc = Document {
        format: Format::Yaml,
        roots: vec![Root { node: Value::Map(secret).to_node(), end: 0 }],
        indent: Some(2),
    };
    let text = formats::emit(&doc, Format::Yaml, formats::WriteOptions { indent: Some(2), ..Default::default() })
        .map_err(|e| Failure::new(exit::CANNOT_EMIT, format!("{generator}: {e}")))?;
    Ok(Zeroizing::new(text.trim_end_matches('\n').to_string()))
}
