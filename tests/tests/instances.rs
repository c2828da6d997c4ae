//! Two station processes on one PostgreSQL database (a real server,
//! throwaway): one is SIGKILLed in the middle of a pairing job, and the
//! other, through the job's lease, fails it cleanly within seconds; the
//! monitor can be paired again through it, and the audit chain is intact.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use central_station::db::{Database, Direct};
use zpair_core::client::{StationClient, StationTrust, TrustAnchor};
use zpair_proto::api::{DeviceImport, FailureReason, JobState, JobSummary, PairRequest, Role};
use zpair_proto::device::RegistrationRecord;
use zpair_tests::{ADMINISTRATOR, TECHNICIAN, binary, unique_ip};

/// Longer than a lease (15 s) and a sweep (3 s) after it, on a loaded machine.
const TAKE_OVER_WITHIN: Duration = Duration::from_secs(60);

fn free_address() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
}

/// A station process named `instance` on `dir`'s keys and the database at `url`.
fn start_instance(dir: &Path, url: &str, addr: SocketAddr, instance: &str) -> Child {
    Command::new(binary("central-station"))
        .args(["serve", "--data-dir"])
        .arg(dir)
        .args(["--listen", &addr.to_string(), "--instance-id", instance])
        // The variable, as the README advises: the password stays out of
        // the process list.
        .env("ZPAIR_DATABASE_URL", url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("station process")
}

fn client(addr: SocketAddr, ca_pem: &str) -> StationClient {
    StationClient::new(StationTrust {
        url: format!("https://{addr}"),
        anchor: TrustAnchor::CaPem(ca_pem.to_owned()),
    })
    .expect("client")
}

/// Kills the station processes however the test ends.
struct Instances(Vec<Child>);

impl Drop for Instances {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_of_an_instance_killed_mid_run_is_failed_cleanly_by_another() {
    let name = format!("instances_{}", std::process::id());
    let url = zpair_testkit::postgres::Cluster::shared()
        .create_database(&name)
        .expect("a database on the throwaway PostgreSQL server");
    let database = Database::Postgres {
        url: url.clone(),
        connections: 2,
        ca: None,
    };
    let root = tempfile::tempdir().expect("temp");
    let dir = root.path().join("station");

    // A monitor that accepts connections and never answers: the job stays
    // in PAIRING, retrying, for as long as the test needs.
    let ip = unique_ip();
    let _silent = TcpListener::bind((ip, 9443)).expect("silent monitor");
    let identity = zpair_proto::crypto::generate_signing_key().expect("key");
    let record = RegistrationRecord {
        device_id: "ZM-INST-KILL".into(),
        device_serial: "SN-ZM-INST-KILL".into(),
        identity_public_key: zpair_proto::crypto::public_key_text(&identity.verifying_key()),
        firmware_version: "1.2.3".into(),
        ip_address: Some(ip.to_string()),
    };
    std::thread::scope(|s| {
        s.spawn(|| {
            for (account, role) in [
                (TECHNICIAN, Role::Technician),
                (ADMINISTRATOR, Role::Administrator),
            ] {
                central_station::admin::create_user(
                    &dir, &database, account.0, "Test", role, account.1,
                )
                .expect("account");
            }
            central_station::admin::import_devices(
                &dir,
                &database,
                &[DeviceImport {
                    record,
                    device_label: None,
                    bed_id: None,
                }],
            )
            .expect("registry");
        });
    });
    let ca_pem = central_station::admin::ca_certificate_pem(&dir).expect("CA");

    let (first_addr, second_addr) = (free_address(), free_address());
    let mut instances = Instances(vec![
        start_instance(&dir, &url, first_addr, "first"),
        start_instance(&dir, &url, second_addr, "second"),
    ]);
    let (first, second) = (client(first_addr, &ca_pem), client(second_addr, &ca_pem));
    let mut session = None;
    for _ in 0..200 {
        if let (Ok(s), Ok(_)) = (
            first.login(TECHNICIAN.0, TECHNICIAN.1).await,
            second.login(TECHNICIAN.0, TECHNICIAN.1).await,
        ) {
            session = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let token = session.expect("both instances answer").access_token;
    let request = PairRequest {
        device_id: "ZM-INST-KILL".into(),
        pairing_code: "ABC-DEF-GHJ".into(),
        pairing_token: None,
        ip_address: None,
    };
    let job_id = first.pair(&token, &request).await.expect("202").job_id;
    let job: JobSummary = second
        .job(&token, &job_id)
        .await
        .expect("the job, from the other");
    assert_eq!(
        job.state,
        JobState::Pairing,
        "running on the first instance"
    );

    instances.0[0].kill().expect("SIGKILL");
    instances.0[0].wait().expect("reaped");
    let killed = Instant::now();
    let job = loop {
        let job = second.job(&token, &job_id).await.expect("job");
        if job.state.is_terminal() || killed.elapsed() > TAKE_OVER_WITHIN {
            break job;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        (job.state, job.reason),
        (JobState::Failed, Some(FailureReason::Interrupted)),
        "the second instance took the job over"
    );
    eprintln!(
        "taken over {:.1} s after the kill",
        killed.elapsed().as_secs_f64()
    );
    let owner: String = std::thread::scope(|s| {
        s.spawn(|| {
            Direct::open(&dir, &database)
                .expect("database")
                .query_row("SELECT owner FROM jobs WHERE id = ?1", [&job_id], |r| {
                    r.get(0)
                })
                .expect("owner")
        })
        .join()
        .expect("read")
    });
    assert_eq!(owner, "second");

    // Nothing left blocking the monitor: the second instance pairs it.
    let again = second.pair(&token, &request).await.expect("202 again");
    assert_ne!(again.job_id, job_id);

    // And the audit chain both instances wrote is one intact chain.
    let verified = Command::new(binary("central-station"))
        .args(["audit", "verify", "--data-dir"])
        .arg(&dir)
        .env("ZPAIR_DATABASE_URL", &url)
        .output()
        .expect("audit verify");
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
}
