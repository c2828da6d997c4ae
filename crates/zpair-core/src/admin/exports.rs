//! The audit log, pairing reports and the certificates overview, and the
//! files exported from them: the audit CSV and the report CSV as the station
//! writes them, the report PDF laid out here ([`crate::report`]).
//!
//! An exported file is written beside its final name and renamed into place
//! when complete, so a half-written export never looks finished; in an
//! export folder an existing file is never replaced: the new one takes the
//! next free name (`zpair-audit-….csv`, `zpair-audit-…-2.csv`, …).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use time::macros::format_description;
use zpair_proto::admin::{AuditPage, AuditQuery, CertificateOverview, PairingReport, ReportQuery};
use zpair_proto::api::AuditVerification;

use super::AdminError;
use crate::client::Download;
use crate::report::{ReportHeading, shift_report_pdf};
use crate::session::TechnicianSession;

/// A file written, and how many rows it holds (the header not counted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    /// Where.
    pub path: PathBuf,
    /// Rows (pairings, for a PDF).
    pub rows: u64,
}

/// One page of the audit log.
pub async fn audit_page(
    session: &TechnicianSession,
    query: &AuditQuery,
) -> Result<AuditPage, AdminError> {
    let client = session.client();
    Ok(session
        .authorized(|token| async move { client.audit_page(&token, query).await })
        .await?)
}

/// The audit chain's verification.
pub async fn verify_audit(session: &TechnicianSession) -> Result<AuditVerification, AdminError> {
    let client = session.client();
    Ok(session
        .authorized(|token| async move { client.verify_audit(&token).await })
        .await?)
}

/// The pairing report of a period.
pub async fn pairing_report(
    session: &TechnicianSession,
    query: &ReportQuery,
) -> Result<PairingReport, AdminError> {
    let client = session.client();
    Ok(session
        .authorized(|token| async move { client.pairing_report(&token, query).await })
        .await?)
}

/// Certificates expiring, renewed and revoked.
pub async fn certificate_overview(
    session: &TechnicianSession,
) -> Result<CertificateOverview, AdminError> {
    let client = session.client();
    Ok(session
        .authorized(|token| async move { client.certificate_overview(&token).await })
        .await?)
}

/// Every audit row matching `query`, as the station's CSV, into `target`.
pub async fn export_audit_csv(
    session: &TechnicianSession,
    query: &AuditQuery,
    target: &Target,
) -> Result<Exported, AdminError> {
    let client = session.client();
    let download = session
        .authorized(|token| async move { client.export_audit(&token, query).await })
        .await?;
    save_csv(download, target).await
}

/// The pairing report of `query` as the station's CSV, into `target`.
pub async fn export_report_csv(
    session: &TechnicianSession,
    query: &ReportQuery,
    target: &Target,
) -> Result<Exported, AdminError> {
    let client = session.client();
    let download = session
        .authorized(|token| async move { client.export_pairing_report(&token, query).await })
        .await?;
    save_csv(download, target).await
}

/// The pairing report of `query` as a printable PDF, into `target`.
pub async fn export_report_pdf(
    session: &TechnicianSession,
    query: &ReportQuery,
    target: &Target,
) -> Result<Exported, AdminError> {
    let report = pairing_report(session, query).await?;
    let heading = ReportHeading {
        station: session.client().station_url().to_owned(),
        technician: query.technician.clone(),
        generated_at: OffsetDateTime::now_utc(),
    };
    let bytes = shift_report_pdf(&report, &heading);
    let mut file = PartFile::create(target)?;
    file.write(&bytes)?;
    let path = file.finish()?;
    Ok(Exported {
        path,
        rows: report.pairings.len() as u64,
    })
}

