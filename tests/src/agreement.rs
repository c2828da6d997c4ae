//! Whether the station and a monitor agree after a pairing a fault cut
//! short: the checks the fault tests share (the fail-safe commit's sweeps
//! and the network faults), and the calibration that finds where each
//! message of the exchange lies.

use std::time::Duration;

use bedside_monitor::Monitor;
use zpair_core::pairing::PairTarget;
use zpair_core::session::TechnicianSession;
use zpair_proto::device::MonitorState;

use crate::fault_proxy::{CutPoint, Run};
use crate::{PairResult, StationView, TECHNICIAN, World, eventually, run_pairing};

/// The longest a monitor takes to come to rest after its job ended: its
/// fail-safe, armed before the station's window opened, has fired by then.
pub const SETTLE: Duration = Duration::from_secs(20);

/// Pairs one monitor through an unarmed proxy and returns how the exchange's
/// bytes went, so cut points fall on the real message boundaries.
pub async fn calibrate(world: &mut World) -> Vec<Run> {
    let added = world
        .add_monitors_behind_proxies(&["ZM-CALIBRATE".to_owned()])
        .await;
    let (index, proxy) = &added[0];
    let tech = world.session(TECHNICIAN).await;
    let result = pair_typed(world, &tech, *index).await;
    assert!(
        matches!(result, PairResult::Provisioned(_)),
        "calibration: {result:?}"
    );
    // The job ends on the proof of commit, before the monitor's answer to
    // the commit has crossed the proxy: wait for that last message too.
    eventually("the commit's answer crosses the proxy", || async {
        let runs = proxy.runs();
        runs.len() >= 8
    })
    .await;
    let mut runs = proxy.runs();
    // What follows the commit's answer is the station closing the
    // connection (TLS close_notify), no part of the exchange.
    runs.truncate(8);
    println!("calibration exchange: {runs:?}");
    runs
}

pub async fn pair_typed(world: &World, tech: &TechnicianSession, index: usize) -> PairResult {
    let monitor = &world.monitors[index];
    let screen = monitor
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    run_pairing(
        tech,
        PairTarget::Typed {
            device_id: monitor.registration_record().device_id,
            code: screen.code,
        },
    )
    .await
}

/// Waits until the monitor is at rest: PROVISIONED, or back where it was
/// (ready to pair again with its code, or unprovisioned).
pub async fn at_rest(monitor: &Monitor) -> MonitorState {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let state = monitor.state();
        if matches!(
            state,
            MonitorState::Provisioned | MonitorState::ReadyToPair | MonitorState::Unprovisioned
        ) || tokio::time::Instant::now() >= deadline
        {
            return state;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Where station and monitor disagree after a pairing, if anywhere.
/// `before` is the certificate serial of the monitor's previous pairing.
pub fn disagreement(
    result: &PairResult,
    state: MonitorState,
    monitor_serial: Option<String>,
    view: &StationView,
    before: Option<&str>,
) -> Option<String> {
    let provisioned = match result {
        PairResult::Provisioned(_) => true,
        PairResult::Failed(_) => false,
        PairResult::Refused(code) => return Some(format!("refused before a job: {code}")),
    };
    // The certificate both sides must hold now: the new one, or the one before.
    let agreed = if provisioned {
        monitor_serial
            .clone()
            .filter(|s| Some(s.as_str()) != before)
    } else {
        before.map(str::to_owned)
    };
    let rest = if provisioned {
        MonitorState::Provisioned
    } else {
        MonitorState::ReadyToPair
    };
    let station_state = match (provisioned, agreed.is_some()) {
        (true, _) => "PROVISIONED",
        // A failed re-pairing: the authorisation it had still stands.
        (false, true) => "AWAITING_REPROVISION",
        (false, false) => "UNPROVISIONED",
    };
    let problem = if state != rest {
        "the monitor's state"
    } else if provisioned && agreed.is_none() {
        "the monitor kept its old certificate"
    } else if monitor_serial != agreed {
        "the monitor's certificate"
    } else if view.serial != agreed {
        "the station's certificate"
    } else if view.unrevoked != agreed.iter().cloned().collect::<Vec<_>>() {
        "the certificates left unrevoked"
    } else if view.state != station_state {
        "the station's device state"
    } else {
        return None;
    };
    Some(format!(
        "{problem}: job {result:?}, monitor {state:?} holding {monitor_serial:?}, station {view:?}, before {before:?}"
    ))
}

/// Checks every point's outcome, then that every monitor in force is heard.
pub async fn assert_agreement(
    world: &World,
    outcomes: Vec<(CutPoint, usize, PairResult, Option<String>)>,
) -> String {
    let mut problems = Vec::new();
    let mut table = String::new();
    for (point, index, result, before) in &outcomes {
        let monitor = &world.monitors[*index];
        let device_id = monitor.registration_record().device_id;
        let state = at_rest(monitor).await;
        let serial = monitor.configuration().map(|c| c.certificate_serial);
        let view = world.station_view(&device_id);
        if let Some(problem) = disagreement(result, state, serial, &view, before.as_deref()) {
            problems.push(format!("{point}: {problem}"));
        }
        let outcome = match result {
            PairResult::Provisioned(_) => "PROVISIONED".to_owned(),
            PairResult::Failed(reason) => format!("FAILED {}", reason.code()),
            PairResult::Refused(code) => format!("refused {code}"),
        };
        table.push_str(&format!("{point}: {outcome}, monitor {state:?}\n"));
    }
    assert!(
        problems.is_empty(),
        "{} of {} points disagree:\n{}",
        problems.len(),
        outcomes.len(),
        problems.join("\n")
    );
    // Every monitor with a configuration in force is heard on it.
    for (_, index, _, _) in &outcomes {
        let monitor = &world.monitors[*index];
        if monitor.state() != MonitorState::Provisioned {
            // Back in provisioning mode after a failed re-pairing: leaving
            // it puts the previous configuration back to work.
            if monitor.configuration().is_none() {
                continue;
            }
            monitor.cancel_provisioning().await.expect("cancel");
        }
        let device_id = monitor.registration_record().device_id;
        let heard = world.station_view(&device_id).heartbeats;
        eventually(
            &format!("{device_id}'s heartbeats are accepted"),
            || async { world.station_view(&device_id).heartbeats > heard },
        )
        .await;
    }
    table
}
