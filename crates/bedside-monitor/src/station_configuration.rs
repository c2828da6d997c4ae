//! The server configuration in force, and how a new one replaces it without
//! ever leaving half of each.
//!
//! Each received configuration gets its own folder `certs/<generation>/`
//! (0700) holding its client certificate, its TLS key and the station CA
//! (0600). Writing `configuration.json`, which names the generation in force,
//! is the one atomic step that commits it; folders it does not name are
//! leftovers of failed or superseded attempts and are removed.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::paths::{DataDir, generation};
use crate::storage::{self, PRIVATE_FILE, StorageError};

/// Why the configuration store failed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigurationError {
    /// A file could not be read or written.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A generation folder lacks one of its files.
    #[error("the certificates of configuration {0} are missing")]
    Missing(String),
    /// No randomness for a generation name.
    #[error("no randomness available")]
    Random,
    /// A file names a generation folder that no generation could have: a
    /// name that is not one [`new_generation`] makes (a path, `..`).
    #[error("configuration {0:?} is not a generation name; the file naming it was altered")]
    InvalidGeneration(String),
}

/// Whether `name` is one [`new_generation`] could have made (and any
/// earlier, longer one): 1 to 64 of base64url's alphabet, so it is a single
/// folder name under `certs/` and never a path out of it.
pub fn is_generation_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The folder of generation `name`, refused unless it is a generation
/// name: the names come from files on disk, which are not trusted to stay
/// as written.
fn generation_folder(dir: &DataDir, name: &str) -> Result<std::path::PathBuf, ConfigurationError> {
    if is_generation_name(name) {
        Ok(dir.generation(name))
    } else {
        Err(ConfigurationError::InvalidGeneration(name.to_owned()))
    }
}

/// Serde: a generation name read from a file, checked as it is read.
fn checked_generation<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let name = String::deserialize(d)?;
    if is_generation_name(&name) {
        Ok(name)
    } else {
        Err(serde::de::Error::custom("not a generation name"))
    }
}

/// The committed configuration, as the monitor reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedConfiguration {
    /// Where heartbeats go.
    pub server_url: String,
    /// The client certificate's serial: lowercase hex, no leading zero bytes.
    pub certificate_serial: String,
    /// When the client certificate expires.
    #[serde(with = "zpair_proto::timestamp")]
    pub certificate_not_after: OffsetDateTime,
    /// The label the station gave the monitor.
    pub device_label: String,
    /// The bed it serves.
    pub bed_id: String,
}

/// `configuration.json`: which generation is in force, and what it says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Committed {
    /// The folder under `certs/` holding its certificates and key.
    #[serde(deserialize_with = "checked_generation")]
    pub generation: String,
    /// The configuration.
    pub configuration: AppliedConfiguration,
}

/// The PEM files of one generation.
#[derive(Clone)]
pub struct Credentials {
    /// The station CA, trusted for the server.
    pub ca_pem: String,
    /// The client certificate.
    pub certificate_pem: String,
    /// The monitor's TLS key.
    pub key_pem: Zeroizing<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").finish_non_exhaustive()
    }
}

/// `prepared.json`: a configuration whose connection test is under way or
/// passed, not yet in force. It becomes the commit only once the station
/// accepts its proof of commit; otherwise it is rolled back by `until`.
/// Kept on disk so a restart resumes the confirmation rather than guessing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Prepared {
    /// The configuration it would put in force.
    pub committed: Committed,
    /// SHA-256 of the configuration's signed bytes, for the event log.
    pub hash: String,
    /// The fail-safe deadline: without the station's confirmation by then,
    /// the monitor rolls back.
    #[serde(with = "zpair_proto::timestamp")]
    pub until: OffsetDateTime,
}

/// `renewal.json`: a renewed client certificate and its new key, staged in
/// their own generation beside the one in force. The configuration in
/// force is untouched until a heartbeat with the new certificate is
/// accepted; then [`commit`] names the new generation. A restart keeps it
/// pending (so the working generation is never lost, and the new key is
/// not either while the station may already have switched to it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingRenewal {
    /// The generation in force it replaces; a renewal of another is stale.
    #[serde(deserialize_with = "checked_generation")]
    pub renews: String,
    /// The configuration it would put in force: the new generation, and
    /// the one in force's settings with the new certificate's serial and end.
    pub committed: Committed,
}

/// Records a renewal as pending.
pub fn save_renewal(dir: &DataDir, renewal: &PendingRenewal) -> Result<(), ConfigurationError> {
    Ok(storage::write_json(&dir.renewal(), renewal, PRIVATE_FILE)?)
}

