//! Sign-in, refresh, sign-out, lockout and roles.

use central_station::db::Dialect;
use reqwest::{Method, StatusCode};
use serde_json::json;
use zpair_proto::ErrorCode;
use zpair_proto::api::{Account, Role, Session};

use std::net::{IpAddr, Ipv4Addr};

use crate::support::{ADMIN, TECH, TECH2, TestStation};

#[tokio::test]
async fn login_gives_a_session_and_me_names_the_account() {
    let station = TestStation::start().await;
    let session = station.login(TECH).await;
    assert_eq!(session.account.role, Role::Technician);
    assert_ne!(
        session.access_token.expose(),
        session.refresh_token.expose()
    );
    assert!(session.refresh_expires_at > session.access_expires_at);
    let me: Account = station
        .get("/api/auth/me", session.access_token.expose())
        .await
        .json();
    assert_eq!(
        (me.username.as_str(), me.display_name.as_str()),
        ("tech", "Test Technician")
    );

    let wrong = station.try_login((TECH.0, "wrong password")).await;
    assert_eq!(
        (wrong.status, wrong.code()),
        (StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials)
    );
    let nobody = station.try_login(("nobody", TECH.1)).await;
    assert_eq!(
        (nobody.status, nobody.code()),
        (StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials)
    );
}

