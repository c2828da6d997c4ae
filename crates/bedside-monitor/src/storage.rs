//! Files on the monitor's disk: every write is atomic (temporary file, fsync,
//! rename, fsync of the folder), so a crash or power cut leaves either the old
//! content or the new one, never half of each. Secrets get mode 0600 and
//! their folders 0700.

use std::fs::{self, DirBuilder};
use std::os::unix::fs::DirBuilderExt as _;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Modes of files only the monitor itself may read (keys, certificates,
/// codes) and of the folders that hold them.
pub use zpair_files::{PRIVATE_DIR, PRIVATE_FILE};

/// A file or folder that could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The operating system refused or failed.
    #[error("cannot access {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The file exists but is not what the monitor wrote.
    #[error("{path} is damaged: {source}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Why it did not parse.
        source: serde_json::Error,
    },
}

impl From<zpair_files::FileError> for StorageError {
    fn from(e: zpair_files::FileError) -> Self {
        StorageError::Io {
            path: e.path,
            source: e.source,
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StorageError + '_ {
    move |source| StorageError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Creates `dir` and its missing parents with mode 0700, and tightens an
/// existing one to 0700.
pub fn ensure_private_dir(dir: &Path) -> Result<(), StorageError> {
    zpair_files::ensure_private_dir(dir).map_err(StorageError::from)
}

/// Creates a data directory (and missing parents) with mode 0700; one that
/// exists is left as it is, since it may be a folder the user chose to share.
pub fn ensure_data_dir(dir: &Path) -> Result<(), StorageError> {
    DirBuilder::new()
        .recursive(true)
        .mode(PRIVATE_DIR)
        .create(dir)
        .map_err(io(dir))
}

/// Replaces `path` with `bytes` atomically; the file gets `mode` (see
/// `zpair-files`).
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), StorageError> {
    zpair_files::write_atomic(path, bytes, mode).map_err(StorageError::from)
}

/// Writes `value` as pretty JSON, atomically, with `mode`.
pub fn write_json<T: Serialize>(path: &Path, value: &T, mode: u32) -> Result<(), StorageError> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|source| StorageError::Corrupt {
        path: path.to_path_buf(),
        source,
    })?;
    write_atomic(path, &bytes, mode)
}

/// Reads JSON written by [`write_json`]; `None` when the file does not exist.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, StorageError> {
    match fs::read(path) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|source| StorageError::Corrupt {
                    path: path.to_path_buf(),
                    source,
                })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StorageError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Reads a text file; `None` when it does not exist.
pub fn read_text(path: &Path) -> Result<Option<String>, StorageError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StorageError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Removes a file; a missing one is already removed.
pub fn remove_file(path: &Path) -> Result<(), StorageError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StorageError::Io {
            path: path.to_path_buf(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// Removes a folder and everything in it; a missing one is already removed.
pub fn remove_dir(path: &Path) -> Result<(), StorageError> {
    match fs::remove_dir_all(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StorageError::Io {
            path: path.to_path_buf(),
            source: e,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    #[test]
    fn private_files_and_folders_get_0600_and_0700() {
        let root = tempfile::tempdir().expect("temp");
        let dir = root.path().join("a").join("b");
        ensure_private_dir(&dir).expect("dir");
        assert_eq!(mode(&dir), 0o700);
        let file = dir.join("key.pem");
        write_atomic(&file, b"secret", PRIVATE_FILE).expect("write");
        assert_eq!(mode(&file), 0o600);
        assert_eq!(fs::read(&file).expect("read"), b"secret");
    }

    #[test]
    fn an_existing_folder_is_tightened_to_0700() {
        let root = tempfile::tempdir().expect("temp");
        let dir = root.path().join("open");
        fs::create_dir(&dir).expect("mkdir");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).expect("chmod");
        ensure_private_dir(&dir).expect("tighten");
        assert_eq!(mode(&dir), 0o700);
    }

    #[test]
    fn a_new_data_directory_is_0700_and_an_existing_one_is_left_alone() {
        let root = tempfile::tempdir().expect("temp");
        let fresh = root.path().join("fresh").join("monitor");
        ensure_data_dir(&fresh).expect("create");
        assert_eq!(mode(&fresh), 0o700);
        let shared = root.path().join("shared");
        fs::create_dir(&shared).expect("mkdir");
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o755)).expect("chmod");
        ensure_data_dir(&shared).expect("exists");
        assert_eq!(mode(&shared), 0o755);
    }

    #[test]
    fn an_atomic_write_replaces_the_whole_file_and_leaves_no_temporary() {
        let root = tempfile::tempdir().expect("temp");
        let file = root.path().join("state.json");
        write_atomic(&file, b"old old old old", 0o644).expect("first");
        write_atomic(&file, b"new", 0o644).expect("second");
        assert_eq!(fs::read(&file).expect("read"), b"new");
        let names: Vec<_> = fs::read_dir(root.path())
            .expect("list")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("state.json")]);
    }

    #[test]
    fn a_failed_write_leaves_the_target_and_no_temporary_behind() {
        let root = tempfile::tempdir().expect("temp");
        // A non-empty folder where the file should go: the rename must fail.
        let target = root.path().join("state.json");
        fs::create_dir(&target).expect("mkdir");
        fs::write(target.join("inside"), b"kept").expect("inside");
        assert!(write_atomic(&target, b"next", 0o644).is_err());
        assert_eq!(fs::read(target.join("inside")).expect("read"), b"kept");
        let names: Vec<_> = fs::read_dir(root.path())
            .expect("list")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("state.json")]);
    }

    #[test]
    fn json_round_trips_and_a_missing_file_is_none() {
        let root = tempfile::tempdir().expect("temp");
        let file = root.path().join("x.json");
        assert_eq!(read_json::<Vec<u32>>(&file).expect("missing"), None);
        write_json(&file, &vec![1u32, 2], PRIVATE_FILE).expect("write");
        assert_eq!(
            read_json::<Vec<u32>>(&file).expect("read"),
            Some(vec![1, 2])
        );
        fs::write(&file, b"{not json").expect("damage");
        assert!(matches!(
            read_json::<Vec<u32>>(&file),
            Err(StorageError::Corrupt { .. })
        ));
    }
}
