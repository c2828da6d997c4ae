//! The Central Station client, session and pairing workflow against a real
//! HTTPS server on loopback (see `fake_station`).

mod fake_station;

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use fake_station::{Behaviour, FakeStation, JOB_ID, Pki, USER};
use time::OffsetDateTime;
use zpair_core::client::{StationClient, StationTrust, TrustAnchor, probe_station};
use zpair_core::error::UserFacing;
use zpair_core::pairing::{self, NextAction, PairTarget, PairingOutcome, PairingPhase};
use zpair_core::secret_store::{MemorySecretStore, SecretStore};
use zpair_core::session::{SessionError, TechnicianSession};
use zpair_proto::api::{FailureReason, JobState};
use zpair_proto::{ErrorCode, PairingCode, QrPayload, Redacted};

fn client(station: &FakeStation, anchor: TrustAnchor) -> StationClient {
    StationClient::new(StationTrust {
        url: station.url.clone(),
        anchor,
    })
    .expect("client")
}

async fn start(behaviour: Behaviour) -> (Pki, FakeStation) {
    let pki = Pki::new("Test Hospital CA");
    let station = FakeStation::start(&pki, behaviour).await;
    (pki, station)
}

async fn signed_in(
    station: &FakeStation,
    pki: &Pki,
) -> (TechnicianSession, Arc<MemorySecretStore>) {
    let store = Arc::new(MemorySecretStore::default());
    let session = TechnicianSession::new(
        client(station, TrustAnchor::CaPem(pki.ca_pem.clone())),
        store.clone(),
    );
    session.login(USER.0, USER.1).await.expect("login");
    (session, store)
}

/// Signed in with a client that calls a stream quiet after 300 ms.
async fn impatient_session(station: &FakeStation, pki: &Pki) -> TechnicianSession {
    let client = client(station, TrustAnchor::CaPem(pki.ca_pem.clone()))
        .with_stream_idle_timeout(Duration::from_millis(300));
    let session = TechnicianSession::new(client, Arc::new(MemorySecretStore::default()));
    session.login(USER.0, USER.1).await.expect("login");
    session
}

fn stored(store: &MemorySecretStore, session: &TechnicianSession) -> Option<String> {
    store
        .get(session.client().station_url())
        .expect("store")
        .map(|s| s.expose().clone())
}

// ----- trust -------------------------------------------------------------------

#[tokio::test]
async fn ca_trust_accepts_the_station_and_refuses_a_certificate_from_another_ca() {
    let (pki, station) = start(Behaviour::default()).await;
    client(&station, TrustAnchor::CaPem(pki.ca_pem.clone()))
        .health()
        .await
        .expect("the hospital CA's station is trusted");

    let other = Pki::new("Some Other CA");
    let refused = client(&station, TrustAnchor::CaPem(other.ca_pem.clone()))
        .health()
        .await
        .expect_err("a station certificate from another CA");
    assert_eq!(refused.code(), ErrorCode::StationUntrusted, "{refused:?}");
    assert!(refused.message().contains("set up trust again"));
}

#[tokio::test]
async fn fingerprint_trust_accepts_the_pinned_certificate_and_refuses_another() {
    let (pki, station) = start(Behaviour::default()).await;
    let grouped = zpair_core::client::format_fingerprint(&pki.station_fingerprint());
    client(&station, TrustAnchor::Fingerprint(grouped))
        .health()
        .await
        .expect("the pinned certificate is trusted, whoever issued it");

    let other = Pki::new("Test Hospital CA");
    let refused = client(
        &station,
        TrustAnchor::Fingerprint(other.station_fingerprint()),
    )
    .health()
    .await
    .expect_err("a different certificate");
    assert_eq!(refused.code(), ErrorCode::StationUntrusted, "{refused:?}");
}

#[tokio::test]
async fn setting_up_trust_checks_the_anchor_against_the_live_station() {
    let (pki, station) = start(Behaviour::default()).await;
    let by_ca = zpair_core::trust::by_ca(&station.url, &pki.ca_pem)
        .await
        .expect("the station chains to the CA given");
    assert!(by_ca.anchor.subject.contains("Test Hospital CA"));
    assert_eq!(by_ca.trust.anchor, TrustAnchor::CaPem(pki.ca_pem.clone()));

    let pinned = zpair_core::trust::by_fingerprint(&station.url, &pki.station_fingerprint())
        .await
        .expect("the station presents the fingerprint given");
    assert_eq!(pinned.anchor.fingerprint, pki.station_fingerprint());

    // Another certificate's fingerprint: refused, and the message does not
    // show the one presented, which a technician could copy into the field.
    let other = Pki::new("Test Hospital CA").station_fingerprint();
    let refused = zpair_core::trust::by_fingerprint(&station.url, &other)
        .await
        .expect_err("not the station's fingerprint");
    assert_eq!(refused.code(), ErrorCode::StationUntrusted);
    let presented = pki.station_fingerprint();
    let shown = refused
        .message()
        .to_ascii_lowercase()
        .replace([':', ' '], "");
    assert!(!shown.contains(&presented[..16]), "{}", refused.message());

    let refused = zpair_core::trust::by_ca(&station.url, "not a certificate")
        .await
        .expect_err("not a CA file");
    assert_eq!(refused.code(), ErrorCode::InvalidTrustAnchor);
}

