//! Renewal benchmark: 100 paired monitors whose short-lived certificates all
//! come due at once, each renewing over mTLS while heartbeating. Counts the
//! monitors that renewed and any lost (left without one working certificate
//! that station and monitor agree on), the heartbeats that failed meanwhile,
//! and times the switches.
//!
//! `cargo xtask bench renewal [--monitors 100] [--lifetime-secs 60]`

use std::sync::Arc;
use std::time::{Duration, Instant};

use zpair_proto::device::MonitorState;
use zpair_tests::{PairResult, TECHNICIAN, World, WorldOptions};

struct Args {
    monitors: usize,
    lifetime: Duration,
}

fn parse_args() -> Args {
    let mut args = Args {
        monitors: 100,
        lifetime: Duration::from_secs(60),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--monitors" => {
                args.monitors = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(args.monitors)
            }
            "--lifetime-secs" => {
                if let Some(secs) = it.next().and_then(|v| v.parse().ok()) {
                    args.lifetime = Duration::from_secs(secs);
                }
            }
            // `cargo bench` passes --bench; anything else is ignored likewise.
            _ => {}
        }
    }
    args
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

async fn run(args: &Args) {
    let n = args.monitors;
    let mut world = World::start_with(WorldOptions {
        certificate_lifetime: args.lifetime,
        // Due half-way (about 27 s after each pairing): all are paired first.
        renew_percent_left: 50,
        ..Default::default()
    })
    .await;
    let ids: Vec<String> = (0..n).map(|i| format!("ZM-RENEW-{i:04}")).collect();
    for id in &ids {
        let m = world.add_monitor(id).await;
        world.monitors[m]
            .enter_provisioning_mode()
            .await
            .expect("provisioning mode");
    }
    let world = Arc::new(world);
    let tech = Arc::new(world.session(TECHNICIAN).await);
    let pairings: Vec<_> = (0..n)
        .map(|m| {
            let (world, tech) = (world.clone(), tech.clone());
            tokio::spawn(async move {
                let payload = world.screen(m);
                match world.pair_scanned(&tech, &payload).await {
                    PairResult::Provisioned(_) => true,
                    other => {
                        eprintln!("{}: not paired: {other:?}", payload.device_id);
                        false
                    }
                }
            })
        })
        .collect();
    let mut is_paired = Vec::with_capacity(n);
    for pairing in pairings {
        is_paired.push(pairing.await.unwrap_or(false));
    }
    let paired = is_paired.iter().filter(|p| **p).count();
    let first: Vec<Option<String>> = world
        .monitors
        .iter()
        .map(|m| m.configuration().map(|c| c.certificate_serial))
        .collect();

    // Heartbeat failures counted before the renewals (while the others
    // were being paired), so those during them stand apart.
    let token = tech.access_token().await.expect("token");
    let mut before = Vec::with_capacity(n);
    for id in &ids {
        let status = world.client().device_status(&token, id).await;
        before.push(status.map_or(0, |s| s.counters.errors));
    }

    // Watch every monitor switch to a renewed certificate.
    let start = Instant::now();
    let deadline = start + args.lifetime;
    let mut switched: Vec<Option<Duration>> = vec![None; n];
    let waiting = |switched: &[Option<Duration>]| {
        switched
            .iter()
            .zip(&is_paired)
            .any(|(s, paired)| *paired && s.is_none())
    };
    while Instant::now() < deadline && waiting(&switched) {
        for (i, monitor) in world.monitors.iter().enumerate() {
            if switched[i].is_none()
                && monitor.configuration().map(|c| c.certificate_serial) != first[i]
            {
                switched[i] = Some(start.elapsed());
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Let the last switches' heartbeats land, then check nothing was lost.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut lost = 0;
    let mut heartbeat_failures = 0;
    for (i, id) in ids.iter().enumerate() {
        if !is_paired[i] {
            continue;
        }
        let view = world.station_view(id);
        let status = world.client().device_status(&token, id).await;
        let errors = status.map_or(before[i], |s| s.counters.errors);
        heartbeat_failures += errors.saturating_sub(before[i]);
        let current = world.monitors[i]
            .configuration()
            .map(|c| c.certificate_serial);
        // Lost: left without one working certificate both sides agree on.
        let why = [
            (switched[i].is_none(), "not switched"),
            (
                world.monitors[i].state() != MonitorState::Provisioned,
                "no longer provisioned",
            ),
            (
                view.unrevoked.len() != 1,
                "not exactly one live certificate",
            ),
            (view.serial != current, "station and monitor disagree"),
        ];
        if let Some((_, why)) = why.iter().find(|(bad, _)| *bad) {
            eprintln!("{id}: {why}");
            lost += 1;
        }
    }
    let mut times: Vec<Duration> = switched.iter().flatten().copied().collect();
    times.sort();
    let spread = match (times.first(), times.last()) {
        (Some(a), Some(b)) => *b - *a,
        _ => Duration::ZERO,
    };
    println!(
        "certificate renewal of {n} monitors at once (real station, monitors, mTLS, SQLite; {} s certificates)",
        args.lifetime.as_secs()
    );
    println!(
        "{:>9} {:>8} {:>8} {:>6} {:>10} {:>14} {:>14} {:>14} {:>10}",
        "monitors",
        "paired",
        "renewed",
        "lost",
        "hb failed",
        "first switch",
        "p50 switch",
        "last switch",
        "spread ms"
    );
    println!(
        "{:>9} {:>8} {:>8} {:>6} {:>10} {:>14} {:>14} {:>14} {:>10}",
        n,
        paired,
        times.len(),
        lost,
        heartbeat_failures,
        ms(times.first().copied().unwrap_or_default()),
        ms(percentile(&times, 50.0)),
        ms(times.last().copied().unwrap_or_default()),
        ms(spread),
    );
    println!(
        "(switch times in ms after all monitors were paired; a failed heartbeat is sent again at the next interval)"
    );
}

fn main() {
    let args = parse_args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(&args));
}
