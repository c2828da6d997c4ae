//! Client certificate renewal without re-pairing (issue 14), end to end: a
//! real station issuing 60-second certificates, a real monitor heartbeating
//! over mTLS and renewing before expiry, and one left offline past it.

use std::path::Path;
use std::time::{Duration, Instant};

use bedside_monitor::connection::revocation_list_names;
use zpair_proto::api::{CertificateValidity, ConnectionState};
use zpair_tests::{PairResult, TECHNICIAN, World, WorldOptions, station_database};

/// Audit rows of a device with their subject, oldest first.
fn audit_subjects(station_dir: &Path, device_id: &str) -> Vec<(String, Option<String>)> {
    station_database(station_dir)
        .query_map(
            "SELECT event_type, subject FROM provisioning_events WHERE device_id = ?1 ORDER BY id",
            [device_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("audit rows")
}

async fn paired(options: WorldOptions, device_id: &str) -> World {
    let mut world = World::start_with(options).await;
    let m = world.add_monitor(device_id).await;
    world.monitors[m]
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    let tech = world.session(TECHNICIAN).await;
    let result = world.pair_scanned(&tech, &world.screen(m)).await;
    assert!(matches!(result, PairResult::Provisioned(_)), "{result:?}");
    world
}

#[tokio::test(flavor = "multi_thread")]
async fn a_monitor_renews_a_60_second_certificate_twice_while_heartbeating_with_no_gap() {
    const ID: &str = "ZM-RENEW-01";
    let world = paired(
        WorldOptions {
            certificate_lifetime: Duration::from_secs(60),
            // About 11 s after each issue (the validity starts 5 s back).
            renew_percent_left: 75,
            ..Default::default()
        },
        ID,
    )
    .await;
    let mut serials = vec![world.station_view(ID).serial.expect("paired serial")];
    let deadline = Instant::now() + Duration::from_secs(90);
    while serials.len() < 3 {
        assert!(
            Instant::now() < deadline,
            "two renewals within 90 s: {serials:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        let view = world.station_view(ID);
        assert_eq!(view.state, "PROVISIONED");
        assert!(view.alert.is_none(), "{:?}", view.alert);
        if let Some(serial) = view.serial
            && serials.last() != Some(&serial)
        {
            serials.push(serial);
        }
    }
    let monitor = &world.monitors[0];
    zpair_tests::eventually("the monitor commits its second renewal", || async {
        monitor
            .configuration()
            .is_some_and(|c| c.certificate_serial == serials[2])
    })
    .await;

    // No gap: every heartbeat the monitor sent was accepted (it counts any
    // failure, and reports the count with each heartbeat).
    let tech = world.session(TECHNICIAN).await;
    let token = tech.access_token().await.expect("token");
    let status = world
        .client()
        .device_status(&token, ID)
        .await
        .expect("status");
    assert_eq!(status.connection_state, ConnectionState::Connected);
    assert_eq!(status.counters.errors, 0, "a heartbeat failed");
    assert_eq!(
        status.certificate.as_ref().map(|c| c.serial.as_str()),
        Some(serials[2].as_str())
    );

    // Each old certificate was revoked only once its successor was used:
    // issued, then switched to (the first heartbeat with it), then revoked.
    let audit = audit_subjects(&world.station_dir(), ID);
    let at = |event: &str, serial: &str| {
        audit
            .iter()
            .position(|(e, s)| e == event && s.as_deref() == Some(serial))
            .unwrap_or_else(|| panic!("no {event} for {serial}: {audit:?}"))
    };
    for pair in serials.windows(2) {
        let (old, new) = (&pair[0], &pair[1]);
        assert!(at("certificate_renewal_issued", new) < at("certificate_switched", new));
        assert!(at("certificate_switched", new) < at("certificate_revoked", old));
    }
    assert_eq!(world.station_view(ID).unrevoked, vec![serials[2].clone()]);
    let crl = world
        .client()
        .certificate_revocation_list()
        .await
        .expect("CRL");
    for old in &serials[..2] {
        assert!(
            revocation_list_names(crl.as_bytes(), old).expect("CRL parses"),
            "the CRL lists {old}"
        );
    }
    assert!(!revocation_list_names(crl.as_bytes(), &serials[2]).expect("CRL parses"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_monitor_offline_past_expiry_shows_as_expired_and_is_not_accepted() {
    const ID: &str = "ZM-EXPIRE-01";
    let mut world = paired(
        WorldOptions {
            certificate_lifetime: Duration::from_secs(6),
            // Never renews: as a monitor switched off before its renewal point.
            renew_percent_left: 0,
            ..Default::default()
        },
        ID,
    )
    .await;
    let serial = world.station_view(ID).serial.expect("serial");
    tokio::time::sleep(Duration::from_secs(7)).await;
    let tech = world.session(TECHNICIAN).await;
    let token = tech.access_token().await.expect("token");
    let status = world
        .client()
        .device_status(&token, ID)
        .await
        .expect("status");
    assert_eq!(
        status
            .certificate
            .as_ref()
            .map(|c| (c.serial.as_str(), c.validity)),
        Some((serial.as_str(), CertificateValidity::Expired))
    );
    let alert = status.alert.expect("an alert");
    assert!(
        alert.message.contains("expired") && alert.message.contains("Re-provision"),
        "{}",
        alert.message
    );
    // The monitor says so too, and no longer counts as connected.
    let monitor = world.monitors.remove(0);
    zpair_tests::eventually("the monitor shows its certificate expired", || async {
        monitor.notice().is_some_and(|n| n.contains("expired"))
    })
    .await;
    zpair_tests::eventually("the station shows it disconnected", || async {
        world
            .client()
            .device_status(&token, ID)
            .await
            .is_ok_and(|s| s.connection_state == ConnectionState::Disconnected)
    })
    .await;
    monitor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_renewal_pending_at_a_restart_is_carried_on_and_the_working_certificate_kept() {
    use bedside_monitor::station_configuration::{self as configuration, PendingRenewal};
    const ID: &str = "ZM-RENEW-RESTART";
    let mut world = paired(WorldOptions::default(), ID).await;
    let monitor = world.monitors.remove(0);
    let dir = monitor.data_dir().clone();
    let ip = monitor.local_addr().ip();
    monitor.shutdown().await;
    let working = configuration::load(&dir)
        .expect("load")
        .expect("a configuration in force");

    // Stopped after recording a renewal whose files never made it: it is
    // forgotten at the start, and the working configuration stays.
    let broken = PendingRenewal {
        renews: working.generation.clone(),
        committed: configuration::Committed {
            generation: "lost-in-the-crash".into(),
            configuration: working.configuration.clone(),
        },
    };
    configuration::save_renewal(&dir, &broken).expect("save");
    let monitor = world.start_monitor(ID, ip).await;
    assert_eq!(monitor.configuration(), Some(working.configuration.clone()));
    assert!(!dir.renewal().exists(), "the broken renewal is forgotten");
    monitor.shutdown().await;

    // Stopped with a renewal staged and pending (here: the working files
    // under a new generation, which the station accepts): the start keeps
    // both, heartbeats with the pending one, and commits it on acceptance.
    let pending_generation = "pending-renewal";
    let credentials = configuration::credentials(&dir, &working.generation).expect("files");
    configuration::stage(&dir, pending_generation, &credentials).expect("stage");
    configuration::save_renewal(
        &dir,
        &PendingRenewal {
            renews: working.generation.clone(),
            committed: configuration::Committed {
                generation: pending_generation.into(),
                configuration: working.configuration.clone(),
            },
        },
    )
    .expect("save");
    let monitor = world.start_monitor(ID, ip).await;
    // Committing writes the configuration first, then forgets the renewal
    // and removes the replaced generation.
    zpair_tests::eventually(
        "the pending renewal is committed, the old generation gone",
        || async {
            configuration::load(&dir)
                .ok()
                .flatten()
                .is_some_and(|c| c.generation == pending_generation)
                && !dir.renewal().exists()
                && !dir.generation(&working.generation).exists()
        },
    )
    .await;
    assert_eq!(world.station_view(ID).state, "PROVISIONED");
    monitor.shutdown().await;
}