#[tokio::test]
async fn probing_shows_the_certificate_the_station_presents() {
    let (pki, station) = start(Behaviour::default()).await;
    let info = probe_station(&station.url).await.expect("probe");
    assert_eq!(info.fingerprint, pki.station_fingerprint());
    assert!(info.subject.contains("Central Station"), "{}", info.subject);
    assert!(info.issuer.contains("Test Hospital CA"), "{}", info.issuer);
    assert!(info.not_after > OffsetDateTime::now_utc());
}

#[tokio::test]
async fn a_closed_port_is_station_unreachable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let client = StationClient::new(StationTrust {
        url: format!("https://127.0.0.1:{port}"),
        anchor: TrustAnchor::Fingerprint("00".repeat(32)),
    })
    .expect("client");
    let e = client.health().await.expect_err("nothing listens");
    assert_eq!(e.code(), ErrorCode::StationUnreachable, "{e:?}");
    let e = probe_station(&format!("https://127.0.0.1:{port}"))
        .await
        .expect_err("probe");
    assert_eq!(e.code(), ErrorCode::StationUnreachable);
}

// ----- session -----------------------------------------------------------------

#[tokio::test]
async fn wrong_credentials_pass_the_stations_code_through() {
    let (pki, station) = start(Behaviour::default()).await;
    let store = Arc::new(MemorySecretStore::default());
    let session = TechnicianSession::new(
        client(&station, TrustAnchor::CaPem(pki.ca_pem.clone())),
        store.clone(),
    );
    let e = session.login(USER.0, "wrong").await.expect_err("refused");
    assert_eq!(e.code(), ErrorCode::InvalidCredentials);
    assert!(stored(&store, &session).is_none());
    assert!(matches!(
        session.access_token().await,
        Err(SessionError::NotSignedIn)
    ));
}

#[tokio::test]
async fn a_token_near_expiry_is_refreshed_before_use_and_stored() {
    let (pki, station) = start(Behaviour {
        access_lifetime: time::Duration::seconds(30),
        ..Behaviour::default()
    })
    .await;
    let (session, store) = signed_in(&station, &pki).await;
    let before = stored(&store, &session).expect("stored at login");
    assert!(before.contains("access-1") && before.contains("refresh-1"));

    let token = session.access_token().await.expect("token");
    assert_eq!(
        station.refreshes(),
        1,
        "30 s left is inside the refresh margin"
    );
    assert_eq!(token.expose(), "access-2");
    let after = stored(&store, &session).expect("stored after refresh");
    assert!(after.contains("refresh-2") && !after.contains("refresh-1"));
    session.me().await.expect("the fresh token works");
}

#[tokio::test]
async fn a_refused_access_token_is_refreshed_once_and_the_call_retried() {
    let (pki, station) = start(Behaviour::default()).await;
    let (session, _store) = signed_in(&station, &pki).await;
    session.me().await.expect("works");
    assert_eq!(
        station.refreshes(),
        0,
        "a token with 15 min left is used as is"
    );

    station.revoke_access_tokens();
    let account = session.me().await.expect("refreshed after the 401");
    assert_eq!(account.username, USER.0);
    assert_eq!(station.refreshes(), 1);
}

#[tokio::test]
async fn a_refused_refresh_ends_the_session_and_deletes_the_stored_entry() {
    let (pki, station) = start(Behaviour {
        access_lifetime: time::Duration::seconds(10),
        ..Behaviour::default()
    })
    .await;
    let (session, store) = signed_in(&station, &pki).await;
    station.revoke_refresh_tokens();
    let e = session.access_token().await.expect_err("refresh refused");
    assert!(matches!(e, SessionError::Expired), "{e:?}");
    assert_eq!(e.code(), ErrorCode::SessionExpired);
    assert_eq!(e.message(), "Your session ended. Sign in again.");
    assert!(stored(&store, &session).is_none(), "the entry is gone");
    assert!(session.account().await.is_none());
}

