//! Standard base64 (RFC 4648 §4, padded) for the short fields of encrypted values.
//!
//! An `ENC[...]` value holds three fields of 16 to a few hundred bytes, and a large file holds
//! tens of thousands of values: the `base64` crate's engine, built for long inputs, spends most
//! of its time on each field's last chunks. These loops take four characters at a time through
//! lookup tables. Decoding accepts exactly what the crate's `STANDARD` engine accepts
//! (canonical padding, no trailing bits); [`decode`] leaves anything else to the crate, so that
//! errors are the crate's. The test compares both on every input it makes.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Not a base64 digit (set in every table entry for such a byte; no sum of digits sets it).
const INVALID: u32 = 1 << 31;

/// For each byte, its digit value shifted to position `i` of a four-character group (the first
/// character holds the highest six bits), or [`INVALID`].
const fn table(i: u32) -> [u32; 256] {
    let mut t = [u32::MAX; 256];
    let mut d = 0;
    while d < 64 {
        t[ALPHABET[d] as usize] = (d as u32) << (18 - 6 * i);
        d += 1;
    }
    t
}

static T0: [u32; 256] = table(0);
static T1: [u32; 256] = table(1);
static T2: [u32; 256] = table(2);
static T3: [u32; 256] = table(3);

/// The two base64 digits of every 12-bit value, the high six bits first.
static PAIRS: [[u8; 2]; 4096] = {
    let mut t = [[0u8; 2]; 4096];
    let mut v = 0;
    while v < 4096 {
        t[v] = [ALPHABET[v >> 6], ALPHABET[v & 63]];
        v += 1;
    }
    t
};

/// Appends the padded base64 of `bytes` to `out`.
pub(crate) fn encode_into(bytes: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + bytes.len().div_ceil(3) * 4, 0);
    let mut quads = out[start..].chunks_exact_mut(4);
    let mut groups = bytes.chunks_exact(3);
    for (g, q) in (&mut groups).zip(&mut quads) {
        let v = usize::from(g[0]) << 16 | usize::from(g[1]) << 8 | usize::from(g[2]);
        let (hi, lo) = (PAIRS[v >> 12], PAIRS[v & 0xFFF]);
        q.copy_from_slice(&[hi[0], hi[1], lo[0], lo[1]]);
    }
    let last = match *groups.remainder() {
        [a] => {
            let hi = PAIRS[usize::from(a) << 4];
            [hi[0], hi[1], b'=', b'=']
        }
        [a, b] => {
            let v = usize::from(a) << 10 | usize::from(b) << 2;
            let hi = PAIRS[v >> 6];
            [hi[0], hi[1], ALPHABET[v & 63], b'=']
        }
        _ => return,
    };
    if let Some(q) = quads.next() {
        q.copy_from_slice(&last);
    }
}

/// Decodes `text` into the front of `out`, returning the length, as the crate's `STANDARD`
/// engine decodes it; its error when it refuses the text or `out` is too short.
pub(crate) fn decode(text: &str, out: &mut [u8]) -> Result<usize, base64::DecodeSliceError> {
    match decode_canonical(text.as_bytes(), out) {
        Some(n) => Ok(n),
        None => STANDARD.decode_slice(text, out),
    }
}

