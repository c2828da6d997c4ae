//! The audit log: who signed in, stepped up and out, from where; rows the
//! database will not change; and a hash chain whose first broken link both
//! `GET /api/audit/verify` and `central-station audit verify` name.

use std::process::Command;
use zpair_proto::ErrorCode;

use central_station::db::{Database, Dialect};
use reqwest::StatusCode;
use serde_json::json;
use zpair_proto::admin::AuditPage;
use zpair_proto::api::{AuditEvent, AuditVerification, LinkProblem};

use crate::support::{ADMIN, TECH, TECH2, TestStation, off_runtime, read_csv};

/// Account events of the log, as an administrator reads them, oldest first.
async fn account_events(station: &TestStation, admin: &str) -> Vec<AuditEvent> {
    let page: AuditPage = station.get("/api/audit?limit=1000", admin).await.json();
    page.events
        .into_iter()
        .rev()
        .filter(|e| e.device_id.is_empty())
        .collect()
}

async fn verify_api(station: &TestStation, admin: &str) -> AuditVerification {
    let answer = station.get("/api/audit/verify", admin).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.json()
}

/// `central-station audit verify`, the real binary: (success, stdout + stderr).
fn verify_cli(station: &TestStation) -> (bool, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_central-station"));
    command
        .args(["audit", "verify", "--data-dir"])
        .arg(&station.config.data_dir)
        .env_remove("ZPAIR_DATABASE_URL");
    if let Database::Postgres { url, .. } = &station.config.database {
        // In the environment, as an operator keeps the password out of `ps`.
        command.env("ZPAIR_DATABASE_URL", url);
    }
    let out = command.output().expect("run central-station");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// What an attacker with the database file can do: drop the guards, then write.
fn tamper(station: &TestStation, sql: &str) {
    let db = station.sql();
    // PostgreSQL names a trigger within its table.
    let on = match db.dialect() {
        Dialect::Sqlite => "",
        Dialect::Postgres => " ON provisioning_events",
    };
    db.execute_batch(&format!(
        "DROP TRIGGER IF EXISTS provisioning_events_no_update{on};
         DROP TRIGGER IF EXISTS provisioning_events_no_delete{on};
         {sql}"
    ))
    .expect("tamper");
}

#[tokio::test]
async fn sign_in_failures_step_up_and_sign_out_are_audited_with_actor_and_address() {
    let station = TestStation::start().await;
    let session = station.login(TECH).await;
    let wrong = station.try_login((TECH.0, "wrong password")).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let nobody = station.try_login(("nobody", TECH.1)).await;
    assert_eq!(nobody.status, StatusCode::UNAUTHORIZED);
    let bearer = session.access_token.expose().as_str();
    for (password, status) in [
        ("wrong password", StatusCode::UNAUTHORIZED),
        (TECH.1, StatusCode::OK),
    ] {
        let body = json!({ "password": password, "deviceId": "ZM-ANY", "action": "reprovision" });
        let answer = station.post("/api/auth/step-up", Some(bearer), &body).await;
        assert_eq!(answer.status, status, "{}", answer.body);
    }
    let out = station
        .post(
            "/api/auth/logout",
            Some(bearer),
            &json!({ "refreshToken": session.refresh_token }),
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);

    let admin = station.token(ADMIN).await;
    let events: Vec<_> = account_events(&station, &admin)
        .await
        .into_iter()
        .filter(|e| e.subject.as_deref() != Some(ADMIN.0) && e.event_type != "account_created")
        .map(|e| {
            let from = e.source_address.as_deref().unwrap_or("");
            assert!(from.starts_with("127.0.0.1:"), "{e:?}");
            assert_eq!(e.actor, e.subject, "{e:?}");
            (
                e.event_type,
                e.actor.unwrap_or_default(),
                e.success,
                e.error_message,
            )
        })
        .collect();
    let expected = [
        ("sign_in", TECH.0, true, None),
        ("sign_in_failed", TECH.0, false, Some("invalid_credentials")),
        ("sign_in_failed", "nobody", false, Some("unknown_username")),
        ("step_up", TECH.0, false, Some("invalid_credentials")),
        ("step_up", TECH.0, true, None),
        ("sign_out", TECH.0, true, None),
    ]
    .map(|(kind, actor, ok, error)| {
        (
            kind.to_owned(),
            actor.to_owned(),
            ok,
            error.map(str::to_owned),
        )
    });
    assert_eq!(events, expected);
}

#[tokio::test]
async fn the_accounts_made_offline_are_audited_as_created_by_the_admin_command() {
    let station = TestStation::start().await;
    let admin = station.token(ADMIN).await;
    let created: Vec<_> = account_events(&station, &admin)
        .await
        .into_iter()
        .filter(|e| e.event_type == "account_created")
        .map(|e| (e.subject.unwrap_or_default(), e.actor.unwrap_or_default()))
        .collect();
    assert_eq!(created.len(), 3, "{created:?}");
    assert!(created.iter().all(|(_, actor)| actor == "admin-cli"));
}

#[tokio::test]
async fn the_database_refuses_to_change_or_remove_audit_rows() {
    let station = TestStation::start().await;
    let db = station.sql();
    let update = db.execute("UPDATE provisioning_events SET actor = 'mallory'", []);
    assert!(format!("{update:?}").contains("append-only"), "{update:?}");
    let delete = db.execute("DELETE FROM provisioning_events", []);
    assert!(format!("{delete:?}").contains("append-only"), "{delete:?}");
}

#[tokio::test]
async fn an_edited_row_is_named_by_the_api_and_the_command() {
    let station = TestStation::start().await;
    station.login(TECH).await;
    let admin = station.token(ADMIN).await;
    let intact = verify_api(&station, &admin).await;
    assert!(intact.intact, "{intact:?}");
    assert!(intact.head_hash.is_some());
    let (ok, text) = verify_cli(&station);
    assert!(ok && text.contains("Audit log intact"), "{text}");

    // Row 4 is the technician's sign-in: make it someone else's.
    tamper(
        &station,
        "UPDATE provisioning_events SET actor = 'mallory' WHERE id = 4",
    );
    let report = verify_api(&station, &admin).await;
    let link = report.first_broken_link.expect("broken");
    assert!(!report.intact);
    assert_eq!((link.id, link.problem), (4, LinkProblem::Edited));
    let (ok, text) = verify_cli(&station);
    assert!(!ok, "{text}");
    assert!(text.contains("broken at row 4 (edited)"), "{text}");
}

#[tokio::test]
async fn a_deleted_row_is_named_by_the_api_and_the_command() {
    let station = TestStation::start().await;
    station.login(TECH).await;
    let admin = station.token(ADMIN).await;
    tamper(&station, "DELETE FROM provisioning_events WHERE id = 2");
    let link = verify_api(&station, &admin)
        .await
        .first_broken_link
        .expect("broken");
    assert_eq!((link.id, link.problem), (2, LinkProblem::Missing));
    let (ok, text) = verify_cli(&station);
    assert!(!ok, "{text}");
    assert!(text.contains("broken at row 2 (missing)"), "{text}");
}

#[tokio::test]
async fn only_administrators_verify_the_audit_log() {
    let station = TestStation::start().await;
    let tech = station.token(TECH).await;
    let answer = station.get("/api/audit/verify", &tech).await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::FORBIDDEN, ErrorCode::ForbiddenRole)
    );
}

