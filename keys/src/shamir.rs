//! Shamir secret sharing over GF(2^8), byte-compatible with sops's `shamir` package (a fork of
//! HashiCorp Vault's; `reference/sops-format.md` §8).
//!
//! The field is GF(2^8) with the AES polynomial x^8+x^4+x^3+x+1 (0x11B). Each secret byte gets its
//! own random polynomial of degree `threshold - 1` whose constant term is the byte. Share `i`
//! (0-based, one per key group) is evaluated at x = i + 1 and encoded as the y-value for every
//! secret byte followed by the x byte, so a 32-byte data key gives 33-byte shares.
//!
//! Field arithmetic is branch-free on secret data; shares and intermediate values are zeroized.

use rand::RngCore;
use zeroize::Zeroizing;

use crate::KeyError;

/// One share: the y-values followed by the x-coordinate. Zeroized on drop.
pub type Share = Zeroizing<Vec<u8>>;

/// Multiplication in GF(2^8) modulo 0x11B, without branches on the operands.
fn mul(a: u8, b: u8) -> u8 {
    let mut acc = 0u8;
    for i in (0..8).rev() {
        let carry = acc >> 7;
        acc = (acc << 1) ^ (0x1B & 0u8.wrapping_sub(carry));
        let bit = (b >> i) & 1;
        acc ^= a & 0u8.wrapping_sub(bit);
    }
    acc
}

/// The multiplicative inverse, a^254 (and 0 for 0), by a fixed square-and-multiply chain.
fn inv(a: u8) -> u8 {
    // 254 = 0b1111_1110: square-and-multiply over the bits, always the same sequence of steps.
    let mut result = 1u8;
    let mut base = a;
    let mut e = 254u8;
    for _ in 0..8 {
        let bit = e & 1;
        let m = mul(result, base);
        let mask = 0u8.wrapping_sub(bit);
        result = (m & mask) | (result & !mask);
        base = mul(base, base);
        e >>= 1;
    }
    result
}

/// Splits `secret` into `parts` shares of which any `threshold` recover it.
///
/// Constraints as sops: 2 <= threshold <= parts <= 255 and a non-empty secret.
pub fn split(secret: &[u8], parts: usize, threshold: usize) -> Result<Vec<Share>, KeyError> {
    split_with(secret, parts, threshold, &mut |buf| rand::rngs::OsRng.fill_bytes(buf))
}

/// [`split`] with the polynomial coefficients (all but the constant term) taken from `fill`.
fn split_with(
    secret: &[u8],
    parts: usize,
    threshold: usize,
    fill: &mut dyn FnMut(&mut [u8]),
) -> Result<Vec<Share>, KeyError> {
    let bad = |m: &str| KeyError::Shamir(m.to_string());
    if parts < threshold {
        return Err(bad("the number of key groups cannot be less than the threshold"));
    }
    if parts > 255 {
        return Err(bad("there cannot be more than 255 key groups"));
    }
    if threshold < 2 {
        return Err(bad("the threshold must be at least 2"));
    }
    if secret.is_empty() {
        return Err(bad("cannot split an empty secret"));
    }
    let mut shares: Vec<Share> = (0..parts)
        .map(|i| {
            let mut s = Zeroizing::new(vec![0u8; secret.len() + 1]);
            s[secret.len()] = (i + 1) as u8;
            s
        })
        .collect();
    let mut coeffs = Zeroizing::new(vec![0u8; threshold]);
    for (idx, &byte) in secret.iter().enumerate() {
        coeffs[0] = byte;
        fill(&mut coeffs[1..]);
        for share in shares.iter_mut() {
            let x = share[secret.len()];
            share[idx] = evaluate(&coeffs, x);
        }
    }
    Ok(shares)
}

/// Horner evaluation of the polynomial with coefficients `coeffs` (constant first) at `x`.
fn evaluate(coeffs: &[u8], x: u8) -> u8 {
    coeffs.iter().rev().fold(0u8, |acc, &c| mul(acc, x) ^ c)
}

