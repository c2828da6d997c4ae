//! A full pairing run with real processes — station, monitors, technician
//! CLI — at trace log level (each log proves it), with failed, expired and
//! replayed pairings and a step-up confirmation beside the good one; then
//! every log searched for every secret that went through it — pairing codes,
//! QR tokens, passwords, the CLI's own session tokens, another session's
//! tokens, the step-up confirmation, private keys — in every encoding a log
//! line might carry it (as is, lower and upper case, URL-encoded, standard
//! base64, hex of its bytes). None may appear.

use std::io::Write as _;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use base64::Engine as _;
use zpair_core::client::{StationClient, StationTrust, TrustAnchor};
use zpair_core::secret_store::{KeyringSecretStore, SecretStore as _};
use zpair_tests::{TECHNICIAN, binary, create_accounts, unique_ip};

/// Every way a log line might carry `secret`: as is, in either case,
/// URL-encoded, in standard base64, and — for the base64url the protocol
/// uses — its bytes in hex and standard base64. Short forms are left out:
/// they would match by chance. `decode_bytes` is false for a private key's
/// PEM lines: PKCS#8 carries the public key too, whose bytes a certificate
/// rightly shows, so only the lines' text is a secret.
fn encodings(secret: &str, decode_bytes: bool) -> Vec<String> {
    let standard = base64::engine::general_purpose::STANDARD;
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let url_encoded: String = secret
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect();
    let mut forms = vec![
        secret.to_owned(),
        secret.to_lowercase(),
        secret.to_uppercase(),
        url_encoded,
        standard.encode(secret),
        hex(secret.as_bytes()),
    ];
    if let Ok(bytes) = zpair_proto::b64::decode(secret)
        && decode_bytes
    {
        forms.push(hex(&bytes));
        forms.push(hex(&bytes).to_uppercase());
        let padded = standard.encode(&bytes);
        forms.push(padded.trim_end_matches('=').to_owned());
        forms.push(padded);
    }
    forms.retain(|f| f.len() >= 8);
    forms.sort();
    forms.dedup();
    forms
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
        cmd.env("RUST_LOG", "trace")
            .env("XDG_CONFIG_HOME", self.path("xdg-config"))
            .env("XDG_DATA_HOME", self.path("xdg-data"))
            .env("XDG_CACHE_HOME", self.path("xdg-cache"));
        cmd
    }

    /// Runs to completion, expecting success; stdout and stderr go to `logs/<name>.log`.
    fn run(&self, name: &str, cmd: Command, stdin: Option<&str>) -> Output {
        let out = self.run_any(name, cmd, stdin);
        assert!(
            out.status.success(),
            "{name} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// The same for a command expected to fail (a refused pairing).
    fn run_refused(&self, name: &str, cmd: Command) -> Output {
        let out = self.run_any(name, cmd, None);
        assert!(!out.status.success(), "{name} was expected to be refused");
        out
    }

    fn run_any(&self, name: &str, mut cmd: Command, stdin: Option<&str>) -> Output {
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
    let late_dir = run.path("monitor-late");
    create_accounts(&station_dir);

    // Register the monitors and make them trust the station, as the demo does.
    let ip = unique_ip();
    let late_ip = unique_ip();
    let mut records = Vec::new();
    for (dir, device_id, at) in [
        (&monitor_dir, "ZM-LOGS-01", ip),
        (&late_dir, "ZM-LOGS-02", late_ip),
    ] {
        let mut init = run.command("bedside-monitor");
        init.args(["init", "--data-dir"]).arg(dir).args([
            "--device-id",
            device_id,
            "--ip",
            &at.to_string(),
        ]);
        let record = String::from_utf8(run.run(&format!("init-{device_id}"), init, None).stdout)
            .expect("utf-8");
        records.push(record.trim().to_owned());
    }
    std::fs::write(
        run.path("registry.json"),
        format!("[{}]", records.join(",")),
    )
    .expect("registry");
    let mut import = run.command("central-station");
    import
        .args(["device", "import", "--data-dir"])
        .arg(&station_dir)
        .arg(run.path("registry.json"));
    run.run("station-import", import, None);
    let mut key = run.command("central-station");
    key.args(["station-key", "--data-dir"]).arg(&station_dir);
    let key = String::from_utf8(run.run("station-key", key, None).stdout).expect("utf-8");
    for dir in [&monitor_dir, &late_dir] {
        let mut trust = run.command("bedside-monitor");
        trust
            .args(["trust-station", "--data-dir"])
            .arg(dir)
            .args(["--key", key.trim()]);
        run.run("monitor-trust", trust, None);
    }
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
    let mut monitor = run.command("bedside-monitor");
    monitor.args(["run", "--data-dir"]).arg(&monitor_dir).args([
        "--ip",
        &ip.to_string(),
        "--provision",
    ]);
    run.spawn("monitor", monitor);
    // A monitor whose code expires before anyone uses it.
    let mut late = run.command("bedside-monitor");
    late.args(["run", "--data-dir"]).arg(&late_dir).args([
        "--ip",
        &late_ip.to_string(),
        "--provision",
        "--code-lifetime-secs",
        "5",
    ]);
    run.spawn("monitor-late", late);
    let screen = wait_for(&monitor_dir.join("screen").join("qr.json"));
    let payload: zpair_proto::QrPayload = serde_json::from_str(&screen).expect("QR JSON");
    let late_screen = wait_for(&late_dir.join("screen").join("qr.json"));
    let late_payload: zpair_proto::QrPayload = serde_json::from_str(&late_screen).expect("QR JSON");

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

    // The same QR again: its token is refused as replayed.
    let mut replay = run.command("zpair");
    replay
        .args(["pair", "--qr-json"])
        .arg(monitor_dir.join("screen").join("qr.json"));
    run.run_refused("cli-pair-replayed", replay);
    // A wrong code, typed.
    let code = zpair_proto::PairingCode::parse(&payload.pairing_code).expect("code");
    let wrong = format!(
        "{}{}",
        if code.canonical().starts_with('A') {
            'B'
        } else {
            'A'
        },
        &code.canonical()[1..]
    );
    let mut mistyped = run.command("zpair");
    mistyped.args(["pair", "--device", "ZM-LOGS-01", "--code", &wrong]);
    run.run_refused("cli-pair-wrong", mistyped);
    // An expired code, typed.
    let expires_at = zpair_proto::timestamp::parse(&late_payload.expires_at).expect("QR expiry");
    let left = expires_at - time::OffsetDateTime::now_utc();
    std::thread::sleep(Duration::try_from(left).unwrap_or_default() + Duration::from_millis(500));
    let mut expired = run.command("zpair");
    expired.args([
        "pair",
        "--device",
        "ZM-LOGS-02",
        "--code",
        &late_payload.pairing_code,
    ]);
    run.run_refused("cli-pair-expired", expired);

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
    // A step-up confirmation, spent on a re-provision.
    let confirmation = client
        .step_up(
            &session.access_token,
            TECHNICIAN.1,
            "ZM-LOGS-01",
            zpair_proto::api::StepUpAction::Reprovision,
        )
        .await
        .expect("step-up")
        .confirmation_token;
    client
        .reprovision(
            &session.access_token,
            "ZM-LOGS-01",
            &confirmation,
            "Log test: the monitor moves to another bed",
        )
        .await
        .expect("re-provision");
    // The CLI's own session, from the keyring it keeps it in.
    let cli_session: zpair_proto::api::Session = {
        let store = KeyringSecretStore::new("zpair-cli").expect("the session keyring");
        let stored = [url.clone(), format!("{url}/")]
            .iter()
            .find_map(|key| store.get(key).expect("keyring read"))
            .expect("the CLI's session is in the keyring");
        serde_json::from_str(stored.expose()).expect("session JSON")
    };
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

    let late_code = zpair_proto::PairingCode::parse(&late_payload.pairing_code).expect("code");
    let mut secrets = vec![
        ("pairing code", code.display()),
        ("pairing code (canonical)", code.canonical().to_owned()),
        ("pairing token", payload.pairing_token.clone()),
        ("wrong code", wrong),
        ("expired code", late_code.display()),
        ("expired code (canonical)", late_code.canonical().to_owned()),
        ("expired code's token", late_payload.pairing_token.clone()),
        ("technician password", TECHNICIAN.1.to_owned()),
        (
            "administrator password",
            zpair_tests::ADMINISTRATOR.1.to_owned(),
        ),
        ("access token", session.access_token.expose().clone()),
        ("refresh token", session.refresh_token.expose().clone()),
        (
            "CLI access token",
            cli_session.access_token.expose().clone(),
        ),
        (
            "CLI refresh token",
            cli_session.refresh_token.expose().clone(),
        ),
        ("step-up confirmation", confirmation.expose().clone()),
    ];
    let mut keys = Vec::new();
    private_key_lines(&station_dir, &mut keys);
    private_key_lines(&monitor_dir, &mut keys);
    private_key_lines(&late_dir, &mut keys);
    assert!(
        keys.len() >= 3,
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
    // Trace logging was on in every process that ran long enough to log.
    for name in [
        "station",
        "monitor",
        "monitor-late",
        "cli-pair",
        "cli-pair-wrong",
    ] {
        let (path, text) = logs
            .iter()
            .find(|(path, _)| path.file_stem().is_some_and(|s| s == name))
            .expect("the process's log");
        assert!(
            text.contains("TRACE"),
            "{} has no TRACE line: logging was not at trace level",
            path.display()
        );
    }
    for (path, text) in &logs {
        for (what, secret) in &secrets {
            for form in encodings(secret, *what != "private key") {
                assert!(
                    !text.contains(form.as_str()),
                    "{what} found in {} (as {form})",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn every_encoding_of_a_secret_is_searched() {
    let forms = encodings("q8Zk-3_Ab9Xy", true);
    for expected in [
        "q8Zk-3_Ab9Xy",
        "q8zk-3_ab9xy",
        "Q8ZK-3_AB9XY",
        "cThaay0zX0FiOVh5",
        "71385a6b2d335f4162395879",
    ] {
        assert!(
            forms.iter().any(|f| f.starts_with(expected)),
            "{expected} in {forms:?}"
        );
    }
    // The bytes behind base64url, in hex and standard base64.
    let bytes = zpair_proto::b64::decode("q8Zk-3_Ab9Xy").expect("base64url");
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    assert!(forms.contains(&hex));
    assert!(forms.iter().any(|f| f.contains('+') || f.contains('/')));
    assert_eq!(
        encodings("abc", true),
        Vec::<String>::new(),
        "too short to search"
    );
}
