//! AWS KMS master keys, as sops uses them (`reference/sops-format.md` §10): `kms:Encrypt` of the
//! raw data key (or share) with the key's ARN and encryption context, `kms:Decrypt` with the same
//! ARN and context; the region comes from the ARN; `aws_profile` picks a shared-config profile; a
//! role (`ARN+arn:aws:iam::...:role/R`) is assumed through STS. Credentials, and the endpoint
//! overrides `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_KMS`, come from the AWS SDK's standard chain;
//! its requests go through gitseal's own HTTP client (`kms::http`).
//!
//! The SDK is async; the callers are not. With the `kms` feature, the first KMS call creates one
//! current-thread tokio runtime for the process and one client per region, profile and role
//! (`client`); files without KMS keys never create them. Without the feature, keys still parse
//! (so files keep their entries) but wrapping and unwrapping say the build lacks KMS.

use std::collections::BTreeMap;

use zeroize::Zeroizing;

use crate::remote::Remote;
use crate::KeyError;

#[cfg(feature = "kms")]
mod client;
#[cfg(feature = "kms")]
pub(crate) mod http;

/// What a KMS client is made for: region, profile and role.
#[cfg(feature = "kms")]
pub(crate) type ClientId = (String, String, Option<String>);

/// Environment variable with comma-separated KMS ARNs for `encrypt`.
pub const ENV_ARN: &str = "SOPS_KMS_ARN";

/// An AWS KMS key: its ARN, an optional role to assume, the encryption context and the profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KmsKey {
    arn: String,
    region: String,
    role: Option<String>,
    context: BTreeMap<String, String>,
    profile: String,
}

impl KmsKey {
    /// Parses `ARN` or `ARN+ROLE_ARN` (spaces removed, as sops does). The ARN must match
    /// `arn:aws[\w-]*:kms:REGION:ACCOUNT:(key|alias)/ID`.
    pub fn parse(s: &str, context: BTreeMap<String, String>, profile: &str) -> Result<KmsKey, KeyError> {
        let text: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        let (arn, role) = match text.split_once("+arn:aws:iam::") {
            Some((arn, role)) => (arn.to_string(), Some(format!("arn:aws:iam::{role}"))),
            None => (text.clone(), None),
        };
        KmsKey::new(arn, role, context, profile.to_string())
    }

    /// Parses a comma-separated list, skipping empty entries; every key gets the same context and
    /// profile (as sops's `--kms`, `--encryption-context` and `--aws-profile` do).
    pub fn parse_list(s: &str, context: &BTreeMap<String, String>, profile: &str) -> Result<Vec<KmsKey>, KeyError> {
        s.split(',').filter(|p| !p.trim().is_empty()).map(|p| KmsKey::parse(p, context.clone(), profile)).collect()
    }

    /// A key as stored in a file's metadata.
    pub fn new(
        arn: String,
        role: Option<String>,
        context: BTreeMap<String, String>,
        profile: String,
    ) -> Result<KmsKey, KeyError> {
        let region = region_of(&arn)
            .ok_or_else(|| KeyError::InvalidKey {
                kind: "kms",
                key: arn.clone(),
                reason: "expected an ARN like arn:aws:kms:REGION:ACCOUNT:key/ID (or alias/NAME)".into(),
            })?
            .to_string();
        let role = role.filter(|r| !r.is_empty());
        Ok(KmsKey { arn, region, role, context, profile })
    }

    /// The key's ARN.
    pub fn arn(&self) -> &str {
        &self.arn
    }

    /// The region, taken from the ARN.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The role assumed through STS before calling KMS, if any.
    pub fn role(&self) -> Option<&str> {
        self.role.as_deref()
    }

    /// The encryption context (sorted by key).
    pub fn context(&self) -> &BTreeMap<String, String> {
        &self.context
    }

    /// The shared-config profile (`""`: the default chain).
    pub fn profile(&self) -> &str {
        &self.profile
    }

    /// Encrypts `secret` with `kms:Encrypt`; returns the standard base64 of the ciphertext blob.
    pub fn wrap(&self, remote: &Remote, secret: &[u8]) -> Result<String, KeyError> {
        let err = |reason: String| KeyError::Wrap { recipient: format!("KMS key {}", self.arn), reason };
        #[cfg(feature = "kms")]
        {
            use base64::Engine;
            let blob = client::encrypt(remote, self, secret).map_err(err)?;
            Ok(base64::engine::general_purpose::STANDARD.encode(blob))
        }
        #[cfg(not(feature = "kms"))]
        {
            let _ = (remote, secret);
            Err(err(NO_KMS.into()))
        }
    }