/// Decodes `text` into `out` when it is canonical padded base64 and fits; `None` otherwise.
fn decode_canonical(text: &[u8], out: &mut [u8]) -> Option<usize> {
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let Some((body, last)) = text.split_last_chunk::<4>() else { return Some(0) };
    let full = body.len() / 4 * 3;
    let tail = match last {
        [_, _, b'=', b'='] => 1,
        [_, _, _, b'='] => 2,
        _ => 3,
    };
    let out = out.get_mut(..full + tail)?;
    let (head, end) = out.split_at_mut(full);
    for (group, bytes) in body.chunks_exact(4).zip(head.chunks_exact_mut(3)) {
        let n = T0[group[0] as usize] | T1[group[1] as usize] | T2[group[2] as usize] | T3[group[3] as usize];
        if n & INVALID != 0 {
            return None;
        }
        bytes.copy_from_slice(&n.to_be_bytes()[1..]);
    }
    // The last group: its padding is read as zero digits, which the text's bits must also be
    // where they fall past the last byte.
    let digit = |i: usize, t: &[u32; 256]| if i > tail { 0 } else { t[last[i] as usize] };
    let n = digit(0, &T0) | digit(1, &T1) | digit(2, &T2) | digit(3, &T3);
    let spare = match tail {
        1 => 0xFFFF,
        2 => 0xFF,
        _ => 0,
    };
    if n & (INVALID | spare) != 0 {
        return None;
    }
    end.copy_from_slice(&n.to_be_bytes()[1..=tail]);
    Some(full + tail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    /// The crate's answer and this module's, for one text and output size.
    fn both(text: &[u8], room: usize) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
        let mut ours = vec![0u8; room];
        let mut theirs = vec![0u8; room];
        let ours = decode_canonical(text, &mut ours).map(|n| ours[..n].to_vec());
        let theirs = STANDARD.decode_slice(text, &mut theirs).ok().map(|n| theirs[..n].to_vec());
        (ours, theirs)
    }

    #[test]
    fn encoding_is_the_crates() {
        let mut rng = StdRng::seed_from_u64(0x9e37_79b9_7f4a_7c15);
        for len in 0..200 {
            let bytes: Vec<u8> = (0..len).map(|_| rng.gen::<u8>()).collect();
            let mut ours = b"x".to_vec();
            encode_into(&bytes, &mut ours);
            assert_eq!(ours, format!("x{}", STANDARD.encode(&bytes)).into_bytes(), "{len} bytes");
        }
    }

    /// Every text the fast loop accepts, the crate accepts with the same bytes; every text it
    /// declines, the crate refuses too (then [`decode`] gives the crate's error). Texts are
    /// valid encodings with one or two characters changed, cut, or padded, over every length
    /// up to 64 bytes; and every two-character tail.
    #[test]
    fn decoding_agrees_with_the_crate_on_every_text() {
        let mut rng = StdRng::seed_from_u64(0x2545_f491_4f6c_dd1d);
        let specials = b"=+/A0z\n\r -_.\0\xff";
        let mut accepted = 0;
        for round in 0..40_000 {
            let len: usize = rng.gen_range(0..65);
            let bytes: Vec<u8> = (0..len).map(|_| rng.gen::<u8>()).collect();
            let mut text = STANDARD.encode(&bytes).into_bytes();
            match round % 5 {
                0 => {}
                1 | 2 if !text.is_empty() => {
                    for _ in 0..=(round % 2) {
                        let at = rng.gen_range(0..text.len());
                        text[at] = if rng.gen_range(0..2) == 0 {
                            specials[rng.gen_range(0..specials.len())]
                        } else {
                            ALPHABET[rng.gen_range(0..64)]
                        };
                    }
                }
                3 if !text.is_empty() => {
                    let cut = rng.gen_range(0..text.len());
                    text.truncate(cut);
                }
                _ => text.push(specials[rng.gen_range(0..specials.len())]),
            }
            for room in [len, len.saturating_sub(1), len + 3] {
                let (ours, theirs) = both(&text, room);
                if let Some(o) = &ours {
                    accepted += 1;
                    assert_eq!(Some(o), theirs.as_ref(), "{:?}", String::from_utf8_lossy(&text));
                } else {
                    assert_eq!(theirs, None, "declined {:?}, which the crate reads", String::from_utf8_lossy(&text));
                }
            }
        }
        assert!(accepted > 30_000, "only {accepted} texts were read");
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                for shape in [[b'Q', b'Q', a, b], [b'Q', a, b, b'='], [b'Q', a, b'=', b'='], [a, b, b'=', b'=']] {
                    let (ours, theirs) = both(&shape, 3);
                    match ours {
                        Some(o) => assert_eq!(Some(o), theirs, "{shape:?}"),
                        None => assert_eq!(theirs, None, "{shape:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn decode_gives_the_crates_error_for_what_it_refuses() {
        let mut out = [0u8; 8];
        assert_eq!(decode("aGVsbG8=", &mut out), Ok(5));
        assert_eq!(&out[..5], b"hello");
        assert_eq!(decode("", &mut out), Ok(0));
        assert!(matches!(decode("aGVsbG8", &mut out), Err(base64::DecodeSliceError::DecodeError(_))));
        assert!(matches!(decode("aGVsbG9=", &mut out), Err(base64::DecodeSliceError::DecodeError(_))));
        assert_eq!(decode("aGVsbG8gd29ybGQ=", &mut out), Err(base64::DecodeSliceError::OutputSliceTooSmall));
    }
}