/// Every audit row matching `query`, as the station's CSV, written to
/// `out` as it arrives (a command line's standard output); the rows.
pub async fn write_audit_csv(
    session: &TechnicianSession,
    query: &AuditQuery,
    out: &mut (dyn std::io::Write + Send),
) -> Result<u64, AdminError> {
    let client = session.client();
    let mut download = session
        .authorized(|token| async move { client.export_audit(&token, query).await })
        .await?;
    let mut rows = CsvRows::default();
    while let Some(chunk) = download.chunk().await? {
        rows.feed(&chunk);
        out.write_all(&chunk)
            .map_err(|e| write_error(Path::new("standard output"), &e))?;
    }
    out.flush()
        .map_err(|e| write_error(Path::new("standard output"), &e))?;
    Ok(rows.data_rows())
}

/// A time bound as a person types it — a date (`2026-01-05`, midnight
/// UTC), a date and time in UTC (`2026-01-05 14:00`, `2026-01-05T14:00`),
/// or RFC 3339 — as the RFC 3339 UTC time the station takes.
pub fn time_bound(text: &str) -> Result<String, AdminError> {
    use time::format_description::well_known::Rfc3339;
    let text = text.trim();
    let invalid = || AdminError::InvalidTime {
        text: text.to_owned(),
    };
    let at = if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        at
    } else if let Ok(date) = time::Date::parse(text, format_description!("[year]-[month]-[day]")) {
        date.midnight().assume_utc()
    } else {
        let local = text.replacen('T', " ", 1);
        let minute = format_description!("[year]-[month]-[day] [hour]:[minute]");
        let second = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
        time::PrimitiveDateTime::parse(&local, minute)
            .or_else(|_| time::PrimitiveDateTime::parse(&local, second))
            .map_err(|_| invalid())?
            .assume_utc()
    };
    at.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .map_err(|_| invalid())
}

/// Where an export goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Exactly this file, replaced if it exists (a path the person typed).
    File(PathBuf),
    /// A new file named so in this folder; `name-2.ext`, `name-3.ext`, …
    /// when the name is taken. Nothing there is ever replaced.
    NewIn {
        /// The export folder.
        folder: PathBuf,
        /// The file name wished for.
        name: String,
    },
}

/// `zpair-audit-20260105-140312.csv` for an export made at `at` (UTC).
pub fn audit_file_name(at: OffsetDateTime) -> String {
    let stamp = at
        .to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[year][month][day]-[hour][minute][second]"
        ))
        .unwrap_or_default();
    format!("zpair-audit-{stamp}.csv")
}

/// `zpair-report-20260105-0600-20260105-1400.pdf` for the period `query`
/// names; `extension` is `csv` or `pdf`. A bound that is not an RFC 3339
/// time (the station will refuse it anyway) is kept as its safe characters.
pub fn report_file_name(query: &ReportQuery, extension: &str) -> String {
    let stamp = |text: &str| match OffsetDateTime::parse(
        text,
        &time::format_description::well_known::Rfc3339,
    ) {
        Ok(at) => at
            .to_offset(time::UtcOffset::UTC)
            .format(format_description!("[year][month][day]-[hour][minute]"))
            .unwrap_or_default(),
        Err(_) => text
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(20)
            .collect(),
    };
    format!(
        "zpair-report-{}-{}.{extension}",
        stamp(&query.from),
        stamp(&query.to)
    )
}

/// Streams a CSV download into the target, counting its rows as they pass.
async fn save_csv(mut download: Download, target: &Target) -> Result<Exported, AdminError> {
    let mut file = PartFile::create(target)?;
    let mut rows = CsvRows::default();
    while let Some(chunk) = download.chunk().await? {
        rows.feed(&chunk);
        file.write(&chunk)?;
    }
    let path = file.finish()?;
    Ok(Exported {
        path,
        rows: rows.data_rows(),
    })
}

/// Counts the records of a CSV as it streams past: a line break outside
/// double quotes ends a record (RFC 4180; `""` inside quotes toggles twice).
#[derive(Debug, Default)]
pub struct CsvRows {
    in_quotes: bool,
    records: u64,
    /// Bytes since the last record ended.
    pending: bool,
}

