//! `zpair pair`: one monitor or a batch, each step printed as it happens.

use serde_json::json;
use time::OffsetDateTime;
use zpair_core::PairingCode;
use zpair_core::error::ErrorCode;
use zpair_core::pairing::{self, Entry, NextAction, PairTarget, PairingOutcome, PairingProgress};
use zpair_core::session::TechnicianSession;

use super::pair_inputs::{self, Item};
use super::signed_in;
use crate::failure::{Exit, Failure};
use crate::output::{Output, clock, say, timestamp};

/// How one attempt ended.
enum Attempt {
    Provisioned { job_id: String },
    Failed { job_id: String, failure: Failure },
    Refused(Failure),
}

/// Reads the inputs, then pairs each monitor in turn.
pub async fn run(out: &Output, args: crate::PairArgs) -> Result<(), Failure> {
    let items = if let Some(path) = &args.qr_image {
        pair_inputs::qr_image(path)?
    } else if let Some(path) = &args.qr_json {
        pair_inputs::qr_json_file(path)?
    } else if let Some(path) = &args.batch {
        pair_inputs::csv_file(path)?
    } else if let (Some(device_id), Some(code)) = (args.device, args.code) {
        vec![Item::Typed { device_id, code }]
    } else {
        return Err(Failure::input(
            "Give --qr-image, --qr-json, --batch, or --device with --code.",
        ));
    };
    let session = signed_in().await?;
    match items.as_slice() {
        [item] => match attempt(out, &session, item).await {
            Attempt::Provisioned { job_id } => {
                report(out, item, "provisioned", Some(&job_id), None);
                Ok(())
            }
            Attempt::Failed { failure, .. } | Attempt::Refused(failure) => Err(failure),
        },
        items => batch(out, &session, items).await,
    }
}

async fn batch(out: &Output, session: &TechnicianSession, items: &[Item]) -> Result<(), Failure> {
    let mut rows = Vec::new();
    let mut not_paired = 0usize;
    let mut aborted: Option<Failure> = None;
    for (index, item) in items.iter().enumerate() {
        if let Some(why) = &aborted {
            not_paired += 1;
            rows.push(vec![
                item.label(),
                "SKIPPED".into(),
                why.error.code.to_string(),
            ]);
            continue;
        }
        out.text(&format!("[{}/{}] {}", index + 1, items.len(), item.label()));
        let (result, detail) = match attempt(out, session, item).await {
            Attempt::Provisioned { job_id } => {
                report(out, item, "provisioned", Some(&job_id), None);
                ("PROVISIONED", format!("job {job_id}"))
            }
            Attempt::Failed { job_id, failure } => {
                report(out, item, "failed", Some(&job_id), Some(&failure));
                not_paired += 1;
                ("FAILED", failure.error.code.to_string())
            }
            Attempt::Refused(failure) => {
                report(out, item, "refused", None, Some(&failure));
                not_paired += 1;
                let code = failure.error.code.to_string();
                // The next monitors would be refused the same way.
                if failure.exit() == Exit::TrustOrSession {
                    aborted = Some(failure);
                }
                ("REFUSED", code)
            }
        };
        rows.push(vec![item.label(), result.to_owned(), detail]);
    }
    if out.is_json() {
        out.json_line(&json!({
            "type": "summary",
            "total": items.len(),
            "provisioned": items.len() - not_paired,
            "notPaired": not_paired,
        }));
    } else {
        say("");
        out.table(&["DEVICE", "RESULT", "DETAIL"], &rows);
    }
    if let Some(failure) = aborted {
        return Err(failure);
    }
    if not_paired > 0 {
        return Err(Failure::new(
            ErrorCode::BatchIncomplete,
            format!(
                "{not_paired} of {} monitors were not paired; see each one's reason above.",
                items.len()
            ),
            Exit::Failed,
        ));
    }
    Ok(())
}

/// Checks one item, pairs it, prints its steps.
async fn attempt(out: &Output, session: &TechnicianSession, item: &Item) -> Attempt {
    let (target, entry) = match item {
        Item::Qr { text, .. } => match zpair_core::qr::validate(text, OffsetDateTime::now_utc()) {
            Ok(scanned) => (PairTarget::Scanned(scanned), Entry::Scanned),
            Err(e) => {
                return Attempt::Refused(
                    Failure::from(e).with_next_action(Some(NextAction::Rescan)),
                );
            }
        },
        Item::Typed { device_id, code } => match PairingCode::parse(code) {
            Ok(code) => (
                PairTarget::Typed {
                    device_id: device_id.clone(),
                    code,
                },
                Entry::Typed,
            ),
            Err(e) => {
                return Attempt::Refused(
                    Failure::from(e).with_next_action(Some(NextAction::ReenterCode)),
                );
            }
        },
    };
    let device_id = target.device_id().to_owned();
    match pairing::pair(session, target, |progress| step(out, &device_id, progress)).await {
        Ok(PairingOutcome::Provisioned { job_id, .. }) => Attempt::Provisioned { job_id },
        Ok(PairingOutcome::Failed {
            job_id,
            reason,
            message,
            next_action,
        }) => Attempt::Failed {
            job_id,
            failure: Failure::new(reason.code(), message, Exit::Failed)
                .with_next_action(Some(next_action)),
        },
        Err(e) => {
            let next = e.next_action(entry);
            Attempt::Refused(Failure::from(e).with_next_action(next))
        }
    }
}

fn step(out: &Output, device_id: &str, progress: &PairingProgress) {
    if out.is_json() {
        out.json_line(&json!({
            "type": "step",
            "deviceId": device_id,
            "phase": progress.phase.label(),
            "message": progress.message,
            "at": timestamp(progress.at),
            "jobId": progress.job_id,
        }));
    } else {
        // The local clock when the step arrived: station times are whole seconds.
        say(&format!(
            "{}  {:<12}  {}",
            clock(OffsetDateTime::now_utc()),
            progress.phase.label(),
            progress.message
        ));
    }
}

fn report(
    out: &Output,
    item: &Item,
    outcome: &str,
    job_id: Option<&str>,
    failure: Option<&Failure>,
) {
    if out.is_json() {
        out.json_line(&json!({
            "type": "result",
            "deviceId": item.label(),
            "outcome": outcome,
            "jobId": job_id,
            "code": failure.map(|f| f.error.code),
            "message": failure.map(|f| f.error.message.clone()),
            "nextAction": failure.and_then(|f| f.next_action).map(NextAction::as_str),
        }));
        return;
    }
    match failure {
        None => say(&format!(
            "{}: PROVISIONED (job {})",
            item.label(),
            job_id.unwrap_or_default()
        )),
        Some(f) => say(&format!(
            "{}: {} [{}] {}",
            item.label(),
            outcome.to_ascii_uppercase(),
            f.error.code,
            f.error.message
        )),
    }
}
