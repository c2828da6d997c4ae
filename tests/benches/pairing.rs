//! Pairing benchmark: pair request → monitor committed, on loopback, one at
//! a time and N monitors at once, with failures counted, and where one
//! pairing's time goes (each step as the technician's client sees it).
//! Real station, real monitors, real TLS and SQLite, as in the
//! cross-component tests.
//!
//! `cargo xtask bench pairing [--sequential N] [--concurrent 10,100,1000] [--swarm]
//! [--db sqlite|postgres] [--stations N]`
//!
//! With `--db postgres` the station keeps its records on a throwaway
//! PostgreSQL server (Debian's, started in a temporary folder, fsync on),
//! each scenario in a database of its own. With `--stations N` (PostgreSQL
//! only) N station instances share it, each technician signed in to one of
//! them in turn.
//!
//! With `--swarm` the concurrent scenarios' monitors run in a
//! `bedside-monitor swarm` process (`cargo xtask bench` builds it), so the
//! bench's process holds only the station and the technicians' clients.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use central_station::db::Database;
use zpair_proto::QrPayload;
use zpair_proto::api::JobState;
use zpair_tests::swarm::{SwarmOptions, SwarmProcess};
use zpair_tests::{Milestone, PairResult, TECHNICIAN, Trace, World, WorldOptions, technician};

struct Args {
    sequential: usize,
    concurrent: Vec<usize>,
    /// The concurrent scenarios' monitors run in a `bedside-monitor swarm`
    /// process rather than in the bench's own.
    swarm: bool,
    /// The station's records on PostgreSQL rather than SQLite.
    postgres: bool,
    /// Station instances sharing the database.
    stations: usize,
}

fn parse_args() -> Args {
    let mut args = Args {
        sequential: 100,
        concurrent: vec![10, 100, 1000],
        swarm: false,
        postgres: false,
        stations: 1,
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
                    // `--concurrent 0` runs none (as `--sequential 0` does).
                    .map(|v| {
                        v.split(',')
                            .filter_map(|n| n.trim().parse().ok())
                            .filter(|&n| n > 0)
                            .collect()
                    })
                    .unwrap_or_default();
            }
            "--swarm" => args.swarm = true,
            "--stations" => {
                args.stations = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|n| *n >= 1)
                    .expect("--stations takes a number, 1 or more")
            }
            "--db" => match it.next().as_deref() {
                Some("postgres") => args.postgres = true,
                Some("sqlite") => args.postgres = false,
                other => panic!("--db takes sqlite or postgres, not {other:?}"),
            },
            // `cargo bench` passes --bench; anything else is ignored likewise.
            _ => {}
        }
    }
    args
}

