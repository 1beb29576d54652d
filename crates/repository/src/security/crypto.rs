//! Application-side cryptography: the [`KeyRing`] that seals reversible secrets with
//! XChaCha20-Poly1305 (keys never reach the database), random tokens, and redacting wrappers
//! for secret values.
//!
//! A sealed value is stored as three columns: the ciphertext (plaintext || 16-byte tag), the
//! random 24-byte nonce and the key id `<keyring>:v<version>` (e.g. `sso:v2`). The associated
//! data binds the ciphertext to its row (`"<table>.<column>:" || id`), so a ciphertext copied
//! onto another row does not decrypt.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

/// Length of an XChaCha20-Poly1305 nonce.
pub const NONCE_LEN: usize = 24;
/// Length of the Poly1305 authentication tag appended to every ciphertext.
pub const TAG_LEN: usize = 16;
/// Length of a key.
pub const KEY_LEN: usize = 32;
/// Highest key version the schema accepts (`v[1-9][0-9]{0,5}`).
pub const MAX_KEY_VERSION: u32 = 999_999;

/// A cryptographic operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The key that sealed the value is not in the keyring (retired, or another keyring).
    #[error("key {0} is not in the keyring")]
    UnknownKey(String),
    /// Authentication failed: the ciphertext, nonce or associated data were altered, or the
    /// value was sealed under a different key with the same id.
    #[error("decryption failed: the ciphertext or its associated data was tampered with")]
    Decryption,
    /// The stored value does not have the shape of a sealed value (nonce length, tag).
    #[error("malformed sealed value: {0}")]
    Malformed(&'static str),
    /// A key or key id given to the keyring is unusable.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// The operating system's random number generator failed.
    #[error("random number generator failed: {0}")]
    Random(String),
    /// A decrypted secret is not UTF-8 text.
    #[error("decrypted secret is not UTF-8 text")]
    NotUtf8,
}

/// Fill `buf` with cryptographically secure random bytes.
pub(crate) fn random_bytes(buf: &mut [u8]) -> Result<(), CryptoError> {
    getrandom::fill(buf).map_err(|e| CryptoError::Random(e.to_string()))
}

/// A 256-bit random token, base64url without padding (43 characters).
pub(crate) fn random_token() -> Result<String, CryptoError> {
    let mut bytes = [0u8; 32];
    random_bytes(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// A secret text value (client secret, …). Its `Debug` never prints the value; read it with
/// [`SecretString::expose_secret`].
///
/// No `PartialEq`: comparing secrets with `==` is not constant-time; verify through the owning
/// API instead.
#[derive(Clone, serde::Deserialize)]
#[serde(transparent)]
pub struct SecretString(String);

impl SecretString {
    /// Wrap a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself. Do not log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl From<String> for SecretString {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

/// A 256-bit XChaCha20-Poly1305 key. Its `Debug` never prints the key material (and it has no
/// `PartialEq`, whose comparison would not be constant-time).
#[derive(Clone)]
pub struct SecretKey([u8; KEY_LEN]);

impl SecretKey {
    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// A key from a 32-byte slice.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        <[u8; KEY_LEN]>::try_from(bytes)
            .map(Self)
            .map_err(|_| CryptoError::InvalidKey(format!("a key is {KEY_LEN} bytes, got {}", bytes.len())))
    }

    /// A key from standard or URL-safe base64 (padded or not), as kept in a secret store.
    pub fn from_base64(encoded: &str) -> Result<Self, CryptoError> {
        let trimmed = encoded.trim();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(trimmed)
            .or_else(|_| URL_SAFE_NO_PAD.decode(trimmed.trim_end_matches('=')))
            .map_err(|_| CryptoError::InvalidKey("not base64".into()))?;
        Self::from_slice(&decoded)
    }

    /// A fresh random key.
    pub fn generate() -> Result<Self, CryptoError> {
        let mut bytes = [0u8; KEY_LEN];
        random_bytes(&mut bytes)?;
        Ok(Self(bytes))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.0.into())
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// The id of a keyring key, `<keyring>:v<version>` (e.g. `sso:v2`), as stored beside a
/// ciphertext.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyId {
    ring: String,
    version: u32,
}

impl KeyId {
    /// A key id from its parts; the keyring name is `[a-z][a-z0-9_-]{0,31}`, the version 1–999999.
    pub fn new(ring: &str, version: u32) -> Result<Self, CryptoError> {
        if !valid_ring_name(ring) {
            return Err(CryptoError::InvalidKey(format!(
                "keyring name {ring:?} is not [a-z][a-z0-9_-]{{0,31}}"
            )));
        }
        if !(1..=MAX_KEY_VERSION).contains(&version) {
            return Err(CryptoError::InvalidKey(format!(
                "key version {version} is not between 1 and {MAX_KEY_VERSION}"
            )));
        }
        Ok(Self {
            ring: ring.to_owned(),
            version,
        })
    }

    /// Parse `<keyring>:v<version>`.
    pub fn parse(raw: &str) -> Result<Self, CryptoError> {
        let bad = || CryptoError::InvalidKey(format!("{raw:?} is not a key id <keyring>:v<version>"));
        let (ring, version) = raw.split_once(":v").ok_or_else(bad)?;
        if version.is_empty() || version.starts_with('0') || !version.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let version = version.parse().map_err(|_| bad())?;
        Self::new(ring, version)
    }

    /// The keyring name.
    pub fn ring(&self) -> &str {
        &self.ring
    }

    /// The key version.
    pub fn version(&self) -> u32 {
        self.version
    }
}

fn valid_ring_name(ring: &str) -> bool {
    let b = ring.as_bytes();
    !b.is_empty()
        && b.len() <= 32
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-')
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:v{}", self.ring, self.version)
    }
}

impl FromStr for KeyId {
    type Err = CryptoError;
    fn from_str(s: &str) -> Result<Self, CryptoError> {
        Self::parse(s)
    }
}

impl TryFrom<String> for KeyId {
    type Error = CryptoError;
    fn try_from(s: String) -> Result<Self, CryptoError> {
        Self::parse(&s)
    }
}

impl From<KeyId> for String {
    fn from(k: KeyId) -> String {
        k.to_string()
    }
}

/// A value sealed by a [`KeyRing`]: what the database stores.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The key that sealed it.
    pub key_id: KeyId,
    /// The random 24-byte nonce.
    pub nonce: [u8; NONCE_LEN],
    /// The ciphertext with its 16-byte tag.
    pub ciphertext: Vec<u8>,
}

