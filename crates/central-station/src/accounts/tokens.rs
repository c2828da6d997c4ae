//! Bearer, refresh and confirmation tokens: 32 random bytes, base64url. Only
//! their SHA-256 is stored.

use sha2::{Digest as _, Sha256};
use zpair_proto::crypto::{CryptoError, random_bytes};

/// A token to hand out, and the hash to store.
pub(crate) struct NewToken {
    pub(crate) text: String,
    pub(crate) hash: [u8; 32],
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewToken(<redacted>)")
    }
}

/// A fresh token.
pub(crate) fn new_token() -> Result<NewToken, CryptoError> {
    let bytes = zeroize::Zeroizing::new(random_bytes::<32>()?);
    let text = zpair_proto::b64::encode(*bytes);
    let hash = hash_token(&text);
    Ok(NewToken { text, hash })
}

/// The stored form of a presented token.
pub(crate) fn hash_token(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_fresh_43_character_base64url_and_hash_stably() {
        let a = new_token().expect("token");
        let b = new_token().expect("token");
        assert_ne!(a.text, b.text);
        assert_eq!(a.text.len(), 43);
        assert_eq!(hash_token(&a.text), a.hash);
        assert!(!format!("{a:?}").contains(&a.text));
    }
}
