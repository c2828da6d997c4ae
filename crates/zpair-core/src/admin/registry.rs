//! The registry: search it, read an import file and ask the station for its
//! dry run, commit it, de-provision a monitor after a typed confirmation,
//! re-admit one.

use zpair_proto::admin::{DevicePage, DeviceQuery, ImportDryRun, RegistryEntry};
use zpair_proto::api::{DeviceImport, DeviceSummary, ImportReport, check_reason};

use super::AdminError;
use crate::import_file::ImportFile;
use crate::qr::check_device_id;
use crate::session::TechnicianSession;

/// One page of the registry.
pub async fn search(
    session: &TechnicianSession,
    query: &DeviceQuery,
) -> Result<DevicePage, AdminError> {
    let client = session.client();
    Ok(session
        .authorized(|token| async move { client.search_devices(&token, query).await })
        .await?)
}

/// Every monitor matching `query`'s search and filter, page after page.
pub async fn search_all(
    session: &TechnicianSession,
    query: &DeviceQuery,
) -> Result<Vec<RegistryEntry>, AdminError> {
    let mut query = DeviceQuery {
        after: None,
        limit: Some(zpair_proto::admin::MAX_PAGE),
        ..query.clone()
    };
    let mut devices = Vec::new();
    loop {
        let page = search(session, &query).await?;
        devices.extend(page.devices);
        match page.next_after {
            Some(after) if query.after.as_ref() != Some(&after) => query.after = Some(after),
            _ => return Ok(devices),
        }
    }
}

/// Registers one monitor.
pub async fn register(
    session: &TechnicianSession,
    record: &DeviceImport,
) -> Result<DeviceSummary, AdminError> {
    let client = session.client();
    Ok(session
        .authorized(|token| async move { client.register_device(&token, record).await })
        .await?)
}

/// The dry run of an import file: the station's verdict on every record
/// that could be read, beside the lines that could not. Nothing is written.
pub async fn dry_run(
    session: &TechnicianSession,
    file: &ImportFile,
) -> Result<ImportDryRun, AdminError> {
    let devices = file.devices();
    let preview = if devices.is_empty() {
        // Nothing to ask about: the unreadable lines are the whole answer.
        zpair_proto::admin::ImportPreview {
            rows: Vec::new(),
            new: 0,
            unchanged: 0,
            updated: 0,
            conflicting: 0,
        }
    } else {
        let client = session.client();
        let devices = devices.as_slice();
        session
            .authorized(|token| async move { client.preview_import(&token, devices).await })
            .await?
    };
    Ok(ImportDryRun {
        format: file.format.as_str().to_owned(),
        lines: file.lines(),
        preview,
        unreadable: file.unreadable.clone(),
    })
}

/// Imports the records of the file that could be read; the station refuses
/// the conflicting ones (listed in the report by their position among the
/// records, as [`ImportFile::lines`] maps back to the file).
pub async fn commit(
    session: &TechnicianSession,
    file: &ImportFile,
) -> Result<ImportReport, AdminError> {
    let devices = file.devices();
    if devices.is_empty() {
        return Err(AdminError::NothingToImport);
    }
    let client = session.client();
    let devices = devices.as_slice();
    Ok(session
        .authorized(|token| async move { client.import_devices(&token, devices).await })
        .await?)
}

/// One line of an import as a person reads it: the file's line, the
/// device, what happens (or happened) to it and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportLine {
    /// The line in the file (for JSON, the record's position).
    pub line: usize,
    /// The device ID, when the line had one.
    pub device_id: Option<String>,
    /// `new`, `unchanged`, `updated`, `conflicting`, `unreadable`;
    /// after a commit `imported` or `refused`.
    pub outcome: &'static str,
    /// The fields that change, or the reason.
    pub detail: String,
}