/// The query is held to what the API document says: a limit out of range
/// or a parameter it does not name is refused, never clamped or ignored
/// (a misspelt `deviceId` would otherwise return every row).
#[tokio::test]
async fn audit_queries_outside_the_document_are_refused() {
    let station = TestStation::start().await;
    let admin = station.token(ADMIN).await;
    for query in [
        "limit=0",
        "limit=1001",
        "limit=ten",
        "deviceid=ZM-1",
        "limit=5&extra=1",
        "since=yesterday",
        "until=2024-11-25",
        "eventType=USER_DISABLED",
        "before=latest",
    ] {
        let answer = station.get(&format!("/api/audit?{query}"), &admin).await;
        assert_eq!(
            (answer.status, answer.code()),
            (StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest),
            "{query}"
        );
    }
    for query in [
        "limit=1",
        "limit=1000",
        "deviceId=ZM-1&limit=3",
        "deviceId=",
        "eventType=sign_in&since=2024-11-25T14:30:00Z&until=2024-11-25T15:30:00%2B01:00",
        "before=-5",
    ] {
        let answer = station.get(&format!("/api/audit?{query}"), &admin).await;
        assert_eq!(answer.status, StatusCode::OK, "{query}: {}", answer.body);
    }
}

/// `count` monitors as bulk-import records named `prefix-0000`….
fn monitors(prefix: &str, count: usize) -> Vec<zpair_proto::api::DeviceImport> {
    (0..count)
        .map(|i| zpair_proto::api::DeviceImport {
            record: crate::support::record(
                &format!("{prefix}-{i:04}"),
                &zpair_proto::crypto::generate_signing_key().expect("key"),
                "127.0.0.2",
            ),
            device_label: None,
            bed_id: None,
        })
        .collect()
}