struct Row {
    scenario: String,
    /// Every successful pairing's steps.
    traces: Vec<Trace>,
    /// Why the others failed, and how many each.
    failures: BTreeMap<String, usize>,
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

/// Pairings one technician account runs at once in the concurrent
/// scenarios (under the station's 64 live streams per user).
const PAIRINGS_PER_TECHNICIAN: usize = 50;

/// Starts a world with `n` registered monitors, all in provisioning mode,
/// and `technicians` technician accounts.
async fn world_with(
    n: usize,
    prefix: &str,
    technicians: usize,
    database: Database,
    stations: usize,
) -> World {
    let mut world = World::start_with(WorldOptions {
        technicians,
        database,
        // The product's window for a proof of commit, not the tests' few
        // seconds: under ten thousand pairings at once a proof can wait
        // longer than that for the station, and the bench measures the
        // station as a hospital runs it.
        fail_safe: central_station::DEFAULT_FAIL_SAFE,
        ..WorldOptions::default()
    })
    .await;
    for _ in 1..stations {
        world.start_instance().await;
    }
    for i in 0..n {
        let m = world.add_monitor(&format!("ZM-{prefix}-{i:04}")).await;
        world.monitors[m]
            .enter_provisioning_mode()
            .await
            .expect("provisioning mode");
    }
    world
}

async fn sequential(n: usize, database: Database) -> Row {
    let world = world_with(n, "SEQ", 1, database, 1).await;
    let tech = world.session(TECHNICIAN).await;
    let start = Instant::now();
    let mut outcomes = Vec::with_capacity(n);
    for m in 0..n {
        let payload = world.screen(m);
        outcomes.push(timed(world.pair_scanned_traced(&tech, &payload).await));
    }
    row(format!("one at a time ×{n}"), outcomes, start.elapsed())
}

/// Heartbeat interval of swarm monitors once paired: ten thousand monitors
/// heartbeating every 10 s (the default) would be 1,000 requests a second,
/// a load of its own rather than pairing.
const SWARM_HEARTBEAT: Duration = Duration::from_secs(60);

async fn concurrent(
    n: usize,
    scenario: usize,
    swarm: bool,
    database: Database,
    stations: usize,
) -> Row {
    // One technician follows at most 64 jobs at once: the station's cap on
    // a user's live event streams, and the HTTP/2 streams it allows on one
    // connection. A thousand pairings at once are a ward's technicians
    // each pairing theirs, not one account queueing behind its own cap.
    let technicians = n.div_ceil(PAIRINGS_PER_TECHNICIAN);
    let in_process = if swarm { 0 } else { n };
    let world =
        std::sync::Arc::new(world_with(in_process, "PAR", technicians, database, stations).await);
    // Each scenario's swarm on a block of loopback addresses of its own.
    let swarm = if swarm {
        let first = Ipv4Addr::new(127, 10 + scenario as u8, 0, 1);
        let swarm = SwarmProcess::start(
            &world,
            n,
            first,
            SwarmOptions {
                heartbeat: SWARM_HEARTBEAT,
                files_in_memory: true,
                ..SwarmOptions::default()
            },
        );
        swarm.register_with(&world).await;
        Some(swarm)
    } else {
        None
    };
    let payloads: Vec<QrPayload> = (0..n)
        .map(|m| match &swarm {
            Some(swarm) => swarm.screen(m + 1),
            None => world.screen(m),
        })
        .collect();
    let mut sessions = Vec::with_capacity(technicians);
    for t in 1..=technicians {
        let username = technician(t);
        sessions.push(std::sync::Arc::new(
            world
                .session_on(t % stations, (username.as_str(), TECHNICIAN.1))
                .await,
        ));
    }
    let start = Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|m| {
            let (world, tech) = (world.clone(), sessions[m % technicians].clone());
            let payload = payloads[m].clone();
            tokio::spawn(async move { timed(world.pair_scanned_traced(&tech, &payload).await) })
        })
        .collect();
    let mut outcomes = Vec::with_capacity(n);
    for task in tasks {
        // A pairing task that panicked counts as failed, without a time.
        outcomes.push(task.await.ok().flatten());
    }
    let who = if technicians == 1 {
        "1 technician".to_owned()
    } else {
        format!("{technicians} technicians")
    };
    let wall = start.elapsed();
    let place = if let Some(swarm) = swarm {
        assert!(swarm.stop(), "the swarm exits cleanly");
        ", swarm"
    } else {
        ""
    };
    let instances = if stations > 1 {
        format!(", {stations} stations")
    } else {
        String::new()
    };
    row(
        format!("{n} at once, {who}{place}{instances}"),
        outcomes,
        wall,
    )
}

/// One pairing's time, and its trace when it reached PROVISIONED.
type Outcome = Option<(Duration, Result<Trace, String>)>;

/// A pairing's time, and its trace or why it did not reach PROVISIONED.
fn timed((result, trace): (PairResult, Trace)) -> Outcome {
    let elapsed = trace.started.elapsed();
    let ended = match result {
        PairResult::Provisioned(_) => Ok(trace),
        PairResult::Failed(reason) => Err(format!("failed {}", reason.code())),
        PairResult::Refused(code) => Err(format!("refused {code}")),
    };
    Some((elapsed, ended))
}

