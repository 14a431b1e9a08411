//! PEM blocks (RFC 7468): just enough to read keys and certificates and to write them.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use zeroize::Zeroizing;

/// One `-----BEGIN LABEL-----` ... `-----END LABEL-----` block.
pub(crate) struct Block {
    /// The label, e.g. `RSA PRIVATE KEY`.
    pub label: String,
    /// The decoded contents (may be key material, so zeroized on drop).
    pub der: Zeroizing<Vec<u8>>,
    /// True when the block has RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`).
    pub has_headers: bool,
}

impl std::fmt::Debug for Block {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Block").field("label", &self.label).finish_non_exhaustive()
    }
}

/// Every PEM block in `text`, in order. Text outside blocks is ignored (as Go's `pem.Decode`
/// does). A block whose base64 is broken or that never ends is an error naming its label.
pub(crate) fn blocks(text: &str) -> Result<Vec<Block>, String> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(label) = line.trim().strip_prefix("-----BEGIN ").and_then(|l| l.strip_suffix("-----")) else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut body = Zeroizing::new(String::new());
        let mut has_headers = false;
        let mut ended = false;
        for line in lines.by_ref() {
            let line = line.trim();
            if line == end {
                ended = true;
                break;
            }
            if line.contains(':') {
                has_headers = true;
            } else {
                body.push_str(line);
            }
        }
        if !ended {
            return Err(format!("the PEM block {label} has no END line"));
        }
        let der = STANDARD.decode(body.as_bytes()).map_err(|_| format!("the PEM block {label} is not valid base64"))?;
        out.push(Block { label: label.to_string(), der: Zeroizing::new(der), has_headers });
    }
    Ok(out)
}

/// `der` as a PEM block with 64-column lines and a final newline.
pub(crate) fn encode(label: &str, der: &[u8]) -> Zeroizing<String> {
    let b64 = Zeroizing::new(STANDARD.encode(der));
    let mut out = Zeroizing::new(format!("-----BEGIN {label}-----\n"));
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reports_bad_blocks() {
        let pem = encode("TEST", &[1, 2, 3, 250]);
        let text = format!("junk\n{}more junk\n{}", pem.as_str(), pem.as_str());
        let b = blocks(&text).unwrap();
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].label, "TEST");
        assert_eq!(b[0].der.as_slice(), &[1, 2, 3, 250]);
        assert!(blocks("-----BEGIN X-----\nAAAA\n").unwrap_err().contains("no END"));
        assert!(blocks("-----BEGIN X-----\n!!\n-----END X-----\n").unwrap_err().contains("base64"));
        let enc = blocks("-----BEGIN X-----\nProc-Type: 4,ENCRYPTED\nAAAA\n-----END X-----\n").unwrap();
        assert!(enc[0].has_headers);
    }
}
