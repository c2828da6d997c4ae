//! The pairing flow end to end, and every way it can fail, provoked for real:
//! a real station, real monitors, real TLS and SQLite on loopback.

use std::time::Duration;
use zpair_core::error::ErrorCode;

use zpair_core::session::TechnicianSession;
use zpair_proto::api::{ConnectionState, DeviceState, FailureReason, JobState};
use zpair_proto::device::MonitorState;
use zpair_tests::{
    ADMINISTRATOR, PairResult, TECHNICIAN, World, WorldOptions, eventually, unique_ip,
};

/// Every audit event type a successful pairing writes, in order of the flow.
const PAIRING_AUDIT_TRAIL: [&str; 6] = [
    "pairing_requested",
    "pairing_code_validated",
    "configuration_received",
    "configuration_applied",
    "connection_tested",
    "provisioning_completed",
];

async fn connected(world: &World, session: &TechnicianSession, device_id: &str) -> bool {
    let token = session.access_token().await.expect("token");
    let status = world
        .client()
        .device_status(&token, device_id)
        .await
        .expect("status");
    status.connection_state == ConnectionState::Connected && status.counters.heartbeats >= 2
}

#[tokio::test(flavor = "multi_thread")]
async fn pairing_by_qr_reaches_provisioned_and_connected_with_a_full_audit_trail() {
    let mut world = World::start().await;
    let m = world.add_monitor("ZM-QR-01").await;
    world.monitors[m]
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    let tech = world.session(TECHNICIAN).await;

    let result = world.pair_scanned(&tech, &world.screen(m)).await;
    assert_eq!(
        result,
        PairResult::Provisioned(vec![
            JobState::Pairing,
            JobState::Configuring,
            JobState::Validating,
            JobState::Provisioned
        ])
    );
    assert_eq!(world.monitors[m].state(), MonitorState::Provisioned);
    eventually("heartbeats over mTLS", || {
        connected(&world, &tech, "ZM-QR-01")
    })
    .await;

    let token = tech.access_token().await.expect("token");
    let status = world
        .client()
        .device_status(&token, "ZM-QR-01")
        .await
        .expect("status");
    assert_eq!(status.state, DeviceState::Provisioned);
    assert_eq!(
        status.server_url.as_deref(),
        Some(world.station.url().as_str())
    );
    let applied = world.monitors[m]
        .configuration()
        .expect("committed configuration");
    let certificate = status.certificate.expect("certificate status");
    assert_eq!(certificate.serial, applied.certificate_serial);

    let trail: Vec<String> = world
        .audit("ZM-QR-01")
        .into_iter()
        .filter(|(_, ok)| *ok)
        .map(|(e, _)| e)
        .collect();
    for event in PAIRING_AUDIT_TRAIL {
        assert!(
            trail.iter().any(|e| e == event),
            "audit lacks {event}: {trail:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pairing_by_typed_code_reaches_provisioned() {
    let mut world = World::start().await;
    let m = world.add_monitor("ZM-TYPED-01").await;
    let screen = world.monitors[m]
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    let tech = world.session(TECHNICIAN).await;
    // Typed as a person might: lower case, spaces instead of dashes.
    let typed = screen.code.display().to_lowercase().replace('-', " ");
    let result = world.pair_typed(&tech, "ZM-TYPED-01", &typed).await;
    assert!(matches!(result, PairResult::Provisioned(_)), "{result:?}");
    assert_eq!(world.monitors[m].state(), MonitorState::Provisioned);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_code_fails_as_code_mismatch_and_the_monitor_stays_ready() {
    let mut world = World::start().await;
    let m = world.add_monitor("ZM-WRONG-01").await;
    let screen = world.monitors[m]
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    let tech = world.session(TECHNICIAN).await;
    let wrong = zpair_tests::other_code(&screen.code);
    assert_eq!(
        world.pair_typed(&tech, "ZM-WRONG-01", wrong).await,
        PairResult::Failed(FailureReason::CodeMismatch)
    );
    assert_eq!(world.monitors[m].state(), MonitorState::ReadyToPair);
    assert!(
        world
            .audit("ZM-WRONG-01")
            .iter()
            .any(|(e, ok)| e == "provisioning_failed" && !ok)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn too_many_wrong_codes_close_provisioning_mode() {
    let mut world = World::start().await;
    let m = world.add_monitor("ZM-CLOSE-01").await;
    let screen = world.monitors[m]
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    let tech = world.session(TECHNICIAN).await;
    let wrong = zpair_tests::other_code(&screen.code);
    let mut results = Vec::new();
    for _ in 0..5 {
        results.push(world.pair_typed(&tech, "ZM-CLOSE-01", wrong).await);
    }
    assert_eq!(
        results[..4],
        vec![PairResult::Failed(FailureReason::CodeMismatch); 4][..]
    );
    assert_eq!(
        results[4],
        PairResult::Failed(FailureReason::ProvisioningClosed)
    );
    assert_eq!(world.monitors[m].state(), MonitorState::Unprovisioned);
    assert!(
        world.monitors[m].screen().is_none(),
        "the QR is gone from the screen"
    );
    // The right code no longer works either: the monitor must be put back in provisioning mode.
    let right = world
        .pair_typed(&tech, "ZM-CLOSE-01", &screen.code.display())
        .await;
    assert_eq!(
        right,
        PairResult::Failed(FailureReason::NotInProvisioningMode)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_code_fails_as_code_expired() {
    let mut world = World::start_with(WorldOptions {
        code_lifetime: Duration::from_secs(1),
        ..Default::default()
    })
    .await;
    let m = world.add_monitor("ZM-EXPIRED-01").await;
    let screen = world.monitors[m]
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    let tech = world.session(TECHNICIAN).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Typed, so the app's own expiry check (which needs the QR) cannot catch it first.
    let result = world
        .pair_typed(&tech, "ZM-EXPIRED-01", &screen.code.display())
        .await;
    assert_eq!(result, PairResult::Failed(FailureReason::CodeExpired));
    // The advice is what the monitor allows: entering provisioning mode
    // again gives a new code (the monitor's protocol test pairs with it).
    assert!(
        ErrorCode::CodeExpired
            .message()
            .contains("Enter Provisioning Mode again")
    );
    let again = world.monitors[m]
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode again");
    assert_ne!(again.code, screen.code, "a new code to scan or type");
    assert_eq!(world.monitors[m].state(), MonitorState::ReadyToPair);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_qr_is_refused_by_the_app_before_anything_is_sent() {
    let mut world = World::start().await;
    let m = world.add_monitor("ZM-EXPQR-01").await;
    world.monitors[m]
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    let tech = world.session(TECHNICIAN).await;
    let mut payload = world.screen(m);
    payload.expires_at = "2020-01-01T00:00:00Z".into();
    assert_eq!(
        world.pair_scanned(&tech, &payload).await,
        PairResult::Refused(ErrorCode::QrExpired)
    );
    let audit = world.audit("ZM-EXPQR-01");
    assert!(
        !audit.iter().any(|(e, _)| e == "pairing_requested"),
        "nothing reached the station: {audit:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replayed_token_is_refused_by_the_station() {
    let mut world = World::start().await;
    let m = world.add_monitor("ZM-REPLAY-01").await;
    world.monitors[m]
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    let tech = world.session(TECHNICIAN).await;
    let payload = world.screen(m);
    let wrong_code = {
        let mut p = payload.clone();
        p.pairing_code = if p.pairing_code == "ABC-DEF-GHJ" {
            "ABC-DEF-GHK".into()
        } else {
            "ABC-DEF-GHJ".into()
        };
        p
    };
    // The first use of the token fails at the monitor; the token is spent all the same.
    assert_eq!(
        world.pair_scanned(&tech, &wrong_code).await,
        PairResult::Failed(FailureReason::CodeMismatch)
    );
    assert_eq!(
        world.pair_scanned(&tech, &payload).await,
        PairResult::Refused(ErrorCode::TokenReplayed)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_from_an_earlier_provisioning_session_is_stale() {
    let mut world = World::start().await;
    let m = world.add_monitor("ZM-STALE-01").await;
    world.monitors[m]
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    let old = world.screen(m);
    world.monitors[m]
        .cancel_provisioning()
        .await
        .expect("cancel");
    world.monitors[m]
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode again");
    let tech = world.session(TECHNICIAN).await;
    assert_eq!(
        world.pair_scanned(&tech, &old).await,
        PairResult::Failed(FailureReason::TokenStale)
    );
    // The current QR still pairs.
    let current = world.screen(m);
    assert!(matches!(
        world.pair_scanned(&tech, &current).await,
        PairResult::Provisioned(_)
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_device_is_refused() {
    let world = World::start().await;
    let tech = world.session(TECHNICIAN).await;
    assert_eq!(
        world
            .pair_typed(&tech, "ZM-NOT-REGISTERED", "ABC-DEF-GHJ")
            .await,
        PairResult::Refused(ErrorCode::UnknownDevice)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn only_technicians_may_pair() {
    let mut world = World::start().await;
    let m = world.add_monitor("ZM-ROLE-01").await;
    let screen = world.monitors[m]
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    let admin = world.session(ADMINISTRATOR).await;
    assert_eq!(
        world
            .pair_typed(&admin, "ZM-ROLE-01", &screen.code.display())
            .await,
        PairResult::Refused(ErrorCode::ForbiddenRole)
    );
    assert_eq!(world.monitors[m].state(), MonitorState::ReadyToPair);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_monitor_whose_identity_key_is_not_the_registered_one_is_refused() {
    let world = World::start().await;
    // The registry holds one monitor's key; another monitor claims its device ID.
    let genuine = world.start_monitor("ZM-IDENTITY-01", unique_ip()).await;
    world
        .register(&genuine.registration_record(), "ZM-IDENTITY-01")
        .await;
    genuine.shutdown().await;
    let impostor = world.start_monitor("ZM-IDENTITY-01", unique_ip()).await;
    let screen = impostor
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    let tech = world.session(TECHNICIAN).await;
    let result = world.pair_scanned(&tech, &screen.payload).await;
    assert_eq!(result, PairResult::Failed(FailureReason::SignatureInvalid));
    assert_eq!(
        impostor.state(),
        MonitorState::ReadyToPair,
        "nothing was pushed to the impostor"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_monitor_fails_as_monitor_unreachable() {
    let mut world = World::start().await;
    let m = world.add_monitor("ZM-GONE-01").await;
    let screen = world.monitors[m]
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    let monitor = world.monitors.remove(m);
    monitor.shutdown().await;
    let tech = world.session(TECHNICIAN).await;
    assert_eq!(
        world.pair_scanned(&tech, &screen.payload).await,
        PairResult::Failed(FailureReason::MonitorUnreachable)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_connection_test_keeps_the_monitors_previous_configuration() {
    let mut world = World::start().await;
    let m = world.add_monitor("ZM-CONNTEST-01").await;
    world.monitors[m]
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    let tech = world.session(TECHNICIAN).await;
    assert!(matches!(
        world.pair_scanned(&tech, &world.screen(m)).await,
        PairResult::Provisioned(_)
    ));
    let before = world.monitors[m]
        .configuration()
        .expect("first configuration");

    // The station now pushes a server URL where nothing answers.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let dead_url = format!("https://{}", dead.local_addr().expect("addr"));
    drop(dead);
    world
        .restart_station(WorldOptions {
            public_url: Some(dead_url),
            ..Default::default()
        })
        .await;
    let tech = world.session(TECHNICIAN).await;
    world.authorise_repairing(&tech, "ZM-CONNTEST-01").await;
    world.monitors[m]
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode again");
    assert_eq!(
        world.pair_scanned(&tech, &world.screen(m)).await,
        PairResult::Failed(FailureReason::ConnectionTestFailed)
    );
    assert_eq!(
        world.monitors[m].configuration(),
        Some(before),
        "the old configuration stays in force"
    );
}

/// The station and the monitors answer at once: the sockets they accept have
/// `TCP_NODELAY`, so an answer written in pieces (TLS records, an HTTP head
/// and body) is not held back by Nagle's algorithm until the peer's delayed
/// acknowledgement, about 40 ms on Linux — once the fixed wait in each step
/// of every pairing (`cargo xtask bench pairing`).
#[tokio::test(flavor = "multi_thread")]
async fn the_station_and_monitors_send_answers_without_waiting_for_acknowledgements() {
    let mut world = World::start().await;
    let m = world.add_monitor("ZM-NODELAY-01").await;
    let servers = [
        ("the station", world.station.local_addr()),
        ("a monitor", world.monitors[m].local_addr()),
    ];
    for (who, server) in servers {
        let client = tokio::net::TcpStream::connect(server)
            .await
            .expect("connect");
        let client_addr = client.local_addr().expect("client address");
        let mut nodelay = None;
        eventually(&format!("{who} accepts the connection"), || {
            nodelay = zpair_tests::sockets::accepted_nodelay(server, client_addr)
                .expect("this process's sockets");
            std::future::ready(nodelay.is_some())
        })
        .await;
        assert_eq!(
            nodelay,
            Some(true),
            "{who} accepted a socket without TCP_NODELAY"
        );
    }
}
