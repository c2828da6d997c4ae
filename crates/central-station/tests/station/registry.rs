//! Registering monitors, one or many.

use reqwest::StatusCode;
use zpair_proto::ErrorCode;
use zpair_proto::admin::{DevicePage, ImportOutcome, ImportPreview};
use zpair_proto::api::{DeviceImport, DeviceState, DeviceSummary, ImportReport};

use crate::support::{ADMIN, TECH, TestStation, off_runtime, record};

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
    let listed: DevicePage = station.get("/api/devices", &admin).await.json();
    let ids: Vec<_> = listed
        .devices
        .iter()
        .map(|d| d.device_id.as_str())
        .collect();
    assert_eq!(ids, ["ZM-BULK-1", "ZM-BULK-3"]);
}

#[tokio::test]
async fn the_offline_import_writes_the_same_registry() {
    let station = TestStation::start().await;
    let records = [DeviceImport {
        record: record("ZM-OFFLINE-1", &key(), "127.0.0.2"),
        device_label: None,
        bed_id: None,
    }];
    let report = off_runtime(|| {
        central_station::admin::import_devices(
            &station.config.data_dir,
            &station.config.database,
            &records,
        )
    })
    .expect("import while the station runs");
    assert_eq!(report.imported, ["ZM-OFFLINE-1"]);
    let tech = station.token(TECH).await;
    let fetched: DeviceSummary = station.get("/api/devices/ZM-OFFLINE-1", &tech).await.json();
    assert_eq!(fetched.device_label, "ZM-OFFLINE-1");
}

/// What the registry's groups hold in [`a_few_hundred_monitors`]: by the
/// monitor's number, (state, latest job, an earlier job, certificate days left).
fn shape(
    i: usize,
) -> (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<i64>,
) {
    match i % 10 {
        1 if i % 20 == 1 => ("PROVISIONED", Some("PROVISIONED"), None, Some(10)),
        1 => ("PROVISIONED", Some("PROVISIONED"), None, Some(200)),
        2 => ("UNPROVISIONED", Some("FAILED"), None, None),
        3 => ("DEPROVISIONED", Some("PROVISIONED"), None, Some(-5)),
        4 => ("UNPROVISIONED", Some("FAILED"), Some("PROVISIONED"), None),
        5 => ("PROVISIONED", Some("PROVISIONED"), Some("FAILED"), Some(-1)),
        _ => ("UNPROVISIONED", None, None, None),
    }
}

fn label(i: usize) -> String {
    if i.is_multiple_of(7) {
        format!("Säule Ü-{i}")
    } else {
        format!("Ward {} monitor {i}", i % 5)
    }
}

/// 300 monitors registered through the API, then given states, jobs and
/// certificates straight in the database (as pairings would leave them).
async fn a_few_hundred_monitors(station: &TestStation, admin: &str) -> Vec<String> {
    let records: Vec<DeviceImport> = (0..300)
        .map(|i| DeviceImport {
            record: record(
                &format!("ZM-S-{i:03}"),
                &key(),
                &format!("127.0.{}.{}", i / 250, i % 250 + 1),
            ),
            device_label: Some(label(i)),
            bed_id: Some(format!("BED-{i}")),
        })
        .collect();
    let report: ImportReport = station
        .post("/api/devices/import", Some(admin), &records)
        .await
        .json();
    assert_eq!(report.imported.len(), 300, "{:?}", report.rejected);
    let db = station.sql();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for i in 0..300 {
        let id = format!("ZM-S-{i:03}");
        let (state, latest, earlier, days) = shape(i);
        let serial = days.map(|_| format!("c0ffee{i:03}"));
        db.execute(
            "UPDATE devices SET state = ?2, certificate_serial = ?3 WHERE device_id = ?1",
            central_station::params![id, state, serial],
        )
        .expect("state");
        for (n, job) in [(0, earlier), (1, latest)] {
            if let Some(job) = job {
                db.execute(
                    "INSERT INTO jobs (id, device_id, technician, state, created_at, updated_at)
                     VALUES (?1, ?2, 'tech', ?3, ?4, ?4)",
                    central_station::params![format!("job-{i}-{n}"), id, job, now - 100 + n],
                )
                .expect("job");
            }
        }
        if let (Some(serial), Some(days)) = (serial, days) {
            db.execute(
                "INSERT INTO certificates (serial, device_id, not_before, not_after, issued_at, pem)
                 VALUES (?1, ?2, ?3, ?4, ?3, 'pem')",
                central_station::params![serial, id, now - 1000, now + days * 86_400],
            )
            .expect("certificate");
        }
    }
    (0..300).map(|i| format!("ZM-S-{i:03}")).collect()
}

