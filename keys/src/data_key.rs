//! The per-file data key.

use rand::RngCore;
use zeroize::Zeroizing;

/// A 32-byte AES-256 data key. Zeroized on drop; its `Debug` never shows the bytes.
pub struct DataKey(Zeroizing<[u8; 32]>);

impl DataKey {
    /// A fresh random key from the operating system's generator.
    pub fn generate() -> DataKey {
        let mut k = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(k.as_mut());
        DataKey(k)
    }

    /// A key from exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<DataKey, crate::KeyError> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| crate::KeyError::BadKeyLength(bytes.len()))?;
        Ok(DataKey(Zeroizing::new(arr)))
    }

    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_and_redacted() {
        let a = DataKey::generate();
        let b = DataKey::generate();
        assert_ne!(a.as_bytes(), b.as_bytes());
        assert_eq!(format!("{a:?}"), "DataKey(<redacted>)");
        assert!(DataKey::from_slice(&[0u8; 31]).is_err());
        assert_eq!(DataKey::from_slice(a.as_bytes()).unwrap().as_bytes(), a.as_bytes());
    }
}
