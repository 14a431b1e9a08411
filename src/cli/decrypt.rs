//! `gitseal decrypt`.

use std::io::Write;

use zeroize::Zeroizing;

use super::args::{DecryptArgs, IoArgs};
use super::files;
use super::io::{read_input, write_output, Input};
use super::{exit, warn, Failure};

use gitseal::config::Config;
use gitseal::envelope::{self, DecryptOptions};
use gitseal::keyring::Keyring;
use gitseal::treepath::{self, Step};
use gitseal_formats::Format;

pub(crate) fn run(a: DecryptArgs) -> Result<(), Failure> {
    a.keyservice.check()?;
    let steps = match &a.extract {
        Some(p) => Some(
            treepath::parse(p).map_err(|m| Failure::new(exit::TREE_PATH, format!("invalid --extract path: {m}")))?,
        ),
        None => None,
    };
    let mut keys = files::keyring(a.decryption_order.as_deref())?;
    if !a.rsa_private_key.is_empty() {
        keys.set_rsa_key_files(a.rsa_private_key.clone());
    }
    let files = files::expand(a.io.file.as_ref(), &a.more_files, a.recursive)?;
    if files.is_some() {
        files::check_multi_flags(&a.io)?;
        if a.extract.is_some() {
            return Err(Failure::new(exit::CONFLICT, "--extract takes one file; run once per file"));
        }
    }
    // Decrypt reads only `stores` from the config (as sops): one that cannot be read is a
    // warning, not an error; its rules are not read.
    let config = files::load_stores_config()?;
    let mut d = Decryptor { a: &a, keys, steps: steps.as_deref(), config };
    let Some(files) = files else {
        let (input, output) = d.one(&a.io)?;
        return write_output(&a.io, &input, &output, true);
    };
    if a.io.in_place {
        return files::each(&files, |f| {
            let io = files::io_for(&a.io, f);
            let (input, output) = d.one(&io)?;
            write_output(&io, &input, &output, true)
        });
    }
    // Standard output: one YAML stream, each file a document (or several, for multi-document
    // files), separated by `---`.
    let mut stdout = std::io::stdout().lock();
    let mut written = 0usize;
    let mut ends_with_newline = true;
    files::each(&files, |f| {
        let io = files::io_for(&a.io, f);
        let (input, output) = d.one(&io)?;
        if input.output_format != Format::Yaml {
            return Err(Failure::new(
                exit::GENERIC,
                format!(
                    "{}: decrypts to {}, but several files go to standard output as one YAML stream; use -i, --output-type yaml, or decrypt it alone",
                    input.name,
                    input.output_format.name()
                ),
            ));
        }
        let mut chunk = Zeroizing::new(Vec::with_capacity(output.len() + 5));
        if !ends_with_newline {
            chunk.push(b'\n');
        }
        if written > 0 && !output.starts_with(b"---") {
            chunk.extend_from_slice(b"---\n");
        }
        chunk.extend_from_slice(&output);
        match stdout.write_all(&chunk).and_then(|_| stdout.flush()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                return Err(Failure::new(exit::CANNOT_WRITE, format!("cannot write standard output: {e}")))
            }
            _ => {}
        }
        written += 1;
        if !output.is_empty() {
            ends_with_newline = output.ends_with(b"\n");
        }
        Ok(())
    })
}

/// What every file of one `decrypt` command shares (the keyring keeps loaded identities).
struct Decryptor<'a> {
    a: &'a DecryptArgs,
    keys: Keyring,
    steps: Option<&'a [Step]>,
    config: Option<Config>,
}

impl Decryptor<'_> {
    /// Reads and decrypts one file; nothing is written.
    fn one(&mut self, io: &IoArgs) -> Result<(Input, Zeroizing<Vec<u8>>), Failure> {
        let mut input = read_input(io, false)?;
        let indent = self
            .a
            .indent
            .indent
            .or_else(|| self.config.as_ref().and_then(|c| c.stores.indent_for(input.output_format)));
        let opts = DecryptOptions {
            output_format: Some(input.output_format),
            ignore_mac: self.a.ignore_mac,
            indent,
            extract: self.steps,
        };
        let result = envelope::decrypt(&input.bytes, input.input_format, &input.name, &mut self.keys, &opts)?;
        // It decrypted: an encrypted file, ciphertext and what its author kept in the clear. Its
        // buffer is released without the wiping that one of plaintext gets.
        drop(std::mem::take(&mut *input.bytes));
        for w in &result.warnings {
            warn(&format!("{}: {w}", input.name));
        }
        Ok((input, Zeroizing::new(result.output)))
    }
}
