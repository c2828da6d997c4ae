//! Files that hold keys, certificates, sessions and state: written so that a
//! crash never leaves half of one, and so that no other user can read them.
//!
//! One writer for the station, the monitor and the CLI (each once had its
//! own, one of them weaker): the bytes go to a temporary file beside the
//! target, created exclusively (`O_EXCL`, so a planted file or symlink is
//! never followed), given its exact mode whatever the umask, synced, renamed
//! over the target, and the folder synced so the rename itself survives a
//! power cut.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Mode of files only their owner may read: keys, certificates, sessions.
pub const PRIVATE_FILE: u32 = 0o600;
/// Mode of the folders that hold them.
pub const PRIVATE_DIR: u32 = 0o700;

/// What could not be done to which file, and what the system said.
#[derive(Debug, thiserror::Error)]
#[error("{action} {}: {source}", path.display())]
pub struct FileError {
    /// What was being done ("cannot create", "cannot replace", …).
    pub action: &'static str,
    /// The file or folder.
    pub path: PathBuf,
    /// What the operating system said.
    pub source: std::io::Error,
}

impl FileError {
    /// `action` failed on `path` with `source`.
    pub fn new(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        Self {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Replaces `path` with `bytes`, atomically, readable only by its owner.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    write_atomic(path, bytes, PRIVATE_FILE)
}

/// Replaces `path` with `bytes` atomically; the file gets exactly `mode`.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), FileError> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let (temp, mut file) = create_temp_beside(dir, path)?;
    let written = (|| {
        // The mode given at creation is filtered by the umask; set it exactly.
        file.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(|e| FileError::new("cannot set the mode of", &temp, e))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| FileError::new("cannot write", &temp, e))?;
        fs::rename(&temp, path).map_err(|e| FileError::new("cannot replace", path, e))
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written?;
    // The rename is durable only once the folder entry itself is on disk.
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| FileError::new("cannot sync the folder", dir, e))
}

/// Numbers the temporary files of this process.
static NEXT: AtomicU64 = AtomicU64::new(0);

/// A new temporary file beside `target`, created exclusively (a name
/// already taken, even by a symlink, is skipped, never opened).
fn create_temp_beside(dir: &Path, target: &Path) -> Result<(PathBuf, File), FileError> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut attempt = 0;
    loop {
        let unique = NEXT.fetch_add(1, Ordering::Relaxed);
        let temp = dir.join(format!(".{name}.{}.{unique}.tmp", std::process::id()));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(PRIVATE_FILE)
            .open(&temp)
        {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                attempt += 1;
            }
            Err(e) => return Err(FileError::new("cannot create", &temp, e)),
        }
    }
}

/// Creates `dir` and its missing parents with mode 0700, and tightens an
/// existing one to 0700.
pub fn ensure_private_dir(dir: &Path) -> Result<(), FileError> {
    DirBuilder::new()
        .recursive(true)
        .mode(PRIVATE_DIR)
        .create(dir)
        .map_err(|e| FileError::new("cannot create the folder", dir, e))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(PRIVATE_DIR))
        .map_err(|e| FileError::new("cannot restrict the folder", dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    #[test]
    fn private_files_are_0600_replaced_whole_and_leave_nothing_behind() {
        let dir = tempfile::tempdir().expect("temp");
        let sub = dir.path().join("keys");
        ensure_private_dir(&sub).expect("dir");
        assert_eq!(mode(&sub), PRIVATE_DIR);
        let path = sub.join("key.pem");
        write_private(&path, b"first").expect("write");
        write_private(&path, b"second").expect("overwrite");
        assert_eq!(fs::read(&path).expect("read"), b"second");
        assert_eq!(mode(&path), PRIVATE_FILE);
        write_atomic(&sub.join("qr.png"), b"png", 0o644).expect("public file");
        assert_eq!(mode(&sub.join("qr.png")), 0o644);
        let entries = fs::read_dir(&sub).expect("list").count();
        assert_eq!(entries, 2, "no temporary files left behind");
    }

    #[test]
    fn a_planted_symlink_at_the_temporary_name_is_never_followed() {
        let dir = tempfile::tempdir().expect("temp");
        let victim = dir.path().join("victim");
        fs::write(&victim, b"untouched").expect("victim");
        // Plant links at the next temporary names this process will use.
        let next = NEXT.load(Ordering::Relaxed);
        let target = dir.path().join("session.json");
        for unique in next..next + 50 {
            let temp = dir
                .path()
                .join(format!(".session.json.{}.{unique}.tmp", std::process::id()));
            std::os::unix::fs::symlink(&victim, &temp).expect("plant");
        }
        write_private(&target, b"secret").expect("written past the planted links");
        assert_eq!(fs::read(&victim).expect("victim"), b"untouched");
        assert_eq!(fs::read(&target).expect("target"), b"secret");
    }
}
