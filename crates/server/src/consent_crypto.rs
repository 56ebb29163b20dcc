//! Consent tokens at rest: AES-256-GCM with a fresh random nonce per token, so the database
//! file alone reveals nothing (issue 3; design §1 "a consent token … in plain text on disk").

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("KC_CONSENT_KEY must be 32 bytes, base64-encoded")]
    BadKey,
    #[error("a stored consent token could not be decrypted (wrong key or damaged data)")]
    Damaged,
}

#[derive(Clone)]
pub struct ConsentCipher(Aes256Gcm);

impl ConsentCipher {
    pub fn from_base64(key: &str) -> Result<ConsentCipher, CryptoError> {
        let bytes = STANDARD
            .decode(key.trim())
            .map_err(|_| CryptoError::BadKey)?;
        if bytes.len() != 32 {
            return Err(CryptoError::BadKey);
        }
        Ok(ConsentCipher(Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(
            &bytes,
        ))))
    }

    /// `base64(nonce ‖ ciphertext ‖ tag)`.
    pub fn seal(&self, plaintext: &str) -> String {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        // Encryption with a valid key and a 96-bit nonce cannot fail.
        let sealed = self
            .0
            .encrypt(&nonce, plaintext.as_bytes())
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend(sealed);
        STANDARD.encode(out)
    }

    pub fn open(&self, sealed: &str) -> Result<String, CryptoError> {
        let bytes = STANDARD.decode(sealed).map_err(|_| CryptoError::Damaged)?;
        if bytes.len() < 12 {
            return Err(CryptoError::Damaged);
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        let plain = self
            .0
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| CryptoError::Damaged)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Damaged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "c2FuZGJveC1vbmx5LWNvbnNlbnQta2V5LTMyLWJ5dGU=";

    #[test]
    fn round_trips_and_hides() {
        let c = ConsentCipher::from_base64(KEY).unwrap();
        let a = c.seal("consent-token-123");
        let b = c.seal("consent-token-123");
        assert_ne!(a, b, "a fresh nonce each time");
        assert!(!a.contains("consent-token"));
        assert_eq!(c.open(&a).unwrap(), "consent-token-123");
        let other = ConsentCipher::from_base64(&STANDARD.encode([7u8; 32])).unwrap();
        assert_eq!(other.open(&a), Err(CryptoError::Damaged));
        assert!(ConsentCipher::from_base64("c2hvcnQ=").is_err());
    }
}
