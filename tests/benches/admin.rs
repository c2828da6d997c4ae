//! Administrators' benchmark: filtered pages of an audit log of 100,000
//! rows, and a bulk import of 10,000 monitors from a CSV file, on a real
//! station over real HTTPS, through the client the app and the CLI use.
//!
//! The audit rows are written by the station's own code: its offline
//! import (`central_station::admin::import_devices`, the path of the
//! `central-station import` subcommand) registers monitors in batches, one
//! hash-chained `device_registered` row each, as actor `admin-cli`; sign-ins
//! over HTTPS add `sign_in` and `sign_in_failed` rows of other actors, and
//! the timed CSV import adds 10,000 rows of actor `admin`. Nothing is
//! written to the database behind the station's back, so the chain verifies.
//!
//! Then each filter is timed: one page (the default 100 rows) of
//! `GET /api/audit` by device, by actor, by event type and by time range,
//! each with varying values. Targets (issue 14): audit page p95 < 50 ms;
//! CSV dry run and commit < 5 s each.
//!
//! `cargo xtask bench admin [--rows 100000] [--monitors 10000] [--samples 200]`

use std::time::{Duration, Instant};

use time::OffsetDateTime;
use zpair_core::admin::registry;
use zpair_core::import_file;
use zpair_proto::admin::AuditQuery;
use zpair_proto::api::DeviceImport;
use zpair_proto::device::RegistrationRecord;
use zpair_tests::{ADMINISTRATOR, TECHNICIAN, World};

struct Args {
    rows: usize,
    monitors: usize,
    samples: usize,
}

