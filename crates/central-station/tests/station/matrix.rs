//! Every route of the station's own table × every kind of caller, with the
//! outcome each must get. Built from `route_table()`, so a route added
//! without a row here fails; printed as a Markdown table (the README's
//! matrix comes from `cargo test -p central-station --test station matrix
//! -- --nocapture`).

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{ADMIN, TECH, paired_through_the_station};

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anonymous,
    Technician,
    Administrator,
    MonitorCertificate,
    ExpiredToken,
    RevokedToken,
    DisabledAccount,
    /// Signed in with a temporary password an administrator had the station choose.
    MustChangePassword,
}

const CALLERS: [Caller; 8] = [
    Caller::Anonymous,
    Caller::Technician,
    Caller::Administrator,
    Caller::MonitorCertificate,
    Caller::ExpiredToken,
    Caller::RevokedToken,
    Caller::DisabledAccount,
    Caller::MustChangePassword,
];

/// What a caller must get: in (any answer but 401 and 403: the request was
/// let through to its own checks), 401, or 403.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    In,
    Unauthorized,
    Forbidden,
}

/// The kinds of route, by who may use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Anyone: health, the API document, the CA, the CRL, the station key,
    /// and the sign-in and token exchanges (their bodies carry the proof).
    Public,
    /// Any signed-in account, even one that must change its password first
    /// (who am I, sign out, change the password).
    Account,
    /// Technicians and administrators.
    SignedIn,
    /// Technicians only (pairing and the re-provision confirmation).
    Technician,
    /// Administrators only.
    Administrator,
    /// A monitor's client certificate.
    Monitor,
}

fn access(method: &Method, path: &str) -> Access {
    match (method.as_str(), path) {
        (
            "GET",
            "/healthz"
            | "/api/openapi.json"
            | "/api/ca/certificate"
            | "/api/ca/crl"
            | "/api/provisioning/station-key",
        )
        | ("POST", "/api/auth/login" | "/api/auth/refresh") => Access::Public,
        ("POST", "/api/devices/heartbeat" | "/api/devices/certificate/renew") => Access::Monitor,
        (
            "POST",
            "/api/provisioning/pair" | "/api/auth/step-up" | "/api/devices/{id}/reprovision",
        ) => Access::Technician,
        (
            "POST",
            "/api/devices"
            | "/api/devices/import"
            | "/api/devices/{id}/deprovision"
            | "/api/devices/{id}/readmit",
        )
        | ("GET", "/api/audit" | "/api/audit/verify") => Access::Administrator,
        (
            "POST",
            "/api/users/{username}/sessions/end"
            | "/api/users/{username}/disable"
            | "/api/users/{username}/enable",
        ) => Access::Administrator,
        (
            "GET",
            "/api/users"
            | "/api/audit/export"
            | "/api/reports/pairings"
            | "/api/reports/pairings/export"
            | "/api/certificates",
        )
        | (
            "POST",
            "/api/users"
            | "/api/users/{username}/password/reset"
            | "/api/users/{username}/unlock"
            | "/api/devices/import/preview",
        ) => Access::Administrator,
        ("GET", "/api/auth/me") | ("POST", "/api/auth/logout" | "/api/auth/password") => {
            Access::Account
        }
        (
            "GET",
            "/api/devices"
            | "/api/devices/{id}"
            | "/api/devices/{id}/status"
            | "/api/devices/{id}/events"
            | "/api/provisioning/jobs/{id}"
            | "/api/provisioning/jobs/{id}/events",
        ) => Access::SignedIn,
        (method, path) => panic!("{method} {path} has no row in the matrix: add one"),
    }
}

fn expected(access: Access, caller: Caller) -> Outcome {
    use Caller::*;
    match (access, caller) {
        (Access::Public, _) => Outcome::In,
        (Access::Monitor, MonitorCertificate) => Outcome::In,
        (Access::Monitor, _) => Outcome::Unauthorized,
        (_, Anonymous | MonitorCertificate | ExpiredToken | RevokedToken | DisabledAccount) => {
            Outcome::Unauthorized
        }
        (Access::Account, _) => Outcome::In,
        (_, MustChangePassword) => Outcome::Forbidden,
        (Access::SignedIn, Technician | Administrator) => Outcome::In,
        (Access::Technician, Technician) | (Access::Administrator, Administrator) => Outcome::In,
        (Access::Technician, Administrator) | (Access::Administrator, Technician) => {
            Outcome::Forbidden
        }
    }
}