impl Sealed {
    /// Rebuild a sealed value from its stored columns.
    pub fn from_parts(key_id: &str, nonce: &[u8], ciphertext: Vec<u8>) -> Result<Self, CryptoError> {
        let nonce = <[u8; NONCE_LEN]>::try_from(nonce).map_err(|_| CryptoError::Malformed("nonce is not 24 bytes"))?;
        if ciphertext.len() <= TAG_LEN {
            return Err(CryptoError::Malformed("ciphertext shorter than its tag"));
        }
        Ok(Self {
            key_id: KeyId::parse(key_id)?,
            nonce,
            ciphertext,
        })
    }
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealed")
            .field("key_id", &self.key_id)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

/// A named set of versioned keys: the current one seals, every one opens. Rotation adds a new
/// current key; values sealed under older keys still open and are re-sealed under the current
/// key by the owning repository (e.g. `SsoProviders::reencrypt`).
///
/// Keys live only in the application (load them from the secret store); `Debug` prints the key
/// ids, never the keys.
#[derive(Clone)]
pub struct KeyRing {
    name: String,
    keys: BTreeMap<u32, SecretKey>,
    current: u32,
}

impl KeyRing {
    /// A keyring named `name` (`[a-z][a-z0-9_-]{0,31}`, e.g. `sso`) whose first key is version 1.
    pub fn new(name: &str, first: SecretKey) -> Result<Self, CryptoError> {
        KeyId::new(name, 1)?;
        Ok(Self {
            name: name.to_owned(),
            keys: BTreeMap::from([(1, first)]),
            current: 1,
        })
    }

    /// A keyring loaded from configuration: every (version, key) still needed to decrypt, and
    /// the version that seals.
    pub fn from_versions(
        name: &str,
        keys: impl IntoIterator<Item = (u32, SecretKey)>,
        current: u32,
    ) -> Result<Self, CryptoError> {
        let mut map = BTreeMap::new();
        for (version, key) in keys {
            KeyId::new(name, version)?;
            if map.insert(version, key).is_some() {
                return Err(CryptoError::InvalidKey(format!("version {version} given twice")));
            }
        }
        if !map.contains_key(&current) {
            return Err(CryptoError::InvalidKey(format!(
                "the current version {current} is not among the keys"
            )));
        }
        Ok(Self {
            name: name.to_owned(),
            keys: map,
            current,
        })
    }

