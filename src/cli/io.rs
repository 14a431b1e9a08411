//! Reading input and writing output safely: atomic writes (temp file in the same directory,
//! unnamed while it is written where Linux allows, fsync, rename), mode 0600 for new plaintext
//! files, the mode kept for in-place writes.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use gitseal_formats::Format;
use zeroize::Zeroizing;

use super::args::IoArgs;
use super::{exit, heap, scratch, Failure};

/// The resolved input: its bytes, the name used in messages, and the formats.
pub(crate) struct Input {
    pub bytes: Zeroizing<Vec<u8>>,
    pub name: String,
    pub path: Option<PathBuf>,
    pub input_format: Format,
    pub output_format: Format,
}

/// Checks the flag combination, reads the input, and decides the formats.
/// `sniff` picks a format for unnamed standard input by looking at it.
pub(crate) fn read_input(io: &IoArgs, encrypting: bool) -> Result<Input, Failure> {
    if io.in_place && io.output.is_some() {
        return Err(Failure::new(exit::CONFLICT, "cannot use --in-place together with --output"));
    }
    let (bytes, name, path) = match &io.file {
        Some(p) if p.as_os_str() != "-" => {
            let name = p.display().to_string();
            let bytes = read_file(p).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => {
                    Failure::new(exit::NO_FILE, format!("{name}: cannot operate on non-existent file"))
                }
                _ => Failure::new(exit::CANNOT_READ, format!("{name}: cannot read: {e}")),
            })?;
            (Zeroizing::new(bytes), name, Some(p.clone()))
        }
        _ => {
            if io.in_place {
                return Err(Failure::new(exit::CONFLICT, "cannot use --in-place with standard input"));
            }
            let buf = read_wiped(std::io::stdin().lock())
                .map_err(|e| Failure::new(exit::CANNOT_READ, format!("cannot read standard input: {e}")))?;
            heap::input_size(buf.len());
            (buf, "<stdin>".to_string(), None)
        }
    };
    let named = io.filename_override.as_deref().or(path.as_deref().and_then(Path::to_str));
    let input_format = match (&io.input_type, named) {
        (Some(t), _) => parse_format(t, "--input-type")?,
        (None, Some(n)) => Format::from_path(n),
        (None, None) if encrypting => {
            return Err(Failure::new(
                exit::CONFLICT,
                "reading standard input needs --filename-override NAME or --input-type TYPE to choose the format",
            ))
        }
        (None, None) => sniff(&bytes),
    };
    let output_format = match (&io.output_type, encrypting, &io.output, &io.input_type) {
        (Some(t), ..) => parse_format(t, "--output-type")?,
        (None, true, _, _) => input_format,
        (None, false, Some(out), None) if io.filename_override.is_none() && path.is_none() => {
            out.to_str().map_or(input_format, Format::from_path)
        }
        _ => input_format,
    };
    Ok(Input { bytes, name, path, input_format, output_format })
}