impl CsvRows {
    /// Takes the next bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            match b {
                b'"' => {
                    self.in_quotes = !self.in_quotes;
                    self.pending = true;
                }
                b'\n' if !self.in_quotes => {
                    if self.pending {
                        self.records += 1;
                    }
                    self.pending = false;
                }
                b'\r' if !self.in_quotes => {}
                _ => self.pending = true,
            }
        }
    }

    /// Records after the header row.
    pub fn data_rows(&self) -> u64 {
        (self.records + u64::from(self.pending)).saturating_sub(1)
    }
}

/// A file being written under a temporary name in its final folder.
struct PartFile {
    file: std::fs::File,
    part: PathBuf,
    target: Target,
}

impl PartFile {
    fn create(target: &Target) -> Result<Self, AdminError> {
        let final_path = match target {
            Target::File(path) => path.clone(),
            Target::NewIn { folder, name } => folder.join(name),
        };
        let folder = final_path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let stem = final_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (file, part) = create_new(folder, &format!(".{stem}"), ".part")
            .map_err(|e| write_error(&final_path, &e))?;
        Ok(Self {
            file,
            part,
            target: target.clone(),
        })
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), AdminError> {
        self.file
            .write_all(bytes)
            .map_err(|e| write_error(&self.part, &e))
    }

    /// Syncs and moves the file to its name; returns that name.
    fn finish(self) -> Result<PathBuf, AdminError> {
        let result = self.place();
        if result.is_err() {
            let _ = std::fs::remove_file(&self.part);
        }
        result
    }