fn parse_args() -> Args {
    let mut args = Args {
        rows: 100_000,
        monitors: 10_000,
        samples: 200,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let slot = match arg.as_str() {
            "--rows" => &mut args.rows,
            "--monitors" => &mut args.monitors,
            "--samples" => &mut args.samples,
            // `cargo bench` passes --bench; anything else is ignored likewise.
            _ => continue,
        };
        if let Some(n) = it.next().and_then(|v| v.parse().ok()) {
            *slot = n;
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

/// A registration record with a real Ed25519 key, as a monitor exports it.
fn record(device_id: String) -> DeviceImport {
    let key = zpair_proto::crypto::generate_signing_key().expect("randomness");
    DeviceImport {
        record: RegistrationRecord {
            device_serial: format!("SN-{device_id}"),
            identity_public_key: zpair_proto::crypto::public_key_text(&key.verifying_key()),
            firmware_version: "1.0.0".into(),
            ip_address: None,
            device_id,
        },
        device_label: None,
        bed_id: None,
    }
}

/// The CSV an administrator would import for `n` monitors.
fn csv_of(n: usize) -> String {
    let mut text = String::from(
        "deviceId,deviceSerial,identityPublicKey,ipAddress,deviceLabel,bedId,firmwareVersion\n",
    );
    for i in 0..n {
        let r = record(format!("ZM-CSV-{i:05}"));
        text.push_str(&format!(
            "{},{},{},10.{}.{}.{},\"Ward {}, monitor {i}\",BED-{i:05},2.0.1\n",
            r.record.device_id,
            r.record.device_serial,
            r.record.identity_public_key,
            i / 65_536,
            i / 256 % 256,
            i % 256,
            i / 100
        ));
    }
    text
}

struct Seeded {
    device_ids: Vec<String>,
    started: OffsetDateTime,
    ended: OffsetDateTime,
}

/// Registers monitors offline, in batches, until the log holds about `rows`
/// rows besides the `monitors` the CSV import will add.
fn seed(world: &World, rows: usize, monitors: usize) -> Seeded {
    let registrations = rows.saturating_sub(monitors).saturating_sub(200);
    let started = OffsetDateTime::now_utc();
    let mut device_ids = Vec::with_capacity(registrations);
    for batch in (0..registrations).collect::<Vec<_>>().chunks(10_000) {
        let records: Vec<DeviceImport> = batch
            .iter()
            .map(|i| record(format!("ZM-SEED-{i:06}")))
            .collect();
        device_ids.extend(records.iter().map(|r| r.record.device_id.clone()));
        let report = central_station::admin::import_devices(
            &world.station_dir(),
            &central_station::db::Database::File,
            &records,
        )
        .expect("offline import");
        assert!(report.rejected.is_empty(), "{:?}", report.rejected.first());
    }
    Seeded {
        device_ids,
        started,
        ended: OffsetDateTime::now_utc(),
    }
}

struct Measured {
    name: &'static str,
    samples: Vec<Duration>,
    rows: usize,
}

async fn run(args: &Args) {
    let world = World::start().await;
    println!(
        "Seeding the audit log to about {} rows (the station's own offline import, then HTTPS sign-ins)…",
        args.rows
    );
    let t = Instant::now();
    let seeded = seed(&world, args.rows, args.monitors);
    let client = world.client();
    for n in 0..100 {
        let (user, password) = if n % 2 == 0 {
            ADMINISTRATOR
        } else {
            TECHNICIAN
        };
        client.login(user, password).await.expect("sign-in");
        // A few wrong passwords: more would lock this address out.
        if n % 25 == 0 {
            let _ = client.login(user, "not the password").await;
        }
    }
    let seeding = t.elapsed();

    let admin = world.session(ADMINISTRATOR).await;

    // The bulk import: read, dry run, commit, each timed.
    let text = csv_of(args.monitors);
    let t = Instant::now();
    let file = import_file::read("monitors.csv", &text).expect("readable CSV");
    let read = t.elapsed();
    assert_eq!(file.records.len(), args.monitors);
    let t = Instant::now();
    let dry_run = registry::dry_run(&admin, &file).await.expect("dry run");
    let dry = t.elapsed();
    assert_eq!(
        dry_run.preview.new as usize, args.monitors,
        "every row is new"
    );
    let t = Instant::now();
    let report = registry::commit(&admin, &file).await.expect("commit");
    let commit = t.elapsed();
    assert_eq!(report.imported.len(), args.monitors);

    let token = admin.access_token().await.expect("token");
    let total_rows = {
        let verification = client.verify_audit(&token).await.expect("verify");
        assert!(verification.intact, "the seeded chain verifies");
        verification.rows_checked
    };

    // Filtered pages.
    let span = (seeded.ended - seeded.started).whole_milliseconds().max(10) as i64;
    let mut measured = Vec::new();
    for name in ["by device", "by actor", "by event type", "by time range"] {
        let mut samples = Vec::with_capacity(args.samples);
        let mut rows = 0;
        for i in 0..args.samples {
            let query = match name {
                "by device" => AuditQuery {
                    device_id: Some(
                        seeded.device_ids[(i * 7_919) % seeded.device_ids.len().max(1)].clone(),
                    ),
                    ..AuditQuery::default()
                },
                "by actor" => AuditQuery {
                    actor: Some(["admin-cli", "admin", "tech"][i % 3].into()),
                    ..AuditQuery::default()
                },
                "by event type" => AuditQuery {
                    event_type: Some(
                        ["device_registered", "sign_in", "sign_in_failed"][i % 3].into(),
                    ),
                    ..AuditQuery::default()
                },
                _ => {
                    // A window of a tenth of the seeding time, somewhere in it.
                    let from =
                        seeded.started + time::Duration::milliseconds(span * (i as i64 % 9) / 10);
                    let to = from + time::Duration::milliseconds(span / 10);
                    AuditQuery {
                        since: Some(zpair_proto::timestamp::format(from)),
                        until: Some(zpair_proto::timestamp::format(to)),
                        ..AuditQuery::default()
                    }
                }
            };
            let t = Instant::now();
            let page = client.audit_page(&token, &query).await.expect("audit page");
            samples.push(t.elapsed());
            rows += page.events.len();
        }
        samples.sort();
        measured.push(Measured {
            name,
            samples,
            rows,
        });
    }

    println!();
    println!(
        "Audit log: {total_rows} rows (seeded in {:.1} s); {} pages per filter, over HTTPS",
        seeding.as_secs_f64(),
        args.samples
    );
    println!(
        "{:<22} {:>9} {:>9} {:>9} {:>12}",
        "audit page", "p50 ms", "p95 ms", "max ms", "rows/page"
    );
    let mut worst = Duration::ZERO;
    for m in &measured {
        let p95 = percentile(&m.samples, 95.0);
        worst = worst.max(p95);
        println!(
            "{:<22} {:>9} {:>9} {:>9} {:>12.1}",
            m.name,
            ms(percentile(&m.samples, 50.0)),
            ms(p95),
            ms(*m.samples.last().unwrap_or(&Duration::ZERO)),
            m.rows as f64 / m.samples.len().max(1) as f64
        );
    }
    println!();
    println!("CSV import of {} monitors", args.monitors);
    println!("{:<22} {:>9}", "step", "ms");
    println!("{:<22} {:>9}", "read the file", ms(read));
    println!("{:<22} {:>9}", "dry run (station)", ms(dry));
    println!("{:<22} {:>9}", "commit (station)", ms(commit));
    println!();
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    println!(
        "Targets: audit page p95 < 50 ms: {} ({} ms); dry run < 5 s: {}; commit < 5 s: {}",
        verdict(worst < Duration::from_millis(50)),
        ms(worst),
        verdict(dry < Duration::from_secs(5)),
        verdict(commit < Duration::from_secs(5)),
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
