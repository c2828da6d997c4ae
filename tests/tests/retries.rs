//! The station's pairing job retries a monitor it could not reach (issue
//! 14): three attempts with backoff, each retry a step of the job and an
//! audit row; a refusal is never retried. Real station, monitors behind a
//! fault-injecting proxy that drops connections as a rebooting monitor does.

use std::path::Path;

use zpair_proto::api::FailureReason;
use zpair_tests::fault_proxy::FaultProxy;
use zpair_tests::{PairResult, TECHNICIAN, World, station_database};

/// The job steps of a device, oldest first: (state, message).
fn steps(station_dir: &Path, device_id: &str) -> Vec<(String, String)> {
    station_database(station_dir)
        .query_map(
            "SELECT e.state, e.message FROM job_events e JOIN jobs j ON j.id = e.job_id
             WHERE j.device_id = ?1 ORDER BY e.id",
            [device_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("steps")
}

fn count(world: &World, device_id: &str, event: &str) -> usize {
    world
        .audit(device_id)
        .iter()
        .filter(|(e, _)| e == event)
        .count()
}

/// A monitor in provisioning mode behind a proxy that drops the next `drops`
/// connections to it, as a rebooting monitor would; its proxy and the code
/// it shows.
async fn unreachable_for(world: &mut World, device_id: &str, drops: usize) -> (FaultProxy, String) {
    let (index, proxy) = world
        .add_monitors_behind_proxies(&[device_id.to_owned()])
        .await
        .remove(0);
    let screen = world.monitors[index]
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    proxy.drop_next(drops);
    (proxy, screen.code.display())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_monitor_unreachable_twice_then_reachable_pairs_on_the_third_attempt() {
    let mut world = World::start().await;
    let (proxy, code) = unreachable_for(&mut world, "ZM-RETRY-01", 2).await;
    let tech = world.session(TECHNICIAN).await;
    // Typed: the station reaches the monitor at its registry address, the proxy's.
    let result = world.pair_typed(&tech, "ZM-RETRY-01", &code).await;
    assert!(matches!(result, PairResult::Provisioned(_)), "{result:?}");
    assert_eq!(proxy.dropped(), 2);

    let steps = steps(&world.station_dir(), "ZM-RETRY-01");
    let retries: Vec<&str> = steps
        .iter()
        .filter(|(state, message)| state == "PAIRING" && message.contains("trying again"))
        .map(|(_, message)| message.as_str())
        .collect();
    assert_eq!(retries.len(), 2, "{steps:?}");
    assert!(retries[0].contains("The monitor did not answer; trying again (2 of 3)."));
    assert!(retries[1].contains("(3 of 3)"));
    assert_eq!(steps.last().map(|(s, _)| s.as_str()), Some("PROVISIONED"));
    let audit = world.audit("ZM-RETRY-01");
    let retried: Vec<_> = audit
        .iter()
        .filter(|(e, _)| e == "monitor_contact_retried")
        .collect();
    assert_eq!(retried.len(), 2, "{audit:?}");
    assert!(retried.iter().all(|(_, ok)| !ok));
    assert_eq!(count(&world, "ZM-RETRY-01", "provisioning_completed"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_monitor_unreachable_three_times_fails_as_monitor_unreachable() {
    let mut world = World::start().await;
    let (proxy, code) = unreachable_for(&mut world, "ZM-RETRY-02", 3).await;
    let tech = world.session(TECHNICIAN).await;
    let result = world.pair_typed(&tech, "ZM-RETRY-02", &code).await;
    assert_eq!(
        result,
        PairResult::Failed(FailureReason::MonitorUnreachable)
    );
    assert_eq!(proxy.dropped(), 3, "three attempts, no fourth");
    assert_eq!(count(&world, "ZM-RETRY-02", "monitor_contact_retried"), 2);
    assert_eq!(count(&world, "ZM-RETRY-02", "provisioning_failed"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_code_is_never_retried() {
    let mut world = World::start().await;
    let m = world.add_monitor("ZM-RETRY-03").await;
    let screen = world.monitors[m]
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    let tech = world.session(TECHNICIAN).await;
    let wrong = zpair_tests::other_code(&screen.code);
    assert_eq!(
        world.pair_typed(&tech, "ZM-RETRY-03", wrong).await,
        PairResult::Failed(FailureReason::CodeMismatch)
    );
    // One attempt: one wrong code counted at the monitor, no retry step,
    // one failure in the audit.
    let log = std::fs::read_to_string(world.monitors[m].data_dir().events()).expect("event log");
    let wrong_codes = log
        .lines()
        .filter_map(|l| serde_json::from_str::<bedside_monitor::events::Event>(l).ok())
        .filter(|e| {
            e.event_type == bedside_monitor::events::EventType::PairingCodeValidated && !e.success
        })
        .count();
    assert_eq!(wrong_codes, 1);
    let steps = steps(&world.station_dir(), "ZM-RETRY-03");
    assert!(
        !steps.iter().any(|(_, m)| m.contains("trying again")),
        "{steps:?}"
    );
    assert_eq!(count(&world, "ZM-RETRY-03", "monitor_contact_retried"), 0);
    assert_eq!(count(&world, "ZM-RETRY-03", "provisioning_failed"), 1);
}
