//! Input and output shared by the Sealed Secrets commands: manifests, certificates, private
//! keys, output formats, and the files under a directory.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use gitseal_keys::sealing::{SealingCert, SealingKey};
use zeroize::Zeroizing;

use super::io::write_atomic;
use super::{exit, Failure};
use gitseal::sealed::keyfile;
use gitseal::sealed::manifest::OutputFormat;

/// A file (or standard input) as text, with the name used in messages.
pub(crate) fn read_text(path: Option<&Path>) -> Result<(Zeroizing<String>, String), Failure> {
    let (bytes, name) = match path.filter(|p| p.as_os_str() != "-") {
        Some(p) => (read_file(p)?, p.display().to_string()),
        None => {
            let buf = super::io::read_wiped(std::io::stdin().lock())
                .map_err(|e| Failure::new(exit::CANNOT_READ, format!("cannot read standard input: {e}")))?;
            (buf, "<stdin>".to_string())
        }
    };
    let text = String::from_utf8(bytes.to_vec())
        .map_err(|_| Failure::new(exit::GENERIC, format!("{name}: is not UTF-8 text")))?;
    Ok((Zeroizing::new(text), name))
}

/// A file's bytes; a missing file gets sops's exit code for it.
pub(crate) fn read_file(p: &Path) -> Result<Zeroizing<Vec<u8>>, Failure> {
    std::fs::read(p).map(Zeroizing::new).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Failure::new(exit::NO_FILE, format!("{}: no such file", p.display())),
        _ => Failure::new(exit::CANNOT_READ, format!("{}: cannot read: {e}", p.display())),
    })
}

/// The sealing certificate named by `--cert`: a path or `file://` URL; it must be unexpired.
pub(crate) fn load_cert(arg: Option<&str>) -> Result<SealingCert, Failure> {
    let Some(arg) = arg.filter(|a| !a.is_empty()) else {
        return Err(Failure::new(
            exit::GENERIC,
            "no sealing certificate: pass --cert FILE (or set SEALED_SECRETS_CERT); gitseal does not contact a cluster",
        ));
    };
    if arg.starts_with("https://") {
        return Err(Failure::new(
            exit::GENERIC,
            format!("--cert {arg}: https is not supported; use http:// (e.g. through kubectl port-forward) or download the certificate (kubeseal --fetch-cert) and pass the file"),
        ));
    }
    let (name, bytes) = match arg.strip_prefix("http://") {
        Some(rest) => {
            (arg.to_string(), http_get(rest).map_err(|e| Failure::new(exit::GENERIC, format!("--cert {arg}: {e}")))?)
        }
        None => {
            let path = Path::new(arg.strip_prefix("file://").unwrap_or(arg));
            (path.display().to_string(), read_file(path)?.to_vec())
        }
    };
    let text =
        std::str::from_utf8(&bytes).map_err(|_| Failure::new(exit::GENERIC, format!("{name}: is not a PEM file")))?;
    let cert = SealingCert::from_pem(text).map_err(|e| Failure::new(exit::GENERIC, format!("{name}: {e}")))?;
    cert.check_valid_at(SystemTime::now()).map_err(|e| Failure::new(exit::GENERIC, format!("{name}: {e}")))?;
    Ok(cert)
}

/// A plain HTTP/1.1 GET of `host[:port]/path` (the controller's `/v1/cert.pem`, as
/// `kubeseal --cert http://...` fetches it). The body of a 200 answer, at most 1 MiB.
fn http_get(rest: &str) -> Result<Vec<u8>, String> {
    use std::io::{Read, Write};
    const LIMIT: u64 = 1024 * 1024;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let addr = if authority.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) && !authority.ends_with(']')
    {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let timeout = std::time::Duration::from_secs(30);
    let addrs: Vec<_> = std::net::ToSocketAddrs::to_socket_addrs(&addr)
        .map_err(|e| format!("cannot resolve {authority}: {e}"))?
        .collect();
    let mut stream = addrs
        .iter()
        .find_map(|a| std::net::TcpStream::connect_timeout(a, timeout).ok())
        .ok_or_else(|| format!("cannot connect to {authority}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|_| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| e.to_string())?;
    let request = format!(
        "GET {path} HTTP/1.0\r\nHost: {authority}\r\nAccept: application/x-pem-file\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).map_err(|e| format!("cannot send the request: {e}"))?;
    let mut raw = Vec::new();
    stream.take(LIMIT).read_to_end(&mut raw).map_err(|e| format!("cannot read the answer: {e}"))?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or("not an HTTP answer")?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let status = head.lines().next().unwrap_or_default();
    let code = status.split_whitespace().nth(1).unwrap_or_default();
    if code != "200" {
        return Err(format!("the server answered {}", status.trim()));
    }
    Ok(raw[split + 4..].to_vec())
}

/// Every private key in the given files.
pub(crate) fn load_keys(paths: &[PathBuf]) -> Result<Vec<SealingKey>, Failure> {
    let mut keys = Vec::new();
    for p in paths {
        let bytes = read_file(p)?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| Failure::new(exit::GENERIC, format!("{}: is not a key file", p.display())))?;
        keys.extend(
            keyfile::load_keys(text).map_err(|e| Failure::new(exit::GENERIC, format!("{}: {e}", p.display())))?,
        );
    }
    Ok(keys)
}

/// `-o`, or yaml when the output file is named `.yaml`/`.yml`, else json (kubeseal's rules).
pub(crate) fn output_format(flag: Option<&str>, output: Option<&Path>) -> Result<OutputFormat, Failure> {
    let by_name = output.and_then(Path::to_str).is_some_and(|n| n.ends_with(".yaml") || n.ends_with(".yml"));
    match flag {
        _ if by_name => Ok(OutputFormat::Yaml),
        None => Ok(OutputFormat::Json),
        Some(f) => OutputFormat::parse(f).ok_or_else(|| {
            Failure::new(exit::GENERIC, format!("unsupported output format {f:?}: expected json or yaml"))
        }),
    }
}

/// Writes to the file (atomically; new files get `new_mode`) or to standard output.
pub(crate) fn write_out(output: Option<&Path>, data: &[u8], new_mode: u32) -> Result<(), Failure> {
    match output {
        Some(path) => write_atomic(path, data, new_mode)
            .map_err(|e| Failure::new(exit::CANNOT_WRITE, format!("{}: cannot write: {e}", path.display()))),
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(data).and_then(|_| out.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(Failure::new(exit::CANNOT_WRITE, format!("cannot write standard output: {e}")))
                }
                _ => Ok(()),
            }
        }
    }
}

/// The files to work on: each file argument, and the `.yaml`/`.yml`/`.json` files under each
/// directory argument (hidden entries skipped), sorted. The flag says "found in a directory".
pub(crate) fn collect_files(paths: &[PathBuf]) -> Result<Vec<(PathBuf, bool)>, Failure> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let manifest =
                |f: &Path| f.extension().and_then(|e| e.to_str()).is_some_and(|e| matches!(e, "yaml" | "yml" | "json"));
            let found = super::files::walk(p, &manifest)
                .map_err(|e| Failure::new(exit::CANNOT_READ, format!("{}: cannot read: {e}", p.display())))?;
            out.extend(found.into_iter().map(|f| (f, true)));
        } else {
            out.push((p.clone(), false));
        }
    }
    Ok(out)
}