#[tokio::test]
async fn tokens_are_stored_only_as_hashes() {
    let station = TestStation::start().await;
    let session = station.login(TECH).await;
    let db = station.sql();
    let (access, refresh): (Vec<u8>, Vec<u8>) = db
        .query_row("SELECT access_hash, refresh_hash FROM sessions", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("session row");
    // Exactly the SHA-256 of each token: neither the token nor anything
    // that could give it back.
    use sha2::{Digest as _, Sha256};
    assert_eq!(
        access,
        Sha256::digest(session.access_token.expose().as_bytes()).to_vec()
    );
    assert_eq!(
        refresh,
        Sha256::digest(session.refresh_token.expose().as_bytes()).to_vec()
    );
    // The stored hashes as each database writes them out as text.
    let as_text = match db.dialect() {
        Dialect::Sqlite => "SELECT quote(access_hash) || quote(refresh_hash) FROM sessions",
        Dialect::Postgres => "SELECT access_hash::text || refresh_hash::text FROM sessions",
    };
    let row: String = db.query_row(as_text, [], |r| r.get(0)).expect("row text");
    assert!(
        !row.contains(session.access_token.expose())
            && !row.contains(session.refresh_token.expose())
    );
}

#[tokio::test]
async fn missing_or_unknown_bearer_tokens_are_unauthorized() {
    let station = TestStation::start().await;
    let none = station
        .call(Method::GET, "/api/devices", None, None::<&()>)
        .await;
    assert_eq!(
        (none.status, none.code()),
        (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized)
    );
    let forged = station.get("/api/devices", "not-a-token").await;
    assert_eq!(
        (forged.status, forged.code()),
        (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized)
    );
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_refresh_token_ends_the_chain() {
    let station = TestStation::start().await;
    let first = station.login(TECH).await;
    let body = json!({ "refreshToken": first.refresh_token });
    let second: Session = station.post("/api/auth/refresh", None, &body).await.json();
    assert_ne!(second.access_token.expose(), first.access_token.expose());
    // The old pair stopped working.
    assert_eq!(
        station
            .get("/api/auth/me", first.access_token.expose())
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        station
            .get("/api/auth/me", second.access_token.expose())
            .await
            .status,
        StatusCode::OK
    );
    // Presenting the first refresh token again: refused, and the rotated session ends too.
    let replay = station.post("/api/auth/refresh", None, &body).await;
    assert_eq!(
        (replay.status, replay.code()),
        (StatusCode::UNAUTHORIZED, ErrorCode::SessionExpired)
    );
    assert_eq!(
        station
            .get("/api/auth/me", second.access_token.expose())
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let after = station
        .post(
            "/api/auth/refresh",
            None,
            &json!({ "refreshToken": second.refresh_token }),
        )
        .await;
    assert_eq!(after.code(), ErrorCode::SessionExpired);
}

#[tokio::test]
async fn expired_access_tokens_are_refused() {
    let station = TestStation::builder()
        .with_config(|c| c.access_token_ttl = std::time::Duration::ZERO)
        .start()
        .await;
    let session = station.login(TECH).await;
    let answer = station
        .get("/api/auth/me", session.access_token.expose())
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized)
    );
}

#[tokio::test]
async fn logout_revokes_access_and_refresh_tokens() {
    let station = TestStation::start().await;
    let session = station.login(TECH).await;
    let body = json!({ "refreshToken": session.refresh_token });
    let out = station
        .post(
            "/api/auth/logout",
            Some(session.access_token.expose()),
            &body,
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(
        station
            .get("/api/auth/me", session.access_token.expose())
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        station.post("/api/auth/refresh", None, &body).await.code(),
        ErrorCode::SessionExpired
    );
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account_even_for_the_right_one() {
    let station = TestStation::start().await;
    let mut codes = Vec::new();
    for _ in 0..5 {
        codes.push(station.try_login((TECH.0, "not the password")).await.code());
    }
    assert_eq!(codes[..4], [ErrorCode::InvalidCredentials; 4]);
    assert_eq!(codes[4], ErrorCode::AccountLocked);
    let right = station.try_login(TECH).await;
    assert_eq!(
        (right.status, right.code()),
        (StatusCode::LOCKED, ErrorCode::AccountLocked)
    );
    // Other accounts are not affected.
    assert_eq!(station.try_login(ADMIN).await.status, StatusCode::OK);
    // Once the lock has passed, the right password works again.
    station
        .sql()
        .execute("DELETE FROM sign_in_attempts", [])
        .expect("unlock");
    assert_eq!(station.try_login(TECH).await.status, StatusCode::OK);
}

#[tokio::test]
async fn roles_limit_what_each_account_may_do() {
    let station = TestStation::start().await;
    let tech = station.token(TECH).await;
    let admin = station.token(ADMIN).await;
    let record = crate::support::record(
        "ZM-ROLE-1",
        &zpair_proto::crypto::generate_signing_key().expect("key"),
        "127.0.0.2",
    );

    let import = station.post("/api/devices", Some(&tech), &record).await;
    assert_eq!(
        (import.status, import.code()),
        (StatusCode::FORBIDDEN, ErrorCode::ForbiddenRole)
    );
    let bulk = station
        .post("/api/devices/import", Some(&tech), &vec![record.clone()])
        .await;
    assert_eq!(bulk.code(), ErrorCode::ForbiddenRole);
    let audit = station.get("/api/audit", &tech).await;
    assert_eq!(audit.code(), ErrorCode::ForbiddenRole);
    let deprovision = station
        .post(
            "/api/devices/ZM-ROLE-1/deprovision",
            Some(&tech),
            &json!({ "reason": "x" }),
        )
        .await;
    assert_eq!(deprovision.code(), ErrorCode::ForbiddenRole);

    assert_eq!(
        station
            .post("/api/devices", Some(&admin), &record)
            .await
            .status,
        StatusCode::CREATED
    );
    let pair = station
        .post(
            "/api/provisioning/pair",
            Some(&admin),
            &json!({ "deviceId": "ZM-ROLE-1", "pairingCode": "ABC-DEF-GHJ" }),
        )
        .await;
    assert_eq!(
        (pair.status, pair.code()),
        (StatusCode::FORBIDDEN, ErrorCode::ForbiddenRole)
    );
    let step_up = station.step_up(&admin, ADMIN.1, "ZM-ROLE-1").await;
    assert_eq!(
        (step_up.status, step_up.code()),
        (StatusCode::FORBIDDEN, ErrorCode::ForbiddenRole)
    );
    // Reading the registry is for everyone signed in.
    assert_eq!(
        station.get("/api/devices", &tech).await.status,
        StatusCode::OK
    );
}

/// `n` concurrent sign-ins, each on its own connection, in the order given.
async fn burst(station: &TestStation, attempts: Vec<(&str, &str)>) -> Vec<StatusCode> {
    let calls = attempts
        .into_iter()
        .map(|account| station.try_login(account));
    futures_util::future::join_all(calls)
        .await
        .into_iter()
        .map(|answer| answer.status)
        .collect()
}

#[tokio::test]
async fn forty_concurrent_wrong_passwords_get_at_most_five_checks_and_a_right_one_inside_is_refused()
 {
    let station = TestStation::start().await;
    let before = station.station().password_checks();
    let mut attempts = vec![(TECH.0, "not the password"); 40];
    attempts.insert(20, TECH);
    let statuses = burst(&station, attempts).await;
    let checked = station.station().password_checks() - before;
    println!("40 wrong passwords at once (and the right one among them): {checked} checked");
    assert!((1..=5).contains(&checked), "{checked} passwords checked");
    assert_eq!(
        statuses[20],
        StatusCode::LOCKED,
        "the right password inside the burst"
    );
    assert!(!statuses.contains(&StatusCode::OK), "{statuses:?}");
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::UNAUTHORIZED)
            .count()
            + statuses
                .iter()
                .filter(|s| **s == StatusCode::LOCKED)
                .count(),
        41,
        "{statuses:?}"
    );
    // Still locked afterwards, for the right password too.
    assert_eq!(station.try_login(TECH).await.status, StatusCode::LOCKED);
    // Another account, from the same client, is not affected.
    assert_eq!(station.try_login(TECH2).await.status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_usernames_are_answered_like_known_ones() {
    let station = TestStation::start().await;
    let mut answers = Vec::new();
    // From two addresses, so the client limit stays out of the comparison.
    for (name, source) in [(TECH2.0.to_owned(), 1), ("nobody-here".to_owned(), 2)] {
        let client = station.client_from(IpAddr::V4(Ipv4Addr::new(127, 0, 0, source)));
        let before = station.station().password_checks();
        let mut codes = Vec::new();
        for _ in 0..6 {
            let answer = login_with(&station, &client, (&name, "not the password")).await;
            codes.push((answer.status, answer.code()));
        }
        answers.push((codes, station.station().password_checks() - before));
    }
    assert_eq!(answers[0], answers[1], "known vs unknown username");
    let (codes, checked) = &answers[0];
    assert_eq!(codes[3].1, ErrorCode::InvalidCredentials);
    assert_eq!(codes[4], (StatusCode::LOCKED, ErrorCode::AccountLocked));
    assert_eq!(codes[5].1, ErrorCode::AccountLocked);
    // Both were hashed (the unknown one against a decoy), and only until the lock.
    assert_eq!(*checked, 5);
}

/// A sign-in through `client`.
async fn login_with(
    station: &TestStation,
    client: &reqwest::Client,
    (username, password): (&str, &str),
) -> crate::support::Answer {
    let body = json!({ "username": username, "password": password });
    station
        .call_with(client, Method::POST, "/api/auth/login", None, Some(&body))
        .await
}

#[tokio::test]
async fn one_client_cannot_lock_everyone_out() {
    let station = TestStation::start().await;
    let attacker = station.client_from(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let colleague = station.client_from(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)));
    // Two accounts' worth of failures lock those two accounts...
    for account in [TECH.0, TECH2.0] {
        for _ in 0..5 {
            login_with(&station, &attacker, (account, "guess")).await;
        }
    }
    // ...then the client is told to wait, and no other account is touched.
    let refused = login_with(&station, &attacker, (ADMIN.0, "guess")).await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited)
    );
    let before = station.station().password_checks();
    for _ in 0..10 {
        login_with(&station, &attacker, (ADMIN.0, "guess")).await;
    }
    assert_eq!(
        station.station().password_checks(),
        before,
        "no checks while backing off"
    );
    assert_eq!(
        login_with(&station, &colleague, ADMIN).await.status,
        StatusCode::OK
    );
}