/// Every page of `query` (without `after`), `limit` at a time: the device
/// IDs in order, checking each page's total and link.
async fn every_page(station: &TestStation, bearer: &str, query: &str, limit: u32) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after: Option<String> = None;
    let mut total = None;
    loop {
        let mut url = format!("/api/devices?limit={limit}&{query}");
        if let Some(after) = &after {
            url.push_str(&format!("&after={after}"));
        }
        let answer = station.get(&url, bearer).await;
        assert_eq!(answer.status, StatusCode::OK, "{url}: {}", answer.body);
        let page: DevicePage = answer.json();
        assert!(page.devices.len() <= limit as usize);
        assert_eq!(*total.get_or_insert(page.total), page.total, "{url}");
        ids.extend(page.devices.iter().map(|d| d.device_id.clone()));
        match page.next_after {
            Some(next) => {
                assert_eq!(Some(&next), ids.last(), "{url}");
                after = Some(next);
            }
            None => break,
        }
    }
    assert_eq!(total, Some(ids.len() as u64), "{query}");
    ids
}

#[tokio::test]
async fn the_registry_is_searched_filtered_and_paged() {
    let station = TestStation::start().await;
    let admin = station.token(ADMIN).await;
    let all = a_few_hundred_monitors(&station, &admin).await;
    let tech = station.token(TECH).await;
    let expect = |keep: &dyn Fn(usize) -> bool| -> Vec<String> {
        (0..300)
            .filter(|i| keep(*i))
            .map(|i| all[i].clone())
            .collect()
    };
    let days_left = |i| shape(i).3;
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("", all.clone()),
        (
            "filter=never_paired",
            expect(&|i| shape(i).1 != Some("PROVISIONED") && shape(i).2 != Some("PROVISIONED")),
        ),
        (
            "filter=provisioned",
            expect(&|i| shape(i).0 == "PROVISIONED"),
        ),
        ("filter=failed", expect(&|i| shape(i).1 == Some("FAILED"))),
        (
            "filter=certificate_expiring",
            expect(&|i| shape(i).0 == "PROVISIONED" && days_left(i).is_some_and(|d| d <= 30)),
        ),
        (
            "filter=deprovisioned",
            expect(&|i| shape(i).0 == "DEPROVISIONED"),
        ),
        ("search=WARD%203", expect(&|i| label(i).contains("Ward 3"))),
        ("search=s%C3%84ULE", expect(&|i| label(i).contains("Säule"))),
        ("search=127.0.1.", expect(&|i| i >= 250)),
        ("search=sn-zm-s-00", expect(&|i| i < 10)),
        (
            "search=bed-29",
            expect(&|i| format!("BED-{i}").contains("BED-29")),
        ),
        ("search=%20zm-s-12%20", expect(&|i| (120..130).contains(&i))),
        (
            "search=ward%202&filter=failed",
            expect(&|i| label(i).contains("Ward 2") && shape(i).1 == Some("FAILED")),
        ),
        ("search=100%25", Vec::new()),
        ("search=_", Vec::new()),
    ];
    for (query, expected) in cases {
        for limit in [7, 1000] {
            let got = every_page(&station, &tech, query, limit).await;
            assert_eq!(got, expected, "{query} by {limit}");
        }
    }

    // No stored text holds NUL (PostgreSQL's cannot): a search or a page
    // after text holding one is refused at the door (tests/station/nul.rs).
    for query in ["search=zm%00", "after=ZM-S-001%00x"] {
        let answer = station.get(&format!("/api/devices?{query}"), &tech).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}");
    }

    // Each entry says what the filters go by.
    let page: DevicePage = station
        .get("/api/devices?search=ZM-S-021&limit=1", &admin)
        .await
        .json();
    let entry = &page.devices[0];
    assert_eq!(
        (
            entry.state,
            entry.last_pairing_failed,
            entry.bed_id.as_str()
        ),
        (DeviceState::Provisioned, false, "BED-21")
    );
    assert!(entry.certificate_not_after.is_some());
    let failed: DevicePage = station
        .get("/api/devices?search=ZM-S-004&limit=1", &admin)
        .await
        .json();
    assert!(failed.devices[0].last_pairing_failed);

    for query in ["limit=0", "limit=1001", "filter=paired", "after=1&extra=2"] {
        let answer = station.get(&format!("/api/devices?{query}"), &tech).await;
        assert_eq!(
            (answer.status, answer.code()),
            (StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest),
            "{query}"
        );
    }
    let default: DevicePage = station.get("/api/devices", &tech).await.json();
    assert_eq!(default.devices.len(), 100);
    assert_eq!(default.next_after.as_deref(), Some("ZM-S-099"));
}