    fn place(&self) -> Result<PathBuf, AdminError> {
        self.file
            .sync_all()
            .map_err(|e| write_error(&self.part, &e))?;
        match &self.target {
            Target::File(path) => {
                std::fs::rename(&self.part, path).map_err(|e| write_error(path, &e))?;
                Ok(path.clone())
            }
            Target::NewIn { folder, name } => {
                let (stem, extension) = match name.rsplit_once('.') {
                    Some((stem, ext)) => (stem.to_owned(), format!(".{ext}")),
                    None => (name.clone(), String::new()),
                };
                // The name is reserved by creating it (which fails when it
                // is taken), then the finished file is renamed over the
                // empty one: a file that appeared meanwhile is never replaced.
                for n in 1..10_000u32 {
                    let candidate = if n == 1 {
                        folder.join(name)
                    } else {
                        folder.join(format!("{stem}-{n}{extension}"))
                    };
                    match std::fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .open(&candidate)
                    {
                        Ok(_) => {
                            std::fs::rename(&self.part, &candidate).map_err(|e| {
                                let _ = std::fs::remove_file(&candidate);
                                write_error(&candidate, &e)
                            })?;
                            return Ok(candidate);
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                        Err(e) => return Err(write_error(&candidate, &e)),
                    }
                }
                Err(write_error(
                    &folder.join(name),
                    &std::io::Error::other("every numbered name is taken"),
                ))
            }
        }
    }
}

impl Drop for PartFile {
    fn drop(&mut self) {
        // Gone already once placed; removed here if the export stopped half-way.
        let _ = std::fs::remove_file(&self.part);
    }
}

/// A new file `{prefix}{n}{suffix}` in `folder`, for the first free `n`.
fn create_new(
    folder: &Path,
    prefix: &str,
    suffix: &str,
) -> std::io::Result<(std::fs::File, PathBuf)> {
    for n in 0..10_000u32 {
        let path = folder.join(format!("{prefix}.{n}{suffix}"));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(file) => return Ok((file, path)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("no free temporary name"))
}

fn write_error(path: &Path, e: &std::io::Error) -> AdminError {
    AdminError::Write {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn exported_files_are_named_by_time_and_period() {
        assert_eq!(
            audit_file_name(datetime!(2026-01-05 15:03:12 +01:00)),
            "zpair-audit-20260105-140312.csv"
        );
        let query = ReportQuery {
            from: "2026-01-05T06:00:00Z".into(),
            to: "2026-01-05T16:00:00+02:00".into(),
            technician: None,
        };
        assert_eq!(
            report_file_name(&query, "pdf"),
            "zpair-report-20260105-0600-20260105-1400.pdf"
        );
        let odd = ReportQuery {
            from: "../../etc".into(),
            to: "x".into(),
            technician: None,
        };
        assert_eq!(report_file_name(&odd, "csv"), "zpair-report-etc-x.csv");
    }

    #[test]
    fn time_bounds_are_read_as_people_type_them() {
        for (typed, wire) in [
            ("2026-01-05", "2026-01-05T00:00:00Z"),
            ("2026-01-05 14:00", "2026-01-05T14:00:00Z"),
            ("2026-01-05T14:00:30", "2026-01-05T14:00:30Z"),
            (" 2026-01-05T14:00:00+01:00 ", "2026-01-05T13:00:00Z"),
        ] {
            assert_eq!(time_bound(typed).expect(typed), wire);
        }
        for bad in ["yesterday", "2026-13-01", "", "05/01/2026"] {
            let error = time_bound(bad).expect_err(bad);
            assert_eq!(
                crate::error::UserFacing::code(&error),
                crate::error::ErrorCode::InvalidInput
            );
        }
    }

    #[test]
    fn rows_are_counted_across_chunks_and_quoted_line_breaks() {
        let csv = "id,message\r\n1,\"two\r\nlines, and \"\"quotes\"\"\"\r\n2,plain\r\n3,last";
        for split in 0..csv.len() {
            let mut rows = CsvRows::default();
            rows.feed(&csv.as_bytes()[..split]);
            rows.feed(&csv.as_bytes()[split..]);
            assert_eq!(rows.data_rows(), 3, "split at {split}");
        }
        let mut header_only = CsvRows::default();
        header_only.feed(b"id,message\n");
        assert_eq!(header_only.data_rows(), 0);
        assert_eq!(CsvRows::default().data_rows(), 0);
    }

    #[test]
    fn an_export_folder_never_loses_a_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = Target::NewIn {
            folder: dir.path().to_owned(),
            name: "zpair-audit-1.csv".into(),
        };
        let mut paths = Vec::new();
        for content in ["first", "second", "third"] {
            let mut file = PartFile::create(&target).expect("create");
            file.write(content.as_bytes()).expect("write");
            paths.push(file.finish().expect("finish"));
        }
        let names: Vec<String> = paths
            .iter()
            .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "zpair-audit-1.csv",
                "zpair-audit-1-2.csv",
                "zpair-audit-1-3.csv"
            ]
        );
        assert_eq!(std::fs::read_to_string(&paths[0]).expect("read"), "first");
        assert_eq!(std::fs::read_to_string(&paths[2]).expect("read"), "third");
        assert_eq!(
            std::fs::read_dir(dir.path()).expect("list").count(),
            3,
            "no temporary file is left"
        );

        // A file abandoned half-way leaves nothing behind.
        let file = PartFile::create(&target).expect("create");
        drop(file);
        assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 3);

        // A named file is replaced, as a path typed on a command line is.
        let exact = Target::File(paths[0].clone());
        let mut file = PartFile::create(&exact).expect("create");
        file.write(b"replaced").expect("write");
        file.finish().expect("finish");
        assert_eq!(
            std::fs::read_to_string(&paths[0]).expect("read"),
            "replaced"
        );

        let missing = Target::File(dir.path().join("no/such/folder/x.csv"));
        let error = PartFile::create(&missing).err().expect("no folder");
        assert_eq!(
            crate::error::UserFacing::code(&error),
            crate::error::ErrorCode::ExportFailed
        );
    }
}
