//! `gitseal render [DIR]`: every Kubernetes manifest under a directory as one YAML stream, the
//! encrypted ones decrypted: the `generate` command of the Argo CD Config Management Plugin in
//! `deploy/argocd/` (`reference/gitops-integrations.md` §2.1). Argo CD runs it in the
//! application's directory and applies what it prints, so stdout holds only objects, and on any
//! failure nothing at all (an empty render with pruning on would delete the application's
//! resources); errors name the file, never a value.

use std::path::{Path, PathBuf};

use gitseal::envelope::{self, DecryptOptions};
use gitseal::ErrorKind;
use gitseal_formats::{self as formats, Format, Value};
use zeroize::Zeroizing;

use super::args::RenderArgs;
use super::{exit, files, Failure};

pub(crate) fn run(a: RenderArgs) -> Result<(), Failure> {
    let dir = a.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let manifest = |p: &Path| {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let ext = p.extension().and_then(|e| e.to_str()).unwrap_or_default();
        matches!(ext, "yaml" | "yml" | "json")
            && !matches!(name.as_str(), "kustomization.yaml" | "kustomization.yml" | "Kustomization")
    };
    let found = files::walk(&dir, &manifest)
        .map_err(|e| Failure::new(exit::CANNOT_READ, format!("{}: cannot list: {e}", dir.display())))?;
    let mut keys = files::keyring(None)?;
    let mut out = Zeroizing::new(String::new());
    for path in &found {
        let name = path.display().to_string();
        let bytes = Zeroizing::new(
            std::fs::read(path).map_err(|e| Failure::new(exit::CANNOT_READ, format!("{name}: cannot read: {e}")))?,
        );
        let format = Format::from_path(&name);
        let text = match envelope::decrypt(&bytes, format, &name, &mut keys, &DecryptOptions::default()) {
            Ok(d) => Zeroizing::new(d.output),
            Err(e) if e.kind() == ErrorKind::NotEncrypted => bytes,
            Err(e) => return Err(e.into()),
        };
        let text = String::from_utf8(text.to_vec())
            .map_err(|_| Failure::new(exit::CANNOT_READ, format!("{name}: not UTF-8")))?;
        let text = Zeroizing::new(text);
        let doc = formats::parse(format, &text)
            .map_err(|e| Failure::new(exit::CANNOT_READ, format!("{name}: invalid {}: {e}", format.name())))?;
        // Files that hold no Kubernetes object (values files, config) are left out.
        let objects = doc
            .roots
            .iter()
            .map(|r| Value::from_node(&r.node))
            .filter(|v| v.get("apiVersion").is_some() && v.get("kind").is_some())
            .count();
        if objects == 0 {
            continue;
        }
        if objects != doc.roots.len() {
            return Err(Failure::new(
                exit::GENERIC,
                format!("{name}: some documents are not Kubernetes objects (no apiVersion or kind)"),
            ));
        }
        if !out.is_empty() {
            out.push_str("---\n");
        }
        // JSON is YAML: each file as it decrypts, lossless.
        let body = text.strip_prefix("---\n").unwrap_or(&text);
        out.push_str(body);
        if !body.ends_with('\n') {
            out.push('\n');
        }
    }
    if out.is_empty() {
        return Err(Failure::new(exit::GENERIC, format!("{}: no Kubernetes manifests found", dir.display())));
    }
    super::io::print(out.as_bytes())
}
