//! The Ed25519 provisioning key: it signs every configuration and command the
//! station sends, and monitors trust its public half from their registration.

use std::path::Path;

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};

use super::PkiError;
use crate::fsutil;

/// Loads `provisioning.key`, or makes one.
pub(crate) fn load_or_create(dir: &Path) -> Result<SigningKey, PkiError> {
    let path = dir.join("provisioning.key");
    if let Some(pem) = fsutil::read_optional(&path)?.map(zeroize::Zeroizing::new) {
        return SigningKey::from_pkcs8_pem(&pem).map_err(|_| PkiError::Corrupt(path));
    }
    let key = zpair_proto::crypto::generate_signing_key().map_err(|_| PkiError::Random)?;
    let pem = key
        .to_pkcs8_pem(Default::default())
        .map_err(|_| PkiError::Corrupt(path.clone()))?;
    fsutil::write_private(&path, pem.as_bytes())?;
    tracing::info!("created a new provisioning key");
    Ok(key)
}