fn row(scenario: String, outcomes: Vec<Outcome>, wall: Duration) -> Row {
    let pairings = outcomes.len();
    let mut times = Vec::with_capacity(pairings);
    let mut traces = Vec::with_capacity(pairings);
    let mut failures: BTreeMap<String, usize> = BTreeMap::new();
    for outcome in outcomes {
        match outcome {
            Some((elapsed, ended)) => {
                times.push(elapsed);
                match ended {
                    Ok(trace) => traces.push(trace),
                    Err(why) => *failures.entry(why).or_default() += 1,
                }
            }
            None => {
                *failures
                    .entry("the pairing task panicked".into())
                    .or_default() += 1
            }
        }
    }
    times.sort();
    Row {
        scenario,
        pairings,
        failed: pairings - traces.len(),
        failures,
        traces,
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
    assert!(
        args.stations == 1 || args.postgres,
        "several stations share a PostgreSQL database: add --db postgres"
    );
    let cluster = args
        .postgres
        .then(|| zpair_testkit::postgres::Cluster::start().expect("a throwaway PostgreSQL server"));
    // Each scenario on a database of its own.
    let database = |name: &str| match &cluster {
        None => Database::File,
        Some(cluster) => Database::Postgres {
            url: cluster.create_database(name).expect("database"),
            connections: central_station::db::DEFAULT_CONNECTIONS,
            ca: None,
        },
    };
    let mut rows = Vec::new();
    runtime.block_on(async {
        if args.sequential > 0 {
            rows.push(sequential(args.sequential, database("bench_sequential")).await);
        }
        for (scenario, &n) in args.concurrent.iter().enumerate() {
            let db = database(&format!("bench_concurrent_{scenario}"));
            rows.push(concurrent(n, scenario, args.swarm, db, args.stations).await);
        }
    });
    let store = if args.postgres {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!(
        "pair request → monitor committed, on loopback (real station, monitors, TLS, {store})"
    );
    println!(
        "{:<30} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9} {:>11}",
        "scenario", "pairings", "failed", "p50 ms", "p99 ms", "max ms", "wall s", "pairings/s"
    );
    for r in &rows {
        let succeeded = (r.pairings - r.failed) as f64;
        println!(
            "{:<30} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9.2} {:>11.1}",
            r.scenario,
            r.pairings,
            r.failed,
            ms(r.p50),
            ms(r.p99),
            ms(r.max),
            r.wall.as_secs_f64(),
            succeeded / r.wall.as_secs_f64().max(f64::EPSILON)
        );
    }
    for r in rows.iter().filter(|r| !r.failures.is_empty()) {
        let why: Vec<String> = r.failures.iter().map(|(w, n)| format!("{n} {w}")).collect();
        println!("{}: {}", r.scenario, why.join(", "));
    }
    println!();
    println!("where one pairing's time goes: mean ms per step (share of the whole)");
    print_breakdown(&rows);
    println!();
    println!("the slowest pairings: ms per step, for the tail");
    print_slowest(&rows);
}

/// How many of a row's slowest pairings [`print_slowest`] shows.
const SLOWEST: usize = 3;

/// The steps of each row's slowest pairings: a tail far beyond p99 is a
/// wait (a timeout, a missed wake-up) rather than load, and this says in
/// which step.
fn print_slowest(rows: &[Row]) {
    for row in rows {
        let mut traces: Vec<&Trace> = row.traces.iter().collect();
        traces.sort_by_key(|t| {
            std::cmp::Reverse(t.steps().iter().map(|(_, d)| *d).sum::<Duration>())
        });
        for trace in traces.iter().take(SLOWEST) {
            let steps: Vec<String> = trace
                .steps()
                .iter()
                .map(|(milestone, step)| {
                    let name = STEPS
                        .iter()
                        .find(|(m, _)| m == milestone)
                        .map_or("other", |(_, name)| name);
                    format!("{name} {}", ms(*step))
                })
                .collect();
            println!("{}: {}", row.scenario, steps.join("; "));
        }
    }
}

/// The steps of a pairing in the order the client sees them, named for
/// what happens between the previous milestone and this one.
const STEPS: [(Milestone, &str); 5] = [
    (
        Milestone::Job(JobState::Pairing),
        "request, job created, stream opened",
    ),
    (
        Milestone::Job(JobState::Configuring),
        "code proven, monitor identified",
    ),
    (
        Milestone::Job(JobState::Validating),
        "certificate issued, configuration pushed",
    ),
    (
        Milestone::Job(JobState::Provisioned),
        "monitor tests its connection, commit",
    ),
    (Milestone::MonitorCommitted, "commit answer reaches monitor"),
];

fn print_breakdown(rows: &[Row]) {
    print!("{:<42}", "step");
    for r in rows {
        print!(" {:>30}", r.scenario);
    }
    println!();
    let means: Vec<BTreeMap<usize, f64>> = rows.iter().map(step_means).collect();
    let totals: Vec<f64> = means.iter().map(|m| m.values().sum()).collect();
    for (i, (_, name)) in STEPS.iter().enumerate() {
        print!("{name:<42}");
        for (m, total) in means.iter().zip(&totals) {
            let mean = m.get(&i).copied().unwrap_or(0.0);
            let share = if *total > 0.0 {
                100.0 * mean / total
            } else {
                0.0
            };
            print!(" {:>22.1} ({share:>3.0} %)", mean);
        }
        println!();
    }
}

/// Mean duration in ms of each of [`STEPS`] over a row's pairings.
fn step_means(row: &Row) -> BTreeMap<usize, f64> {
    let mut sums: BTreeMap<usize, f64> = BTreeMap::new();
    for trace in &row.traces {
        for (milestone, step) in trace.steps() {
            if let Some(i) = STEPS.iter().position(|(m, _)| *m == milestone) {
                *sums.entry(i).or_default() += step.as_secs_f64() * 1000.0;
            }
        }
    }
    let n = row.traces.len().max(1) as f64;
    sums.into_iter().map(|(i, sum)| (i, sum / n)).collect()
}
