//! A swarm of monitors in one process of its own (`bedside-monitor swarm`):
//! registered from the records it writes, each paired from the QR its
//! screen shows, all at once, then heard on their heartbeats; and stopped
//! cleanly by SIGTERM. The bench pairs thousands this way
//! (`cargo xtask bench pairing --swarm`); the test keeps to tens.

use std::net::Ipv4Addr;

use futures_util::future::join_all;
use zpair_tests::swarm::{SwarmOptions, SwarmProcess};
use zpair_tests::{PairResult, TECHNICIAN, World, eventually};

/// Monitors in the test's swarm.
const COUNT: usize = 24;

#[tokio::test(flavor = "multi_thread")]
async fn a_swarm_of_monitors_pairs_all_at_once_and_heartbeats() {
    let world = World::start().await;
    // A block of loopback addresses of its own: the other tests of this
    // binary take theirs from 127.100–199.x.y.
    let first = Ipv4Addr::new(127, 200 + (std::process::id() % 50) as u8, 0, 1);
    let swarm = SwarmProcess::start(&world, COUNT, first, SwarmOptions::default());
    swarm.register_with(&world).await;
    let tech = world.session(TECHNICIAN).await;

    let results = join_all((1..=COUNT).map(|n| {
        let payload = swarm.screen(n);
        let tech = &tech;
        let world = &world;
        async move { world.pair_scanned(tech, &payload).await }
    }))
    .await;
    for (n, result) in results.iter().enumerate() {
        assert!(
            matches!(result, PairResult::Provisioned(_)),
            "{}: {result:?}",
            swarm.device_id(n + 1)
        );
    }
    for n in 1..=COUNT {
        let device_id = swarm.device_id(n);
        eventually(&format!("{device_id} heartbeats"), || async {
            let view = world.station_view(&device_id);
            view.state == "PROVISIONED" && view.heartbeats > 0
        })
        .await;
    }
    assert!(swarm.stop(), "the swarm exits cleanly on SIGTERM");
}
