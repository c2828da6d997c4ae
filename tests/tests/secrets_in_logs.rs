//! A full pairing run with real processes — station, monitor, technician CLI —
//! at debug log level, then every log searched for the secrets that went
//! through it: the pairing code, the QR token, passwords, bearer tokens and
//! private keys. None may appear.

use std::io::Write as _;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use zpair_core::client::{StationClient, StationTrust, TrustAnchor};
use zpair_tests::{TECHNICIAN, create_accounts, unique_ip};

fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace --bins` first",
        path.display()
    );
    path
}

struct Run {
    root: tempfile::TempDir,
    children: Vec<Child>,
}

impl Run {
    fn path(&self, name: &str) -> PathBuf {
        self.root.path().join(name)
    }

    fn command(&self, bin: &str) -> Command {
        let mut cmd = Command::new(binary(bin));
        cmd.env("RUST_LOG", "debug")
            .env("XDG_CONFIG_HOME", self.path("xdg-config"))
            .env("XDG_DATA_HOME", self.path("xdg-data"))
            .env("XDG_CACHE_HOME", self.path("xdg-cache"));
        cmd
    }

    /// Runs to completion; stdout and stderr go to `logs/<name>.log`.
    fn run(&self, name: &str, mut cmd: Command, stdin: Option<&str>) -> Output {
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn");
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            writeln!(pipe, "{input}").expect("stdin");
        }
        let out = child.wait_with_output().expect("wait");
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path("logs").join(format!("{name}.log")))
            .expect("log file");
        log.write_all(&out.stdout)
            .and_then(|()| log.write_all(&out.stderr))
            .expect("log write");
        assert!(
            out.status.success(),
            "{name} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Starts a long-running process logging to `logs/<name>.log`.
    fn spawn(&mut self, name: &str, mut cmd: Command) {
        let log =
            std::fs::File::create(self.path("logs").join(format!("{name}.log"))).expect("log");
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup"))
            .stderr(log);
        self.children.push(cmd.spawn().expect("spawn"));
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn wait_for(path: &Path) -> String {
    for _ in 0..200 {
        if let Ok(text) = std::fs::read_to_string(path)
            && !text.is_empty()
        {
            return text;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{} never appeared", path.display());
}

/// The base64 body lines of every PEM private key under `dir`.
fn private_key_lines(dir: &Path, found: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            private_key_lines(&path, found);
        } else if let Ok(text) = std::fs::read_to_string(&path)
            && text.contains("PRIVATE KEY-----")
        {
            found.extend(
                text.lines()
                    .filter(|l| !l.starts_with("-----") && l.len() >= 40)
                    .map(str::to_owned),
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_code_token_password_or_private_key_reaches_any_log() {
    let mut run = Run {
        root: tempfile::tempdir().expect("temp"),
        children: Vec::new(),
    };
    std::fs::create_dir_all(run.path("logs")).expect("logs dir");
    let station_dir = run.path("station");
    let monitor_dir = run.path("monitor");
    create_accounts(&station_dir);

    // Register the monitor and make it trust the station, as the demo does.
    let mut init = run.command("bedside-monitor");
    init.args(["init", "--data-dir"])
        .arg(&monitor_dir)
        .args(["--device-id", "ZM-LOGS-01"]);
    let record = String::from_utf8(run.run("monitor-init", init, None).stdout).expect("utf-8");
    std::fs::write(run.path("registry.json"), format!("[{}]", record.trim())).expect("registry");
    let mut import = run.command("central-station");
    import
        .args(["device", "import", "--data-dir"])
        .arg(&station_dir)
        .arg(run.path("registry.json"));
    run.run("station-import", import, None);
    let mut key = run.command("central-station");
    key.args(["station-key", "--data-dir"]).arg(&station_dir);
    let key = String::from_utf8(run.run("station-key", key, None).stdout).expect("utf-8");
    let mut trust = run.command("bedside-monitor");
    trust
        .args(["trust-station", "--data-dir"])
        .arg(&monitor_dir)
        .args(["--key", key.trim()]);
    run.run("monitor-trust", trust, None);
    let mut ca = run.command("central-station");
    ca.args(["ca-cert", "--data-dir"]).arg(&station_dir);
    let ca = String::from_utf8(run.run("station-ca", ca, None).stdout).expect("utf-8");
    std::fs::write(run.path("ca.pem"), &ca).expect("ca file");

    let addr: SocketAddr = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    let mut serve = run.command("central-station");
    serve
        .args(["serve", "--data-dir"])
        .arg(&station_dir)
        .args(["--listen", &addr.to_string()]);
    run.spawn("station", serve);
    let ip = unique_ip();
    let mut monitor = run.command("bedside-monitor");
    monitor.args(["run", "--data-dir"]).arg(&monitor_dir).args([
        "--ip",
        &ip.to_string(),
        "--provision",
    ]);
    run.spawn("monitor", monitor);
    let screen = wait_for(&monitor_dir.join("screen").join("qr.json"));
    let payload: zpair_proto::QrPayload = serde_json::from_str(&screen).expect("QR JSON");

    let url = format!("https://{addr}");
    let mut setup = run.command("zpair");
    setup
        .args(["setup", "--station", &url, "--ca-file"])
        .arg(run.path("ca.pem"));
    for _ in 0..100 {
        if std::net::TcpStream::connect(addr).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    run.run("cli-setup", setup, None);
    let mut login = run.command("zpair");
    login.args(["login", "--username", TECHNICIAN.0, "--password-stdin"]);
    run.run("cli-login", login, Some(TECHNICIAN.1));
    let mut pair = run.command("zpair");
    pair.args(["pair", "--qr-json"])
        .arg(monitor_dir.join("screen").join("qr.json"));
    let paired = run.run("cli-pair", pair, None);
    assert!(
        String::from_utf8_lossy(&paired.stdout).contains("PROVISIONED"),
        "the run really paired"
    );

    // A bearer token used against the station directly, to look for it in the station's log.
    let client = StationClient::new(StationTrust {
        url: url.clone(),
        anchor: TrustAnchor::CaPem(ca),
    })
    .expect("client");
    let session = client
        .login(TECHNICIAN.0, TECHNICIAN.1)
        .await
        .expect("login");
    client
        .device_status(&session.access_token, "ZM-LOGS-01")
        .await
        .expect("status");
    std::thread::sleep(Duration::from_millis(500));
    drop(
        std::mem::take(&mut run.children)
            .into_iter()
            .map(|mut c| {
                let _ = c.kill();
                c.wait()
            })
            .collect::<Vec<_>>(),
    );

    let code = zpair_proto::PairingCode::parse(&payload.pairing_code).expect("code");
    let mut secrets = vec![
        ("pairing code", code.display()),
        ("pairing code (canonical)", code.canonical().to_owned()),
        ("pairing token", payload.pairing_token.clone()),
        ("technician password", TECHNICIAN.1.to_owned()),
        (
            "administrator password",
            zpair_tests::ADMINISTRATOR.1.to_owned(),
        ),
        ("access token", session.access_token.clone()),
        ("refresh token", session.refresh_token.clone()),
    ];
    let mut keys = Vec::new();
    private_key_lines(&station_dir, &mut keys);
    private_key_lines(&monitor_dir, &mut keys);
    assert!(
        keys.len() >= 2,
        "found the station's and the monitor's private keys to look for"
    );
    secrets.extend(keys.into_iter().map(|k| ("private key", k)));

    let mut logs = Vec::new();
    for entry in std::fs::read_dir(run.path("logs")).expect("logs").flatten() {
        logs.push((
            entry.path(),
            std::fs::read_to_string(entry.path()).expect("log text"),
        ));
    }
    let monitor_events = monitor_dir.join("events.jsonl");
    logs.push((
        monitor_events.clone(),
        std::fs::read_to_string(&monitor_events).expect("monitor event log"),
    ));
    let total: usize = logs.iter().map(|(_, text)| text.len()).sum();
    assert!(total > 2_000, "debug logs were captured ({total} bytes)");
    for (path, text) in &logs {
        for (what, secret) in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{what} found in {}",
                path.display()
            );
        }
    }
}