/// The dry run line by line, in file order, unreadable lines included.
pub fn dry_run_lines(dry_run: &ImportDryRun) -> Vec<ImportLine> {
    use zpair_proto::admin::ImportOutcome;
    let mut lines: Vec<ImportLine> = dry_run
        .preview
        .rows
        .iter()
        .map(|row| ImportLine {
            line: dry_run.lines.get(row.index).copied().unwrap_or_default(),
            device_id: row.device_id.clone(),
            outcome: match row.outcome {
                ImportOutcome::New => "new",
                ImportOutcome::Unchanged => "unchanged",
                ImportOutcome::Updated => "updated",
                ImportOutcome::Conflicting => "conflicting",
            },
            detail: match &row.problem {
                Some(problem) => format!("{}: {}", problem.code, problem.message),
                None => row.changes.join(", "),
            },
        })
        .chain(unreadable_lines(&dry_run.unreadable))
        .collect();
    lines.sort_by_key(|l| l.line);
    lines
}

/// What a commit did, line by line in file order: each record imported or
/// refused (with why), and the lines that were never sent.
pub fn committed_lines(file: &ImportFile, report: &ImportReport) -> Vec<ImportLine> {
    let refused: std::collections::HashMap<usize, &zpair_proto::api::ImportRejection> =
        report.rejected.iter().map(|r| (r.index, r)).collect();
    let mut lines: Vec<ImportLine> = file
        .records
        .iter()
        .enumerate()
        .map(|(index, record)| {
            let device_id = Some(record.device.record.device_id.clone());
            match refused.get(&index) {
                Some(rejection) => ImportLine {
                    line: record.line,
                    device_id,
                    outcome: "refused",
                    detail: format!("{}: {}", rejection.error.code, rejection.error.message),
                },
                None => ImportLine {
                    line: record.line,
                    device_id,
                    outcome: "imported",
                    detail: String::new(),
                },
            }
        })
        .chain(unreadable_lines(&file.unreadable))
        .collect();
    lines.sort_by_key(|l| l.line);
    lines
}

fn unreadable_lines(
    rows: &[zpair_proto::admin::UnreadableRow],
) -> impl Iterator<Item = ImportLine> + '_ {
    rows.iter().map(|row| ImportLine {
        line: row.line,
        device_id: None,
        outcome: "unreadable",
        detail: row.message.clone(),
    })
}

/// A de-provisioning or re-admission whose device ID and reason passed
/// the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceDecision {
    device_id: String,
    reason: String,
}

impl DeviceDecision {
    /// Checks what the administrator gave, trimmed.
    pub fn new(device_id: &str, reason: &str) -> Result<Self, AdminError> {
        let device_id = device_id.trim();
        check_device_id(device_id).map_err(AdminError::DeviceId)?;
        let reason = check_reason(reason).map_err(AdminError::Reason)?;
        Ok(Self {
            device_id: device_id.to_owned(),
            reason: reason.to_owned(),
        })
    }

    /// The monitor concerned.
    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    /// The administrator typed the device ID again: it must be this one.
    pub fn confirm(&self, typed: &str) -> Result<(), AdminError> {
        if typed.trim() == self.device_id {
            Ok(())
        } else {
            Err(AdminError::ConfirmationMismatch {
                device_id: self.device_id.clone(),
            })
        }
    }

    /// De-provisions the monitor: its certificate is revoked and it can be
    /// paired again only once re-admitted. Call [`Self::confirm`] first.
    pub async fn deprovision(
        &self,
        session: &TechnicianSession,
    ) -> Result<DeviceSummary, AdminError> {
        let client = session.client();
        let (device_id, reason) = (self.device_id.as_str(), self.reason.as_str());
        let device = session
            .authorized(|token| async move { client.deprovision(&token, device_id, reason).await })
            .await?;
        tracing::info!(device_id, "de-provisioned");
        Ok(device)
    }