#[tokio::test]
async fn a_stored_session_is_restored_by_a_new_process() {
    let (pki, station) = start(Behaviour::default()).await;
    let (session, store) = signed_in(&station, &pki).await;
    drop(session);
    let again = TechnicianSession::new(
        client(&station, TrustAnchor::CaPem(pki.ca_pem.clone())),
        store.clone(),
    );
    let account = again
        .restore()
        .await
        .expect("restore")
        .expect("a stored session");
    assert_eq!(account.username, USER.0);
    again.me().await.expect("its token works");
}

#[tokio::test]
async fn logout_revokes_the_tokens_and_deletes_the_stored_entry() {
    let (pki, station) = start(Behaviour::default()).await;
    let (session, store) = signed_in(&station, &pki).await;
    assert!(stored(&store, &session).is_some());
    session.logout().await.expect("logout");
    assert_eq!(station.logouts(), 1);
    assert!(
        !station.any_token_valid(),
        "the station revoked both tokens"
    );
    assert!(stored(&store, &session).is_none());
    assert!(matches!(
        session.access_token().await,
        Err(SessionError::NotSignedIn)
    ));
}

// ----- job following -----------------------------------------------------------

async fn start_job(session: &TechnicianSession) {
    let request = zpair_proto::api::PairRequest {
        device_id: "ZM-1".into(),
        pairing_code: "ABC-DEF-GHJ".into(),
        pairing_token: None,
        ip_address: None,
    };
    let token = session.access_token().await.expect("token");
    let accepted = session.client().pair(&token, &request).await.expect("202");
    assert_eq!(accepted.job_id, JOB_ID);
}

async fn follow(session: &TechnicianSession) -> (Vec<JobState>, Result<JobState, ErrorCode>) {
    let token = session.access_token().await.expect("token");
    let mut states = Vec::new();
    let end = session
        .client()
        .follow_job(&token, JOB_ID, |e| states.push(e.state))
        .await;
    (states, end.map(|e| e.state).map_err(|e| e.code()))
}

#[tokio::test]
async fn following_a_job_reports_each_step_until_the_end() {
    let (pki, station) = start(Behaviour::default()).await;
    let (session, _) = signed_in(&station, &pki).await;
    start_job(&session).await;
    let (states, end) = follow(&session).await;
    assert_eq!(
        states,
        [
            JobState::Pairing,
            JobState::Configuring,
            JobState::Validating,
            JobState::Provisioned
        ]
    );
    assert_eq!(end, Ok(JobState::Provisioned));
    assert_eq!(station.subscriptions(), 1);
}

#[tokio::test]
async fn a_dropped_stream_is_resumed_once_without_repeating_steps() {
    let (pki, station) = start(Behaviour {
        drops: 1,
        ..Behaviour::default()
    })
    .await;
    let (session, _) = signed_in(&station, &pki).await;
    start_job(&session).await;
    let (states, end) = follow(&session).await;
    assert_eq!(
        states,
        [
            JobState::Pairing,
            JobState::Configuring,
            JobState::Validating,
            JobState::Provisioned
        ]
    );
    assert_eq!(end, Ok(JobState::Provisioned));
    assert_eq!(station.subscriptions(), 2);
}

/// A job that waits long for its turn (behind others for one of the
/// station's exchange slots) sends no event for a while, only the station's
/// keep-alive comments: the stream is alive, and is not given up.
#[tokio::test]
async fn a_quiet_stream_with_keep_alives_is_followed_to_the_end() {
    let (pki, station) = start(Behaviour {
        keep_alives_first: (8, Duration::from_millis(100)),
        ..Behaviour::default()
    })
    .await;
    let session = impatient_session(&station, &pki).await;
    start_job(&session).await;
    let (states, end) = follow(&session).await;
    assert_eq!(end, Ok(JobState::Provisioned), "{states:?}");
    assert_eq!(station.subscriptions(), 1, "never resubscribed");
}

/// A stream that stays alive but never brings the job's end (its event
/// went astray) does not keep the technician waiting: once it has been
/// quiet for the idle timeout, the job's record says the job has ended.
#[tokio::test]
async fn a_live_stream_that_never_brings_the_end_is_checked_against_the_job() {
    let (pki, station) = start(Behaviour {
        last_event_lost: Some(Duration::from_millis(100)),
        ..Behaviour::default()
    })
    .await;
    let session = impatient_session(&station, &pki).await;
    start_job(&session).await;
    let (states, end) = tokio::time::timeout(Duration::from_secs(30), follow(&session))
        .await
        .expect("the wait ended");
    assert_eq!(end, Ok(JobState::Provisioned), "{states:?}");
    assert_eq!(station.subscriptions(), 1, "never resubscribed");
}

#[tokio::test]
async fn a_stream_dropped_twice_is_reported_as_lost() {
    let (pki, station) = start(Behaviour {
        drops: 2,
        ..Behaviour::default()
    })
    .await;
    let (session, _) = signed_in(&station, &pki).await;
    start_job(&session).await;
    let (states, end) = follow(&session).await;
    assert_eq!(
        states,
        [
            JobState::Pairing,
            JobState::Configuring,
            JobState::Validating
        ]
    );
    assert_eq!(end, Err(ErrorCode::StatusStreamLost));
}

