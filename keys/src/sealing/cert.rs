//! Sealing certificates: a self-signed certificate like the controller's
//! (`reference/sealed-secrets.md` §1.4), and lenient parsing of any RSA certificate.
//!
//! The controller's certificates carry KeyUsage EncipherOnly without KeyAgreement, which RFC 5280
//! forbids and strict parsers reject. Like kubeseal, only the public key and the validity are
//! read here; extensions are never interpreted, and the chain, key usage and subject are not
//! checked.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rsa::sha2::{Digest, Sha256};
use rsa::Pkcs1v15Sign;
use x509_cert::certificate::{CertificateInner, Raw};
use x509_cert::der::{Decode, Encode};

use super::key::{PublicKey, SealingKey};
use super::{pem, SealError};

/// The controller's default certificate lifetime (`--key-ttl`, 87600h = 10 years).
pub const DEFAULT_TTL: Duration = Duration::from_secs(87_600 * 3600);

/// A parsed sealing certificate: its DER, public key and validity.
#[derive(Clone)]
pub struct SealingCert {
    der: Vec<u8>,
    public: PublicKey,
    not_before: u64,
    not_after: u64,
}

impl SealingCert {
    /// The first `CERTIFICATE` block of a PEM text (kubeseal `ParseKey`). A bare public key is
    /// refused, as kubeseal does. Expiry is not checked here: see [`SealingCert::check_valid_at`].
    pub fn from_pem(text: &str) -> Result<SealingCert, SealError> {
        let blocks = pem::blocks(text).map_err(SealError::Cert)?;
        match blocks.iter().find(|b| b.label == "CERTIFICATE") {
            Some(b) => SealingCert::from_der(&b.der),
            None if blocks.iter().any(|b| b.label.contains("PUBLIC KEY")) => Err(SealError::Cert(
                "found a bare public key; a CERTIFICATE PEM block is needed (as kubeseal does)".into(),
            )),
            None => Err(SealError::Cert("no CERTIFICATE PEM block found".into())),
        }
    }

    /// A certificate from DER, read leniently (extensions are not interpreted).
    pub fn from_der(der: &[u8]) -> Result<SealingCert, SealError> {
        let cert = CertificateInner::<Raw>::from_der(der)
            .map_err(|e| SealError::Cert(format!("not a valid X.509 certificate: {e}")))?;
        let tbs = cert.tbs_certificate();
        let spki = tbs
            .subject_public_key_info()
            .to_der()
            .map_err(|e| SealError::Cert(format!("unreadable public key in the certificate: {e}")))?;
        let public = PublicKey::from_spki_der(&spki)?;
        let validity = tbs.validity();
        Ok(SealingCert {
            der: der.to_vec(),
            public,
            not_before: validity.not_before.to_unix_duration().as_secs(),
            not_after: validity.not_after.to_unix_duration().as_secs(),
        })
    }

    /// A self-signed certificate like the controller's: v3, SHA256WithRSA, random serial below
    /// 2^128, subject = issuer = `CN=<cn>` (an empty DN when `cn` is empty), KeyUsage
    /// EncipherOnly (critical), BasicConstraints CA:TRUE (critical).
    pub fn self_signed(
        key: &SealingKey,
        cn: &str,
        not_before: SystemTime,
        ttl: Duration,
    ) -> Result<SealingCert, SealError> {
        let start = not_before.duration_since(UNIX_EPOCH).map_err(|_| SealError::Cert("time before 1970".into()))?;
        let mut serial = [0u8; 16];
        rsa::rand_core::TryRng::try_fill_bytes(&mut crypto_common::getrandom::SysRng, &mut serial)
            .map_err(|_| SealError::Cert("the system random generator failed".into()))?;
        let tbs = tbs_der(key.public_key(), cn, &serial, start.as_secs(), (start + ttl).as_secs())?;
        let signature = key
            .rsa()
            .sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(&tbs))
            .map_err(|e| SealError::Cert(format!("cannot sign the certificate: {e}")))?;
        let mut body = tbs;
        body.extend(sha256_with_rsa());
        body.extend(der::tlv(0x03, &[&[0u8][..], &signature].concat()));
        SealingCert::from_der(&der::tlv(0x30, &body))
    }

    /// The certificate as PEM.
    pub fn to_pem(&self) -> String {
        pem::encode("CERTIFICATE", &self.der).to_string()
    }

    /// The certificate's public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Start of validity, seconds since the epoch.
    pub fn not_before(&self) -> u64 {
        self.not_before
    }

    /// End of validity, seconds since the epoch.
    pub fn not_after(&self) -> u64 {
        self.not_after
    }

    /// kubeseal's only check: the certificate must not be past its NotAfter at `now`.
    pub fn check_valid_at(&self, now: SystemTime) -> Result<(), SealError> {
        let now = now.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        if now > self.not_after {
            return Err(SealError::Expired(der::rfc3339(self.not_after)));
        }
        Ok(())
    }
}