    /// Decrypts an `enc` text (standard base64 of a ciphertext blob) with `kms:Decrypt`.
    pub fn unwrap(&self, remote: &Remote, enc: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        #[cfg(feature = "kms")]
        {
            use base64::Engine;
            let compact: String = enc.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            let blob = base64::engine::general_purpose::STANDARD
                .decode(compact.as_bytes())
                .map_err(|_| KeyError::Unwrap("the enc field is not valid base64".into()))?;
            client::decrypt(remote, self, &blob).map_err(KeyError::Unwrap)
        }
        #[cfg(not(feature = "kms"))]
        {
            let _ = (remote, enc);
            Err(KeyError::Unwrap(NO_KMS.into()))
        }
    }
}

#[cfg(not(feature = "kms"))]
const NO_KMS: &str = "this gitseal was built without AWS KMS support (cargo feature `kms`)";

/// True when this build can call AWS KMS.
pub const fn available() -> bool {
    cfg!(feature = "kms")
}

/// The region of a KMS key ARN (`arn:aws[\w-]*:kms:REGION:ACCOUNT:(key|alias)/ID`), or `None`
/// when the ARN does not have that form.
pub fn region_of(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    let (scheme, partition, service) = (parts.next()?, parts.next()?, parts.next()?);
    let (region, account, resource) = (parts.next()?, parts.next()?, parts.next()?);
    let partition_ok = partition
        .strip_prefix("aws")
        .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
    let resource_ok = ["key/", "alias/"].iter().any(|p| resource.strip_prefix(p).is_some_and(|id| !id.is_empty()));
    let ok = scheme == "arn"
        && partition_ok
        && service == "kms"
        && !region.is_empty()
        && !account.is_empty()
        && account.chars().all(|c| c.is_ascii_digit())
        && resource_ok;
    ok.then_some(region)
}

/// Parses `--encryption-context k1:v1,k2:v2` (spaces around items ignored). Every item needs a
/// `:` with a non-empty key; the error names the bad item.
pub fn parse_context(s: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        match item.split_once(':') {
            Some((k, v)) if !k.trim().is_empty() => {
                out.insert(k.trim().to_string(), v.trim().to_string());
            }
            _ => return Err(format!("{item:?} is not KEY:VALUE (expected key1:value1,key2:value2)")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    #[test]
    fn arns_roles_and_regions() {
        let k = KmsKey::parse(&format!(" {ARN} +arn:aws:iam::123456789012:role/R"), BTreeMap::new(), "dev").unwrap();
        assert_eq!(k.arn(), ARN);
        assert_eq!(k.region(), "eu-west-1");
        assert_eq!(k.role(), Some("arn:aws:iam::123456789012:role/R"));
        assert_eq!(k.profile(), "dev");
        assert_eq!(region_of("arn:aws-us-gov:kms:us-gov-west-1:1:alias/x"), Some("us-gov-west-1"));
        for bad in [
            "arn:aws:kms:eu-west-1:123:key/",
            "arn:aws:s3:eu-west-1:123:key/x",
            "arn:aws:kms::123:key/x",
            "arn:aws:kms:eu-west-1:12a:key/x",
            "arn:aws:kms:eu-west-1:123:thing/x",
            "alias/x",
            "",
        ] {
            assert!(region_of(bad).is_none(), "{bad}");
        }
        let err = KmsKey::parse("nope", BTreeMap::new(), "").unwrap_err().to_string();
        assert!(err.contains("nope") && err.contains("arn:aws:kms:"), "{err}");
        assert_eq!(KmsKey::parse_list(&format!("{ARN}, ,{ARN}"), &BTreeMap::new(), "").unwrap().len(), 2);
    }

    #[test]
    fn encryption_contexts() {
        let c = parse_context("app:demo, env:test,").unwrap();
        assert_eq!(c.into_iter().collect::<Vec<_>>(), [("app".into(), "demo".into()), ("env".into(), "test".into())]);
        assert_eq!(parse_context("a:b:c").unwrap()["a"], "b:c");
        assert!(parse_context("nocolon").unwrap_err().contains("nocolon"));
        assert!(parse_context(":v").is_err());
        assert!(parse_context("").unwrap().is_empty());
    }
}
