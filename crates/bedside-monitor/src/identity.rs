//! Who the monitor is: its device ID, its serial and its long-term Ed25519
//! identity key, made once on first run and kept in its data directory. The
//! station's registry holds the public half; the monitor proves itself with
//! the private half at every pairing (ARCHITECTURE.md step 4).

use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;
use zpair_proto::crypto::{self, SigningKey};
use zpair_proto::device::RegistrationRecord;

use crate::paths::DataDir;
use crate::storage::{self, PRIVATE_FILE, StorageError};

/// Why the identity could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// Reading or writing its files failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The data directory has no identity yet.
    #[error("{0} holds no monitor identity: run `bedside-monitor init` first")]
    Missing(String),
    /// The data directory belongs to another device ID.
    #[error("this data directory belongs to {stored}, not {requested}")]
    DeviceIdMismatch {
        /// The ID it was made for.
        stored: String,
        /// The ID asked for now.
        requested: String,
    },
    /// The data directory was made with another serial.
    #[error("this monitor's serial is {stored}, not {requested}")]
    SerialMismatch {
        /// The serial it was made with.
        stored: String,
        /// The serial asked for now.
        requested: String,
    },
    /// The key file is not a PKCS#8 Ed25519 key.
    #[error("the identity key file is damaged")]
    BadKey,
    /// A device ID or serial that cannot be one.
    #[error("'{0}' is not a usable device ID or serial (1-64 letters, digits, '-', '_' or '.')")]
    BadName(String),
    /// The operating system's random number generator failed.
    #[error("no randomness available to make an identity key")]
    Random,
}

/// The non-secret half, as stored in `identity.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdentityFile {
    device_id: String,
    device_serial: String,
}

/// The monitor's identity: device ID, serial and identity key.
pub struct Identity {
    /// Registry identifier (`ZM-ICU-04`).
    pub device_id: String,
    /// Manufacturer's serial.
    pub serial: String,
    key: SigningKey,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("device_id", &self.device_id)
            .field("serial", &self.serial)
            .field("public_key", &self.public_key_text())
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// Reads the identity of an initialised data directory.
    pub fn load(dir: &DataDir) -> Result<Self, IdentityError> {
        let file: IdentityFile = storage::read_json(&dir.identity())?
            .ok_or_else(|| IdentityError::Missing(dir.root().display().to_string()))?;
        let pem = storage::read_text(&dir.identity_key())?
            .map(Zeroizing::new)
            .ok_or(IdentityError::BadKey)?;
        let key = SigningKey::from_pkcs8_pem(&pem).map_err(|_| IdentityError::BadKey)?;
        Ok(Self {
            device_id: file.device_id,
            serial: file.device_serial,
            key,
        })
    }

    /// Reads the identity, or makes one on first run. A serial given for an
    /// existing identity must be the one it has.
    pub fn load_or_create(
        dir: &DataDir,
        device_id: &str,
        serial: Option<&str>,
    ) -> Result<Self, IdentityError> {
        check_name(device_id)?;
        if let Some(serial) = serial {
            check_name(serial)?;
        }
        if dir.identity().exists() {
            let identity = Self::load(dir)?;
            if identity.device_id != device_id {
                return Err(IdentityError::DeviceIdMismatch {
                    stored: identity.device_id,
                    requested: device_id.to_owned(),
                });
            }
            if let Some(serial) = serial.filter(|s| *s != identity.serial) {
                return Err(IdentityError::SerialMismatch {
                    stored: identity.serial,
                    requested: serial.to_owned(),
                });
            }
            return Ok(identity);
        }
        let serial = match serial {
            Some(serial) => serial.to_owned(),
            None => generate_serial()?,
        };
        let key = crypto::generate_signing_key().map_err(|_| IdentityError::Random)?;
        storage::ensure_data_dir(dir.root())?;
        let pem = key
            .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .map_err(|_| IdentityError::BadKey)?;
        // The key first: an identity.json without its key would be unusable.
        storage::write_atomic(&dir.identity_key(), pem.as_bytes(), PRIVATE_FILE)?;
        let file = IdentityFile {
            device_id: device_id.to_owned(),
            device_serial: serial.clone(),
        };
        storage::write_json(&dir.identity(), &file, PRIVATE_FILE)?;
        tracing::info!(device_id, serial = %serial, "created a new monitor identity");
        Ok(Self {
            device_id: device_id.to_owned(),
            serial,
            key,
        })
    }

