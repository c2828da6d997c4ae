//! The simulator's stand-in for patient data: a file made on first run that
//! re-provisioning must leave untouched (the seeds' "Preserve Data: patient
//! data and settings preserved").

use serde::Serialize;

use crate::paths::DataDir;
use crate::storage::{self, PRIVATE_FILE, StorageError};

/// A few simulated vital-sign readings.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PatientData<'a> {
    device_id: &'a str,
    #[serde(with = "zpair_proto::timestamp")]
    recorded_since: time::OffsetDateTime,
    vitals: [Vital; 3],
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Vital {
    name: &'static str,
    value: u32,
    unit: &'static str,
}

/// Creates `patient-data.json` when it does not exist yet; never rewrites it.
pub fn ensure(dir: &DataDir, device_id: &str) -> Result<(), StorageError> {
    let path = dir.patient_data();
    if path.exists() {
        return Ok(());
    }
    let data = PatientData {
        device_id,
        recorded_since: time::OffsetDateTime::now_utc(),
        vitals: [
            Vital {
                name: "heartRate",
                value: 72,
                unit: "bpm",
            },
            Vital {
                name: "spo2",
                value: 98,
                unit: "%",
            },
            Vital {
                name: "respiratoryRate",
                value: 16,
                unit: "/min",
            },
        ],
    };
    // Patient data is health information: owner-only, like the keys.
    storage::write_json(&path, &data, PRIVATE_FILE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_and_never_rewritten() {
        let root = tempfile::tempdir().expect("temp");
        let dir = DataDir::new(root.path());
        ensure(&dir, "ZM-1").expect("create");
        let first = std::fs::read(dir.patient_data()).expect("read");
        assert!(String::from_utf8_lossy(&first).contains("heartRate"));
        std::fs::write(dir.patient_data(), b"edited by the ward").expect("edit");
        ensure(&dir, "ZM-1").expect("again");
        assert_eq!(
            std::fs::read(dir.patient_data()).expect("read"),
            b"edited by the ward"
        );
    }
}