/// The pending renewal, if any.
pub fn load_renewal(dir: &DataDir) -> Result<Option<PendingRenewal>, ConfigurationError> {
    Ok(storage::read_json(&dir.renewal())?)
}

/// Forgets the pending renewal (switched to, or given up).
pub fn clear_renewal(dir: &DataDir) -> Result<(), ConfigurationError> {
    Ok(storage::remove_file(&dir.renewal())?)
}

/// Records a configuration as prepared to commit.
pub fn prepare(dir: &DataDir, prepared: &Prepared) -> Result<(), ConfigurationError> {
    Ok(storage::write_json(
        &dir.prepared(),
        prepared,
        PRIVATE_FILE,
    )?)
}

/// The configuration prepared to commit, if any.
pub fn load_prepared(dir: &DataDir) -> Result<Option<Prepared>, ConfigurationError> {
    Ok(storage::read_json(&dir.prepared())?)
}

/// Forgets the prepared configuration (after its commit or its rollback).
pub fn clear_prepared(dir: &DataDir) -> Result<(), ConfigurationError> {
    Ok(storage::remove_file(&dir.prepared())?)
}

/// A fresh name for a generation folder.
pub fn new_generation() -> Result<String, ConfigurationError> {
    let bytes = zpair_proto::crypto::random_bytes::<9>().map_err(|_| ConfigurationError::Random)?;
    Ok(zpair_proto::b64::encode(bytes))
}

/// Writes a received configuration's files into its own generation folder.
/// Nothing is in force until [`commit`].
pub fn stage(
    dir: &DataDir,
    generation_name: &str,
    credentials: &Credentials,
) -> Result<(), ConfigurationError> {
    let folder = generation_folder(dir, generation_name)?;
    storage::ensure_private_dir(&dir.certificates())?;
    storage::ensure_private_dir(&folder)?;
    let files = [
        (generation::CA_CERTIFICATE, credentials.ca_pem.as_bytes()),
        (
            generation::CLIENT_CERTIFICATE,
            credentials.certificate_pem.as_bytes(),
        ),
        (generation::CLIENT_KEY, credentials.key_pem.as_bytes()),
    ];
    for (name, bytes) in files {
        storage::write_atomic(&folder.join(name), bytes, PRIVATE_FILE)?;
    }
    Ok(())
}

/// Puts a staged generation in force: one atomic write.
pub fn commit(dir: &DataDir, committed: &Committed) -> Result<(), ConfigurationError> {
    Ok(storage::write_json(
        &dir.configuration(),
        committed,
        PRIVATE_FILE,
    )?)
}