// ----- pairing workflow ----------------------------------------------------------

fn scanned_target() -> PairTarget {
    let code = PairingCode::parse("ABC-DEF-GHJ").expect("code");
    let payload = QrPayload::new(
        "ZM-QR-1",
        "SN-1",
        "127.0.0.9".parse().expect("ip"),
        &code,
        &[5u8; 16],
        OffsetDateTime::now_utc() + time::Duration::minutes(5),
        "1.0.0",
    );
    let scanned =
        zpair_core::qr::validate(&payload.to_json(), OffsetDateTime::now_utc()).expect("valid QR");
    PairTarget::Scanned(scanned)
}

#[tokio::test]
async fn pairing_a_scanned_monitor_sends_token_and_address_and_reports_every_phase() {
    let (pki, station) = start(Behaviour::default()).await;
    let (session, _) = signed_in(&station, &pki).await;
    let mut phases = Vec::new();
    let outcome = pairing::pair(&session, scanned_target(), |p| phases.push(p.phase))
        .await
        .expect("pairs");
    assert_eq!(
        outcome,
        PairingOutcome::Provisioned {
            job_id: JOB_ID.into(),
            device_id: "ZM-QR-1".into()
        }
    );
    assert_eq!(
        phases,
        [
            PairingPhase::Checking,
            PairingPhase::Submitting,
            PairingPhase::Pairing,
            PairingPhase::Configuring,
            PairingPhase::Validating,
            PairingPhase::Provisioned
        ]
    );
    let sent = station.pair_requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].device_id, "ZM-QR-1");
    assert_eq!(sent[0].pairing_code.expose(), "ABC-DEF-GHJ");
    assert_eq!(
        sent[0].pairing_token.as_ref().map(Redacted::expose),
        Some(&zpair_proto::b64::encode([5u8; 16]))
    );
    assert_eq!(sent[0].ip_address.as_deref(), Some("127.0.0.9"));
}

#[tokio::test]
async fn a_failed_job_is_an_outcome_with_the_tables_message_and_next_action() {
    let (pki, station) = start(Behaviour {
        job: vec![
            (JobState::Pairing, None),
            (JobState::Failed, Some(FailureReason::CodeMismatch)),
        ],
        ..Behaviour::default()
    })
    .await;
    let (session, _) = signed_in(&station, &pki).await;
    let target = PairTarget::Typed {
        device_id: "ZM-TYPED-1".into(),
        code: PairingCode::parse("abc def ghj").expect("code"),
    };
    let outcome = pairing::pair(&session, target, |_| {})
        .await
        .expect("the job ran");
    assert_eq!(
        outcome,
        PairingOutcome::Failed {
            job_id: JOB_ID.into(),
            reason: FailureReason::CodeMismatch,
            message: FailureReason::CodeMismatch.message().into(),
            next_action: NextAction::ReenterCode,
        }
    );
    let sent = station.pair_requests();
    assert_eq!(sent[0].pairing_code.expose(), "ABC-DEF-GHJ");
    assert!(sent[0].pairing_token.is_none());
    assert_eq!(sent[0].ip_address, None);
}

#[tokio::test]
async fn a_refused_pair_request_is_an_error_with_the_stations_code() {
    let (pki, station) = start(Behaviour {
        refuse_pair: Some((StatusCode::NOT_FOUND, ErrorCode::UnknownDevice)),
        ..Behaviour::default()
    })
    .await;
    let (session, _) = signed_in(&station, &pki).await;
    let e = pairing::pair(&session, scanned_target(), |_| {})
        .await
        .expect_err("refused");
    assert_eq!(e.code(), ErrorCode::UnknownDevice);
    assert_eq!(
        e.next_action(zpair_core::pairing::Entry::Scanned),
        Some(NextAction::CallIt)
    );
    assert_eq!(station.subscriptions(), 0);
}

#[tokio::test]
async fn an_expired_scan_is_refused_before_anything_is_sent() {
    let (pki, station) = start(Behaviour::default()).await;
    let (session, _) = signed_in(&station, &pki).await;
    let PairTarget::Scanned(mut scanned) = scanned_target() else {
        unreachable!("scanned_target scans");
    };
    scanned.expires_at = OffsetDateTime::now_utc() - time::Duration::minutes(1);
    let e = pairing::pair(&session, PairTarget::Scanned(scanned), |_| {})
        .await
        .expect_err("expired");
    assert_eq!(e.code(), ErrorCode::QrExpired);
    assert!(station.pair_requests().is_empty());
}
