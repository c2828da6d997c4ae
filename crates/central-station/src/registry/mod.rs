//! The device registry: the monitors this station may pair, filled from the
//! registration records the monitors export (their ID, serial and Ed25519
//! identity key). A monitor not in it cannot be paired, and the identity key
//! here is what the monitor must prove it holds.

pub(crate) mod handlers;
pub(crate) mod store;
mod validate;

pub(crate) use handlers::{get, import_many, import_one, list};
pub(crate) use store::DeviceRow;

use rusqlite::Connection;
use zpair_proto::ErrorCode;
use zpair_proto::api::{ApiError, DeviceImport, ImportRejection, ImportReport};

use crate::audit::{self, EventType};
use crate::clock;
use crate::db::DbError;

/// Whether an import added a device or updated one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Imported {
    Created,
    Updated,
}

/// Validates and stores records in one transaction; refused records are
/// reported with their reason and do not stop the others.
pub(crate) fn import(
    conn: &mut Connection,
    records: &[DeviceImport],
    actor: &str,
    source: &audit::Source,
) -> Result<(ImportReport, Vec<Imported>), DbError> {
    let now = clock::now();
    let tx = conn.transaction()?;
    let mut report = ImportReport {
        imported: Vec::new(),
        rejected: Vec::new(),
    };
    let mut outcomes = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (index, record) in records.iter().enumerate() {
        let refuse = |error: ApiError| ImportRejection {
            index,
            device_id: Some(record.record.device_id.clone()).filter(|id| !id.is_empty()),
            error,
        };
        let device = match validate::device(record) {
            Ok(device) => device,
            Err(error) => {
                report.rejected.push(refuse(error));
                continue;
            }
        };
        if !seen.insert(device.device_id.clone()) {
            report
                .rejected
                .push(refuse(ApiError::from_code(ErrorCode::DuplicateInImport)));
            continue;
        }
        match store::upsert(&tx, &device, now)? {
            Ok(outcome) => {
                audit::record(
                    &tx,
                    now,
                    &[
                        audit::Entry::ok(EventType::DeviceRegistered, &device.device_id)
                            .by(actor)
                            .from(source),
                    ],
                )?;
                report.imported.push(device.device_id.clone());
                outcomes.push(outcome);
            }
            Err(error) => report.rejected.push(refuse(error)),
        }
    }
    tx.commit()?;
    Ok((report, outcomes))
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
        let mut conn = crate::db::open(dir.path()).expect("db");
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
        let mut conn = crate::db::open(dir.path()).expect("db");
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
        assert_eq!(outcomes, [Imported::Updated]);
    }
}
