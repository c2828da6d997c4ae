//! Files that hold keys and certificates: private directories (0700) and
//! atomic writes with mode 0600 (`zpair-files`), so a crash never leaves a
//! half-written key and no other user can read one.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

/// Why a file could not be prepared: what, which file, what the system said.
pub use zpair_files::FileError as FsError;

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

/// Writes `bytes` to `path` with mode 0600, atomically (see `zpair-files`).
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), FsError> {
    zpair_files::write_private(path, bytes)
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