fn outcome(status: StatusCode) -> Outcome {
    match status {
        StatusCode::UNAUTHORIZED => Outcome::Unauthorized,
        StatusCode::FORBIDDEN => Outcome::Forbidden,
        _ => Outcome::In,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_answers_every_caller_as_the_matrix_says() {
    let (station, monitor, job_id) = paired_through_the_station("ZM-MATRIX-1").await;
    let committed = monitor.await_commit(None).await;
    let tech = station.token(TECH).await;
    let admin = station.token(ADMIN).await;
    let revoked = station.login(TECH).await;
    let out = station
        .post(
            "/api/auth/logout",
            Some(revoked.access_token.expose()),
            &json!({ "refreshToken": revoked.refresh_token }),
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let expired = station.login(TECH).await;
    station
        .sql()
        .execute(
            "UPDATE sessions SET access_expires_at = 0 WHERE access_hash = ?1",
            [sha2_of(expired.access_token.expose())],
        )
        .expect("expire one session");
    // A technician whose account an administrator disabled after sign-in.
    let disabled = station.login(crate::support::TECH2).await;
    let out = station
        .post("/api/users/tech2/disable", Some(&admin), &json!({}))
        .await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.body);
    // An account an administrator created, signed in with the password the
    // station chose for it (not changed yet).
    let created: zpair_proto::admin::TemporaryPassword = station
        .post(
            "/api/users",
            Some(&admin),
            &json!({ "username": "newcomer", "displayName": "New Comer", "role": "technician" }),
        )
        .await
        .json();
    let temporary = station
        .login(("newcomer", created.password.expose().as_str()))
        .await;
    assert!(temporary.account.must_change_password);
    let plain = station.client();
    let monitor_client = station.mtls_client(
        &committed.configuration.client_certificate,
        &committed.key_pem,
    );

    let mut table = String::from(
        "| route | anonymous | technician | administrator | monitor certificate | expired token | revoked token | disabled account | temporary password |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    let mut wrong = Vec::new();
    for (method, path) in central_station::route_table() {
        let access = access(&method, path);
        let concrete = path
            .replace("/devices/{id}", "/devices/ZM-MATRIX-1")
            .replace("/jobs/{id}", &format!("/jobs/{job_id}"))
            // No such account: the matrix must not end the sessions it relies on.
            .replace("{username}", "nobody");
        let mut row = format!("| `{method} {path}` |");
        for caller in CALLERS {
            let (client, bearer) = match caller {
                Caller::Anonymous => (&plain, None),
                Caller::Technician => (&plain, Some(tech.as_str())),
                Caller::Administrator => (&plain, Some(admin.as_str())),
                Caller::MonitorCertificate => (&monitor_client, None),
                Caller::ExpiredToken => (&plain, Some(expired.access_token.expose().as_str())),
                Caller::RevokedToken => (&plain, Some(revoked.access_token.expose().as_str())),
                Caller::DisabledAccount => (&plain, Some(disabled.access_token.expose().as_str())),
                Caller::MustChangePassword => {
                    (&plain, Some(temporary.access_token.expose().as_str()))
                }
            };
            let mut request = client.request(method.clone(), station.url(&concrete));
            if let Some(token) = bearer {
                request = request.bearer_auth(token);
            }
            if method == Method::POST {
                request = request.json(&json!({}));
            }
            // Only the status: an event stream's body never ends.
            let status = request.send().await.expect("answer").status();
            let got = outcome(status);
            let want = expected(access, caller);
            if got != want {
                wrong.push(format!(
                    "{method} {path} as {caller:?}: {status}, expected {want:?}"
                ));
            }
            row.push_str(&format!(" {} |", status.as_u16()));
        }
        table.push_str(&row);
        table.push('\n');
    }
    println!("{table}");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn sha2_of(token: &str) -> Vec<u8> {
    use sha2::{Digest as _, Sha256};
    Sha256::digest(token.as_bytes()).to_vec()
}
