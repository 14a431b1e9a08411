//! RSA key pairs for sealing: the private key (PKCS#1 or PKCS#8 PEM, as the controller stores
//! it in `tls.key`) and the public key (from a certificate, or a public-key PEM).

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey, EncodeRsaPrivateKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use rsa::sha2::{Digest, Sha256};
use rsa::traits::PublicKeyParts;
use zeroize::Zeroizing;

use super::pem;
use super::SealError;

/// The key size the controller generates by default (`--key-size`).
pub const DEFAULT_KEY_BITS: usize = 4096;

/// An RSA private sealing key. The `rsa` crate zeroizes it (and every clone) on drop; `Debug`
/// shows only the fingerprint.
#[derive(Clone)]
pub struct SealingKey {
    key: rsa::PrivateKey,
    public: PublicKey,
    /// The same key in AWS-LC, for fast constant-time decryption (2048 bits and more).
    #[cfg(feature = "aws-lc")]
    fast: Option<std::sync::Arc<aws_lc_rs::rsa::OaepPrivateDecryptingKey>>,
}

/// An RSA public key: what sealing needs, from a certificate or a public-key PEM.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: rsa::PublicKey,
}

impl SealingKey {
    /// A new key pair with `bits` bits and e = 65537, from the operating system's generator.
    pub fn generate(bits: usize) -> Result<SealingKey, SealError> {
        let key = rsa::PrivateKey::new(&mut crypto_common::getrandom::SysRng, bits)
            .map_err(|e| SealError::Key(format!("cannot generate an RSA-{bits} key: {e}")))?;
        Ok(SealingKey::from_rsa(key))
    }

    fn from_rsa(key: rsa::PrivateKey) -> SealingKey {
        let public = PublicKey { key: key.to_public_key() };
        #[cfg(feature = "aws-lc")]
        let fast = {
            use rsa::pkcs8::EncodePrivateKey;
            key.to_pkcs8_der()
                .ok()
                .and_then(|der| aws_lc_rs::rsa::PrivateDecryptingKey::from_pkcs8(der.as_bytes()).ok())
                .and_then(|k| aws_lc_rs::rsa::OaepPrivateDecryptingKey::new(k).ok())
                .map(std::sync::Arc::new)
        };
        SealingKey {
            key,
            public,
            #[cfg(feature = "aws-lc")]
            fast,
        }
    }

    #[cfg(feature = "aws-lc")]
    pub(crate) fn fast(&self) -> Option<&aws_lc_rs::rsa::OaepPrivateDecryptingKey> {
        self.fast.as_deref()
    }

    /// Every private key in a PEM text (`RSA PRIVATE KEY` = PKCS#1, `PRIVATE KEY` = PKCS#8);
    /// other blocks (certificates) are skipped. Errors if there is none, or one is unreadable.
    pub fn from_pem(text: &str) -> Result<Vec<SealingKey>, SealError> {
        let mut keys = Vec::new();
        for block in pem::blocks(text).map_err(SealError::Key)? {
            let key = match block.label.as_str() {
                _ if block.has_headers && block.label.contains("PRIVATE KEY") => {
                    return Err(SealError::Key("encrypted PEM private keys are not supported".into()))
                }
                "RSA PRIVATE KEY" => rsa::PrivateKey::from_pkcs1_der(&block.der)
                    .map_err(|e| SealError::Key(format!("not a valid PKCS#1 RSA private key: {e}")))?,
                "PRIVATE KEY" => rsa::PrivateKey::from_pkcs8_der(&block.der)
                    .map_err(|e| SealError::Key(format!("not a valid PKCS#8 RSA private key: {e}")))?,
                "ENCRYPTED PRIVATE KEY" => {
                    return Err(SealError::Key("encrypted PKCS#8 private keys are not supported".into()))
                }
                _ => continue,
            };
            keys.push(SealingKey::from_rsa(key));
        }
        if keys.is_empty() {
            return Err(SealError::Key("no RSA PRIVATE KEY or PRIVATE KEY PEM block found".into()));
        }
        Ok(keys)
    }