/// Rows of the audit log and of the registry, and the audit chain's head.
fn written(station: &TestStation) -> (i64, i64, String) {
    let db = station.sql();
    let count = |table: &str| -> i64 {
        db.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .expect("count")
    };
    let head: String = db
        .query_row(
            "SELECT string_agg(device_id || device_serial || identity_public_key || firmware_version
                                 || COALESCE(ip_address, '') || device_label || bed_id, '|'
                               ORDER BY device_id)
             FROM devices",
            [],
            |r| r.get(0),
        )
        .expect("registry");
    (count("devices"), count("provisioning_events"), head)
}

#[tokio::test]
async fn the_import_dry_run_says_what_the_import_does_and_writes_nothing() {
    let station = TestStation::start().await;
    let admin = station.token(ADMIN).await;
    let paired_key = key();
    let registered = [
        record("ZM-P-1", &key(), "127.0.0.2"),
        record("ZM-P-2", &key(), "127.0.0.3"),
        record("ZM-P-3", &paired_key, "127.0.0.4"),
    ];
    for r in &registered {
        station.register(r).await;
    }
    station
        .sql()
        .execute(
            "UPDATE devices SET state = 'PROVISIONED' WHERE device_id = 'ZM-P-3'",
            [],
        )
        .expect("paired");
    let mut unchanged = DeviceImport {
        record: registered[0].clone(),
        device_label: None,
        bed_id: None,
    };
    unchanged.record.ip_address = None;
    let mut updated = DeviceImport {
        record: registered[1].clone(),
        device_label: Some("ICU-MON-02".into()),
        bed_id: None,
    };
    updated.record.firmware_version = "2.0.0".into();
    let swapped = DeviceImport {
        record: record("ZM-P-3", &key(), "127.0.0.4"),
        device_label: None,
        bed_id: None,
    };
    let mut serial_taken = DeviceImport {
        record: record("ZM-P-4", &key(), "127.0.0.5"),
        device_label: None,
        bed_id: None,
    };
    serial_taken.record.device_serial = registered[0].device_serial.clone();
    let new = DeviceImport {
        record: record("ZM-P-5", &key(), "127.0.0.6"),
        device_label: Some("=cmd|' /C calc'!A0".into()),
        bed_id: None,
    };
    let mut invalid = new.clone();
    invalid.record.device_id = "ZM P 6".into();
    let records = vec![
        unchanged,
        updated,
        swapped,
        serial_taken,
        new.clone(),
        new,
        invalid,
    ];

    let before = written(&station);
    let answer = station
        .post("/api/devices/import/preview", Some(&admin), &records)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let preview: ImportPreview = answer.json();
    assert_eq!(written(&station), before, "the dry run wrote nothing");
    let rows: Vec<_> = preview
        .rows
        .iter()
        .map(|r| {
            (
                r.index,
                r.device_id.as_deref(),
                r.outcome,
                r.changes.join(","),
                r.problem.as_ref().map(|p| p.code),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                0,
                Some("ZM-P-1"),
                ImportOutcome::Unchanged,
                String::new(),
                None
            ),
            (
                1,
                Some("ZM-P-2"),
                ImportOutcome::Updated,
                "firmwareVersion,deviceLabel".into(),
                None
            ),
            (
                2,
                Some("ZM-P-3"),
                ImportOutcome::Conflicting,
                String::new(),
                Some(ErrorCode::IdentityConflict)
            ),
            (
                3,
                Some("ZM-P-4"),
                ImportOutcome::Conflicting,
                String::new(),
                Some(ErrorCode::SerialConflict)
            ),
            (4, Some("ZM-P-5"), ImportOutcome::New, String::new(), None),
            (
                5,
                Some("ZM-P-5"),
                ImportOutcome::Conflicting,
                String::new(),
                Some(ErrorCode::DuplicateInImport)
            ),
            (
                6,
                Some("ZM P 6"),
                ImportOutcome::Conflicting,
                String::new(),
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
        (1, 1, 1, 4)
    );
    let technician = station.token(TECH).await;
    let refused = station
        .post("/api/devices/import/preview", Some(&technician), &records)
        .await;
    assert_eq!(refused.code(), ErrorCode::ForbiddenRole);

    // The import itself does what the dry run said, record by record.
    let report: ImportReport = station
        .post("/api/devices/import", Some(&admin), &records)
        .await
        .json();
    let rejected: Vec<_> = report
        .rejected
        .iter()
        .map(|r| (r.index, r.error.code))
        .collect();
    let conflicting: Vec<_> = preview
        .rows
        .iter()
        .filter_map(|r| r.problem.as_ref().map(|p| (r.index, p.code)))
        .collect();
    assert_eq!(rejected, conflicting);
    assert_eq!(report.imported, ["ZM-P-1", "ZM-P-2", "ZM-P-5"]);
    let after: ImportPreview = station
        .post(
            "/api/devices/import/preview",
            Some(&admin),
            &records[..2].to_vec(),
        )
        .await
        .json();
    assert_eq!(after.unchanged, 2, "{after:?}");
}
