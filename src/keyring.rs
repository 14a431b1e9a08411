//! Obtaining a file's data key from its master keys, with an error that says, per key group,
//! which keys were tried, why each failed, and what to set.

use gitseal_keys::age::Identities;
use gitseal_keys::DataKey;

use crate::error::Error;
use crate::metadata::Metadata;

/// The master keys this process can use; identities are loaded once, on first need.
#[derive(Default)]
pub struct Keyring {
    age: Option<Result<Identities, String>>,
}

impl Keyring {
    /// A keyring that loads identities from the environment when first needed.
    pub fn new() -> Keyring {
        Keyring::default()
    }

    /// A keyring with the given identities (tests, embedding).
    pub fn with_age(ids: Identities) -> Keyring {
        Keyring { age: Some(Ok(ids)) }
    }

    fn age(&mut self, recipient: Option<&str>) -> Result<&Identities, String> {
        self.age
            .get_or_insert_with(|| Identities::load_default(recipient).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The data key of a file, or an error listing every key tried.
    pub fn data_key(&mut self, meta: &Metadata, file: &str) -> Result<DataKey, Error> {
        if meta.key_groups.len() > 1 {
            return Err(Error::DataKey {
                file: file.into(),
                message: format!(
                    "the file uses {} key groups (Shamir secret sharing), which this build cannot open yet",
                    meta.key_groups.len()
                ),
            });
        }
        let mut report = Vec::new();
        let group = &meta.key_groups[0];
        for entry in &group.age {
            match self.age(Some(&entry.recipient)).and_then(|ids| ids.unwrap(&entry.enc).map_err(|e| e.to_string())) {
                Ok(bytes) => {
                    return DataKey::from_slice(&bytes)
                        .map_err(|e| Error::DataKey { file: file.into(), message: e.to_string() })
                }
                Err(why) => report.push(format!("age {}: {why}", entry.recipient)),
            }
        }
        for (kind, _) in &group.other {
            report.push(format!("{kind}: this master-key kind is not supported by this build yet"));
        }
        Err(Error::DataKey { file: file.into(), message: report.join("; ") })
    }
}