    /// The key as PKCS#1 PEM (`RSA PRIVATE KEY`), the form the controller stores in `tls.key`.
    pub fn to_pkcs1_pem(&self) -> Result<Zeroizing<String>, SealError> {
        let der = self.key.to_pkcs1_der().map_err(|e| SealError::Key(format!("cannot encode the key: {e}")))?;
        Ok(pem::encode("RSA PRIVATE KEY", der.as_bytes()))
    }

    /// The public half.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    pub(crate) fn rsa(&self) -> &rsa::PrivateKey {
        &self.key
    }
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SealingKey").field(&self.public.fingerprint()).finish()
    }
}

impl PublicKey {
    /// The public key of the first `CERTIFICATE`, `PUBLIC KEY` (SPKI) or `RSA PUBLIC KEY`
    /// (PKCS#1) block. Certificates are read without checking their expiry; use
    /// [`super::SealingCert`] for kubeseal's rules.
    pub fn from_pem(text: &str) -> Result<PublicKey, SealError> {
        for block in pem::blocks(text).map_err(SealError::Cert)? {
            return match block.label.as_str() {
                "CERTIFICATE" => Ok(super::SealingCert::from_der(&block.der)?.public_key().clone()),
                "PUBLIC KEY" => PublicKey::from_spki_der(&block.der),
                "RSA PUBLIC KEY" => rsa::PublicKey::from_pkcs1_der(&block.der)
                    .map(|key| PublicKey { key })
                    .map_err(|e| SealError::Cert(format!("not a valid PKCS#1 RSA public key: {e}"))),
                _ => continue,
            };
        }
        Err(SealError::Cert("no CERTIFICATE or PUBLIC KEY PEM block found".into()))
    }

    /// A public key from DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<PublicKey, SealError> {
        rsa::PublicKey::from_public_key_der(der)
            .map(|key| PublicKey { key })
            .map_err(|e| SealError::Cert(format!("the public key is not an RSA key: {e}")))
    }

    /// DER SubjectPublicKeyInfo.
    pub fn to_spki_der(&self) -> Result<Vec<u8>, SealError> {
        self.key
            .to_public_key_der()
            .map(|d| d.as_bytes().to_vec())
            .map_err(|e| SealError::Cert(format!("cannot encode the public key: {e}")))
    }

    /// The modulus size in bytes: the length of every RSA block sealed to this key.
    pub fn size(&self) -> usize {
        self.key.size()
    }

    /// The controller's key fingerprint (Go `ssh.FingerprintSHA256`, as `ssh-keygen -l`):
    /// `SHA256:` + unpadded base64 of SHA-256 over the ssh-wire `ssh-rsa`, e, n.
    pub fn fingerprint(&self) -> String {
        let mut wire = Vec::new();
        ssh_string(&mut wire, b"ssh-rsa");
        ssh_mpint(&mut wire, &self.key.e_bytes());
        ssh_mpint(&mut wire, &self.key.n_bytes());
        format!("SHA256:{}", STANDARD_NO_PAD.encode(Sha256::digest(&wire)))
    }

    pub(crate) fn rsa(&self) -> &rsa::PublicKey {
        &self.key
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PublicKey").field(&self.fingerprint()).finish()
    }
}

fn ssh_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// An ssh `mpint`: big-endian, no leading zeros, a zero byte added when the top bit is set.
fn ssh_mpint(out: &mut Vec<u8>, be: &[u8]) {
    let trimmed: &[u8] = &be[be.iter().position(|&b| b != 0).unwrap_or(be.len())..];
    let mut v = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_some_and(|b| b & 0x80 != 0) {
        v.push(0);
    }
    v.extend_from_slice(trimmed);
    ssh_string(out, &v);
}
