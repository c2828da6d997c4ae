//! Three station instances on one PostgreSQL database (a real, throwaway
//! server) behind one address, restarted one after another — drained, then
//! replaced, as an operator rolls an update through them — while monitors
//! are being paired: every pairing completes, none is lost or left running,
//! and every monitor and the station agree on its configuration.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use central_station::db::Database;
use zpair_core::error::ErrorCode;
use zpair_core::pairing::{PairTarget, PairingOutcome};
use zpair_proto::QrPayload;
use zpair_tests::agreement::{at_rest, disagreement};
use zpair_tests::balancer::Balancer;
use zpair_tests::{PairResult, TECHNICIAN, World, WorldOptions, technician};

/// Monitors paired during the restarts: thirty in the suite;
/// `ZPAIR_ROLLING_MONITORS=300` for the run of hundreds.
fn monitors() -> usize {
    std::env::var("ZPAIR_ROLLING_MONITORS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|n| *n >= 10)
        .unwrap_or(30)
}
/// How long a draining instance gives its running jobs.
const GRACE: Duration = Duration::from_secs(30);

/// Pairs from `payload` as a technician does when the station is busy or
/// its connection was closed (an instance restarting): tries again after a
/// moment, until a job runs to its end. Counts the tries refused.
async fn pair_until_run(
    session: &zpair_core::session::TechnicianSession,
    payload: &QrPayload,
    refused: &AtomicUsize,
) -> PairResult {
    for _ in 0..300 {
        let scanned = zpair_core::qr::validate(&payload.to_json(), time::OffsetDateTime::now_utc())
            .expect("a valid QR");
        match zpair_core::pairing::pair(session, PairTarget::Scanned(scanned), |_| {}).await {
            Ok(PairingOutcome::Provisioned { .. }) => return PairResult::Provisioned(Vec::new()),
            Ok(PairingOutcome::Failed { reason, .. }) => return PairResult::Failed(reason),
            // An instance draining for its restart refuses new pairings,
            // then closes its connections.
            Err(e)
                if matches!(
                    zpair_core::error::UserFacing::code(&e),
                    ErrorCode::StationBusy | ErrorCode::StationUnreachable
                ) =>
            {
                refused.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => return PairResult::Refused(zpair_core::error::UserFacing::code(&e)),
        }
    }
    panic!("the station stayed busy");
}

#[tokio::test(flavor = "multi_thread")]
async fn restarting_three_instances_one_after_another_during_a_run_loses_no_pairing() {
    let name = format!("rolling_{}", std::process::id());
    let url = zpair_testkit::postgres::Cluster::shared()
        .create_database(&name)
        .expect("a database on the throwaway PostgreSQL server");
    let monitor_count = monitors();
    let balancer = Balancer::start(Vec::new()).await;
    let mut world = World::start_with(WorldOptions {
        // Monitors report to the balancer, whichever instance paired them.
        public_url: Some(balancer.url()),
        database: Database::Postgres {
            url,
            connections: 4,
            ca: None,
        },
        technicians: 3,
        fail_safe: central_station::DEFAULT_FAIL_SAFE,
        ..WorldOptions::default()
    })
    .await;
    world.start_instance().await;
    world.start_instance().await;
    for instance in 0..3 {
        balancer.add(world.instance(instance).local_addr());
    }
    for m in 0..monitor_count {
        let index = world.add_monitor(&format!("ZM-ROLL-{m:02}")).await;
        world.monitors[index]
            .enter_provisioning_mode()
            .await
            .expect("provisioning mode");
    }
    let mut sessions = Vec::new();
    for t in 1..=3 {
        let account = technician(t);
        sessions.push(Arc::new(
            world
                .session_via(balancer.url(), (account.as_str(), TECHNICIAN.1))
                .await,
        ));
    }
    // Each technician pairs a third of the monitors, one after another.
    let (done, refused) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let pairings: Vec<_> = (0..3)
        .map(|t| {
            let session = Arc::clone(&sessions[t]);
            let (done, refused) = (Arc::clone(&done), Arc::clone(&refused));
            let payloads: Vec<(usize, QrPayload)> = (t..monitor_count)
                .step_by(3)
                .map(|m| (m, world.screen(m)))
                .collect();
            tokio::spawn(async move {
                let mut results = Vec::new();
                for (m, payload) in payloads {
                    results.push((m, pair_until_run(&session, &payload, &refused).await));
                    done.fetch_add(1, Ordering::Relaxed);
                }
                results
            })
        })
        .collect();

    // Meanwhile, each instance in turn, a fifth of the way further each.
    for instance in 0..3 {
        let reached = (instance + 1) * monitor_count / 5;
        zpair_tests::eventually("pairings go on", || {
            std::future::ready(done.load(Ordering::Relaxed) >= reached)
        })
        .await;
        let (old, new, stopped) = world.roll_instance(instance, GRACE).await;
        balancer.replace(old, new);
        assert_eq!(
            stopped, 0,
            "instance {instance} finished its jobs while draining"
        );
    }

    let mut results = Vec::new();
    for pairing in pairings {
        results.extend(pairing.await.expect("pairings"));
    }
    results.sort_by_key(|(m, _)| *m);
    assert_eq!(results.len(), monitor_count);
    let mut problems = Vec::new();
    for (m, result) in &results {
        let monitor = &world.monitors[*m];
        let state = at_rest(monitor).await;
        let serial = monitor.configuration().map(|c| c.certificate_serial);
        let view = world.station_view(&monitor.registration_record().device_id);
        if !matches!(result, PairResult::Provisioned(_)) {
            problems.push(format!("monitor {m}: {result:?}"));
        } else if let Some(problem) = disagreement(result, state, serial, &view, None) {
            problems.push(format!("monitor {m}: {problem}"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    // The restarts did meet the technicians: an instance draining refused
    // them, and they went on through the others.
    assert!(
        refused.load(Ordering::Relaxed) > 0,
        "no pairing met a restarting instance"
    );
    assert!(
        done.load(Ordering::Relaxed) == monitor_count,
        "every pairing ran to its end"
    );
    eprintln!(
        "{monitor_count} monitors paired through three instances restarted in turn; \
         {} tries refused by a restarting instance and made again",
        refused.load(Ordering::Relaxed)
    );
}
