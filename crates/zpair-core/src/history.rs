//! The technician's local log of what they did on this device (ARCHITECTURE.md
//! step 8): JSON lines in `history.jsonl` in the app's data folder.
//!
//! A line holds the time, the device ID, the action, the outcome and a
//! failure code — never a pairing code, token or password, because nothing
//! else is ever given to [`History::record`]. Lines are only appended, each
//! in one write under a lock, so a crash can at worst tear the last line;
//! such a line (or any unreadable one) is skipped with a warning.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{ErrorCode, UserFacing};

/// The file's name in the app's data folder.
pub const FILE_NAME: &str = "history.jsonl";

/// Why the history could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The file could not be opened, read or written.
    #[error(
        "The local history at {path} could not be {operation} ({source}). Check the disk has space, then try again."
    )]
    Io {
        /// The history file.
        path: PathBuf,
        /// `read` or `written`.
        operation: &'static str,
        /// The operating system's explanation.
        source: std::io::Error,
    },
}

impl UserFacing for HistoryError {
    fn code(&self) -> ErrorCode {
        ErrorCode::HistoryUnavailable
    }
}

/// What the technician did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum HistoryAction {
    /// Paired a monitor (typed or scanned).
    Paired,
    /// Re-provisioned a paired monitor.
    Reprovisioned,
}

/// How it went: `started` until the outcome is known (a re-provisioning
/// stays started: the monitor is paired again afterwards).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum HistoryOutcome {
    /// The monitor is paired.
    Provisioned,
    /// It failed, with the code in [`Line::failure_code`].
    Failed,
    /// Under way, or (re-provisioning) done on the station's side.
    Started,
}

/// One line of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    /// When (whole seconds; older files hold milliseconds, read alike).
    #[serde(with = "zpair_proto::timestamp")]
    pub at: OffsetDateTime,
    /// The monitor.
    pub device_id: String,
    /// What was done.
    pub action: HistoryAction,
    /// How it went.
    pub outcome: HistoryOutcome,
    /// Why it failed, if it did.
    #[serde(default)]
    pub failure_code: Option<ErrorCode>,
}

/// The history file, appended to by commands and pairing tasks at once.
#[derive(Debug)]
pub struct History {
    path: PathBuf,
    /// Serialises appends within this process, so lines never interleave.
    append_lock: Mutex<()>,
}

impl History {
    /// The history in `data_dir`; the file is created by the first record.
    pub fn new(data_dir: &Path) -> Self {
        Self {
            path: data_dir.join(FILE_NAME),
            append_lock: Mutex::new(()),
        }
    }

    /// Appends one line, now.
    pub fn record(
        &self,
        device_id: &str,
        action: HistoryAction,
        outcome: HistoryOutcome,
        failure_code: Option<ErrorCode>,
    ) -> Result<(), HistoryError> {
        let line = Line {
            at: OffsetDateTime::now_utc(),
            device_id: device_id.to_owned(),
            action,
            outcome,
            failure_code,
        };
        // A struct of strings and unit enums always serialises.
        let mut bytes = serde_json::to_vec(&line).unwrap_or_default();
        bytes.push(b'\n');
        let _guard = self.append_lock.lock().unwrap_or_else(|p| p.into_inner());
        self.append(&bytes).map_err(|source| HistoryError::Io {
            path: self.path.clone(),
            operation: "written",
            source,
        })
    }

    /// Logs a failure to record instead of failing the action it describes:
    /// the pairing or re-provisioning happened whether or not it was noted.
    pub fn record_or_warn(
        &self,
        device_id: &str,
        action: HistoryAction,
        outcome: HistoryOutcome,
        failure_code: Option<ErrorCode>,
    ) {
        if let Err(e) = self.record(device_id, action, outcome, failure_code) {
            tracing::warn!(error = %e, "history not recorded");
        }
    }

    fn append(&self, bytes: &[u8]) -> std::io::Result<()> {
        let mut file = open_for_append(&self.path)?;
        // After a torn write the file does not end in a newline: start on a
        // fresh line so this record stays readable.
        let len = file.seek(SeekFrom::End(0))?;
        let mut write = Vec::with_capacity(bytes.len() + 1);
        if len > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(len - 1))?;
            file.read_exact(&mut last)?;
            if last[0] != b'\n' {
                write.push(b'\n');
            }
        }
        write.extend_from_slice(bytes);
        // O_APPEND: the one write lands at the end whatever the offset is.
        file.write_all(&write)?;
        file.sync_data()
    }

    /// Every readable line, oldest first.
    pub fn entries(&self) -> Result<Vec<Line>, HistoryError> {
        let text = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(HistoryError::Io {
                    path: self.path.clone(),
                    operation: "read",
                    source,
                });
            }
        };
        let mut entries = Vec::new();
        for (index, raw) in text.split(|b| *b == b'\n').enumerate() {
            if raw.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Line>(raw) {
                Ok(line) => entries.push(line),
                // The line number only: the content is not ours to echo.
                Err(e) => tracing::warn!(
                    line = index + 1,
                    error = %e,
                    "unreadable history line skipped"
                ),
            }
        }
        Ok(entries)
    }
}

fn open_for_append(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_read_back_oldest_first() {
        let dir = tempfile::tempdir().expect("temp dir");
        let history = History::new(dir.path());
        assert!(history.entries().expect("empty").is_empty());
        history
            .record("ZM-1", HistoryAction::Paired, HistoryOutcome::Started, None)
            .expect("record");
        history
            .record(
                "ZM-1",
                HistoryAction::Paired,
                HistoryOutcome::Failed,
                Some(ErrorCode::CodeMismatch),
            )
            .expect("record");
        let entries = history.entries().expect("read");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].outcome, HistoryOutcome::Started);
        assert_eq!(entries[1].failure_code, Some(ErrorCode::CodeMismatch));
        assert_eq!(entries[1].device_id, "ZM-1");
        // A second handle on the same folder (the next run) sees the same.
        assert_eq!(History::new(dir.path()).entries().expect("read"), entries);
    }

    #[test]
    fn corrupt_and_torn_lines_are_skipped_and_later_records_stay_readable() {
        let dir = tempfile::tempdir().expect("temp dir");
        let history = History::new(dir.path());
        history
            .record(
                "ZM-1",
                HistoryAction::Paired,
                HistoryOutcome::Provisioned,
                None,
            )
            .expect("record");
        let path = dir.path().join(FILE_NAME);
        let mut file = OpenOptions::new().append(true).open(&path).expect("open");
        file.write_all(b"not json at all\n{\"at\":\"2024-01-01T00:00:00.000Z\",\"devi")
            .expect("corrupt");
        drop(file);
        history
            .record(
                "ZM-2",
                HistoryAction::Reprovisioned,
                HistoryOutcome::Started,
                None,
            )
            .expect("record after a torn line");
        let devices: Vec<String> = history
            .entries()
            .expect("read")
            .into_iter()
            .map(|e| e.device_id)
            .collect();
        assert_eq!(devices, ["ZM-1", "ZM-2"]);
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_private_to_its_user() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("temp dir");
        History::new(dir.path())
            .record("ZM-1", HistoryAction::Paired, HistoryOutcome::Started, None)
            .expect("record");
        let mode = std::fs::metadata(dir.path().join(FILE_NAME))
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