/// Reads a whole file, telling the heap its size first (a large input gets huge pages before
/// the buffer that holds it is touched).
pub(crate) fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut file = fs::File::open(path)?;
    let len = file.metadata().map_or(0, |m| usize::try_from(m.len()).unwrap_or(usize::MAX));
    heap::input_size(len);
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(len.saturating_add(1)).map_err(std::io::Error::other)?;
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Reads `r` to its end into a wiped buffer. A buffer that grows is copied into a larger one
/// and wiped as it is dropped, where `read_to_end` would leave every smaller copy of the
/// content (a secret) in freed memory.
pub(crate) fn read_wiped(mut r: impl Read) -> std::io::Result<Zeroizing<Vec<u8>>> {
    let mut buf = Zeroizing::new(vec![0u8; 16 * 1024]);
    let mut len = 0;
    loop {
        if len == buf.len() {
            let mut bigger = Zeroizing::new(vec![0u8; len * 2]);
            bigger[..len].copy_from_slice(&buf[..len]);
            buf = bigger;
        }
        match r.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(len);
    Ok(buf)
}

/// sops's subcommands disagree on the exit code for a missing input file (100 for
/// encrypt/decrypt and legacy `-r`; 2 for set, unset, rotate and groups; 1 for updatekeys):
/// gives a missing-file failure of [`read_input`] the code `code`.
pub(crate) fn missing_file_code(f: Failure, code: i32) -> Failure {
    if f.code == exit::NO_FILE {
        Failure { code, ..f }
    } else {
        f
    }
}

fn parse_format(name: &str, flag: &str) -> Result<Format, Failure> {
    Format::from_name(name).ok_or_else(|| {
        Failure::new(
            exit::GENERIC,
            format!("unknown {flag} {name:?}: expected yaml, json, dotenv, ini, toml or binary"),
        )
    })
}

/// Encrypted input on standard input without a name: JSON (or the binary store, which is JSON
/// with only `data` and `sops`) when it starts with `{`, otherwise YAML.
fn sniff(bytes: &[u8]) -> Format {
    let text = String::from_utf8_lossy(bytes);
    let t = text.trim_start();
    if !t.starts_with('{') {
        return Format::Yaml;
    }
    match gitseal_formats::parse(Format::Json, t) {
        Ok(doc) => {
            let keys: Vec<&str> = match doc.roots.first().map(|r| &r.node) {
                Some(gitseal_formats::Node::Map(items)) => items
                    .iter()
                    .filter_map(|i| match i {
                        gitseal_formats::MapItem::Entry(e) => Some(e.key.as_str()),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            if keys.len() == 2 && keys.contains(&"data") && keys.contains(&"sops") {
                Format::Binary
            } else {
                Format::Json
            }
        }
        Err(_) => Format::Json,
    }
}

/// Writes `data` to standard output; a reader that went away (broken pipe) is no failure.
pub(crate) fn print(data: &[u8]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(data).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::new(exit::CANNOT_WRITE, format!("cannot write standard output: {e}")))
        }
        _ => Ok(()),
    }
}

/// Where the result goes and how new files are created.
pub(crate) fn write_output(io: &IoArgs, input: &Input, data: &[u8], plaintext: bool) -> Result<(), Failure> {
    let target = if io.in_place { input.path.clone() } else { io.output.clone() };
    match target {
        None => print(data),
        Some(path) => {
            let new_mode = if plaintext { 0o600 } else { 0o644 };
            write_atomic(&path, data, new_mode)
                .map_err(|e| Failure::new(exit::CANNOT_WRITE, format!("{}: cannot write: {e}", path.display())))
        }
    }
}

/// Prints `question` on stderr and reads one line of answer from standard input (a terminal or
/// a pipe, as sops reads it): `Some(true)` for y/Y/yes, `Some(false)` for anything else, `None`
/// at the end of input.
pub(crate) fn ask_yes(question: &str) -> Result<Option<bool>, Failure> {
    use std::io::BufRead;
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let read = std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Failure::new(exit::GENERIC, format!("cannot read the answer: {e}")))?;
    Ok((read > 0).then(|| matches!(answer.trim(), "y" | "Y" | "yes")))
}

/// Writes `data` to `path` atomically (see [`gitseal::fs::write_atomic`]), after removing the
/// temp files killed runs left in its directory.
pub fn write_atomic(path: &Path, data: &[u8], new_mode: u32) -> std::io::Result<()> {
    // The directory the temp file goes to: the target's, symlinks followed.
    let target = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    scratch::remove_stale_files(dir);
    gitseal::fs::write_atomic(path, data, new_mode)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that gives its bytes a few at a time, interrupted once.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        interrupted: bool,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if !self.interrupted && self.at > 20_000 {
                self.interrupted = true;
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            let n = buf.len().min(self.data.len() - self.at).min(7_777);
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    #[test]
    fn reading_to_the_end_through_growing_wiped_buffers_keeps_every_byte() {
        for len in [0, 1, 16 * 1024, 16 * 1024 + 1, 100_003] {
            let data: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
            let read = read_wiped(Trickle { data: data.clone(), at: 0, interrupted: false }).unwrap();
            assert_eq!(read.as_slice(), data.as_slice(), "{len} bytes");
        }
    }
}
