//! The audit log: who signed in, stepped up and out, from where; rows the
//! database will not change; and a hash chain whose first broken link both
//! `GET /api/audit/verify` and `central-station audit verify` name.

use std::process::Command;
use zpair_proto::ErrorCode;

use reqwest::StatusCode;
use serde_json::json;
use zpair_proto::api::{AuditEvent, AuditVerification, LinkProblem};

use crate::support::{ADMIN, TECH, TestStation};

/// Account events of the log, as an administrator reads them.
async fn account_events(station: &TestStation, admin: &str) -> Vec<AuditEvent> {
    let rows: Vec<AuditEvent> = station.get("/api/audit", admin).await.json();
    rows.into_iter()
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
    let out = Command::new(env!("CARGO_BIN_EXE_central-station"))
        .args(["audit", "verify", "--data-dir"])
        .arg(&station.config.data_dir)
        .output()
        .expect("run central-station");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// What an attacker with the database file can do: drop the guards, then write.
fn tamper(station: &TestStation, sql: &str) {
    station
        .sql()
        .execute_batch(&format!(
            "DROP TRIGGER IF EXISTS provisioning_events_no_update;
             DROP TRIGGER IF EXISTS provisioning_events_no_delete;
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
        "limit=10001",
        "limit=ten",
        "deviceid=ZM-1",
        "limit=5&extra=1",
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
        "limit=10000",
        "deviceId=ZM-1&limit=3",
        "deviceId=",
    ] {
        let answer = station.get(&format!("/api/audit?{query}"), &admin).await;
        assert_eq!(answer.status, StatusCode::OK, "{query}: {}", answer.body);
    }
}