/// The configuration in force, if any; one whose files are gone is none.
pub fn load(dir: &DataDir) -> Result<Option<Committed>, ConfigurationError> {
    let Some(committed) = storage::read_json::<Committed>(&dir.configuration())? else {
        return Ok(None);
    };
    match credentials(dir, &committed.generation) {
        Ok(_) => Ok(Some(committed)),
        Err(ConfigurationError::Missing(generation)) => {
            tracing::warn!(%generation, "the committed configuration's certificates are missing; ignoring it");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Reads one generation's files.
pub fn credentials(
    dir: &DataDir,
    generation_name: &str,
) -> Result<Credentials, ConfigurationError> {
    let folder = generation_folder(dir, generation_name)?;
    let read = |name: &str| -> Result<String, ConfigurationError> {
        storage::read_text(&folder.join(name))?
            .ok_or_else(|| ConfigurationError::Missing(generation_name.to_owned()))
    };
    Ok(Credentials {
        ca_pem: read(generation::CA_CERTIFICATE)?,
        certificate_pem: read(generation::CLIENT_CERTIFICATE)?,
        key_pem: Zeroizing::new(read(generation::CLIENT_KEY)?),
    })
}

/// Removes one generation folder (a failed or superseded attempt).
pub fn discard(dir: &DataDir, generation_name: &str) -> Result<(), ConfigurationError> {
    Ok(storage::remove_dir(&generation_folder(
        dir,
        generation_name,
    )?)?)
}

/// Removes every generation folder except those in `keep`.
pub fn discard_all_but(dir: &DataDir, keep: &[&str]) -> Result<(), ConfigurationError> {
    let root = dir.certificates();
    let entries = match std::fs::read_dir(&root) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(StorageError::Io { path: root, source }.into()),
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !keep.contains(&name.as_str()) {
            storage::remove_dir(&entry.path())?;
        }
    }
    Ok(())
}

/// Drops the configuration in force and every certificate (de-provisioning).
pub fn remove(dir: &DataDir) -> Result<(), ConfigurationError> {
    // The commit file first: without it nothing is in force, whatever remains.
    storage::remove_file(&dir.configuration())?;
    Ok(storage::remove_dir(&dir.certificates())?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn credentials_for(n: u8) -> Credentials {
        Credentials {
            ca_pem: format!("CA {n}"),
            certificate_pem: format!("CERT {n}"),
            key_pem: Zeroizing::new(format!("KEY {n}")),
        }
    }

    fn committed(generation: &str) -> Committed {
        Committed {
            generation: generation.to_owned(),
            configuration: AppliedConfiguration {
                server_url: "https://127.0.0.1:8443".into(),
                certificate_serial: "0a1b".into(),
                certificate_not_after: time::macros::datetime!(2030-01-01 0:00 UTC),
                device_label: "ICU-MON-01".into(),
                bed_id: "ICU-1".into(),
            },
        }
    }

    fn mode(path: &std::path::Path) -> u32 {
        std::fs::metadata(path).expect("meta").permissions().mode() & 0o777
    }

    #[test]
    fn staged_files_are_private_and_nothing_is_in_force_until_commit() {
        let root = tempfile::tempdir().expect("temp");
        let dir = DataDir::new(root.path());
        stage(&dir, "g1", &credentials_for(1)).expect("stage");
        assert_eq!(mode(&dir.generation("g1")), 0o700);
        for name in [
            generation::CA_CERTIFICATE,
            generation::CLIENT_CERTIFICATE,
            generation::CLIENT_KEY,
        ] {
            assert_eq!(mode(&dir.generation("g1").join(name)), 0o600, "{name}");
        }
        assert_eq!(load(&dir).expect("load"), None);
        commit(&dir, &committed("g1")).expect("commit");
        assert_eq!(mode(&dir.configuration()), 0o600);
        assert_eq!(load(&dir).expect("load"), Some(committed("g1")));
        assert_eq!(
            credentials(&dir, "g1").expect("read").key_pem.as_str(),
            "KEY 1"
        );
    }

    #[test]
    fn leftovers_are_discarded_and_the_one_in_force_kept() {
        let root = tempfile::tempdir().expect("temp");
        let dir = DataDir::new(root.path());
        stage(&dir, "old", &credentials_for(1)).expect("stage");
        stage(&dir, "half", &credentials_for(2)).expect("stage");
        commit(&dir, &committed("old")).expect("commit");
        discard_all_but(&dir, &["old"]).expect("clean");
        assert!(dir.generation("old").exists());
        assert!(!dir.generation("half").exists());
        remove(&dir).expect("remove");
        assert_eq!(load(&dir).expect("load"), None);
        assert!(!dir.certificates().exists());
    }

    #[test]
    fn a_commit_whose_files_are_gone_is_not_in_force() {
        let root = tempfile::tempdir().expect("temp");
        let dir = DataDir::new(root.path());
        commit(&dir, &committed("ghost")).expect("commit");
        assert_eq!(load(&dir).expect("load"), None);
    }

    /// A configuration or renewal file that names a path instead of a
    /// generation cannot make the monitor read, write or delete outside
    /// `certs/`: the file is refused as it is read, and the functions that
    /// take a name refuse it too.
    #[test]
    fn a_generation_name_that_is_a_path_is_refused() {
        let root = tempfile::tempdir().expect("temp");
        let outside = root.path().join("outside");
        std::fs::create_dir_all(&outside).expect("mkdir");
        std::fs::write(outside.join("keep.txt"), b"x").expect("write");
        let dir = DataDir::new(root.path().join("monitor"));
        for bad in ["../../outside", "..", "a/b", "", "g\\1"] {
            assert!(
                matches!(
                    discard(&dir, bad),
                    Err(ConfigurationError::InvalidGeneration(_))
                ),
                "{bad:?}"
            );
            assert!(matches!(
                stage(&dir, bad, &credentials_for(1)),
                Err(ConfigurationError::InvalidGeneration(_))
            ));
            assert!(matches!(
                credentials(&dir, bad),
                Err(ConfigurationError::InvalidGeneration(_))
            ));
        }
        assert!(outside.join("keep.txt").exists());

        std::fs::create_dir_all(dir.configuration().parent().expect("parent")).expect("mkdir");
        let mut tampered = serde_json::to_value(committed("g1")).expect("json");
        tampered["generation"] = "../../outside".into();
        std::fs::write(dir.configuration(), tampered.to_string()).expect("write");
        assert!(
            load(&dir).is_err(),
            "a tampered configuration.json is refused"
        );
        let renewal = serde_json::json!({ "renews": "../x", "committed": committed("g2") });
        std::fs::write(dir.renewal(), renewal.to_string()).expect("write");
        assert!(
            load_renewal(&dir).is_err(),
            "a tampered renewal.json is refused"
        );
        assert!(is_generation_name(&new_generation().expect("random")));
    }
}