    /// The keyring name (the part before `:v` in its key ids).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The id of the key that seals new values.
    pub fn current_key_id(&self) -> KeyId {
        KeyId {
            ring: self.name.clone(),
            version: self.current,
        }
    }

    /// The ids of every key this keyring can open with, oldest first.
    pub fn key_ids(&self) -> Vec<KeyId> {
        self.keys
            .keys()
            .map(|&version| KeyId {
                ring: self.name.clone(),
                version,
            })
            .collect()
    }

    /// Add `key` as the next version and make it current; older keys stay for decryption.
    /// Returns the new key's id.
    pub fn rotate(&mut self, key: SecretKey) -> Result<KeyId, CryptoError> {
        let next = self.keys.keys().next_back().copied().unwrap_or(0) + 1;
        if next > MAX_KEY_VERSION {
            return Err(CryptoError::InvalidKey("no key versions left".into()));
        }
        self.keys.insert(next, key);
        self.current = next;
        Ok(self.current_key_id())
    }

    /// Drop an old key (after every value it sealed was re-encrypted). The current key cannot
    /// be retired.
    pub fn retire(&mut self, key_id: &KeyId) -> Result<(), CryptoError> {
        if key_id.ring != self.name || !self.keys.contains_key(&key_id.version) {
            return Err(CryptoError::UnknownKey(key_id.to_string()));
        }
        if key_id.version == self.current {
            return Err(CryptoError::InvalidKey("the current key cannot be retired".into()));
        }
        self.keys.remove(&key_id.version);
        Ok(())
    }

    /// Seal `plaintext` under the current key with a fresh random nonce, binding `aad`.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Sealed, CryptoError> {
        let key = self
            .keys
            .get(&self.current)
            .ok_or_else(|| CryptoError::UnknownKey(self.current_key_id().to_string()))?;
        let mut nonce = [0u8; NONCE_LEN];
        random_bytes(&mut nonce)?;
        let ciphertext = key
            .cipher()
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad })
            .map_err(|_| CryptoError::Malformed("plaintext too long"))?;
        Ok(Sealed {
            key_id: self.current_key_id(),
            nonce,
            ciphertext,
        })
    }

    /// Open a sealed value with the key it names; fails with [`CryptoError::Decryption`] when the
    /// ciphertext, nonce or `aad` differ from what was sealed.
    pub fn open(&self, sealed: &Sealed, aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let key = self.key(&sealed.key_id)?;
        if sealed.ciphertext.len() <= TAG_LEN {
            return Err(CryptoError::Malformed("ciphertext shorter than its tag"));
        }
        key.cipher()
            .decrypt(
                XNonce::from_slice(&sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Decryption)
    }

    /// Open a sealed UTF-8 secret.
    pub fn open_secret(&self, sealed: &Sealed, aad: &[u8]) -> Result<SecretString, CryptoError> {
        let bytes = self.open(sealed, aad)?;
        String::from_utf8(bytes)
            .map(SecretString)
            .map_err(|_| CryptoError::NotUtf8)
    }

    fn key(&self, key_id: &KeyId) -> Result<&SecretKey, CryptoError> {
        if key_id.ring != self.name {
            return Err(CryptoError::UnknownKey(key_id.to_string()));
        }
        self.keys
            .get(&key_id.version)
            .ok_or_else(|| CryptoError::UnknownKey(key_id.to_string()))
    }
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("name", &self.name)
            .field("versions", &self.keys.keys().collect::<Vec<_>>())
            .field("current", &self.current)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_round_trip_and_refuse_bad_forms() -> Result<(), CryptoError> {
        assert_eq!(KeyId::parse("sso:v2")?.to_string(), "sso:v2");
        for bad in ["sso", "sso:v0", "sso:v01", "Sso:v1", "sso:v1234567", ":v1", "sso:vx"] {
            assert!(KeyId::parse(bad).is_err(), "{bad}");
        }
        Ok(())
    }

    #[test]
    fn debug_output_hides_key_material() -> Result<(), CryptoError> {
        let key = SecretKey::from_bytes([7; 32]);
        let ring = KeyRing::new("sso", key.clone())?;
        for text in [format!("{key:?}"), format!("{ring:?}")] {
            assert!(!text.contains('7'), "{text}");
        }
        assert_eq!(
            format!("{:?}", SecretString::new("hunter2")),
            "SecretString(<redacted>)"
        );
        Ok(())
    }
}