impl std::fmt::Debug for SealingCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealingCert")
            .field("public", &self.public)
            .field("not_after", &der::rfc3339(self.not_after))
            .finish()
    }
}

/// AlgorithmIdentifier sha256WithRSAEncryption (1.2.840.113549.1.1.11) with NULL parameters.
fn sha256_with_rsa() -> Vec<u8> {
    let oid = der::tlv(0x06, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]);
    der::tlv(0x30, &[oid, vec![0x05, 0x00]].concat())
}

fn name(cn: &str) -> Vec<u8> {
    if cn.is_empty() {
        return der::tlv(0x30, &[]);
    }
    let atv = der::tlv(0x30, &[der::tlv(0x06, &[0x55, 0x04, 0x03]), der::tlv(0x0c, cn.as_bytes())].concat());
    der::tlv(0x30, &der::tlv(0x31, &atv))
}

fn tbs_der(public: &PublicKey, cn: &str, serial: &[u8], start: u64, end: u64) -> Result<Vec<u8>, SealError> {
    let version = der::tlv(0xa0, &der::tlv(0x02, &[2]));
    let validity = der::tlv(0x30, &[der::time(start), der::time(end)].concat());
    // KeyUsage: BIT STRING 03 02 00 01 (encipherOnly, as Go encodes it); BasicConstraints CA:TRUE.
    let key_usage = extension(&[0x55, 0x1d, 0x0f], &[0x03, 0x02, 0x00, 0x01]);
    let basic = extension(&[0x55, 0x1d, 0x13], &[0x30, 0x03, 0x01, 0x01, 0xff]);
    let extensions = der::tlv(0xa3, &der::tlv(0x30, &[key_usage, basic].concat()));
    let parts = [
        version,
        der::integer(serial),
        sha256_with_rsa(),
        name(cn),
        validity,
        name(cn),
        public.to_spki_der()?,
        extensions,
    ];
    Ok(der::tlv(0x30, &parts.concat()))
}

/// A critical extension.
fn extension(oid: &[u8], value: &[u8]) -> Vec<u8> {
    der::tlv(0x30, &[der::tlv(0x06, oid), vec![0x01, 0x01, 0xff], der::tlv(0x04, value)].concat())
}

/// The few DER encodings the certificate needs.
mod der {
    /// Tag, definite length, content.
    pub(super) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let n = content.len();
        if n < 0x80 {
            out.push(n as u8);
        } else {
            let bytes: Vec<u8> = n.to_be_bytes().into_iter().skip_while(|&b| b == 0).collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend(bytes);
        }
        out.extend_from_slice(content);
        out
    }

    /// A non-negative INTEGER from big-endian bytes.
    pub(super) fn integer(be: &[u8]) -> Vec<u8> {
        let mut v: Vec<u8> = be.iter().copied().skip_while(|&b| b == 0).collect();
        if v.first().is_none_or(|b| b & 0x80 != 0) {
            v.insert(0, 0);
        }
        tlv(0x02, &v)
    }

    /// UTCTime for 1950..2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5).
    pub(super) fn time(secs: u64) -> Vec<u8> {
        let (y, mo, d, h, mi, s) = civil(secs);
        if (1950..2050).contains(&y) {
            tlv(0x17, format!("{:02}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z", y % 100).as_bytes())
        } else {
            tlv(0x18, format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z").as_bytes())
        }
    }

    pub(super) fn rfc3339(secs: u64) -> String {
        let (y, mo, d, h, mi, s) = civil(secs);
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    }

    /// Seconds since the epoch to (year, month, day, hour, minute, second) in UTC, by the
    /// days-from-civil inversion over 400-year eras.
    fn civil(secs: u64) -> (u64, u64, u64, u64, u64, u64) {
        let days = secs / 86_400;
        let rem = secs % 86_400;
        let z = days + 719_468;
        let era = z / 146_097;
        let doe = z % 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + u64::from(month <= 2);
        (year, month, day, rem / 3600, rem % 3600 / 60, rem % 60)
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn civil_dates() {
            assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
            assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
            assert_eq!(super::rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
            assert_eq!(super::time(0), [&[0x17, 13][..], b"700101000000Z"].concat());
            assert_eq!(super::time(4_102_444_799)[0], 0x18);
        }
    }
}
