//! Bounded sessions: an absolute lifetime per sign-in, administrators ending
//! sessions and disabling accounts, event streams that end with their token.

use std::time::{Duration, Instant};
use zpair_proto::ErrorCode;

use reqwest::StatusCode;
use serde_json::json;
use zpair_proto::api::Session;

use crate::support::{ADMIN, TECH, TECH2, TestStation, record};

/// Opens a device's event stream and returns how long it stayed open after
/// `end` ran (panics if it was still open after `limit`).
async fn stream_outlives(
    station: &TestStation,
    bearer: &str,
    end: impl std::future::Future<Output = ()>,
    limit: Duration,
) -> Duration {
    let key = zpair_proto::crypto::generate_signing_key().expect("key");
    station
        .register(&record("ZM-STREAM-1", &key, "127.0.0.2"))
        .await;
    let response = station
        .client()
        .get(station.url("/api/devices/ZM-STREAM-1/events"))
        .bearer_auth(bearer)
        .send()
        .await
        .expect("stream");
    assert_eq!(response.status(), StatusCode::OK);
    end.await;
    let started = Instant::now();
    tokio::time::timeout(limit, response.text())
        .await
        .expect("the stream ends")
        .expect("a clean end");
    started.elapsed()
}

#[tokio::test]
async fn an_event_stream_ends_at_sign_out() {
    let station = TestStation::start().await;
    let session = station.login(TECH).await;
    let body = json!({ "refreshToken": session.refresh_token });
    let sign_out = async {
        let out = station
            .post(
                "/api/auth/logout",
                Some(session.access_token.expose()),
                &body,
            )
            .await;
        assert_eq!(out.status, StatusCode::NO_CONTENT);
    };
    stream_outlives(
        &station,
        session.access_token.expose(),
        sign_out,
        Duration::from_secs(5),
    )
    .await;
}

#[tokio::test]
async fn an_event_stream_ends_when_its_token_expires() {
    let station = TestStation::builder()
        .with_config(|c| c.access_token_ttl = Duration::from_secs(3))
        .start()
        .await;
    let session = station.login(TECH).await;
    let opened = Instant::now();
    stream_outlives(
        &station,
        session.access_token.expose(),
        async {},
        Duration::from_secs(8),
    )
    .await;
    assert!(
        opened.elapsed() >= Duration::from_secs(1),
        "ended at expiry, not at once"
    );
}

#[tokio::test]
async fn an_event_stream_ends_when_an_administrator_disables_the_account() {
    let station = TestStation::start().await;
    let tech = station.token(TECH).await;
    let admin = station.token(ADMIN).await;
    let disable = async {
        let answer = station
            .post("/api/users/tech/disable", Some(&admin), &json!({}))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    };
    stream_outlives(&station, &tech, disable, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_sign_in_ends_at_its_lifetime_however_often_refreshed() {
    let lifetime = Duration::from_secs(3);
    let station = TestStation::builder()
        .with_config(move |c| c.session_lifetime = lifetime)
        .start()
        .await;
    let signed_in = Instant::now();
    let mut session: Session = station.login(TECH).await;
    let shift_end = session.refresh_expires_at;
    assert!(session.access_expires_at <= shift_end);
    let mut refreshes = 0;
    loop {
        let answer = station
            .post(
                "/api/auth/refresh",
                None,
                &json!({ "refreshToken": session.refresh_token }),
            )
            .await;
        if answer.status != StatusCode::OK {
            assert_eq!(answer.code(), ErrorCode::SessionExpired);
            break;
        }
        session = answer.json();
        assert!(
            session.refresh_expires_at <= shift_end,
            "a refresh extended the sign-in"
        );
        assert!(session.access_expires_at <= shift_end);
        refreshes += 1;
        assert!(
            signed_in.elapsed() < lifetime + Duration::from_secs(2),
            "still refreshing"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(refreshes >= 5, "refreshed only {refreshes} times");
    assert_eq!(
        station
            .get("/api/auth/me", session.access_token.expose())
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // A new sign-in starts a new shift.
    assert_eq!(station.try_login(TECH).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_administrator_ends_sessions_and_disables_and_enables_accounts() {
    let station = TestStation::start().await;
    let admin = station.token(ADMIN).await;
    let session = station.login(TECH).await;
    let other = station.token(TECH2).await;

    let ended = station
        .post("/api/users/tech/sessions/end", Some(&admin), &json!({}))
        .await;
    assert_eq!(ended.status, StatusCode::OK);
    assert_eq!(
        station
            .get("/api/auth/me", session.access_token.expose())
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let refresh = json!({ "refreshToken": session.refresh_token });
    assert_eq!(
        station
            .post("/api/auth/refresh", None, &refresh)
            .await
            .code(),
        ErrorCode::SessionExpired
    );
    // Only that user's sessions.
    assert_eq!(
        station.get("/api/auth/me", &other).await.status,
        StatusCode::OK
    );

    let tech = station.token(TECH).await;
    let disabled = station
        .post("/api/users/tech/disable", Some(&admin), &json!({}))
        .await;
    assert_eq!(disabled.status, StatusCode::OK);
    assert_eq!(
        station.get("/api/auth/me", &tech).await.status,
        StatusCode::UNAUTHORIZED
    );
    let refused = station.try_login(TECH).await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::FORBIDDEN, ErrorCode::AccountDisabled)
    );
    // A wrong password says nothing about the account's state.
    assert_eq!(
        station.try_login((TECH.0, "wrong password")).await.code(),
        ErrorCode::InvalidCredentials
    );

    let enabled = station
        .post("/api/users/tech/enable", Some(&admin), &json!({}))
        .await;
    assert_eq!(enabled.status, StatusCode::OK);
    assert_eq!(station.try_login(TECH).await.status, StatusCode::OK);

    let unknown = station
        .post("/api/users/nobody/disable", Some(&admin), &json!({}))
        .await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (StatusCode::NOT_FOUND, ErrorCode::UnknownUser)
    );
    let own = station
        .post("/api/users/admin/disable", Some(&admin), &json!({}))
        .await;
    assert_eq!(own.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn technicians_cannot_end_sessions_or_disable_accounts() {
    let station = TestStation::start().await;
    let tech = station.token(TECH).await;
    for path in [
        "/api/users/tech2/sessions/end",
        "/api/users/tech2/disable",
        "/api/users/tech2/enable",
        "/api/users/tech/disable",
    ] {
        let answer = station.post(path, Some(&tech), &json!({})).await;
        assert_eq!(
            (answer.status, answer.code()),
            (StatusCode::FORBIDDEN, ErrorCode::ForbiddenRole),
            "{path}"
        );
    }
    assert_eq!(station.try_login(TECH2).await.status, StatusCode::OK);
}