/// Ids of the rows `condition` selects, newest first: what the API must page through.
fn oracle(station: &TestStation, condition: &str) -> Vec<i64> {
    station
        .sql()
        .query_map(
            &format!("SELECT id FROM provisioning_events WHERE {condition} ORDER BY id DESC"),
            [],
            |r| r.get(0),
        )
        .expect("rows")
}

/// Every page of `query` from the one `before` a row (or the newest),
/// `limit` rows at a time: the row ids in the order given.
async fn every_page(
    station: &TestStation,
    admin: &str,
    query: &str,
    limit: u32,
    mut before: Option<i64>,
) -> Vec<i64> {
    let mut ids = Vec::new();
    loop {
        let mut url = format!("/api/audit?limit={limit}&{query}");
        if let Some(before) = before {
            url.push_str(&format!("&before={before}"));
        }
        let answer = station.get(&url, admin).await;
        assert_eq!(answer.status, StatusCode::OK, "{url}: {}", answer.body);
        let page: AuditPage = answer.json();
        assert!(page.events.len() <= limit as usize);
        ids.extend(page.events.iter().map(|e| e.id));
        match page.next_before {
            Some(next) => before = Some(next),
            None => return ids,
        }
    }
}

/// Two thousand rows (two bulk imports a second apart, one through the
/// API, one offline): each filter, alone and combined, pages through
/// exactly the rows it selects, each once, newest first.
#[tokio::test]
async fn filtered_pages_hold_every_matching_row_exactly_once() {
    let station = TestStation::start().await;
    let admin = station.token(ADMIN).await;
    let report: zpair_proto::api::ImportReport = station
        .post("/api/devices/import", Some(&admin), &monitors("ZM-A", 1000))
        .await
        .json();
    assert_eq!(report.imported.len(), 1000);
    // The next whole second: every row so far is before it.
    let now = time::OffsetDateTime::now_utc();
    let mid = now.replace_nanosecond(0).expect("whole second") + time::Duration::seconds(1);
    tokio::time::sleep((mid - now).try_into().expect("ahead")).await;
    let records = monitors("ZM-B", 1000);
    off_runtime(|| {
        central_station::admin::import_devices(
            &station.config.data_dir,
            &station.config.database,
            &records,
        )
    })
    .expect("offline import");
    station.token(TECH).await;
    let mid_text = zpair_proto::timestamp::format(mid);
    let mid_unix = mid.unix_timestamp();

    let cases = [
        (String::new(), "TRUE".to_owned()),
        ("actor=admin-cli".into(), "actor = 'admin-cli'".into()),
        (
            "actor=admin-cli&eventType=device_registered".into(),
            "actor = 'admin-cli' AND event_type = 'device_registered'".into(),
        ),
        ("eventType=sign_in".into(), "event_type = 'sign_in'".into()),
        (
            "deviceId=ZM-A-0042".into(),
            "device_id = 'ZM-A-0042'".into(),
        ),
        ("deviceId=".into(), "device_id = ''".into()),
        (
            format!("since={mid_text}"),
            format!("timestamp >= {mid_unix}"),
        ),
        (
            format!("until={mid_text}&actor=admin"),
            format!("timestamp < {mid_unix} AND actor = 'admin'"),
        ),
        (
            format!("since={mid_text}&until={mid_text}"),
            "FALSE".to_owned(),
        ),
        ("actor=nobody".into(), "FALSE".into()),
    ];
    for (query, condition) in &cases {
        let expected = oracle(&station, condition);
        for limit in [137, 1000] {
            let got = every_page(&station, &admin, query, limit, None).await;
            assert_eq!(got.len(), expected.len(), "{query} by {limit}");
            assert!(got == expected, "{query} by {limit}: rows differ");
        }
    }
    assert!(oracle(&station, "TRUE").len() > 2000);
    assert_eq!(
        oracle(&station, &format!("timestamp >= {mid_unix}")).len(),
        1000 + 1
    );

    // Rows written while paging do not shift the pages already keyed.
    let first: AuditPage = station.get("/api/audit?limit=500", &admin).await.json();
    station.token(TECH2).await;
    let mut ids: Vec<i64> = first.events.iter().map(|e| e.id).collect();
    ids.extend(every_page(&station, &admin, "", 500, first.next_before).await);
    let mut expected = oracle(&station, "TRUE");
    expected.remove(0); // the sign-in written after the first page
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn the_audit_export_is_every_matching_row_oldest_first_with_formulas_defused() {
    let station = TestStation::start().await;
    let typed = [
        "=HYPERLINK(\"http://evil.example\",\"click\")",
        "+1-2",
        "-cmd",
        "@SUM(A1)",
        "a,b \"quoted\"\r\nline",
    ];
    for username in typed {
        let refused = station.try_login((username, "wrong password")).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    }
    let admin = station.token(ADMIN).await;
    let response = station
        .client()
        .get(station.url("/api/audit/export?eventType=sign_in_failed"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("export");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/csv; charset=utf-8")
    );
    let rows = read_csv(&response.text().await.expect("body"));
    assert_eq!(rows[0][..4], ["id", "timestamp", "eventType", "deviceId"]);
    let subject = rows[0]
        .iter()
        .position(|h| h == "subject")
        .expect("subject");
    let subjects: Vec<&str> = rows[1..].iter().map(|r| r[subject].as_str()).collect();
    assert_eq!(
        subjects,
        [
            "'=HYPERLINK(\"http://evil.example\",\"click\")",
            "'+1-2",
            "'-cmd",
            "'@SUM(A1)",
            "a,b \"quoted\"\r\nline",
        ]
    );
    assert!(
        rows[1..]
            .iter()
            .all(|r| r[2] == "sign_in_failed" && r[4] == "false")
    );

    // No filter: every row, oldest first, as many as the table holds.
    let all = station
        .client()
        .get(station.url("/api/audit/export"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("export")
        .text()
        .await
        .expect("body");
    let ids: Vec<i64> = read_csv(&all)[1..]
        .iter()
        .map(|r| r[0].parse().expect("id"))
        .collect();
    let mut expected = oracle(&station, "TRUE");
    expected.reverse();
    assert_eq!(ids, expected);

    for query in ["since=yesterday", "eventType=nothing", "limit=5"] {
        let answer = station
            .get(&format!("/api/audit/export?{query}"), &admin)
            .await;
        assert_eq!(
            (answer.status, answer.code()),
            (StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest),
            "{query}"
        );
    }
    let tech = station.token(TECH).await;
    let refused = station.get("/api/audit/export", &tech).await;
    assert_eq!(refused.code(), ErrorCode::ForbiddenRole);
}
