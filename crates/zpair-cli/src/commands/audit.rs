//! `zpair audit`, `zpair report`, `zpair certificates` (administrators).

use zpair_core::admin::exports::{self, Target};
use zpair_core::report;
use zpair_proto::admin::{AuditQuery, CertificateEntry, ReportQuery};

use super::signed_in;
use crate::failure::Failure;
use crate::output::{Output, say, timestamp};

/// One page of the audit log as a table, or every matching row as CSV.
pub async fn audit(out: &Output, args: crate::AuditArgs) -> Result<(), Failure> {
    let bound = |t: Option<String>| t.as_deref().map(exports::time_bound).transpose();
    let query = AuditQuery {
        device_id: args.device,
        actor: args.actor,
        event_type: args.event_type,
        since: bound(args.since)?,
        until: bound(args.until)?,
        before: args.before,
        limit: args.limit,
    };
    let session = signed_in().await?;
    match args.csv {
        Some(Some(path)) => {
            let done = exports::export_audit_csv(&session, &query, &Target::File(path)).await?;
            out.result(
                &serde_json::json!({"path": done.path, "rows": done.rows}),
                || {
                    format!(
                        "{} audit rows written to {}.",
                        done.rows,
                        done.path.display()
                    )
                },
            );
        }
        Some(None) => {
            let rows = exports::write_audit_csv(&session, &query, &mut std::io::stdout()).await?;
            out.note(&format!("{rows} audit rows."));
        }
        None => {
            let page = exports::audit_page(&session, &query).await?;
            if out.is_json() {
                out.result(&page, String::new);
                return Ok(());
            }
            let rows: Vec<Vec<String>> = page
                .events
                .iter()
                .map(|e| {
                    vec![
                        e.id.to_string(),
                        timestamp(e.timestamp),
                        e.event_type.clone(),
                        if e.device_id.is_empty() {
                            e.subject.clone().unwrap_or_default()
                        } else {
                            e.device_id.clone()
                        },
                        e.actor.clone().unwrap_or_default(),
                        if e.success {
                            "ok".into()
                        } else {
                            e.error_message.clone().unwrap_or_else(|| "failed".into())
                        },
                    ]
                })
                .collect();
            out.table(
                &["ID", "TIME", "EVENT", "DEVICE/ACCOUNT", "ACTOR", "OUTCOME"],
                &rows,
            );
            if let Some(before) = page.next_before {
                out.note(&format!(
                    "Older rows: the same command with --before {before}."
                ));
            }
        }
    }
    Ok(())
}

/// The pairing report of a period: a table, or a CSV or PDF file.
pub async fn report(out: &Output, args: crate::ReportArgs) -> Result<(), Failure> {
    let query = ReportQuery {
        from: exports::time_bound(&args.from)?,
        to: exports::time_bound(&args.to)?,
        technician: args.technician,
    };
    let session = signed_in().await?;
    let done = match (args.csv, args.pdf) {
        (Some(path), _) => {
            exports::export_report_csv(&session, &query, &Target::File(path)).await?
        }
        (_, Some(path)) => {
            exports::export_report_pdf(&session, &query, &Target::File(path)).await?
        }
        (None, None) => {
            let report = exports::pairing_report(&session, &query).await?;
            if out.is_json() {
                out.result(&report, String::new);
                return Ok(());
            }
            say(&format!(
                "Pairings from {} to {} UTC",
                report::minute(report.from),
                report::minute(report.to)
            ));
            let rows: Vec<Vec<String>> = report
                .pairings
                .iter()
                .map(|p| {
                    vec![
                        report::second(p.started_at),
                        p.device_id.clone(),
                        p.bed_id.clone(),
                        p.technician.clone(),
                        report::outcome(p.outcome).to_owned(),
                        p.duration_ms.map_or_else(|| "-".into(), report::duration),
                        p.failure.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            out.table(
                &[
                    "STARTED (UTC)",
                    "DEVICE",
                    "BED",
                    "TECHNICIAN",
                    "OUTCOME",
                    "TIME",
                    "FAILURE",
                ],
                &rows,
            );
            say(&report::totals(&report));
            return Ok(());
        }
    };
    out.result(
        &serde_json::json!({"path": done.path, "rows": done.rows}),
        || format!("{} pairings written to {}.", done.rows, done.path.display()),
    );
    Ok(())
}

/// Certificates expiring within 30 days, renewed and revoked in the last 30.
pub async fn certificates(out: &Output) -> Result<(), Failure> {
    let session = signed_in().await?;
    let overview = exports::certificate_overview(&session).await?;
    if out.is_json() {
        out.result(&overview, String::new);
        return Ok(());
    }
    for (title, entries) in [
        ("Expiring within 30 days", &overview.expiring),
        ("Renewed in the last 30 days", &overview.renewed),
        ("Revoked in the last 30 days", &overview.revoked),
    ] {
        say(&format!("{title}: {}", entries.len()));
        if !entries.is_empty() {
            out.table(
                &["DEVICE", "LABEL", "SERIAL", "ENDS", "REVOKED"],
                &certificate_rows(entries),
            );
        }
    }
    Ok(())
}

fn certificate_rows(entries: &[CertificateEntry]) -> Vec<Vec<String>> {
    entries
        .iter()
        .map(|c| {
            vec![
                c.device_id.clone(),
                c.device_label.clone(),
                c.serial.clone(),
                timestamp(c.not_after),
                match (c.revoked_at, &c.revocation_reason) {
                    (Some(at), Some(why)) => format!("{} ({why})", timestamp(at)),
                    (Some(at), None) => timestamp(at),
                    _ => "-".into(),
                },
            ]
        })
        .collect()
}
