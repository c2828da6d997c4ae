//! Pairing benchmark: pair request → PROVISIONED latency on loopback, one at a
//! time and N monitors at once, with failures counted. Real station, real
//! monitors, real TLS and SQLite, as in the cross-component tests.
//!
//! `cargo xtask bench pairing [--sequential N] [--concurrent 10,100,1000]`

use std::time::{Duration, Instant};

use zpair_tests::{PairResult, TECHNICIAN, World};

struct Args {
    sequential: usize,
    concurrent: Vec<usize>,
}

fn parse_args() -> Args {
    let mut args = Args {
        sequential: 100,
        concurrent: vec![10, 100, 1000],
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--sequential" => {
                args.sequential = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(args.sequential)
            }
            "--concurrent" => {
                args.concurrent = it
                    .next()
                    .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
                    .unwrap_or_default();
            }
            // `cargo bench` passes --bench; anything else is ignored likewise.
            _ => {}
        }
    }
    args
}

struct Row {
    scenario: String,
    pairings: usize,
    failed: usize,
    p50: Duration,
    p99: Duration,
    max: Duration,
    wall: Duration,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Starts a world with `n` registered monitors, all in provisioning mode.
async fn world_with(n: usize, prefix: &str) -> World {
    let mut world = World::start().await;
    for i in 0..n {
        let m = world.add_monitor(&format!("ZM-{prefix}-{i:04}")).await;
        world.monitors[m]
            .enter_provisioning_mode()
            .await
            .expect("provisioning mode");
    }
    world
}

async fn sequential(n: usize) -> Row {
    let world = world_with(n, "SEQ").await;
    let tech = world.session(TECHNICIAN).await;
    let start = Instant::now();
    let mut times = Vec::with_capacity(n);
    let mut failed = 0;
    for m in 0..n {
        let payload = world.screen(m);
        let t = Instant::now();
        let result = world.pair_scanned(&tech, &payload).await;
        times.push(t.elapsed());
        if !matches!(result, PairResult::Provisioned(_)) {
            failed += 1;
        }
    }
    row(
        format!("one at a time ×{n}"),
        times,
        failed,
        start.elapsed(),
    )
}

async fn concurrent(n: usize) -> Row {
    let world = std::sync::Arc::new(world_with(n, "PAR").await);
    let tech = std::sync::Arc::new(world.session(TECHNICIAN).await);
    let start = Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|m| {
            let (world, tech) = (world.clone(), tech.clone());
            tokio::spawn(async move {
                let payload = world.screen(m);
                let t = Instant::now();
                let result = world.pair_scanned(&tech, &payload).await;
                (t.elapsed(), matches!(result, PairResult::Provisioned(_)))
            })
        })
        .collect();
    let mut times = Vec::with_capacity(n);
    let mut failed = 0;
    for task in tasks {
        match task.await {
            Ok((elapsed, ok)) => {
                times.push(elapsed);
                failed += usize::from(!ok);
            }
            Err(_) => failed += 1,
        }
    }
    row(
        format!("{n} monitors at once"),
        times,
        failed,
        start.elapsed(),
    )
}

fn row(scenario: String, mut times: Vec<Duration>, failed: usize, wall: Duration) -> Row {
    times.sort();
    Row {
        scenario,
        pairings: times.len(),
        failed,
        p50: percentile(&times, 50.0),
        p99: percentile(&times, 99.0),
        max: times.last().copied().unwrap_or_default(),
        wall,
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn main() {
    let args = parse_args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut rows = Vec::new();
    runtime.block_on(async {
        if args.sequential > 0 {
            rows.push(sequential(args.sequential).await);
        }
        for &n in &args.concurrent {
            rows.push(concurrent(n).await);
        }
    });
    println!("pair request → PROVISIONED on loopback (real station, monitors, TLS, SQLite)");
    println!(
        "{:<24} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9}",
        "scenario", "pairings", "failed", "p50 ms", "p99 ms", "max ms", "wall s"
    );
    for r in &rows {
        println!(
            "{:<24} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9.2}",
            r.scenario,
            r.pairings,
            r.failed,
            ms(r.p50),
            ms(r.p99),
            ms(r.max),
            r.wall.as_secs_f64()
        );
    }
}
