//! The administrators' CLI against a real station: the `zpair` binary in its
//! own process, over HTTPS, its session in the (session) keyring, and real
//! monitors. An import's dry run with a conflicting and an unreadable row,
//! then the commit; a monitor de-provisioned (after its device ID is typed)
//! whose pairing is then refused, re-admitted, and paired; accounts added,
//! reset, locked and unlocked; the audit CSV and the shift report (CSV and
//! PDF) written and read back.
//!
//! Needs `cargo build --workspace --bins` first, and a session keyring
//! (`keyctl session - cargo test …`), as `cargo xtask test` gives.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use tokio::io::AsyncWriteExt as _;
use zpair_core::error::{ErrorCode, UserFacing};
use zpair_proto::api::DeviceState;
use zpair_tests::{ADMINISTRATOR, PairResult, TECHNICIAN, World, binary, eventually, unique_ip};

/// The `zpair` CLI of one person: its own settings folder.
struct Cli {
    home: tempfile::TempDir,
}

impl Cli {
    /// Sets up trust in `world`'s station and signs in as `who`.
    async fn signed_in(world: &World, who: (&str, &str)) -> Self {
        let cli = Self {
            home: tempfile::tempdir().expect("temp dir"),
        };
        let ca = cli.path("ca.pem");
        std::fs::write(&ca, world.station.ca_certificate_pem()).expect("CA file");
        cli.ok(
            &[
                "setup",
                "--station",
                &world.station.url(),
                "--ca-file",
                path_str(&ca),
            ],
            None,
        )
        .await;
        cli.ok(
            &["login", "--username", who.0, "--password-stdin"],
            Some(who.1),
        )
        .await;
        cli
    }

    fn path(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }

    async fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = tokio::process::Command::new(binary("zpair"));
        cmd.args(args)
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("RUST_LOG", "warn")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("zpair starts");
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(format!("{input}\n").as_bytes())
                .await
                .expect("stdin");
        }
        child.wait_with_output().await.expect("zpair ends")
    }

    /// Runs and expects exit 0; its stdout.
    async fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run(args, stdin).await;
        assert!(
            out.status.success(),
            "zpair {args:?} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }

    /// Runs and expects exit `code`; stdout and stderr together.
    async fn fails(&self, args: &[&str], stdin: Option<&str>, code: i32) -> String {
        let out = self.run(args, stdin).await;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(code), "zpair {args:?}:\n{text}");
        text
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temp path")
}

/// The line of a table that starts with `first` (a LINE or DEVICE column).
fn row<'a>(table: &'a str, first: &str) -> &'a str {
    table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(first))
        .unwrap_or_else(|| panic!("no row {first} in:\n{table}"))
}

async fn pair_at_its_screen(world: &World, m: usize) -> PairResult {
    let tech = world.session(TECHNICIAN).await;
    world.monitors[m]
        .enter_provisioning_mode()
        .await
        .expect("provisioning mode");
    world.pair_scanned(&tech, &world.screen(m)).await
}