/// Recovers the secret from shares by Lagrange interpolation at x = 0.
///
/// Needs at least two shares of the same length (at least two bytes) with distinct x. With fewer
/// shares than the threshold used to split, the result is a wrong value, not an error: callers
/// check the count against the threshold first.
pub fn combine(shares: &[&[u8]]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let bad = |m: &str| KeyError::Shamir(m.to_string());
    if shares.len() < 2 {
        return Err(bad("less than two shares cannot be used to reconstruct the secret"));
    }
    let len = shares[0].len();
    if len < 2 {
        return Err(bad("the shares are too short"));
    }
    if shares.iter().any(|s| s.len() != len) {
        return Err(bad("all shares must have the same length"));
    }
    let xs: Vec<u8> = shares.iter().map(|s| s[len - 1]).collect();
    for (i, x) in xs.iter().enumerate() {
        if xs[..i].contains(x) {
            return Err(bad("duplicate share detected"));
        }
    }
    let mut out = Zeroizing::new(vec![0u8; len - 1]);
    for (i, share) in shares.iter().enumerate() {
        let mut basis = 1u8;
        for (j, &xj) in xs.iter().enumerate() {
            if i != j {
                basis = mul(basis, mul(xj, inv(xs[i] ^ xj)));
            }
        }
        for (o, &y) in out.iter_mut().zip(share[..len - 1].iter()) {
            *o ^= mul(y, basis);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Python `mult` of `reference/sops-format.md` §13, transcribed literally.
    fn reference_mult(a: u8, b: u8) -> u8 {
        let mut acc: u16 = 0;
        for i in (0..8).rev() {
            acc = ((acc << 1) & 0xFF) ^ if acc & 0x80 != 0 { 0x1B } else { 0 };
            if (b >> i) & 1 == 1 {
                acc ^= a as u16;
            }
        }
        acc as u8
    }

    /// Every subset of `n` indices with `k` members.
    fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
        (0u32..1 << n)
            .filter(|m| m.count_ones() as usize == k)
            .map(|m| (0..n).filter(|i| m >> i & 1 == 1).collect())
            .collect()
    }

    #[test]
    fn field_arithmetic_matches_fips_197_and_the_reference() {
        // FIPS-197 §4.2: {57} • {83} = {c1}, {57} • {13} = {fe}; §5.1.1: inverse of {53} is {ca}.
        assert_eq!(mul(0x57, 0x83), 0xC1);
        assert_eq!(mul(0x57, 0x13), 0xFE);
        assert_eq!(inv(0x53), 0xCA);
        assert_eq!(inv(0), 0);
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                assert_eq!(mul(a, b), reference_mult(a, b), "{a} * {b}");
            }
            if a != 0 {
                assert_eq!(mul(a, inv(a)), 1, "inverse of {a}");
            }
        }
    }

    #[test]
    fn hand_computed_vector() {
        // Secret 0x42, threshold 2, slope 0x03: y(x) = 0x42 ^ 3·x, so y(1) = 0x41, y(2) = 0x44
        // (3·2 = 6) and y(3) = 0x47 (3·3 = 3 ^ 6 = 5 in GF(2^8)).
        let shares = split_with(&[0x42], 3, 2, &mut |b| b.fill(0x03)).unwrap();
        let got: Vec<&[u8]> = shares.iter().map(|s| s.as_slice()).collect();
        assert_eq!(got, [&[0x41, 1][..], &[0x44, 2], &[0x47, 3]]);
        for pair in subsets(3, 2) {
            let picked: Vec<&[u8]> = pair.iter().map(|&i| got[i]).collect();
            assert_eq!(combine(&picked).unwrap().as_slice(), &[0x42], "{pair:?}");
        }
    }

    #[test]
    fn sops_layout_33_byte_shares_with_x_last() {
        let secret = [0xA5u8; 32];
        let shares = split(&secret, 3, 2).unwrap();
        for (i, s) in shares.iter().enumerate() {
            assert_eq!(s.len(), 33);
            assert_eq!(s[32], i as u8 + 1);
        }
    }

    #[test]
    fn any_threshold_subset_recovers_and_fewer_do_not() {
        let mut rng = rand::thread_rng();
        for (n, t) in [(2, 2), (3, 2), (3, 3), (4, 2), (5, 3), (6, 4)] {
            for _ in 0..4 {
                let mut secret = [0u8; 32];
                rng.fill_bytes(&mut secret);
                let shares = split(&secret, n, t).unwrap();
                for k in t..=n {
                    for set in subsets(n, k) {
                        let picked: Vec<&[u8]> = set.iter().map(|&i| shares[i].as_slice()).collect();
                        assert_eq!(combine(&picked).unwrap().as_slice(), &secret, "n={n} t={t} {set:?}");
                    }
                }
                if t > 2 {
                    for set in subsets(n, t - 1) {
                        let picked: Vec<&[u8]> = set.iter().map(|&i| shares[i].as_slice()).collect();
                        assert_ne!(combine(&picked).unwrap().as_slice(), &secret, "n={n} t={t} {set:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_single_share_never_recovers() {
        let shares = split(&[9u8; 32], 3, 2).unwrap();
        assert!(combine(&[shares[0].as_slice()]).is_err());
    }

    #[test]
    fn rejects_bad_parameters_and_shares() {
        assert!(split(&[1], 1, 2).is_err());
        assert!(split(&[1], 3, 1).is_err());
        assert!(split(&[1], 256, 2).is_err());
        assert!(split(&[], 3, 2).is_err());
        assert!(split(&[1], 255, 255).is_ok());
        let s = split(&[1, 2, 3], 3, 2).unwrap();
        assert!(combine(&[&s[0], &s[0]]).unwrap_err().to_string().contains("duplicate"));
        assert!(combine(&[&s[0], &s[1][..3]]).is_err());
        assert!(combine(&[&[1], &[2]]).is_err());
        assert!(combine(&[]).is_err());
    }
}
