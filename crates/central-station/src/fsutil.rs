//! Files that hold keys and certificates: private directories (0700) and
//! atomic writes (temp file, fsync, rename) with mode 0600, so a crash never
//! leaves a half-written key and no other user can read one.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

/// Why a file could not be prepared.
#[derive(Debug, thiserror::Error)]
#[error("{action} {path}: {source}")]
pub struct FsError {
    action: &'static str,
    path: PathBuf,
    source: std::io::Error,
}

impl FsError {
    pub(crate) fn new(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        Self {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Creates `dir` (and its parents) if missing; a directory this function
/// creates is made private (0700). An existing one keeps its mode, since it
/// may be shared (a temp dir, a home).
pub(crate) fn ensure_dir(dir: &Path) -> Result<(), FsError> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir).map_err(|e| FsError::new("cannot create directory", dir, e))?;
    make_private_dir(dir)
}

/// Sets a directory we own to 0700.
pub(crate) fn make_private_dir(dir: &Path) -> Result<(), FsError> {
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .map_err(|e| FsError::new("cannot restrict directory", dir, e))
}

/// Writes `bytes` to `path` with mode 0600, atomically.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), FsError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let suffix = zpair_proto::crypto::random_bytes::<6>()
        .map(zpair_proto::b64::encode)
        .unwrap_or_else(|_| std::process::id().to_string());
    let temp = dir.join(format!(".{name}.{suffix}.tmp"));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)
            .map_err(|e| FsError::new("cannot create", &temp, e))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| FsError::new("cannot write", &temp, e))?;
        fs::rename(&temp, path).map_err(|e| FsError::new("cannot replace", path, e))?;
        // The rename is durable only once the directory entry is.
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| FsError::new("cannot sync directory", dir, e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Reads a file that may not exist yet.
pub(crate) fn read_optional(path: &Path) -> Result<Option<String>, FsError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(FsError::new("cannot read", path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_files_are_0600_and_replaced_whole() {
        let dir = tempfile::tempdir().expect("temp");
        let sub = dir.path().join("keys");
        ensure_dir(&sub).expect("dir");
        let mode = fs::metadata(&sub).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        let path = sub.join("key.pem");
        write_private(&path, b"first").expect("write");
        write_private(&path, b"second").expect("overwrite");
        assert_eq!(fs::read(&path).expect("read"), b"second");
        let mode = fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let leftovers: Vec<_> = fs::read_dir(&sub).expect("list").flatten().collect();
        assert_eq!(leftovers.len(), 1, "no temp files left behind");
        assert_eq!(read_optional(&sub.join("missing")).expect("read"), None);
    }
}