    /// Re-admits a de-provisioned monitor: it may be paired again.
    pub async fn readmit(&self, session: &TechnicianSession) -> Result<DeviceSummary, AdminError> {
        let client = session.client();
        let (device_id, reason) = (self.device_id.as_str(), self.reason.as_str());
        let device = session
            .authorized(|token| async move { client.readmit(&token, device_id, reason).await })
            .await?;
        tracing::info!(device_id, "re-admitted");
        Ok(device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ErrorCode, UserFacing};
    use zpair_proto::admin::{ImportOutcome, ImportPreview, ImportPreviewRow};
    use zpair_proto::api::{ApiError, ImportRejection};

    const KEY: &str = "SFEogfOB6hLXnrHv3JPVo13JQOfBkH-VtjJvr_qAHkE";

    fn file() -> ImportFile {
        crate::import_file::read_csv(&format!(
            "deviceId,deviceSerial,identityPublicKey,bedId\n\
             ZM-1,SN-1,{KEY},B1\n\
             ZM-2\n\
             ZM-3,SN-3,{KEY},B3\n"
        ))
        .expect("file")
    }

    fn row(index: usize, id: &str, outcome: ImportOutcome) -> ImportPreviewRow {
        ImportPreviewRow {
            index,
            device_id: Some(id.into()),
            outcome,
            changes: Vec::new(),
            problem: None,
        }
    }

    #[test]
    fn a_dry_run_reads_line_by_line_in_file_order() {
        let file = file();
        let mut conflicting = row(1, "ZM-3", ImportOutcome::Conflicting);
        conflicting.problem = Some(ApiError::from_code(ErrorCode::IdentityConflict));
        let dry_run = ImportDryRun {
            format: "csv".into(),
            lines: file.lines(),
            preview: ImportPreview {
                rows: vec![row(0, "ZM-1", ImportOutcome::New), conflicting],
                new: 1,
                unchanged: 0,
                updated: 0,
                conflicting: 1,
            },
            unreadable: file.unreadable.clone(),
        };
        let lines = dry_run_lines(&dry_run);
        let summary: Vec<(usize, &str)> = lines.iter().map(|l| (l.line, l.outcome)).collect();
        assert_eq!(summary, [(2, "new"), (3, "unreadable"), (4, "conflicting")]);
        assert!(
            lines[2].detail.starts_with("identity_conflict: "),
            "{:?}",
            lines[2]
        );
        assert!(lines[1].detail.starts_with("Line 3:"), "{:?}", lines[1]);
    }

    #[test]
    fn a_commit_says_which_lines_went_in_and_why_the_others_did_not() {
        let file = file();
        let report = ImportReport {
            imported: vec!["ZM-1".into()],
            rejected: vec![ImportRejection {
                index: 1,
                device_id: Some("ZM-3".into()),
                error: ApiError::from_code(ErrorCode::InvalidRecord),
            }],
        };
        let lines = committed_lines(&file, &report);
        let summary: Vec<(usize, Option<&str>, &str)> = lines
            .iter()
            .map(|l| (l.line, l.device_id.as_deref(), l.outcome))
            .collect();
        assert_eq!(
            summary,
            [
                (2, Some("ZM-1"), "imported"),
                (3, None, "unreadable"),
                (4, Some("ZM-3"), "refused")
            ]
        );
        assert!(lines[2].detail.starts_with("invalid_record: "));
    }

    #[test]
    fn the_device_id_reason_and_typed_confirmation_are_checked_before_sending() {
        let decision = DeviceDecision::new(" ZM-ICU-04 ", " stolen ").expect("valid");
        assert_eq!(decision.device_id(), "ZM-ICU-04");
        assert_eq!(decision.reason, "stolen");
        assert!(decision.confirm("ZM-ICU-04 ").is_ok());
        let wrong = decision.confirm("ZM-ICU-4").expect_err("another monitor");
        assert_eq!(wrong.code(), ErrorCode::ConfirmationMismatch);
        assert!(wrong.message().contains("ZM-ICU-04"));
        assert_eq!(
            DeviceDecision::new("ZM-1", "")
                .expect_err("no reason")
                .code(),
            ErrorCode::InvalidReason
        );
        assert_eq!(
            DeviceDecision::new("", "why")
                .expect_err("no device")
                .code(),
            ErrorCode::InvalidDeviceId
        );
    }
}
