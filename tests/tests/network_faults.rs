//! Faults on the network between the station and its monitors, through the
//! fault-injecting proxy: a slow link, a partition in the middle of the
//! configuration push (one that heals in time, one that outlasts the
//! station's patience), and monitors killed (SIGKILL, their process gone)
//! while applying a configuration. After each, station and monitor agree:
//! no monitor half-committed, its previous configuration intact when a
//! re-pairing failed, no certificate issued and left unrevoked, the job
//! PROVISIONED or FAILED with its reason, nothing stuck.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};

use bedside_monitor::paths::DataDir;
use zpair_proto::api::FailureReason;
use zpair_proto::device::MonitorState;
use zpair_tests::agreement::{assert_agreement, at_rest, calibrate, disagreement, pair_typed};
use zpair_tests::fault_proxy::{CutPoint, Direction, FaultProxy, Run};
use zpair_tests::swarm::{SwarmOptions, SwarmProcess};
use zpair_tests::{PairResult, TECHNICIAN, World, WorldOptions, eventually, unique_ip};

/// The calibrated exchange's requests, in order: the TLS handshake, the
/// challenge, the configuration push, the commit.
const CONFIGURE: usize = 4;
const COMMIT: usize = 6;

/// The run of the calibrated exchange that carries request `index`.
fn request(runs: &[Run], index: usize) -> Run {
    let run = runs[index];
    assert_eq!(run.direction, Direction::Up, "a request: {runs:?}");
    run
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_link_delays_every_step_and_the_pairing_still_completes() {
    // A link between buildings: each message takes a quarter of a second.
    const LATENCY: Duration = Duration::from_millis(250);
    let mut world = World::start().await;
    let added = world
        .add_monitors_behind_proxies(&["ZM-SLOW".to_owned()])
        .await;
    let (index, proxy) = &added[0];
    proxy.set_latency(LATENCY);
    let tech = world.session(TECHNICIAN).await;

    let started = Instant::now();
    let result = pair_typed(&world, &tech, *index).await;
    let took = started.elapsed();

    let monitor = &world.monitors[*index];
    let view = world.station_view("ZM-SLOW");
    let state = at_rest(monitor).await;
    let serial = monitor.configuration().map(|c| c.certificate_serial);
    assert_eq!(disagreement(&result, state, serial, &view, None), None);
    assert!(matches!(result, PairResult::Provisioned(_)), "{result:?}");
    // Seven messages delayed before the job ends — the TLS handshake, the
    // challenge, the push and the commit request, and their answers but the
    // commit's (the job ends on the proof of commit): the latency was on
    // the path the pairing took.
    assert!(
        took >= LATENCY * 7,
        "the pairing took {took:?}: the link's latency was not applied"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_partition_during_the_configuration_push_leaves_nothing_half_done() {
    let mut world = World::start().await;
    let runs = calibrate(&mut world).await;
    let configure = request(&runs, CONFIGURE);
    // Half the sealed configuration has crossed when the link goes down.
    let mid_push = CutPoint {
        direction: Direction::Up,
        after: configure.start + configure.len / 2,
    };
    let ids = ["ZM-BRIEF", "ZM-LONG-FIRST", "ZM-LONG-AGAIN"].map(str::to_owned);
    let monitors = world.add_monitors_behind_proxies(&ids).await;
    let tech = world.session(TECHNICIAN).await;
    // The re-paired monitor's previous configuration must outlive the fault.
    let (again, _) = &monitors[2];
    let first = pair_typed(&world, &tech, *again).await;
    assert!(matches!(first, PairResult::Provisioned(_)), "{first:?}");
    eventually("the first configuration is committed", || async {
        world.monitors[*again].state() == MonitorState::Provisioned
    })
    .await;
    world.authorise_repairing(&tech, "ZM-LONG-AGAIN").await;
    let before = world.monitors[*again]
        .configuration()
        .map(|c| c.certificate_serial);

    // One partition heals well inside the station's 15 s request timeout;
    // the others outlast it: the station gives up on a push that may have
    // arrived, and the rest of it reaches the monitor afterwards.
    let lasting = [
        Duration::from_secs(2),
        Duration::from_secs(18),
        Duration::from_secs(18),
    ];
    let world = &world;
    let outcomes = futures_util::future::join_all(monitors.iter().zip(lasting).map(
        |((index, proxy), lasting)| {
            let tech = &tech;
            let before = before.clone().filter(|_| *index == *again);
            async move {
                let fired = proxy.arm_partition(mid_push, lasting);
                let result = pair_typed(world, tech, *index).await;
                assert!(fired.await.is_ok(), "the partition never began");
                (mid_push, *index, result, before)
            }
        },
    ))
    .await;
    assert!(
        matches!(outcomes[0].2, PairResult::Provisioned(_)),
        "a partition that healed in time: {:?}",
        outcomes[0].2
    );
    for (_, index, result, _) in &outcomes[1..] {
        assert_eq!(
            *result,
            PairResult::Failed(FailureReason::MonitorUnreachable),
            "monitor {index}, a partition past the timeout"
        );
    }
    let table = assert_agreement(world, outcomes).await;
    println!("partitions, all agreeing:\n{table}");
}

/// How long a killed monitor takes to apply a configuration: it is killed
/// within it, once its disk shows it began.
const APPLY_DELAY: Duration = Duration::from_secs(2);

/// Whether a monitor has begun applying `step`'s request, by its own disk:
/// the pushed configuration's certificates staged beside the ones in force,
/// or its commit prepared.
fn applying(dir: &Path, step: usize) -> bool {
    let data = DataDir::new(dir.to_path_buf());
    if step == CONFIGURE {
        std::fs::read_dir(data.certificates()).is_ok_and(|d| d.count() >= 2)
    } else {
        data.prepared().exists()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn monitors_killed_while_applying_a_configuration_agree_with_the_station() {
    let mut world = World::start_with(WorldOptions {
        // The commit step starts after one apply delay; the window spans it.
        fail_safe: Duration::from_secs(10),
        ..WorldOptions::default()
    })
    .await;
    let tech = world.session(TECHNICIAN).await;
    // Each monitor in a process of its own, reached through a proxy: the
    // first is killed applying the sealed configuration, the second
    // preparing its commit.
    let mut killed = Vec::new();
    for (n, (step, reason)) in [
        (CONFIGURE, FailureReason::MonitorUnreachable),
        (COMMIT, FailureReason::CommitUnconfirmed),
    ]
    .into_iter()
    .enumerate()
    {
        let first_ip = Ipv4Addr::new(127, 77, n as u8, 1);
        let swarm = SwarmProcess::start(
            &world,
            1,
            first_ip,
            SwarmOptions {
                apply_delay: APPLY_DELAY,
                ..SwarmOptions::default()
            },
        );
        let mut record = swarm.records().remove(0);
        let monitor = SocketAddr::new(IpAddr::V4(first_ip), bedside_monitor::startup::DEFAULT_PORT);
        let proxy = FaultProxy::start(unique_ip(), monitor.port(), monitor).await;
        record.ip_address = Some(proxy.addr().ip().to_string());
        world.register(&record, &record.device_id).await;

        // Paired once: the configuration a failed re-pairing must leave in
        // force. Typed, as from the code under the QR: the station then
        // reaches the monitor at its registered address (the proxy), not
        // the one its QR shows.
        let screen = swarm.screen(1);
        let result = world
            .pair_typed(&tech, &screen.device_id, &screen.pairing_code)
            .await;
        assert!(matches!(result, PairResult::Provisioned(_)), "{result:?}");
        let device_id = record.device_id.clone();
        eventually("the monitor heartbeats on its configuration", || async {
            world.station_view(&device_id).heartbeats > 0
        })
        .await;
        let before = world.station_view(&device_id).serial;
        assert!(before.is_some());

        let shown = swarm.try_screen(1);
        world.authorise_repairing(&tech, &device_id).await;
        eventually("the monitor shows a new code", || async {
            let now = swarm.try_screen(1);
            now.is_some() && now != shown
        })
        .await;
        killed.push((swarm, proxy, step, reason, device_id, first_ip, before));
    }

    let world_ref = &world;
    let results =
        futures_util::future::join_all(killed.iter_mut().map(|(swarm, _, step, _, _, _, _)| {
            let tech = &tech;
            let step = *step;
            let screen = swarm.screen(1);
            let dir = swarm.monitor_dir(1);
            async move {
                let kill = async {
                    eventually("the monitor is applying", || async { applying(&dir, step) }).await;
                    swarm.kill();
                };
                let pairing = world_ref.pair_typed(tech, &screen.device_id, &screen.pairing_code);
                let (result, ()) = tokio::join!(pairing, kill);
                result
            }
        }))
        .await;

    let mut outcomes = Vec::new();
    for ((swarm, proxy, step, reason, device_id, ip, before), result) in killed.iter().zip(results)
    {
        // The connection ended on the request: no answer left the monitor.
        let runs = proxy.runs();
        let last = runs.last().copied().expect("an exchange");
        assert_eq!(
            (runs.len(), last.direction),
            (step + 1, Direction::Up),
            "{device_id} answered before it was killed: {runs:?}"
        );
        assert_eq!(result, PairResult::Failed(*reason), "{device_id}");
        // Started again on what the killed process left on disk.
        let monitor = world
            .start_monitor_in(swarm.monitor_dir(1), device_id, IpAddr::V4(*ip))
            .await;
        world.monitors.push(monitor);
        let point = CutPoint {
            direction: Direction::Up,
            after: last.start + last.len,
        };
        outcomes.push((point, world.monitors.len() - 1, result, before.clone()));
    }
    let table = assert_agreement(&world, outcomes).await;
    println!("monitors killed while applying, all agreeing:\n{table}");
}
