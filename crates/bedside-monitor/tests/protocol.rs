//! The monitor's side of the pairing protocol over real HTTPS and mTLS on
//! loopback, with the station played by the test (zpair_proto + rcgen): the
//! good exchange, every refusal the monitor can give, re-provisioning and
//! restarts.

mod support;

use std::os::unix::fs::PermissionsExt as _;
use std::time::Duration;
use zpair_proto::ErrorCode;

use bedside_monitor::Monitor;
use bedside_monitor::events::{Event, EventType};
use time::OffsetDateTime;
use zpair_proto::crypto;
use zpair_proto::device::{CommandKind, MonitorState};

use support::{Push, Station, eventually, monitor_config, other_code, scan, start_monitor};

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

fn events(monitor: &Monitor) -> Vec<Event> {
    let text = std::fs::read_to_string(monitor.data_dir().events()).expect("event log");
    text.lines()
        .map(|l| serde_json::from_str(l).expect("event line"))
        .collect()
}

fn has_event(monitor: &Monitor, event_type: EventType, success: bool) -> bool {
    events(monitor)
        .iter()
        .any(|e| e.event_type == event_type && e.success == success)
}

/// Pairs `monitor` from its screen and checks it reached PROVISIONED.
async fn pair_from_screen(monitor: &Monitor, station: &Station) {
    let (code, token) = scan(monitor);
    let (configured, committed) = Push::to(monitor, &station.key)
        .pair(station, &code, Some(&token))
        .await;
    assert_eq!(configured.status, 200, "{configured:?}");
    let committed = committed.expect("commit ran");
    assert_eq!(committed.status, 200, "{committed:?}");
    assert_eq!(monitor.state(), MonitorState::Provisioned);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_good_exchange_reaches_provisioned_and_heartbeats_arrive() {
    let root = tempfile::tempdir().expect("temp");
    let station = Station::start().await;
    let monitor = start_monitor(root.path(), "ZM-GOOD-01", &station).await;
    let mut states = monitor.watch_state();
    let screen = monitor
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    assert!(screen.qr_png_path.exists(), "the QR is on the screen");
    let (code, token) = scan(&monitor);
    let push = Push::to(&monitor, &station.key);

    let (configured, committed) = push.pair(&station, &code, Some(&token)).await;
    assert_eq!(
        (configured.status, configured.body["state"].as_str()),
        (200, Some("TESTING_CONNECTION"))
    );
    let committed = committed.expect("commit ran");
    assert_eq!(
        (committed.status, committed.body["state"].as_str()),
        (200, Some("PROVISIONED"))
    );
    assert_eq!(monitor.state(), MonitorState::Provisioned);

    assert!(states.has_changed().unwrap_or(false), "watchers are told");
    assert_eq!(*states.borrow_and_update(), MonitorState::Provisioned);

    let applied = monitor.configuration().expect("committed configuration");
    assert_eq!(applied.server_url, station.url);
    assert_eq!(applied.device_label, "LABEL-ZM-GOOD-01");
    assert_eq!(applied.bed_id, "BED-ZM-GOOD-01");
    assert!(!applied.certificate_serial.is_empty());

    // Certificates and key on disk: files 0600, folders 0700.
    let certs = monitor.data_dir().certificates();
    assert_eq!(mode(&certs), 0o700);
    let generations: Vec<_> = std::fs::read_dir(&certs)
        .expect("certs")
        .flatten()
        .collect();
    assert_eq!(generations.len(), 1);
    assert_eq!(mode(&generations[0].path()), 0o700);
    for file in std::fs::read_dir(generations[0].path())
        .expect("files")
        .flatten()
    {
        assert_eq!(mode(&file.path()), 0o600, "{}", file.path().display());
    }
    assert_eq!(mode(&monitor.data_dir().configuration()), 0o600);

    // The connection test, then heartbeats over mTLS.
    eventually("heartbeats after the connection test", || {
        std::future::ready(station.received().len() >= 3)
    })
    .await;
    let beats = station.received();
    assert!(
        beats[0].connection_test,
        "the first one is the connection test"
    );
    assert!(beats[1..].iter().all(|b| !b.connection_test));
    assert!(beats.last().map(|b| b.bytes_sent).unwrap_or(0) > 0);

    // The code was used once: the screen is blank and the monitor is out of provisioning mode.
    assert!(monitor.screen().is_none());
    assert!(!monitor.data_dir().screen_qr_json().exists());
    let again = push.challenge().await.err().expect("refused");
    assert_eq!(
        (again.status, again.code()),
        (409, ErrorCode::NotInProvisioningMode)
    );

    // The event log tells the story and never the secrets.
    let trail: Vec<EventType> = events(&monitor)
        .iter()
        .filter(|e| e.success)
        .map(|e| e.event_type)
        .collect();
    for expected in [
        EventType::ProvisioningModeEntered,
        EventType::PairingCodeGenerated,
        EventType::PairingCodeValidated,
        EventType::ConfigurationReceived,
        EventType::ConfigurationApplied,
        EventType::ConnectionTested,
        EventType::ProvisioningCompleted,
    ] {
        assert!(
            trail.contains(&expected),
            "{expected:?} missing from {trail:?}"
        );
    }
    let log = std::fs::read_to_string(monitor.data_dir().events()).expect("log");
    assert!(!log.contains(code.canonical()) && !log.contains(&code.display()));
    assert!(!log.contains(&zpair_proto::b64::encode(&token)));
    assert!(!log.contains("PRIVATE KEY"));
    monitor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stranger_flooding_challenge_and_configure_disturbs_no_pairing_and_spends_no_attempt() {
    let root = tempfile::tempdir().expect("temp");
    let station = Station::start().await;
    let monitor = start_monitor(root.path(), "ZM-FLOOD-01", &station).await;
    monitor
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    let (code, token) = scan(&monitor);
    let push = Push::to(&monitor, &station.key);
    let stranger_key = crypto::generate_signing_key().expect("key");
    let stranger = Push::to(&monitor, &stranger_key);

    // The station's exchange is under way when the flood starts.
    let challenged = push.challenge().await.expect("challenge");
    let certificate = station.issue(&challenged.response.csr_pem);
    let signed = crypto::sign_configuration(
        &station.key,
        station.configuration(&push.record.device_id, certificate),
    );
    let wrong = other_code(&code);
    // Twice the attempts that would close provisioning mode.
    for _ in 0..10 {
        let refused = stranger.challenge().await.err().expect("refused");
        assert_eq!(
            (refused.status, refused.code()),
            (401, ErrorCode::SignatureInvalid)
        );
        let refused = stranger
            .configure(&challenged, &wrong, Some(&token), &signed)
            .await;
        assert_eq!(
            (refused.status, refused.code()),
            (401, ErrorCode::SignatureInvalid)
        );
        let request = zpair_proto::device::ChallengeRequest {
            device_id: push.record.device_id.clone(),
            challenge: zpair_proto::b64::encode([1u8; 32]),
        };
        let refused = stranger
            .post_unsigned("/provisioning/challenge", &request)
            .await;
        assert_eq!(refused.status, 401, "{refused:?}");
        let refused = stranger
            .post_unsigned("/provisioning/configure", &serde_json::json!({}))
            .await;
        assert_eq!(refused.status, 401, "{refused:?}");
    }
    assert_eq!(monitor.state(), MonitorState::ReadyToPair);

    let configured = push
        .configure(&challenged, &code, Some(&token), &signed)
        .await;
    assert_eq!(configured.status, 200, "{configured:?}");
    let committed = push.commit(&challenged).await;
    assert_eq!(committed.status, 200, "{committed:?}");
    assert_eq!(monitor.state(), MonitorState::Provisioned);
    assert!(
        !has_event(&monitor, EventType::PairingCodeValidated, false),
        "no attempt was spent"
    );
    monitor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replayed_station_request_is_refused_and_changes_nothing() {
    let root = tempfile::tempdir().expect("temp");
    let station = Station::start().await;
    let monitor = start_monitor(root.path(), "ZM-REPLAY-01", &station).await;
    monitor
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    let push = Push::to(&monitor, &station.key);
    let request = zpair_proto::device::ChallengeRequest {
        device_id: push.record.device_id.clone(),
        challenge: zpair_proto::b64::encode([1u8; 32]),
    };
    let (first, replayed) = push.post_twice("/provisioning/challenge", &request).await;
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!(
        (replayed.status, replayed.code()),
        (401, ErrorCode::SignatureInvalid)
    );
    assert_eq!(monitor.state(), MonitorState::ReadyToPair);
    pair_from_screen(&monitor, &station).await;
    monitor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_typed_code_without_a_token_pairs_too() {
    let root = tempfile::tempdir().expect("temp");
    let station = Station::start().await;
    let monitor = start_monitor(root.path(), "ZM-TYPED-01", &station).await;
    let screen = monitor
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    let (configured, committed) = Push::to(&monitor, &station.key)
        .pair(&station, &screen.code, None)
        .await;
    assert_eq!(configured.status, 200, "{configured:?}");
    assert_eq!(committed.map(|c| c.status), Some(200));
    assert_eq!(monitor.state(), MonitorState::Provisioned);
    monitor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_codes_are_code_mismatch_and_the_fifth_closes_provisioning_mode() {
    let root = tempfile::tempdir().expect("temp");
    let station = Station::start().await;
    let monitor = start_monitor(root.path(), "ZM-WRONG-01", &station).await;
    monitor
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    let (code, token) = scan(&monitor);
    let wrong = other_code(&code);
    let push = Push::to(&monitor, &station.key);
    let mut codes = Vec::new();
    for _ in 0..5 {
        let (answer, committed) = push.pair(&station, &wrong, Some(&token)).await;
        assert!(committed.is_none());
        codes.push((answer.status, answer.code()));
        if codes.len() < 5 {
            assert_eq!(
                monitor.state(),
                MonitorState::ReadyToPair,
                "still in provisioning mode"
            );
        }
    }
    assert_eq!(codes[..4], vec![(403, ErrorCode::CodeMismatch); 4][..]);
    assert_eq!(codes[4], (403, ErrorCode::ProvisioningClosed));
    assert_eq!(monitor.state(), MonitorState::Unprovisioned);
    assert!(monitor.screen().is_none());
    assert!(
        !monitor.data_dir().screen_qr_png().exists(),
        "the QR is gone"
    );
    // The right code no longer works.
    let (answer, _) = push.pair(&station, &code, Some(&token)).await;
    assert_eq!(
        (answer.status, answer.code()),
        (409, ErrorCode::NotInProvisioningMode)
    );
    assert!(has_event(&monitor, EventType::PairingCodeValidated, false));
    assert!(has_event(&monitor, EventType::ProvisioningFailed, false));
    monitor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_token_is_token_stale_and_not_a_wrong_attempt() {
    let root = tempfile::tempdir().expect("temp");
    let station = Station::start().await;
    let mut config = monitor_config(root.path(), "ZM-STALE-01");
    config.max_failed_attempts = 2;
    let monitor = Monitor::start(config).await.expect("start");
    monitor.trust_station(&station.public_key()).expect("trust");
    monitor
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    let (code, token) = scan(&monitor);
    let push = Push::to(&monitor, &station.key);
    let unknown = crypto::random_bytes::<16>().expect("token");
    for _ in 0..3 {
        let (answer, _) = push.pair(&station, &code, Some(&unknown)).await;
        assert_eq!((answer.status, answer.code()), (409, ErrorCode::TokenStale));
    }
    assert_eq!(
        monitor.state(),
        MonitorState::ReadyToPair,
        "stale tokens do not close provisioning mode"
    );

    // Every token issued for the current code stays valid after a refresh.
    monitor.regenerate_qr().await.expect("regenerate");
    let (_, newer) = scan(&monitor);
    assert_ne!(newer, token);
    let (configured, committed) = push.pair(&station, &code, Some(&token)).await;
    assert_eq!(configured.status, 200, "{configured:?}");
    assert_eq!(committed.map(|c| c.status), Some(200));
    monitor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_of_a_cancelled_session_is_stale_and_of_an_expired_one_is_expired() {
    let root = tempfile::tempdir().expect("temp");
    let station = Station::start().await;
    let mut config = monitor_config(root.path(), "ZM-OLDTOKEN-01");
    config.code_lifetime = Duration::from_secs(2);
    let monitor = Monitor::start(config).await.expect("start");
    monitor.trust_station(&station.public_key()).expect("trust");
    let push = Push::to(&monitor, &station.key);

    monitor
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    let (old_code, old_token) = scan(&monitor);
    monitor.cancel_provisioning().await.expect("cancel");
    assert_eq!(monitor.state(), MonitorState::Unprovisioned);
    let screen = monitor.enter_provisioning_mode().await.expect("again");
    assert_ne!(screen.code, old_code, "a new session has a new code");
    let (answer, _) = push.pair(&station, &old_code, Some(&old_token)).await;
    assert_eq!((answer.status, answer.code()), (409, ErrorCode::TokenStale));

    // Let this code run out, then start a new session: its token is now an expired one.
    let (code, token) = scan(&monitor);
    sleep_past(screen.expires_at).await;
    eventually("provisioning mode ends with the code", || {
        std::future::ready(monitor.screen().is_none())
    })
    .await;
    monitor
        .enter_provisioning_mode()
        .await
        .expect("a third session");
    let (answer, _) = push.pair(&station, &code, Some(&token)).await;
    assert_eq!(
        (answer.status, answer.code()),
        (410, ErrorCode::CodeExpired)
    );
    monitor.shutdown().await;
}

async fn sleep_past(at: OffsetDateTime) {
    let wait = Duration::try_from(at - OffsetDateTime::now_utc()).unwrap_or(Duration::ZERO);
    tokio::time::sleep(wait + Duration::from_millis(200)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_code_is_code_expired() {
    let root = tempfile::tempdir().expect("temp");
    let station = Station::start().await;
    let mut config = monitor_config(root.path(), "ZM-EXPIRED-01");
    config.code_lifetime = Duration::from_secs(2);
    let monitor = Monitor::start(config).await.expect("start");
    monitor.trust_station(&station.public_key()).expect("trust");
    let screen = monitor
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    let (code, token) = scan(&monitor);
    let push = Push::to(&monitor, &station.key);
    // A challenge taken in time, the configuration sent after the code ran out.
    let challenged = push.challenge().await.expect("challenge in time");
    sleep_past(screen.expires_at).await;
    let certificate = station.issue(&challenged.response.csr_pem);
    let signed = crypto::sign_configuration(
        &station.key,
        station.configuration("ZM-EXPIRED-01", certificate),
    );
    let answer = push
        .configure(&challenged, &code, Some(&token), &signed)
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (410, ErrorCode::CodeExpired)
    );
    // And a new attempt with it as well.
    let refused = push.challenge().await.err().expect("refused");
    assert_eq!(
        (refused.status, refused.code()),
        (410, ErrorCode::CodeExpired)
    );
    assert_eq!(monitor.state(), MonitorState::Unprovisioned);
    assert!(monitor.screen().is_none());
    assert!(monitor.configuration().is_none());

    // What code_expired advises is what works: Regenerate QR Code has no
    // code left to redraw, entering provisioning mode again gives a new one
    // that pairs.
    let advice = ErrorCode::CodeExpired.message();
    assert!(advice.contains("Enter Provisioning Mode again"), "{advice}");
    assert!(!advice.contains("Regenerate"), "{advice}");
    assert!(
        matches!(
            monitor.regenerate_qr().await,
            Err(bedside_monitor::MonitorError::NotInProvisioningMode)
        ),
        "regenerating after expiry is refused"
    );
    let again = monitor
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode again");
    assert_ne!(again.code, code, "a new code");
    let (new_code, new_token) = scan(&monitor);
    let (configured, committed) = push.pair(&station, &new_code, Some(&new_token)).await;
    assert_eq!(configured.status, 200, "{configured:?}");
    assert_eq!(committed.map(|c| c.status), Some(200));
    assert_eq!(monitor.state(), MonitorState::Provisioned);
    monitor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tampered_configuration_is_signature_invalid_and_nothing_is_applied() {
    let root = tempfile::tempdir().expect("temp");
    let station = Station::start().await;
    let monitor = start_monitor(root.path(), "ZM-TAMPER-01", &station).await;
    monitor
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    let (code, token) = scan(&monitor);
    let push = Push::to(&monitor, &station.key);

    let challenged = push.challenge().await.expect("challenge");
    let certificate = station.issue(&challenged.response.csr_pem);
    let mut signed = crypto::sign_configuration(
        &station.key,
        station.configuration("ZM-TAMPER-01", certificate),
    );
    signed.configuration.server_url = "https://attacker.example:8443".into();
    let answer = push
        .configure(&challenged, &code, Some(&token), &signed)
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (400, ErrorCode::SignatureInvalid)
    );

    // Signed by another key: refused the same way.
    let challenged = push.challenge().await.expect("challenge");
    let certificate = station.issue(&challenged.response.csr_pem);
    let rogue = crypto::generate_signing_key().expect("rogue key");
    let signed =
        crypto::sign_configuration(&rogue, station.configuration("ZM-TAMPER-01", certificate));
    let answer = push
        .configure(&challenged, &code, Some(&token), &signed)
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (400, ErrorCode::SignatureInvalid)
    );

    // Authentic but expired before it arrived: config_expired, not a
    // forgery, with a message saying so.
    let challenged = push.challenge().await.expect("challenge");
    let certificate = station.issue(&challenged.response.csr_pem);
    let mut configuration = station.configuration("ZM-TAMPER-01", certificate);
    configuration.expires_at = OffsetDateTime::now_utc() - Duration::from_secs(1);
    let signed = crypto::sign_configuration(&station.key, configuration);
    let answer = push
        .configure(&challenged, &code, Some(&token), &signed)
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (400, ErrorCode::ConfigExpired)
    );
    assert!(
        answer.body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("expired"),
        "{answer:?}"
    );

    assert_eq!(
        monitor.state(),
        MonitorState::ReadyToPair,
        "back to ready, same code"
    );
    assert_eq!(monitor.screen().map(|s| s.code), Some(code));
    assert!(monitor.configuration().is_none());
    assert!(!monitor.data_dir().configuration().exists());
    let staged = std::fs::read_dir(monitor.data_dir().certificates())
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(staged, 0, "no certificate was kept");
    assert!(has_event(&monitor, EventType::ProvisioningFailed, false));
    assert!(station.received().is_empty());
    monitor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_certificate_for_another_key_is_certificate_invalid() {
    let root = tempfile::tempdir().expect("temp");
    let station = Station::start().await;
    let monitor = start_monitor(root.path(), "ZM-CERT-01", &station).await;
    monitor
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    let (code, token) = scan(&monitor);
    let push = Push::to(&monitor, &station.key);
    let challenged = push.challenge().await.expect("challenge");
    let certificate = station.issue_for_another_key("ZM-CERT-01");
    let signed = crypto::sign_configuration(
        &station.key,
        station.configuration("ZM-CERT-01", certificate),
    );
    let answer = push
        .configure(&challenged, &code, Some(&token), &signed)
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (400, ErrorCode::CertificateInvalid)
    );

    // A certificate from a CA other than the one pushed: refused too.
    let other = Station::start().await;
    let challenged = push.challenge().await.expect("challenge");
    let certificate = other.issue(&challenged.response.csr_pem);
    let signed = crypto::sign_configuration(
        &station.key,
        station.configuration("ZM-CERT-01", certificate),
    );
    let answer = push
        .configure(&challenged, &code, Some(&token), &signed)
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (400, ErrorCode::CertificateInvalid)
    );
    assert_eq!(monitor.state(), MonitorState::ReadyToPair);
    assert!(monitor.configuration().is_none());
    monitor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_connection_test_keeps_the_previous_configuration() {
    let root = tempfile::tempdir().expect("temp");
    let station = Station::start().await;
    let monitor = start_monitor(root.path(), "ZM-DEAD-01", &station).await;
    monitor
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    pair_from_screen(&monitor, &station).await;
    let before = monitor.configuration().expect("first configuration");
    let committed_file = std::fs::read(monitor.data_dir().configuration()).expect("commit file");

    // The station now pushes a server URL where nothing answers.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let dead_url = format!("https://{}", dead.local_addr().expect("addr"));
    drop(dead);
    let screen = monitor
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode again");
    let (code, token) = scan(&monitor);
    let push = Push::to(&monitor, &station.key);
    let challenged = push.challenge().await.expect("challenge");
    let certificate = station.issue(&challenged.response.csr_pem);
    let mut configuration = station.configuration("ZM-DEAD-01", certificate);
    configuration.server_url = dead_url;
    let signed = crypto::sign_configuration(&station.key, configuration);
    let configured = push
        .configure(&challenged, &code, Some(&token), &signed)
        .await;
    assert_eq!(configured.status, 200, "{configured:?}");
    let answer = push.commit(&challenged).await;
    assert_eq!(
        (answer.status, answer.code()),
        (502, ErrorCode::ConnectionTestFailed)
    );

    assert_eq!(
        monitor.configuration(),
        Some(before.clone()),
        "the old configuration stays in force"
    );
    assert_eq!(
        std::fs::read(monitor.data_dir().configuration()).expect("commit file"),
        committed_file
    );
    let generations = std::fs::read_dir(monitor.data_dir().certificates())
        .expect("certs")
        .count();
    assert_eq!(
        generations, 1,
        "the staged certificates are gone, the old ones kept"
    );
    assert_eq!(
        monitor.state(),
        MonitorState::ReadyToPair,
        "the technician can retry"
    );
    assert_eq!(
        monitor.screen().map(|s| s.code),
        Some(screen.code.clone()),
        "with the same code"
    );
    assert!(has_event(&monitor, EventType::ConnectionTested, false));
    assert!(has_event(&monitor, EventType::ProvisioningFailed, false));

    // The retry against the working station succeeds with the same code.
    let (configured, committed) = push.pair(&station, &code, Some(&token)).await;
    assert_eq!(configured.status, 200);
    assert_eq!(committed.map(|c| c.status), Some(200));
    let after = monitor.configuration().expect("new configuration");
    assert_ne!(after.certificate_serial, before.certificate_serial);
    monitor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_reprovision_command_returns_to_ready_keeping_every_other_data() {
    let root = tempfile::tempdir().expect("temp");
    let station = Station::start().await;
    let monitor = start_monitor(root.path(), "ZM-REPRO-01", &station).await;
    monitor
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    pair_from_screen(&monitor, &station).await;
    let dir = monitor.data_dir().clone();
    let kept = |d: &bedside_monitor::paths::DataDir| {
        [
            d.identity(),
            d.identity_key(),
            d.settings(),
            d.patient_data(),
        ]
        .map(|p| std::fs::read(p).expect("kept file"))
    };
    let before = kept(&dir);
    let record = monitor.registration_record();
    let configuration = monitor.configuration();
    let push = Push::to(&monitor, &station.key);

    // Unsigned, foreign-signed, stale: all refused.
    let mut forged = station.command(
        "ZM-REPRO-01",
        CommandKind::Reprovision,
        OffsetDateTime::now_utc(),
    );
    forged.signature = crypto::sign(&crypto::generate_signing_key().expect("key"), b"whatever");
    let stale = station.command(
        "ZM-REPRO-01",
        CommandKind::Reprovision,
        OffsetDateTime::now_utc() - Duration::from_secs(600),
    );
    for command in [&forged, &stale] {
        let answer = push.post("/provisioning/command", command).await;
        assert_eq!(
            (answer.status, answer.code()),
            (400, ErrorCode::SignatureInvalid)
        );
    }
    assert_eq!(monitor.state(), MonitorState::Provisioned);

    let command = station.command(
        "ZM-REPRO-01",
        CommandKind::Reprovision,
        OffsetDateTime::now_utc(),
    );
    let answer = push.post("/provisioning/command", &command).await;
    assert_eq!(
        (answer.status, answer.body["state"].as_str()),
        (200, Some("READY_TO_PAIR"))
    );
    assert_eq!(monitor.state(), MonitorState::ReadyToPair);
    assert!(monitor.screen().is_some(), "a new code is on the screen");
    assert!(dir.screen_qr_png().exists());
    assert!(has_event(&monitor, EventType::ReprovisioningStarted, true));

    // The same command again is a replay.
    let replay = push.post("/provisioning/command", &command).await;
    assert_eq!(
        (replay.status, replay.code()),
        (400, ErrorCode::SignatureInvalid)
    );

    assert_eq!(
        kept(&dir),
        before,
        "identity, settings and patient data untouched"
    );
    assert_eq!(monitor.registration_record(), record);
    assert_eq!(
        monitor.configuration(),
        configuration,
        "the old configuration stays until a new one commits"
    );

    pair_from_screen(&monitor, &station).await;
    assert_ne!(monitor.configuration(), configuration);
    assert_eq!(kept(&dir), before);
    monitor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deprovision_command_drops_the_configuration_and_keeps_patient_data() {
    let root = tempfile::tempdir().expect("temp");
    let station = Station::start().await;
    let monitor = start_monitor(root.path(), "ZM-DEPRO-01", &station).await;
    monitor
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    pair_from_screen(&monitor, &station).await;
    let patient = std::fs::read(monitor.data_dir().patient_data()).expect("patient data");
    let command = station.command(
        "ZM-DEPRO-01",
        CommandKind::Deprovision,
        OffsetDateTime::now_utc(),
    );
    let answer = Push::to(&monitor, &station.key)
        .post("/provisioning/command", &command)
        .await;
    assert_eq!(
        (answer.status, answer.body["state"].as_str()),
        (200, Some("DEPROVISIONED"))
    );
    assert_eq!(monitor.state(), MonitorState::Deprovisioned);
    assert!(monitor.configuration().is_none());
    assert!(!monitor.data_dir().certificates().exists());
    assert_eq!(
        std::fs::read(monitor.data_dir().patient_data()).expect("kept"),
        patient
    );
    monitor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_for_another_device_or_malformed_are_refused() {
    let root = tempfile::tempdir().expect("temp");
    let station = Station::start().await;
    let monitor = start_monitor(root.path(), "ZM-OTHER-01", &station).await;
    monitor
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    let push = Push::to(&monitor, &station.key);
    let answer = push
        .post(
            "/provisioning/challenge",
            &zpair_proto::device::ChallengeRequest {
                device_id: "ZM-SOMEONE-ELSE".into(),
                challenge: zpair_proto::b64::encode([1u8; 32]),
            },
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (400, ErrorCode::InvalidRequest)
    );
    let answer = push
        .post(
            "/provisioning/configure",
            &serde_json::json!({"nonsense": true}),
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (400, ErrorCode::InvalidRequest)
    );
    assert_eq!(monitor.state(), MonitorState::ReadyToPair);
    monitor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_keeps_the_configuration_and_heartbeats_resume() {
    let root = tempfile::tempdir().expect("temp");
    let station = Station::start().await;
    let monitor = start_monitor(root.path(), "ZM-RESTART-01", &station).await;
    monitor
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    pair_from_screen(&monitor, &station).await;
    let configuration = monitor.configuration();
    let record = monitor.registration_record();
    let addr = monitor.local_addr();
    monitor.shutdown().await;

    // Back on the same address and port, as a real monitor would be.
    let beats = station.received().len();
    let mut config = monitor_config(root.path(), "ZM-RESTART-01");
    config.port = addr.port();
    let again = Monitor::start(config)
        .await
        .expect("the same address binds again");
    assert_eq!(again.local_addr(), addr);
    assert_eq!(again.state(), MonitorState::Provisioned);
    assert_eq!(again.configuration(), configuration);
    assert_eq!(
        again.registration_record(),
        record,
        "same identity and serial"
    );
    eventually("heartbeats after the restart", || {
        std::future::ready(station.received().len() >= beats + 2)
    })
    .await;
    again.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_in_provisioning_mode_keeps_the_code_and_its_tokens() {
    let root = tempfile::tempdir().expect("temp");
    let station = Station::start().await;
    let monitor = start_monitor(root.path(), "ZM-RESTART-02", &station).await;
    monitor
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    let (code, token) = scan(&monitor);
    let push = Push::to(&monitor, &station.key);
    // One wrong attempt before the restart still counts after it.
    let (answer, _) = push.pair(&station, &other_code(&code), Some(&token)).await;
    assert_eq!(answer.code(), ErrorCode::CodeMismatch);
    monitor.shutdown().await;
    assert_eq!(
        mode(&root.path().join("pairing.json")),
        0o600,
        "the code file is private"
    );

    let mut config = monitor_config(root.path(), "ZM-RESTART-02");
    config.max_failed_attempts = 2;
    let again = Monitor::start(config).await.expect("restart");
    assert_eq!(again.state(), MonitorState::ReadyToPair);
    assert_eq!(again.screen().map(|s| s.code), Some(code.clone()));
    let push = Push::to(&again, &station.key);
    let (answer, _) = push.pair(&station, &other_code(&code), Some(&token)).await;
    assert_eq!(
        answer.code(),
        ErrorCode::ProvisioningClosed,
        "the attempt before the restart counted"
    );
    again
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode again");
    again.shutdown().await;

    // A new session survives a restart with its token, which still pairs.
    let again = start_monitor(root.path(), "ZM-RESTART-02", &station).await;
    let (code, token) = scan(&again);
    again.shutdown().await;
    let again = start_monitor(root.path(), "ZM-RESTART-02", &station).await;
    let (configured, committed) = Push::to(&again, &station.key)
        .pair(&station, &code, Some(&token))
        .await;
    assert_eq!(configured.status, 200, "{configured:?}");
    assert_eq!(committed.map(|c| c.status), Some(200));
    again.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_mid_configuration_goes_back_to_ready_without_a_half_applied_configuration() {
    let root = tempfile::tempdir().expect("temp");
    let station = Station::start().await;
    let monitor = start_monitor(root.path(), "ZM-RESTART-03", &station).await;
    monitor
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    let (code, token) = scan(&monitor);
    let push = Push::to(&monitor, &station.key);
    let challenged = push.challenge().await.expect("challenge");
    let certificate = station.issue(&challenged.response.csr_pem);
    let signed = crypto::sign_configuration(
        &station.key,
        station.configuration("ZM-RESTART-03", certificate),
    );
    let configured = push
        .configure(&challenged, &code, Some(&token), &signed)
        .await;
    assert_eq!(configured.status, 200);
    assert_eq!(monitor.state(), MonitorState::TestingConnection);
    // Stopped before the commit, as a power cut would.
    monitor.shutdown().await;

    let again = start_monitor(root.path(), "ZM-RESTART-03", &station).await;
    assert_eq!(again.state(), MonitorState::ReadyToPair);
    assert_eq!(again.screen().map(|s| s.code), Some(code.clone()));
    assert!(again.configuration().is_none());
    let staged = std::fs::read_dir(again.data_dir().certificates())
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(staged, 0, "the staged certificates were dropped");
    // The old challenge is gone with the process.
    let commit = Push::to(&again, &station.key).commit(&challenged).await;
    assert_eq!(commit.status, 400, "{commit:?}");
    again.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_qr_is_refreshed_with_a_new_token_for_the_same_code() {
    let root = tempfile::tempdir().expect("temp");
    let station = Station::start().await;
    let mut config = monitor_config(root.path(), "ZM-REFRESH-01");
    config.qr_refresh = Duration::from_millis(300);
    let monitor = Monitor::start(config).await.expect("start");
    monitor.trust_station(&station.public_key()).expect("trust");
    let first = monitor
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    let json = monitor.data_dir().screen_qr_json();
    eventually("a refreshed QR", || {
        std::future::ready({
            monitor
                .screen()
                .is_some_and(|s| s.payload.pairing_token != first.payload.pairing_token)
        })
    })
    .await;
    let now = monitor.screen().expect("screen");
    assert_eq!(now.code, first.code);
    eventually("the screen file follows", || {
        std::future::ready({
            std::fs::read_to_string(&json).is_ok_and(|t| !t.contains(&first.payload.pairing_token))
        })
    })
    .await;
    // The first token is still accepted.
    let token = zpair_proto::b64::decode(&first.payload.pairing_token).expect("token");
    let (configured, _) = Push::to(&monitor, &station.key)
        .pair(&station, &first.code, Some(&token))
        .await;
    assert_eq!(configured.status, 200, "{configured:?}");
    monitor.shutdown().await;
}

// The provisioning view (seed 002 §9.1) served on loopback, read over real
// HTTP in each state the monitor passes through: the state, its message, and
// in provisioning mode the QR, the code and the time left — and the expired
// code's advice is the step that works.

/// GETs `url` (`http://127.0.0.1:PORT/`) over a plain TCP connection naming
/// `host`, and returns the status line and the body.
async fn get_view(url: &str, host: Option<&str>) -> (String, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("the view answers");
    let host = host.unwrap_or(&addr);
    stream
        .write_all(
            format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .expect("request");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("answer");
    let (head, body) = answer.split_once("\r\n\r\n").expect("HTTP answer");
    (head.to_owned(), body.to_owned())
}

/// The body of a 200 answer to a browser on the monitor.
async fn page(url: &str) -> String {
    let (head, body) = get_view(url, None).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/html"),
        "{head}"
    );
    body
}

/// "m:ss remaining" somewhere on the page.
fn regex_like_countdown(page: &str) -> bool {
    page.match_indices(" remaining").any(|(at, _)| {
        let before = &page.as_bytes()[..at];
        before.len() >= 4
            && before[before.len() - 3] == b':'
            && before[before.len() - 2..].iter().all(u8::is_ascii_digit)
            && before[before.len() - 4].is_ascii_digit()
    })
}

async fn served(monitor: &mut Monitor) -> String {
    let addr = monitor.serve_view(0).await.expect("view");
    assert!(addr.ip().is_loopback(), "{addr}");
    format!("http://{addr}/")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_view_shows_each_state_with_its_message_qr_code_and_time_left() {
    let root = tempfile::tempdir().expect("temp");
    let station = Station::start().await;
    let mut monitor = start_monitor(root.path(), "ZM-VIEW-01", &station).await;
    let url = served(&mut monitor).await;

    let unprovisioned = page(&url).await;
    assert!(unprovisioned.contains("Not provisioned"), "{unprovisioned}");
    assert!(unprovisioned.contains("Choose Enter Provisioning Mode"));
    assert!(!unprovisioned.contains("<svg"));

    let screen = monitor
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    let ready = page(&url).await;
    assert!(ready.contains(">Ready<"), "{ready}");
    assert!(ready.contains("<svg") && ready.contains("Pairing QR code"));
    assert!(ready.contains(&screen.code.display()));
    assert!(regex_like_countdown(&ready), "m:ss remaining: {ready}");
    assert!(ready.contains("Regenerate QR Code") && ready.contains("Cancel Provisioning"));
    assert!(ready.contains("http-equiv=\"refresh\""));

    let (code, token) = scan(&monitor);
    let (configured, committed) = Push::to(&monitor, &station.key)
        .pair(&station, &code, Some(&token))
        .await;
    assert_eq!(configured.status, 200, "{configured:?}");
    assert_eq!(committed.map(|c| c.status), Some(200));
    let connected = page(&url).await;
    assert!(connected.contains(">Connected<"), "{connected}");
    assert!(connected.contains("Paired and connected"));
    assert!(
        !connected.contains(&screen.code.display()),
        "the code is gone"
    );
    monitor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn after_the_code_expires_the_view_advises_what_works() {
    let root = tempfile::tempdir().expect("temp");
    let station = Station::start().await;
    let mut config = monitor_config(root.path(), "ZM-VIEW-02");
    config.code_lifetime = Duration::from_secs(2);
    let mut monitor = Monitor::start(config).await.expect("start");
    monitor.trust_station(&station.public_key()).expect("trust");
    let url = served(&mut monitor).await;
    let screen = monitor
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    eventually("the code expires", || async {
        monitor.state() == MonitorState::Unprovisioned
    })
    .await;
    let expired = page(&url).await;
    assert!(
        expired.contains("The pairing code expired")
            && expired.contains("Choose Enter Provisioning Mode"),
        "{expired}"
    );
    assert!(
        !expired.contains("Regenerate QR Code"),
        "not offered: it is refused now"
    );
    assert!(!expired.contains(&screen.code.display()));
    // The advised step works: a new code on the view.
    let again = monitor
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode again");
    let ready = page(&url).await;
    assert!(ready.contains(&again.code.display()), "{ready}");
    monitor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_view_answers_only_requests_for_its_own_loopback_address() {
    let root = tempfile::tempdir().expect("temp");
    let station = Station::start().await;
    let mut monitor = start_monitor(root.path(), "ZM-VIEW-03", &station).await;
    let url = served(&mut monitor).await;
    let screen = monitor
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    let port = url.trim_end_matches('/').rsplit(':').next().expect("port");
    let code = screen.code.display().to_string();
    // A page of another site rebound to 127.0.0.1 names its own host.
    for host in [
        "evil.example",
        "evil.example:80",
        &format!("127.0.0.2:{port}"),
    ] {
        let (head, body) = get_view(&url, Some(host)).await;
        assert!(head.starts_with("HTTP/1.1 403"), "{host}: {head}");
        assert!(!body.contains(&code), "{host}: the code leaked");
    }
    let (head, body) = get_view(&url, Some(&format!("localhost:{port}"))).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        body.contains(&code),
        "the technician at the monitor sees the code"
    );
}
