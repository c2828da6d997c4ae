//! The station's keys and certificates, made on first run and loaded after:
//! the hospital CA (ECDSA P-256; it signs the server certificate and, as the
//! device CA, the monitors' client certificates and the revocation list), the
//! server certificate for the station's own HTTPS, and the Ed25519
//! provisioning key that signs configurations and commands.
//!
//! Files live in `<data_dir>/pki/` (0700), keys and certificates 0600. A lock
//! file serialises first-run creation between the station and the admin
//! commands, so two processes never make two different CAs.

mod ca;
pub(crate) mod certificates;
mod provisioning_key;
mod server;

pub use ca::CLIENT_LIFETIME;
pub(crate) use ca::{CertificateAuthority, Crl, IssuedCertificate};
pub(crate) use server::ServerCredentials;

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;

use crate::fsutil::{self, FsError};

/// Why the station's keys or certificates could not be made, read or used.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// A file could not be read or written.
    #[error(transparent)]
    File(#[from] FsError),
    /// rcgen refused (key generation, signing, parsing).
    #[error("certificate operation failed: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// A stored file is damaged or does not match its partner.
    #[error(
        "{0} is damaged or does not match; restore it from backup or move the pki directory away to start a new CA"
    )]
    Corrupt(PathBuf),
    /// The CSR is malformed, badly signed or for an unsupported key type.
    #[error("the certificate signing request is invalid")]
    BadCsr,
    /// No randomness.
    #[error("no randomness available")]
    Random,
}

/// Everything the station signs with.
#[derive(Debug)]
pub(crate) struct StationIdentity {
    pub(crate) ca: CertificateAuthority,
    pub(crate) server: ServerCredentials,
    pub(crate) provisioning_key: SigningKey,
}

/// The names a server certificate made without configuration covers.
pub(crate) const DEFAULT_SERVER_NAMES: [&str; 2] = ["localhost", "127.0.0.1"];

/// Loads the station's identity, creating what is missing. With `names`, the
/// server certificate is re-issued unless it covers all of them; without,
/// any existing server certificate is kept (the offline commands).
pub(crate) fn load_or_create(
    data_dir: &Path,
    names: Option<&[String]>,
) -> Result<StationIdentity, PkiError> {
    fsutil::ensure_dir(data_dir)?;
    let dir = data_dir.join("pki");
    fsutil::ensure_dir(&dir)?;
    fsutil::make_private_dir(&dir)?;
    let lock_path = dir.join(".lock");
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&lock_path)
        .map_err(|e| FsError::new("cannot open", &lock_path, e))?;
    lock.lock()
        .map_err(|e| FsError::new("cannot lock", &lock_path, e))?;
    let (ca, ca_created) = CertificateAuthority::load_or_create(&dir)?;
    let defaults: Vec<String> = DEFAULT_SERVER_NAMES
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let server = ServerCredentials::load_or_create(&dir, &ca, names, &defaults, ca_created)?;
    let provisioning_key = provisioning_key::load_or_create(&dir)?;
    drop(lock);
    Ok(StationIdentity {
        ca,
        server,
        provisioning_key,
    })
}

pub(crate) use zpair_proto::hex::{decode as unhex, encode as hex};

/// A fresh certificate serial: 16 random bytes whose first byte is 0x10–0x7F,
/// so the DER integer is positive, needs no padding byte, and reads the same
/// as raw bytes or as a number in hex.
pub(crate) fn random_serial() -> Result<(rcgen::SerialNumber, String), PkiError> {
    let mut bytes = zpair_proto::crypto::random_bytes::<16>().map_err(|_| PkiError::Random)?;
    bytes[0] = 0x10 + (bytes[0] % 0x70);
    Ok((rcgen::SerialNumber::from_slice(&bytes), hex(&bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn first_run_creates_private_files_and_later_runs_load_them() {
        let dir = tempfile::tempdir().expect("temp");
        let first = load_or_create(dir.path(), None).expect("create");
        for name in [
            "ca.key",
            "ca.crt",
            "server.key",
            "server.crt",
            "provisioning.key",
        ] {
            let meta = std::fs::metadata(dir.path().join("pki").join(name)).expect(name);
            assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{name}");
        }
        let again = load_or_create(dir.path(), None).expect("load");
        assert_eq!(first.ca.pem(), again.ca.pem());
        assert_eq!(first.server.fingerprint(), again.server.fingerprint());
        assert_eq!(
            first.provisioning_key.verifying_key(),
            again.provisioning_key.verifying_key()
        );
        // A name the certificate lacks makes a new one under the same CA.
        let names = vec!["localhost".to_owned(), "station.ward.example".to_owned()];
        let renamed = load_or_create(dir.path(), Some(&names)).expect("rename");
        assert_eq!(renamed.ca.pem(), first.ca.pem());
        assert_ne!(renamed.server.fingerprint(), first.server.fingerprint());
        let kept = load_or_create(dir.path(), Some(&names[..1])).expect("subset");
        assert_eq!(kept.server.fingerprint(), renamed.server.fingerprint());
    }

    #[test]
    fn a_ca_key_that_does_not_match_its_certificate_is_refused() {
        let a = tempfile::tempdir().expect("temp");
        let b = tempfile::tempdir().expect("temp");
        load_or_create(a.path(), None).expect("a");
        load_or_create(b.path(), None).expect("b");
        std::fs::copy(b.path().join("pki/ca.key"), a.path().join("pki/ca.key")).expect("swap");
        assert!(matches!(
            load_or_create(a.path(), None),
            Err(PkiError::Corrupt(_))
        ));
    }

    #[test]
    fn serials_are_positive_and_hex_round_trips() {
        for _ in 0..32 {
            let (serial, text) = random_serial().expect("serial");
            assert_eq!(text.len(), 32);
            let bytes = unhex(&text).expect("hex");
            assert!((0x10..0x80).contains(&bytes[0]));
            assert_eq!(serial.to_bytes(), bytes);
        }
        assert_eq!(unhex("0aFf"), Some(vec![0x0a, 0xff]));
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
    }
}
