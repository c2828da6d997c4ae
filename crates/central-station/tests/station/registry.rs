//! Registering monitors, one or many.

use reqwest::StatusCode;
use zpair_proto::ErrorCode;
use zpair_proto::api::{DeviceImport, DeviceState, DeviceSummary, ImportReport};

use crate::support::{ADMIN, TECH, TestStation, record};

fn key() -> zpair_proto::crypto::SigningKey {
    zpair_proto::crypto::generate_signing_key().expect("key")
}

#[tokio::test]
async fn a_single_record_is_registered_then_updated() {
    let station = TestStation::start().await;
    let admin = station.token(ADMIN).await;
    let identity = key();
    let mut import = DeviceImport {
        record: record("ZM-REG-1", &identity, "127.0.0.2"),
        device_label: Some("ICU-MON-01".into()),
        bed_id: Some("ICU-1".into()),
    };
    let created = station.post("/api/devices", Some(&admin), &import).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let summary: DeviceSummary = created.json();
    assert_eq!(summary.state, DeviceState::Unprovisioned);
    assert_eq!(summary.device_label, "ICU-MON-01");

    import.bed_id = Some("ICU-2".into());
    let updated = station.post("/api/devices", Some(&admin), &import).await;
    assert_eq!(updated.status, StatusCode::OK);

    let tech = station.token(TECH).await;
    let fetched: DeviceSummary = station.get("/api/devices/ZM-REG-1", &tech).await.json();
    assert_eq!(
        (fetched.bed_id.as_str(), fetched.ip_address.as_deref()),
        ("ICU-2", Some("127.0.0.2"))
    );
    let missing = station.get("/api/devices/ZM-NOPE", &tech).await;
    assert_eq!(
        (missing.status, missing.code()),
        (StatusCode::NOT_FOUND, ErrorCode::UnknownDevice)
    );

    let invalid = station
        .post(
            "/api/devices",
            Some(&admin),
            &record("ZM-REG-2", &identity, "not an ip"),
        )
        .await;
    assert_eq!(
        (invalid.status, invalid.code()),
        (StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest)
    );
    let audit = station.audit("ZM-REG-1");
    assert!(
        audit
            .iter()
            .all(|(e, ok, _, actor)| e == "device_registered"
                && *ok
                && actor.as_deref() == Some("admin"))
    );
}

#[tokio::test]
async fn bulk_import_reports_each_rejected_record() {
    let station = TestStation::start().await;
    let admin = station.token(ADMIN).await;
    let mut bad_key = record("ZM-BULK-2", &key(), "127.0.0.3");
    bad_key.identity_public_key = "AAAA".into();
    let records = vec![
        record("ZM-BULK-1", &key(), "127.0.0.2"),
        bad_key,
        record("ZM-BULK-1", &key(), "127.0.0.2"),
        record("bad/id", &key(), "127.0.0.4"),
        record("ZM-BULK-3", &key(), "127.0.0.5"),
    ];
    let answer = station
        .post("/api/devices/import", Some(&admin), &records)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let report: ImportReport = answer.json();
    assert_eq!(report.imported, ["ZM-BULK-1", "ZM-BULK-3"]);
    let rejected: Vec<(usize, &str)> = report
        .rejected
        .iter()
        .map(|r| (r.index, r.error.code.as_str()))
        .collect();
    assert_eq!(
        rejected,
        [
            (1, "invalid_record"),
            (2, "duplicate_in_import"),
            (3, "invalid_record")
        ]
    );
    let listed: Vec<DeviceSummary> = station.get("/api/devices", &admin).await.json();
    let ids: Vec<_> = listed.iter().map(|d| d.device_id.as_str()).collect();
    assert_eq!(ids, ["ZM-BULK-1", "ZM-BULK-3"]);
}

#[tokio::test]
async fn the_offline_import_writes_the_same_registry() {
    let station = TestStation::start().await;
    let report = central_station::admin::import_devices(
        &station.config.data_dir,
        &[DeviceImport {
            record: record("ZM-OFFLINE-1", &key(), "127.0.0.2"),
            device_label: None,
            bed_id: None,
        }],
    )
    .expect("import while the station runs");
    assert_eq!(report.imported, ["ZM-OFFLINE-1"]);
    let tech = station.token(TECH).await;
    let fetched: DeviceSummary = station.get("/api/devices/ZM-OFFLINE-1", &tech).await.json();
    assert_eq!(fetched.device_label, "ZM-OFFLINE-1");
}