/// The text of a PDF as Debian's `pdftotext` reads it.
fn pdf_text(path: &Path) -> String {
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", path_str(path), "-"])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "pdftotext could not be run ({e}): install poppler-utils (`cargo xtask bootstrap`)"
            )
        });
    assert!(out.status.success(), "pdftotext refused {}", path.display());
    String::from_utf8(out.stdout).expect("UTF-8 text")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_administrator_imports_deprovisions_and_readmits_monitors_from_the_cli() {
    let mut world = World::start().await;
    world.add_monitor("ZM-CLI-00").await;
    for id in ["ZM-CLI-01", "ZM-CLI-02"] {
        let monitor = world.start_monitor(id, unique_ip()).await;
        world.monitors.push(monitor);
    }
    let record = |m: usize| world.monitors[m].registration_record();
    let (one, two) = (record(1), record(2));
    let csv = format!(
        "deviceId,deviceSerial,identityPublicKey,ipAddress,deviceLabel,bedId\n\
         {},{},{},{},\"ICU, bed 1\",ICU-1\n\
         {},{},{},{},ICU 2,ICU-2\n\
         ZM-CLI-00,SN-OTHER,{},,Swapped,ICU-0\n\
         ZM-CLI-09,SN-9\n",
        one.device_id,
        one.device_serial,
        one.identity_public_key,
        one.ip_address.clone().unwrap_or_default(),
        two.device_id,
        two.device_serial,
        two.identity_public_key,
        two.ip_address.clone().unwrap_or_default(),
        one.identity_public_key,
    );
    let admin = Cli::signed_in(&world, ADMINISTRATOR).await;
    let file = admin.path("monitors.csv");
    std::fs::write(&file, csv).expect("CSV file");

    // The dry run writes nothing.
    let dry = admin
        .ok(&["devices", "import", path_str(&file), "--dry-run"], None)
        .await;
    assert!(
        row(&dry, "2").contains("ZM-CLI-01") && row(&dry, "2").contains("new"),
        "{dry}"
    );
    assert!(row(&dry, "3").contains("new"), "{dry}");
    assert!(
        row(&dry, "4").contains("ZM-CLI-00") && row(&dry, "4").contains("conflicting"),
        "{dry}"
    );
    assert!(row(&dry, "5").contains("unreadable"), "{dry}");
    assert!(
        dry.contains("2 new, 0 unchanged, 0 updated, 1 conflicting, 1 unreadable lines."),
        "{dry}"
    );
    let client = world.client();
    let session = world.session(ADMINISTRATOR).await;
    let token = session.access_token().await.expect("token");
    let unknown = client
        .device(&token, "ZM-CLI-01")
        .await
        .expect_err("not yet");
    assert_eq!(unknown.code(), ErrorCode::UnknownDevice);

    // The commit imports what it can and says what it did not (exit 1).
    let commit = admin
        .fails(&["devices", "import", path_str(&file)], None, 1)
        .await;
    assert!(
        commit.contains("Imported 2 monitors; 2 lines not imported."),
        "{commit}"
    );
    // The commit's own table follows the dry run's.
    let committed = &commit[commit.find("WHY NOT").expect("the commit's table")..];
    assert!(row(committed, "4").contains("refused"), "{commit}");
    let listed = admin
        .ok(&["devices", "list", "--search", "zm-cli-0"], None)
        .await;
    for id in ["ZM-CLI-00", "ZM-CLI-01", "ZM-CLI-02"] {
        row(&listed, id);
    }
    assert!(row(&listed, "ZM-CLI-01").contains("ICU, bed 1"), "{listed}");

    // Paired, de-provisioned after a typed confirmation, refused, re-admitted, paired.
    assert!(matches!(
        pair_at_its_screen(&world, 1).await,
        PairResult::Provisioned(_)
    ));
    let deprovision = [
        "devices",
        "deprovision",
        "ZM-CLI-01",
        "--reason",
        "reported stolen",
    ];
    let mistyped = admin.fails(&deprovision, Some("ZM-CLI-02"), 2).await;
    assert!(mistyped.contains("confirmation_mismatch"), "{mistyped}");
    assert_eq!(world.station_view("ZM-CLI-01").state, "PROVISIONED");
    let done = admin.ok(&deprovision, Some("ZM-CLI-01")).await;
    assert!(done.contains("ZM-CLI-01: DEPROVISIONED"), "{done}");
    eventually("the monitor drops its configuration", || async {
        world.monitors[1].configuration().is_none()
    })
    .await;
    assert_eq!(
        pair_at_its_screen(&world, 1).await,
        PairResult::Refused(ErrorCode::DeviceDeprovisioned)
    );
    let readmitted = admin
        .ok(
            &[
                "devices",
                "readmit",
                "ZM-CLI-01",
                "--reason",
                "found, wiped",
            ],
            None,
        )
        .await;
    assert!(
        readmitted.contains("ZM-CLI-01: UNPROVISIONED"),
        "{readmitted}"
    );
    assert!(matches!(
        pair_at_its_screen(&world, 1).await,
        PairResult::Provisioned(_)
    ));
    let device = client.device(&token, "ZM-CLI-01").await.expect("device");
    assert_eq!(device.state, DeviceState::Provisioned);

    // The audit CSV of the monitor, read back.
    let audit_file = admin.path("audit.csv");
    let written = admin
        .ok(
            &[
                "audit",
                "--device",
                "ZM-CLI-01",
                "--csv",
                path_str(&audit_file),
            ],
            None,
        )
        .await;
    let audit = std::fs::read_to_string(&audit_file).expect("audit CSV");
    let rows = audit.lines().count() - 1;
    assert!(
        written.contains(&format!("{rows} audit rows written")),
        "{written}\n{audit}"
    );
    for event in ["device_registered", "deprovisioned", "readmitted"] {
        assert!(audit.contains(event), "{event} in:\n{audit}");
    }
    assert!(
        audit.lines().skip(1).all(|l| l.contains("ZM-CLI-01")),
        "{audit}"
    );
    let page = admin
        .ok(
            &["--json", "audit", "--device", "ZM-CLI-01", "--limit", "3"],
            None,
        )
        .await;
    let page: serde_json::Value = serde_json::from_str(&page).expect("JSON page");
    assert_eq!(page["events"].as_array().map(Vec::len), Some(3));

    // The shift report, as CSV and as PDF.
    let now = time::OffsetDateTime::now_utc();
    let from = zpair_proto::timestamp::format(now - time::Duration::hours(1));
    let to = zpair_proto::timestamp::format(now + time::Duration::hours(1));
    let pdf = admin.path("report.pdf");
    admin
        .ok(
            &[
                "report",
                "--from",
                &from,
                "--to",
                &to,
                "--pdf",
                path_str(&pdf),
            ],
            None,
        )
        .await;
    let text = pdf_text(&pdf);
    assert!(text.contains("ZPair pairing report"), "{text}");
    assert!(text.contains("ZM-CLI-01"), "{text}");
    assert!(text.contains("Page 1 of 1"), "{text}");
    let report_csv = admin.path("report.csv");
    admin
        .ok(
            &[
                "report",
                "--from",
                &from,
                "--to",
                &to,
                "--csv",
                path_str(&report_csv),
            ],
            None,
        )
        .await;
    let report = std::fs::read_to_string(&report_csv).expect("report CSV");
    assert!(
        report.lines().filter(|l| l.contains("ZM-CLI-01")).count() >= 2,
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn accounts_are_added_reset_unlocked_and_passwords_changed_from_the_cli() {
    let world = World::start().await;
    let admin = Cli::signed_in(&world, ADMINISTRATOR).await;
    let client = world.client();

    // The temporary password is alone on stdout.
    let added = admin
        .ok(
            &[
                "users",
                "add",
                "nurse",
                "--display-name",
                "Night Nurse",
                "--role",
                "technician",
            ],
            None,
        )
        .await;
    let first = added.trim_end_matches('\n').to_owned();
    assert!(
        !first.is_empty() && !first.contains(['\n', ' ']),
        "{added:?}"
    );
    client
        .login("nurse", &first)
        .await
        .expect("temporary password works");

    let reset = admin.ok(&["users", "reset-password", "nurse"], None).await;
    let second = reset.trim().to_owned();
    assert_ne!(second, first);
    let old = client
        .login("nurse", &first)
        .await
        .expect_err("old password");
    assert_eq!(old.code(), ErrorCode::InvalidCredentials);

    // Locked by wrong passwords, unlocked by the administrator.
    let mut locked = false;
    for _ in 0..6 {
        if let Err(e) = client.login("nurse", "wrong password here").await
            && e.code() == ErrorCode::AccountLocked
        {
            locked = true;
            break;
        }
    }
    assert!(locked, "wrong passwords lock the account");
    let unlocked = admin.ok(&["users", "unlock", "nurse"], None).await;
    assert!(unlocked.contains("nurse unlocked"), "{unlocked}");
    client.login("nurse", &second).await.expect("unlocked");

    // Disabled and enabled.
    admin.ok(&["users", "disable", "nurse"], None).await;
    let disabled = client.login("nurse", &second).await.expect_err("disabled");
    assert_eq!(disabled.code(), ErrorCode::AccountDisabled);
    admin.ok(&["users", "enable", "nurse"], None).await;
    let list = admin.ok(&["users", "list"], None).await;
    assert!(row(&list, "nurse").contains("Night Nurse"), "{list}");
    assert!(
        row(&list, "nurse").contains("must change password"),
        "{list}"
    );

    // The nurse replaces the temporary password.
    let nurse = Cli::signed_in(&world, ("nurse", &second)).await;
    let short = nurse
        .fails(
            &["password", "change", "--password-stdin"],
            Some(&format!("{second}\nshort")),
            2,
        )
        .await;
    assert!(short.contains("at least 12 characters"), "{short}");
    nurse
        .ok(
            &["password", "change", "--password-stdin"],
            Some(&format!("{second}\nmy own long passphrase")),
        )
        .await;
    client
        .login("nurse", "my own long passphrase")
        .await
        .expect("the new password works");
    // One login session keeps one sign-in per station (the keyring entry is
    // the session's), so the nurse's replaced the administrator's.
    let admin = Cli::signed_in(&world, ADMINISTRATOR).await;
    let list = admin.ok(&["users", "list"], None).await;
    assert!(
        !row(&list, "nurse").contains("must change password"),
        "{list}"
    );

    // A technician is refused the administrators' commands.
    let tech = Cli::signed_in(&world, TECHNICIAN).await;
    let refused = tech.fails(&["users", "list"], None, 3).await;
    assert!(refused.contains("forbidden_role"), "{refused}");
}