    /// The identity key, for signing challenge responses.
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// The identity key as PKCS#8 DER, for the TLS server certificate.
    pub fn pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, IdentityError> {
        self.key
            .to_pkcs8_der()
            .map(|doc| Zeroizing::new(doc.as_bytes().to_vec()))
            .map_err(|_| IdentityError::BadKey)
    }

    /// The public key as the registry stores it (base64url).
    pub fn public_key_text(&self) -> String {
        crypto::public_key_text(&self.key.verifying_key())
    }

    /// What the station's registry needs to know about this monitor.
    pub fn registration_record(
        &self,
        firmware_version: &str,
        ip_address: Option<String>,
    ) -> RegistrationRecord {
        RegistrationRecord {
            device_id: self.device_id.clone(),
            device_serial: self.serial.clone(),
            identity_public_key: self.public_key_text(),
            firmware_version: firmware_version.to_owned(),
            ip_address,
        }
    }
}

/// IDs and serials go into file contents, QR codes and certificate names:
/// keep them to plain characters.
fn check_name(name: &str) -> Result<(), IdentityError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(IdentityError::BadName(name.to_owned()))
    }
}

/// A serial in the seeds' style, `SN-2025-004217`.
fn generate_serial() -> Result<String, IdentityError> {
    let bytes = crypto::random_bytes::<4>().map_err(|_| IdentityError::Random)?;
    let number = u32::from_be_bytes(bytes) % 1_000_000;
    let year = time::OffsetDateTime::now_utc().year();
    Ok(format!("SN-{year}-{number:06}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn first_run_creates_an_identity_that_later_runs_read_back() {
        let root = tempfile::tempdir().expect("temp");
        let dir = DataDir::new(root.path().join("m"));
        let made = Identity::load_or_create(&dir, "ZM-1", None).expect("create");
        assert!(made.serial.starts_with("SN-"), "{}", made.serial);
        let mode = std::fs::metadata(dir.identity_key())
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = Identity::load_or_create(&dir, "ZM-1", Some(&made.serial)).expect("load");
        assert_eq!(again.public_key_text(), made.public_key_text());
        assert_eq!(again.serial, made.serial);
        let record = again.registration_record("1.2.3", None);
        assert_eq!(record.identity_public_key, made.public_key_text());
        assert_eq!(record.device_serial, made.serial);
    }

    #[test]
    fn a_data_directory_keeps_its_device_id_and_serial() {
        let root = tempfile::tempdir().expect("temp");
        let dir = DataDir::new(root.path());
        Identity::load_or_create(&dir, "ZM-1", Some("SN-1")).expect("create");
        assert!(matches!(
            Identity::load_or_create(&dir, "ZM-2", None),
            Err(IdentityError::DeviceIdMismatch { .. })
        ));
        assert!(matches!(
            Identity::load_or_create(&dir, "ZM-1", Some("SN-2")),
            Err(IdentityError::SerialMismatch { .. })
        ));
        assert!(matches!(
            Identity::load_or_create(&dir, "ZM 1/../x", None),
            Err(IdentityError::BadName(_))
        ));
    }

    #[test]
    fn debug_never_shows_the_private_key() {
        let root = tempfile::tempdir().expect("temp");
        let dir = DataDir::new(root.path());
        let identity = Identity::load_or_create(&dir, "ZM-1", None).expect("create");
        let pem = std::fs::read_to_string(dir.identity_key()).expect("pem");
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let debug = format!("{identity:?}");
        assert!(!debug.contains(&body), "{debug}");
    }
}
