//! The device registry: the monitors this station may pair, filled from the
//! registration records the monitors export (their ID, serial and Ed25519
//! identity key). A monitor not in it cannot be paired, and the identity key
//! here is what the monitor must prove it holds.

pub(crate) mod handlers;
mod search;
pub(crate) mod store;
mod validate;

pub(crate) use handlers::{get, import_many, import_one, import_preview, list};
pub(crate) use store::DeviceRow;

use std::collections::HashSet;

use crate::db::{Connection, Transaction};
use time::OffsetDateTime;
use zpair_proto::ErrorCode;
use zpair_proto::admin::{ImportOutcome, ImportPreview, ImportPreviewRow};
use zpair_proto::api::{ApiError, DeviceImport, DeviceState, ImportRejection, ImportReport};

use crate::audit::{self, EventType};
use crate::clock;
use crate::db::DbError;
use store::Registration;

/// Whether an import added a device, updated one, or found it as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Imported {
    Created,
    Updated,
    Unchanged,
}

/// What importing one record does: the one decision both the import and
/// its dry run ([`preview`]) take, by the same rules.
#[derive(Debug, Clone)]
enum Decision {
    /// Not registered: add it.
    New(Registration),
    /// Registered exactly so: nothing to write.
    Unchanged,
    /// Registered: these fields change.
    Updated(Registration, Vec<&'static str>),
    /// Refused, and why.
    Refused(ApiError),
}

/// The device IDs an import has seen so far: one record per monitor.
type Seen = HashSet<String>;

/// Decides what importing `record` does, given the registry as `conn` has
/// it (with the import's earlier records applied) and the device IDs
/// `seen` before it.
fn decide(conn: &Connection, record: &DeviceImport, seen: &mut Seen) -> Result<Decision, DbError> {
    let device = match validate::device(record) {
        Ok(device) => device,
        Err(error) => return Ok(Decision::Refused(error)),
    };
    if !seen.insert(device.device_id.clone()) {
        return Ok(Decision::Refused(ApiError::from_code(
            ErrorCode::DuplicateInImport,
        )));
    }
    let existing = store::get(conn, &device.device_id)?;
    if let Some(existing) = &existing {
        // The registry's identity key is what pairing trusts the monitor
        // by, so an import never re-keys a monitor: a replacement takes
        // the place of a de-provisioned entry only.
        if existing.state != DeviceState::Deprovisioned
            && existing.identity_public_key != device.identity_public_key
        {
            let paired = matches!(
                existing.state,
                DeviceState::Provisioned | DeviceState::Pairing | DeviceState::AwaitingReprovision
            );
            return Ok(Decision::Refused(if paired {
                ApiError::from_code(ErrorCode::IdentityConflict)
            } else {
                ApiError {
                    code: ErrorCode::IdentityConflict,
                    message: format!(
                        "Monitor {} is registered with a different identity key. Check the \
                         record; if the monitor was replaced, de-provision {} first.",
                        device.device_id, device.device_id
                    ),
                }
            }));
        }
    }
    // One key proves one monitor: two entries sharing it could each be
    // claimed by the one device that holds it.
    if let Some(holder) = store::holder(
        conn,
        store::Unique::IdentityKey,
        &device.identity_public_key,
        &device.device_id,
    )? {
        return Ok(Decision::Refused(ApiError {
            code: ErrorCode::IdentityConflict,
            message: format!(
                "Monitor {holder} in the registry has this identity key. Check the record; if \
                 the monitor was renamed, de-provision {holder} first."
            ),
        }));
    }
    if let Some(holder) = store::holder(
        conn,
        store::Unique::Serial,
        &device.device_serial,
        &device.device_id,
    )? {
        return Ok(Decision::Refused(ApiError {
            code: ErrorCode::SerialConflict,
            message: format!(
                "Monitor {holder} in the registry has this serial. Check the record; if the \
                 monitor was replaced or renamed, de-provision {holder} first."
            ),
        }));
    }
    let registration = Registration {
        ip_address: device
            .ip_address
            .map(|a| a.to_string())
            .or_else(|| existing.as_ref().and_then(|e| e.ip_address.clone())),
        device_label: device
            .device_label
            .or_else(|| existing.as_ref().map(|e| e.device_label.clone()))
            .unwrap_or_else(|| device.device_id.clone()),
        bed_id: device
            .bed_id
            .or_else(|| existing.as_ref().map(|e| e.bed_id.clone()))
            .unwrap_or_default(),
        device_id: device.device_id,
        device_serial: device.device_serial,
        identity_public_key: device.identity_public_key,
        firmware_version: device.firmware_version,
    };
    Ok(match existing {
        None => Decision::New(registration),
        Some(existing) => {
            let changes = registration.changes_from(&existing);
            if changes.is_empty() {
                Decision::Unchanged
            } else {
                Decision::Updated(registration, changes)
            }
        }
    })
}

/// Writes what `decision` says, with its audit row.
fn apply(
    tx: &Transaction<'_>,
    decision: &Decision,
    now: OffsetDateTime,
    actor: &str,
    source: &audit::Source,
) -> Result<(), DbError> {
    let registration = match decision {
        Decision::New(registration) => {
            store::insert(tx, registration, now)?;
            registration
        }
        Decision::Updated(registration, _) => {
            store::update(tx, registration, now)?;
            registration
        }
        Decision::Unchanged | Decision::Refused(_) => return Ok(()),
    };
    audit::record(
        tx,
        now,
        &[
            audit::Entry::ok(EventType::DeviceRegistered, &registration.device_id)
                .by(actor)
                .from(source),
        ],
    )
}

/// Decides and applies every record in one transaction, in order (a record
/// sees the ones before it); commits when `commit`, else rolls it all back.
fn run(
    conn: &mut Connection,
    records: &[DeviceImport],
    actor: &str,
    source: &audit::Source,
    commit: bool,
) -> Result<Vec<Decision>, DbError> {
    let now = clock::now();
    let tx = conn.transaction()?;
    let mut seen = Seen::new();
    let mut decisions = Vec::with_capacity(records.len());
    for record in records {
        let decision = decide(&tx, record, &mut seen)?;
        apply(&tx, &decision, now, actor, source)?;
        decisions.push(decision);
    }
    if commit {
        tx.commit()?;
    }
    Ok(decisions)
}

/// The device ID a record names, when it names one.
fn named(record: &DeviceImport) -> Option<String> {
    Some(record.record.device_id.clone()).filter(|id| !id.is_empty())
}

/// Validates and stores records in one transaction; refused records are
/// reported with their reason and do not stop the others.
pub(crate) fn import(
    conn: &mut Connection,
    records: &[DeviceImport],
    actor: &str,
    source: &audit::Source,
) -> Result<(ImportReport, Vec<Imported>), DbError> {
    let decisions = run(conn, records, actor, source, true)?;
    let mut report = ImportReport {
        imported: Vec::new(),
        rejected: Vec::new(),
    };
    let mut outcomes = Vec::new();
    for (index, (record, decision)) in records.iter().zip(decisions).enumerate() {
        let outcome = match decision {
            Decision::Refused(error) => {
                report.rejected.push(ImportRejection {
                    index,
                    device_id: named(record),
                    error,
                });
                continue;
            }
            Decision::New(_) => Imported::Created,
            Decision::Updated(..) => Imported::Updated,
            Decision::Unchanged => Imported::Unchanged,
        };
        report.imported.push(record.record.device_id.clone());
        outcomes.push(outcome);
    }
    Ok((report, outcomes))
}

/// What [`import`] would do with `records`, record by record, with nothing
/// written: the same decisions, applied in a transaction that is rolled back.
pub(crate) fn preview(
    conn: &mut Connection,
    records: &[DeviceImport],
    actor: &str,
) -> Result<ImportPreview, DbError> {
    let decisions = run(conn, records, actor, &audit::Source::default(), false)?;
    let mut preview = ImportPreview {
        rows: Vec::with_capacity(records.len()),
        new: 0,
        unchanged: 0,
        updated: 0,
        conflicting: 0,
    };
    for (index, (record, decision)) in records.iter().zip(decisions).enumerate() {
        let (outcome, changes, problem) = match decision {
            Decision::New(_) => (ImportOutcome::New, Vec::new(), None),
            Decision::Unchanged => (ImportOutcome::Unchanged, Vec::new(), None),
            Decision::Updated(_, changes) => (
                ImportOutcome::Updated,
                changes.into_iter().map(str::to_owned).collect(),
                None,
            ),
            Decision::Refused(error) => (ImportOutcome::Conflicting, Vec::new(), Some(error)),
        };
        *match outcome {
            ImportOutcome::New => &mut preview.new,
            ImportOutcome::Unchanged => &mut preview.unchanged,
            ImportOutcome::Updated => &mut preview.updated,
            ImportOutcome::Conflicting => &mut preview.conflicting,
        } += 1;
        preview.rows.push(ImportPreviewRow {
            index,
            device_id: named(record),
            outcome,
            changes,
            problem,
        });
    }
    Ok(preview)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zpair_proto::device::RegistrationRecord;

    fn record(id: &str, key: &str) -> DeviceImport {
        DeviceImport {
            record: RegistrationRecord {
                device_id: id.into(),
                device_serial: format!("SN-{id}"),
                identity_public_key: key.into(),
                firmware_version: "1.2.3".into(),
                ip_address: Some("127.0.0.2".into()),
            },
            device_label: None,
            bed_id: Some("ICU-1".into()),
        }
    }

    fn key(seed: u8) -> String {
        let k = zpair_proto::crypto::SigningKey::from_bytes(&[seed; 32]);
        zpair_proto::crypto::public_key_text(&k.verifying_key())
    }

    #[test]
    fn bulk_import_reports_each_refusal_and_keeps_the_rest() {
        let dir = tempfile::tempdir().expect("temp");
        let mut conn = crate::db::testing::open(dir.path()).expect("db");
        let records = vec![
            record("ZM-1", &key(1)),
            record("ZM-2", "not-a-key"),
            record("ZM-1", &key(1)),
            record("", &key(3)),
            record("ZM-3", &key(3)),
        ];
        let (report, _) =
            import(&mut conn, &records, "admin", &audit::Source::default()).expect("import");
        assert_eq!(report.imported, ["ZM-1", "ZM-3"]);
        let refused: Vec<_> = report
            .rejected
            .iter()
            .map(|r| (r.index, r.error.code.as_str()))
            .collect();
        assert_eq!(
            refused,
            [
                (1, "invalid_record"),
                (2, "duplicate_in_import"),
                (3, "invalid_record")
            ]
        );
        let device = store::get(&conn, "ZM-1").expect("get").expect("present");
        assert_eq!(
            device.summary().device_label,
            "ZM-1",
            "label defaults to the ID"
        );
        assert_eq!(device.summary().bed_id, "ICU-1");
    }

    #[test]
    fn a_paired_devices_identity_key_cannot_be_swapped_by_import() {
        let dir = tempfile::tempdir().expect("temp");
        let mut conn = crate::db::testing::open(dir.path()).expect("db");
        import(
            &mut conn,
            &[record("ZM-1", &key(1))],
            "admin",
            &audit::Source::default(),
        )
        .expect("first");
        conn.execute(
            "UPDATE devices SET state = 'PROVISIONED' WHERE device_id = 'ZM-1'",
            [],
        )
        .expect("pair");
        let (report, _) = import(
            &mut conn,
            &[record("ZM-1", &key(2))],
            "admin",
            &audit::Source::default(),
        )
        .expect("second");
        assert_eq!(report.rejected[0].error.code, ErrorCode::IdentityConflict);
        // Same key: an update of label and address is fine.
        let (report, outcomes) = import(
            &mut conn,
            &[record("ZM-1", &key(1))],
            "admin",
            &audit::Source::default(),
        )
        .expect("third");
        assert!(report.rejected.is_empty());
        assert_eq!(outcomes, [Imported::Unchanged]);
    }

    #[test]
    fn an_import_never_re_keys_a_monitor_or_gives_two_monitors_one_key() {
        let dir = tempfile::tempdir().expect("temp");
        let mut conn = crate::db::testing::open(dir.path()).expect("db");
        let source = audit::Source::default();
        import(&mut conn, &[record("ZM-1", &key(1))], "admin", &source).expect("first");
        let records = [
            // Registered, never paired, listed with another key.
            record("ZM-1", &key(9)),
            // A new monitor with ZM-1's key.
            record("ZM-2", &key(1)),
            // Two new monitors sharing a key: the first is taken.
            record("ZM-3", &key(3)),
            record("ZM-4", &key(3)),
        ];
        let (report, _) = import(&mut conn, &records, "admin", &source).expect("second");
        assert_eq!(report.imported, ["ZM-3"]);
        let refused: Vec<_> = report
            .rejected
            .iter()
            .map(|r| (r.index, r.error.code))
            .collect();
        assert_eq!(
            refused,
            [
                (0, ErrorCode::IdentityConflict),
                (1, ErrorCode::IdentityConflict),
                (3, ErrorCode::IdentityConflict)
            ]
        );
        // Once ZM-1 is de-provisioned, a replacement takes its place with
        // its own key, and the old key is free again.
        conn.execute(
            "UPDATE devices SET state = 'DEPROVISIONED' WHERE device_id = 'ZM-1'",
            [],
        )
        .expect("de-provision");
        let (report, _) = import(&mut conn, &records[..2], "admin", &source).expect("third");
        assert_eq!(report.imported, ["ZM-1", "ZM-2"]);
        assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    }

    #[test]
    fn the_dry_run_decides_as_the_import_does_and_writes_nothing() {
        let dir = tempfile::tempdir().expect("temp");
        let mut conn = crate::db::testing::open(dir.path()).expect("db");
        let source = audit::Source::default();
        import(
            &mut conn,
            &[record("ZM-1", &key(1)), record("ZM-2", &key(2))],
            "admin",
            &source,
        )
        .expect("first");
        let mut relabelled = record("ZM-2", &key(2));
        relabelled.device_label = Some("ICU-2".into());
        let mut taken_serial = record("ZM-4", &key(4));
        taken_serial.record.device_serial = "SN-ZM-1".into();
        // ZM-1 moves to a new serial, so a later record may take its old one.
        let mut moved = record("ZM-1", &key(1));
        moved.record.device_serial = "SN-NEW".into();
        let mut takes_freed = record("ZM-5", &key(5));
        takes_freed.record.device_serial = "SN-ZM-1".into();
        let records = vec![
            record("ZM-3", &key(3)),
            relabelled,
            taken_serial,
            moved,
            takes_freed,
            record("ZM-3", &key(3)),
            record("ZM-6", "nope"),
        ];
        let count = |c: &Connection| -> (i64, i64) {
            let devices = c.query_row("SELECT COUNT(*) FROM devices", [], |r| r.get(0));
            let audit = c.query_row("SELECT COUNT(*) FROM provisioning_events", [], |r| r.get(0));
            (devices.expect("devices"), audit.expect("audit"))
        };
        let before = count(&conn);
        let preview = preview(&mut conn, &records, "admin").expect("preview");
        assert_eq!(count(&conn), before, "the dry run wrote nothing");
        let outcomes: Vec<_> = preview
            .rows
            .iter()
            .map(|r| {
                (
                    r.outcome,
                    r.changes.clone(),
                    r.problem.as_ref().map(|p| p.code),
                )
            })
            .collect();
        assert_eq!(
            outcomes,
            [
                (ImportOutcome::New, vec![], None),
                (ImportOutcome::Updated, vec!["deviceLabel".to_owned()], None),
                (
                    ImportOutcome::Conflicting,
                    vec![],
                    Some(ErrorCode::SerialConflict)
                ),
                (
                    ImportOutcome::Updated,
                    vec!["deviceSerial".to_owned()],
                    None
                ),
                (ImportOutcome::New, vec![], None),
                (
                    ImportOutcome::Conflicting,
                    vec![],
                    Some(ErrorCode::DuplicateInImport)
                ),
                (
                    ImportOutcome::Conflicting,
                    vec![],
                    Some(ErrorCode::InvalidRecord)
                ),
            ]
        );
        assert_eq!(
            (
                preview.new,
                preview.unchanged,
                preview.updated,
                preview.conflicting
            ),
            (2, 0, 2, 3)
        );
        let (report, _) = import(&mut conn, &records, "admin", &source).expect("commit");
        let refused: Vec<usize> = report.rejected.iter().map(|r| r.index).collect();
        let conflicting: Vec<usize> = preview
            .rows
            .iter()
            .filter(|r| r.outcome == ImportOutcome::Conflicting)
            .map(|r| r.index)
            .collect();
        assert_eq!(refused, conflicting);
        // Absent label and bed keep the registry's; the re-run changes nothing.
        let again = self::preview(&mut conn, &records[..2], "admin").expect("again");
        assert_eq!(again.unchanged, 2, "{again:?}");
    }
}
