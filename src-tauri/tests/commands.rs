//! The app's commands through Tauri's mock runtime, with the app's real
//! context (capabilities included), against a real Central Station and real
//! simulated monitors on loopback (the `zpair-tests` world).
//!
//! Tests are plain `#[test]`s: a command call blocks until Tauri answers,
//! while the station, the monitors and the commands all run on Tauri's own
//! multi-threaded runtime.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;
use zpair_core::error::ErrorCode;

use serde_json::{Value, json};
use tauri::Manager;
use zpair_app::commands::COMMANDS;
use zpair_app::ipc::{
    Account, CertificateValidity, CodeCheck, ConnectedStatus, DeviceState, DeviceSummary,
    HistoryAction, HistoryEntry, HistoryOutcome, JobState, NextAction, Pairing, Role, ScanReport,
    SetupState, Sighting, StationProbe, TrustKind,
};
use zpair_core::secret_store::{MemorySecretStore, SecretStore};
use zpair_proto::device::MonitorState;
use zpair_tests::{TECHNICIAN, World, eventually};

use support::{App, block_on};

/// A station with one registered monitor in provisioning mode.
fn world_with_monitor(device_id: &str) -> World {
    block_on(async {
        let mut world = World::start().await;
        let m = world.add_monitor(device_id).await;
        world.monitors[m]
            .enter_provisioning_mode()
            .await
            .expect("provisioning mode");
        world
    })
}

/// The code monitor 0 shows now.
fn shown_code(world: &World) -> String {
    world.screen(0).pairing_code
}

/// A well-formed code that is not the one shown.
fn wrong_code(shown: &str) -> String {
    let replacement = if shown.starts_with('2') { "3" } else { "2" };
    format!("{replacement}{}", &shown[1..])
}

/// The session the app keeps in the (stand-in) keyring, as the station issued it.
fn stored_session(app: &App, world: &World) -> zpair_proto::api::Session {
    let key = world.client().station_url().to_owned();
    let stored = app
        .secrets
        .get(&key)
        .expect("secret store")
        .expect("a stored session");
    serde_json::from_str(stored.expose()).expect("a stored Session")
}

#[test]
fn pairs_reviews_and_reprovisions_a_monitor_through_the_commands() {
    let world = world_with_monitor("ZM-APP-01");
    let data = tempfile::tempdir().expect("temp dir");
    let app = App::start_in(data.path(), Arc::default());

    // Set up trust in the station's CA, then sign in.
    let empty: SetupState = app.ok("get_setup", json!({}));
    assert_eq!((empty.station_url, empty.trust), (None, None));
    let setup = app.trust_ca(&world);
    let trust = setup.trust.clone().expect("trusted");
    assert_eq!(trust.kind, TrustKind::Ca);
    assert_eq!(trust.fingerprint.len(), 64);
    assert_eq!(app.ok::<SetupState>("get_setup", json!({})), setup);
    assert_eq!(app.ok::<Option<Account>>("get_account", json!({})), None);
    let account = app.sign_in();
    assert_eq!(
        (account.username.as_str(), account.role),
        (TECHNICIAN.0, Role::Technician)
    );
    assert_eq!(
        app.ok::<Option<Account>>("get_account", json!({})),
        Some(account)
    );

    // The code field as the technician types it.
    let code = shown_code(&world);
    let typed = code.replace('-', "").to_lowercase();
    let partial: CodeCheck = app.ok("check_code", json!({"input": &typed[..4]}));
    assert_eq!(
        (partial.display.as_str(), partial.complete),
        (&code[..5], false)
    );
    let whole: CodeCheck = app.ok("check_code", json!({"input": typed}));
    assert_eq!(
        (whole.display.as_str(), whole.complete, whole.error),
        (code.as_str(), true, None)
    );
    let bad: CodeCheck = app.ok("check_code", json!({"input": "K7P-0"}));
    assert_eq!(
        bad.error.expect("0 is never in a code").code,
        ErrorCode::InvalidCode
    );

    // Pair: the command answers at once, the steps follow as events.
    let started: Pairing = app.ok(
        "start_pairing",
        json!({"deviceId": "ZM-APP-01", "code": typed}),
    );
    assert_eq!(
        (started.state, started.job_id.as_deref()),
        (JobState::Submitting, None)
    );
    let done = app.finished(&started.pairing_id);
    assert_eq!(done.state, JobState::Provisioned, "{done:?}");
    assert!(done.job_id.is_some() && done.failure.is_none());
    let states: Vec<JobState> = done.steps.iter().map(|s| s.state).collect();
    assert_eq!(
        states,
        [
            JobState::Submitting,
            JobState::Pairing,
            JobState::Configuring,
            JobState::Validating,
            JobState::Provisioned
        ]
    );
    // The book is updated before the change is announced: wait for the
    // announcement of the end, then it must be the last one.
    block_on(eventually("the finished pairing announced", || async {
        app.status_events(&started.pairing_id).last() == Some(&done)
    }));
    let events = app.status_events(&started.pairing_id);
    assert!(events.iter().any(|p| p.state == JobState::Configuring));

    // Review: the registry and the connected status.
    let devices: Vec<DeviceSummary> = app.ok("list_devices", json!({}));
    let device = devices
        .iter()
        .find(|d| d.device_id == "ZM-APP-01")
        .expect("listed");
    assert_eq!(device.state, DeviceState::Provisioned);
    let status: ConnectedStatus = app.ok("device_status", json!({"deviceId": "ZM-APP-01"}));
    assert_eq!(status.state, DeviceState::Provisioned);
    assert_eq!(
        status.certificate.expect("certificate").validity,
        CertificateValidity::Valid
    );
    assert!(status.server_url.is_some());
    let unknown = app.err("device_status", json!({"deviceId": "ZM-NOT-THERE"}));
    assert_eq!(unknown.code, ErrorCode::UnknownDevice);

    // Re-provision: the typed confirmation must match, the password must be right.
    let args = |password: &str, confirm: &str| json!({"deviceId": "ZM-APP-01", "password": password, "reason": "moved to ICU 2", "confirmDeviceId": confirm});
    let mismatch = app.err("reprovision", args(TECHNICIAN.1, "ZM-APP-02"));
    assert_eq!(mismatch.code, ErrorCode::ConfirmationMismatch);
    // A reason the station would refuse is refused before the password is sent.
    let blank = app.err(
        "reprovision",
        json!({"deviceId": "ZM-APP-01", "password": TECHNICIAN.1, "reason": "  ", "confirmDeviceId": "ZM-APP-01"}),
    );
    assert_eq!(blank.code, ErrorCode::InvalidReason);
    let wrong_password = app.err("reprovision", args("not the password", "ZM-APP-01"));
    assert_eq!(wrong_password.code, ErrorCode::InvalidCredentials);
    let device: DeviceSummary = app.ok("reprovision", args(TECHNICIAN.1, "ZM-APP-01"));
    assert_eq!(device.state, DeviceState::AwaitingReprovision);
    block_on(eventually(
        "the monitor back in provisioning mode",
        || async { world.monitors[0].state() == MonitorState::ReadyToPair },
    ));

    // A wrong code: the job runs and fails; the app says to re-enter the code.
    let new_code = shown_code(&world);
    let wrong = wrong_code(&new_code);
    let attempt: Pairing = app.ok(
        "start_pairing",
        json!({"deviceId": "ZM-APP-01", "code": wrong}),
    );
    let failed = app.finished(&attempt.pairing_id);
    assert_eq!(failed.state, JobState::Failed);
    assert_eq!(
        failed.failure.as_ref().map(|f| f.code.as_str()),
        Some("code_mismatch")
    );
    assert_eq!(failed.next_action, Some(NextAction::ReenterCode));
    assert_eq!(app.status_events(&attempt.pairing_id).last(), Some(&failed));

    // Retry runs the same pairing again (same wrong code: same failure).
    let retried: Pairing = app.ok("retry_pairing", json!({"pairingId": attempt.pairing_id}));
    assert_eq!(
        (retried.state, retried.failure.as_ref()),
        (JobState::Submitting, None)
    );
    let failed_again = app.finished(&attempt.pairing_id);
    assert_eq!(failed_again.next_action, Some(NextAction::ReenterCode));
    assert!(
        failed_again.steps.len() > failed.steps.len(),
        "the retry's steps are added"
    );

    // Finished pairings can be dismissed; the list is newest first.
    let listed: Vec<Pairing> = app.ok("list_pairings", json!({}));
    let ids: Vec<&str> = listed.iter().map(|p| p.pairing_id.as_str()).collect();
    assert_eq!(
        ids,
        [attempt.pairing_id.as_str(), started.pairing_id.as_str()]
    );
    app.ok::<Value>("dismiss_pairing", json!({"pairingId": started.pairing_id}));
    assert_eq!(app.ok::<Vec<Pairing>>("list_pairings", json!({})).len(), 1);

    // The history says what happened, and nothing secret.
    let history: Vec<HistoryEntry> = app.ok("history", json!({}));
    let seen: Vec<(HistoryAction, HistoryOutcome, Option<ErrorCode>)> = history
        .iter()
        .map(|e| (e.action, e.outcome, e.failure_code))
        .collect();
    assert_eq!(
        seen,
        [
            (HistoryAction::Paired, HistoryOutcome::Started, None),
            (HistoryAction::Paired, HistoryOutcome::Provisioned, None),
            (HistoryAction::Reprovisioned, HistoryOutcome::Started, None),
            (HistoryAction::Paired, HistoryOutcome::Started, None),
            (
                HistoryAction::Paired,
                HistoryOutcome::Failed,
                Some(ErrorCode::CodeMismatch)
            ),
            (HistoryAction::Paired, HistoryOutcome::Started, None),
            (
                HistoryAction::Paired,
                HistoryOutcome::Failed,
                Some(ErrorCode::CodeMismatch)
            ),
        ]
    );
    assert!(history.iter().all(|e| e.device_id == "ZM-APP-01"));
    let session = stored_session(&app, &world);
    let on_disk = [
        std::fs::read_to_string(data.path().join("history.jsonl")).expect("history file"),
        std::fs::read_to_string(data.path().join("settings.json")).expect("settings file"),
    ];
    let canonical = |c: &str| c.replace('-', "");
    for text in &on_disk {
        for secret in [
            code.as_str(),
            &canonical(&code),
            &new_code,
            &canonical(&new_code),
            &wrong,
            &canonical(&wrong),
            TECHNICIAN.1,
            session.access_token.expose(),
            session.refresh_token.expose(),
        ] {
            assert!(!text.contains(secret), "a secret reached the disk: {text}");
        }
    }

    // Sign out: the session is gone here and at the station.
    app.ok::<Value>("sign_out", json!({}));
    assert_eq!(app.ok::<Option<Account>>("get_account", json!({})), None);
    assert_eq!(
        app.err("list_devices", json!({})).code,
        ErrorCode::NotSignedIn
    );
    let revoked = block_on(world.client().me(&session.access_token));
    assert!(revoked.is_err(), "the station revoked the session");
}

#[test]
fn trusts_a_fingerprint_only_when_the_station_presents_it_and_keeps_the_setup() {
    let world = block_on(World::start());
    let data = tempfile::tempdir().expect("temp dir");
    let secrets = Arc::new(MemorySecretStore::default());
    let app = App::start_in(data.path(), secrets.clone());
    let url = world.station.url();

    let probe: StationProbe = app.ok("probe_station", json!({"stationUrl": url}));
    assert_eq!(probe.station_url, url);
    assert_eq!(probe.fingerprint.len(), 64);
    assert!(zpair_proto::timestamp::parse(&probe.not_after).is_ok());
    assert!(!probe.subject.is_empty() && !probe.issuer.is_empty());

    // Another certificate's fingerprint: refused, nothing saved.
    let mut other = probe.fingerprint.clone().into_bytes();
    other[0] = if other[0] == b'0' { b'1' } else { b'0' };
    let other = String::from_utf8(other).expect("hex");
    let refused = app.err(
        "trust_station_fingerprint",
        json!({"stationUrl": url, "fingerprint": other}),
    );
    assert_eq!(refused.code, ErrorCode::StationUntrusted);
    let malformed = app.err(
        "trust_station_fingerprint",
        json!({"stationUrl": url, "fingerprint": "AB:CD"}),
    );
    assert_eq!(malformed.code, ErrorCode::InvalidTrustAnchor);
    let not_https = app.err(
        "trust_station_fingerprint",
        json!({"stationUrl": url.replace("https://", "http://"), "fingerprint": probe.fingerprint}),
    );
    assert_eq!(not_https.code, ErrorCode::InvalidStationUrl);
    let not_a_ca = app.err(
        "trust_station_ca",
        json!({"stationUrl": url, "caPem": "not a certificate"}),
    );
    assert_eq!(not_a_ca.code, ErrorCode::InvalidTrustAnchor);
    let nothing: SetupState = app.ok("get_setup", json!({}));
    assert_eq!(nothing.station_url, None);
    assert_eq!(
        app.err("sign_in", json!({"username": "tech", "password": "x"}))
            .code,
        ErrorCode::StationNotSetUp
    );

    // The fingerprint as IT writes it (grouped, upper case) is the same one.
    let grouped = zpair_core::client::format_fingerprint(&probe.fingerprint);
    let setup: SetupState = app.ok(
        "trust_station_fingerprint",
        json!({"stationUrl": url, "fingerprint": grouped}),
    );
    let trust = setup.trust.clone().expect("trusted");
    assert_eq!(trust.kind, TrustKind::Fingerprint);
    assert_eq!(
        (trust.fingerprint.as_str(), trust.subject.as_str()),
        (probe.fingerprint.as_str(), probe.subject.as_str())
    );
    assert_eq!(
        app.err(
            "sign_in",
            json!({"username": TECHNICIAN.0, "password": "wrong"})
        )
        .code,
        ErrorCode::InvalidCredentials
    );
    let account = app.sign_in();

    // Input is checked before anything is sent.
    let bad_code = app.err(
        "start_pairing",
        json!({"deviceId": "ZM-1", "code": "K7P-M3X"}),
    );
    assert_eq!(bad_code.code, ErrorCode::InvalidCode);
    let no_device = app.err(
        "start_pairing",
        json!({"deviceId": "  ", "code": "K7P-M3X-Q9R"}),
    );
    assert_eq!(no_device.code, ErrorCode::InvalidDeviceId);
    assert!(
        app.ok::<Vec<Pairing>>("list_pairings", json!({}))
            .is_empty()
    );

    // The next run (same data folder, same keyring) has the station and the session.
    let next_run = App::start_in(data.path(), secrets.clone());
    assert_eq!(next_run.ok::<SetupState>("get_setup", json!({})), setup);
    assert_eq!(
        next_run.ok::<Option<Account>>("get_account", json!({})),
        Some(account)
    );
    assert!(
        next_run
            .ok::<Vec<DeviceSummary>>("list_devices", json!({}))
            .is_empty()
    );
    let settings = std::fs::read_to_string(data.path().join("settings.json")).expect("settings");
    let session = stored_session(&app, &world);
    assert!(
        !settings.contains(session.access_token.expose())
            && !settings.contains(session.refresh_token.expose())
    );

    // Another keyring (another user) has the station but no session.
    let other_user = App::start_in(data.path(), Arc::default());
    assert_eq!(
        other_user.ok::<Option<Account>>("get_account", json!({})),
        None
    );
    let not_signed_in = other_user.err(
        "start_pairing",
        json!({"deviceId": "ZM-1", "code": "K7P-M3X-Q9R"}),
    );
    assert_eq!(not_signed_in.code, ErrorCode::NotSignedIn);
}

#[test]
fn a_session_the_station_will_not_refresh_sends_the_technician_to_sign_in() {
    let world = block_on(World::start());
    let data = tempfile::tempdir().expect("temp dir");
    let app = App::start_in(data.path(), Arc::default());
    app.trust_ca(&world);
    app.sign_in();
    assert!(
        app.ok::<Vec<DeviceSummary>>("list_devices", json!({}))
            .is_empty()
    );
    assert!(app.expiry_events().is_empty());

    // Elsewhere, the session is revoked (as an administrator or a logout would).
    let session = stored_session(&app, &world);
    block_on(
        world
            .client()
            .logout(&session.access_token, &session.refresh_token),
    )
    .expect("revoked at the station");

    let expired = app.err("list_devices", json!({}));
    assert_eq!(expired.code, ErrorCode::SessionExpired);
    assert_eq!(app.expiry_events(), [Value::Null]);
    assert_eq!(app.ok::<Option<Account>>("get_account", json!({})), None);
    assert!(
        app.secrets
            .get(world.client().station_url())
            .expect("store")
            .is_none()
    );
}

#[test]
fn the_main_window_reaches_every_contract_command_and_no_plugin() {
    let data = tempfile::tempdir().expect("temp dir");
    let app = App::start_in(data.path(), Arc::default());
    for command in COMMANDS {
        // Empty arguments: commands without any run, the others are refused
        // for their arguments — never as unknown or not allowed.
        if let Err(Value::String(refusal)) = app.call(command, json!({})) {
            assert!(
                !refusal.contains("not found") && !refusal.contains("not allowed"),
                "{command}: {refusal}"
            );
        }
    }
    let store = app.call("plugin:store|load", json!({"path": "settings.json"}));
    match store {
        Err(Value::String(refusal)) => assert!(refusal.contains("not allowed"), "{refusal}"),
        other => panic!("the UI must not reach the settings store: {other:?}"),
    }
    let unknown = app.call("no_such_command", json!({}));
    assert!(unknown.is_err());
}

#[test]
fn a_damaged_settings_file_opens_the_app_without_a_station() {
    let data = tempfile::tempdir().expect("temp dir");
    std::fs::write(data.path().join("settings.json"), "{ not json").expect("damage");
    let app = App::start_in(data.path(), Arc::default());
    let setup: SetupState = app.ok("get_setup", json!({}));
    assert_eq!((setup.station_url, setup.trust), (None, None));
    assert_eq!(app.ok::<Option<Account>>("get_account", json!({})), None);
    assert_eq!(
        app.err("list_devices", json!({})).code,
        ErrorCode::StationNotSetUp
    );
}

#[test]
fn trusting_another_station_ends_the_session_with_the_previous_one() {
    let first = block_on(World::start());
    let second = block_on(World::start());
    let data = tempfile::tempdir().expect("temp dir");
    let app = App::start_in(data.path(), Arc::default());
    app.trust_ca(&first);
    app.sign_in();
    let old = stored_session(&app, &first);

    // Trusting the same station again (a renewed CA) keeps the session.
    app.trust_ca(&first);
    assert!(
        app.ok::<Option<Account>>("get_account", json!({}))
            .is_some()
    );

    let setup = app.trust_ca(&second);
    assert_eq!(
        setup.station_url.as_deref(),
        Some(second.client().station_url())
    );
    assert_eq!(app.ok::<Option<Account>>("get_account", json!({})), None);
    let first_key = first.client().station_url().to_owned();
    block_on(eventually("the previous session deleted here", || async {
        app.secrets.get(&first_key).expect("store").is_none()
    }));
    block_on(eventually("the previous session revoked there", || async {
        first.client().me(&old.access_token).await.is_err()
    }));
}

/// The QR the monitor draws on its screen, as grey pixels.
fn monitor_screen(world: &World) -> image::GrayImage {
    let screen = world.monitors[0].screen().expect("in provisioning mode");
    image::open(&screen.qr_png_path)
        .expect("the monitor's QR image")
        .to_luma8()
}

#[test]
fn pairs_a_monitor_from_the_qr_on_its_screen_and_never_sends_that_qr_twice() {
    let world = world_with_monitor("ZM-APP-SCAN");
    let data = tempfile::tempdir().expect("temp dir");
    let app = App::start_in(data.path(), Arc::default());
    app.trust_ca(&world);
    app.sign_in();

    let screen = monitor_screen(&world);
    let (width, height) = screen.dimensions();
    let answer = app.scan(screen.as_raw(), width, height).expect("scanned");
    // The one-time token stays in Rust: the UI pairs by scan ID.
    let token = world.screen(0).pairing_token;
    assert!(!answer.to_string().contains(&token), "{answer}");
    let report: ScanReport = serde_json::from_value(answer).expect("a ScanReport");
    let Sighting::Found(found) = report.sighting else {
        panic!("expected the monitor, got {report:?}");
    };
    assert_eq!(found.device_id, "ZM-APP-SCAN");
    assert_eq!(report.outline.map(|points| points.len()), Some(4));
    let again: ScanReport =
        serde_json::from_value(app.scan(screen.as_raw(), width, height).expect("scanned"))
            .expect("a ScanReport");
    assert_eq!(
        again.sighting,
        Sighting::Found(found.clone()),
        "one scan ID per QR"
    );

    let pairing: Pairing = app.ok("pair_scanned", json!({"scanId": found.scan_id}));
    let done = app.finished(&pairing.pairing_id);
    assert_eq!(done.state, JobState::Provisioned, "{done:?}");

    // The same QR in a later frame, or a second tap, sends nothing.
    let after: ScanReport =
        serde_json::from_value(app.scan(screen.as_raw(), width, height).expect("scanned"))
            .expect("a ScanReport");
    assert!(
        matches!(after.sighting, Sighting::Sent(ref sent) if sent.device_id == "ZM-APP-SCAN"),
        "{after:?}"
    );
    let twice = app.err("pair_scanned", json!({"scanId": found.scan_id}));
    assert_eq!(twice.code, ErrorCode::ScanUnknown);
    let pairings: Vec<Pairing> = app.ok("list_pairings", json!({}));
    assert_eq!(pairings.len(), 1);

    // A camera's frames carry their number in the stream.
    let numbered: ScanReport = serde_json::from_value(
        app.scan_with(screen.as_raw(), width, height, &[("x-frame-index", "7")])
            .expect("scanned"),
    )
    .expect("a ScanReport");
    assert!(
        matches!(numbered.sighting, Sighting::Sent(_)),
        "{numbered:?}"
    );
    let bad_index = app
        .scan_with(
            screen.as_raw(),
            width,
            height,
            &[("x-frame-index", "seven")],
        )
        .expect_err("not a number");
    assert_eq!(bad_index["code"], "frame_invalid");

    // Frames the scanner cannot take are refused with their reason.
    let short = app
        .scan(&screen.as_raw()[1..], width, height)
        .expect_err("wrong size");
    assert_eq!(short["code"], "frame_invalid");
    let json_body = app.err("scan_frame", json!({"pixels": [0, 0, 0, 0]}));
    assert_eq!(json_body.code, ErrorCode::FrameInvalid);
}

#[test]
fn the_apps_camera_finds_a_monitor_on_the_virtual_camera_and_is_released_on_stop() {
    use tauri::http::StatusCode;
    use tauri::ipc::Channel;
    use zpair_app::ipc::CameraEvent;
    use zpair_camera::CameraDesk;

    let world = world_with_monitor("ZM-APP-CAM");
    let data = tempfile::tempdir().expect("temp dir");
    let app = App::start_in(data.path(), Arc::default());
    let screen = world.monitors[0].screen().expect("in provisioning mode");
    let desk = CameraDesk::new(Some(zpair_camera::CameraSpec::File(screen.qr_png_path)));

    let events = Arc::new(Mutex::new(Vec::<CameraEvent>::new()));
    let event_channel = {
        let events = events.clone();
        Channel::new(move |body| {
            let event = body.deserialize().expect("a CameraEvent");
            events.lock().expect("events").push(event);
            Ok(())
        })
    };
    let handlers = zpair_app::commands::camera::session_handlers(
        app.window.app_handle().clone(),
        desk.clone(),
        event_channel,
    );
    let info = desk
        .start(None, handlers)
        .expect("the virtual camera opens");
    assert!(info.width >= 300 && info.height >= 300, "{info:?}");

    block_on(eventually("the monitor found on the camera", || async {
        events.lock().expect("events").iter().any(|e| {
            matches!(e, CameraEvent::Seen(seen)
                if matches!(&seen.report.sighting, Sighting::Found(found) if found.device_id == "ZM-APP-CAM"))
        })
    }));
    let previews = |events: &[CameraEvent]| {
        events
            .iter()
            .filter_map(|e| match e {
                CameraEvent::Preview(shown) => Some(shown.frame),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    block_on(eventually("a preview announced", || async {
        !previews(&events.lock().expect("events")).is_empty()
    }));
    let announced = *previews(&events.lock().expect("events"))
        .last()
        .expect("a preview");
    let served = zpair_app::camera::respond(desk.previews(), &format!("/{announced}"));
    assert_eq!(served.status(), StatusCode::OK);
    assert!(served.body().starts_with(&[0xFF, 0xD8]), "a JPEG");
    // The QR stays in view: it is reported once, not once per frame.
    std::thread::sleep(Duration::from_millis(300));
    let seen = |events: &[CameraEvent]| {
        events
            .iter()
            .filter(|e| matches!(e, CameraEvent::Seen(_)))
            .count()
    };
    assert_eq!(seen(&events.lock().expect("events")), 1);

    let stats = desk.stop().expect("a session was running");
    assert!(stats.captured > 0 && !desk.is_running());
    let after = previews(&events.lock().expect("events")).len();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        previews(&events.lock().expect("events")).len(),
        after,
        "nothing after the camera closed"
    );
    assert_eq!(
        zpair_app::camera::respond(desk.previews(), &format!("/{announced}")).status(),
        StatusCode::NOT_FOUND,
        "the last picture is gone with the camera"
    );
    assert!(desk.stop().is_none(), "stopping twice is harmless");
}

#[test]
fn a_scanned_pairing_refused_by_the_monitor_says_to_scan_again() {
    let world = world_with_monitor("ZM-APP-RESCAN");
    let data = tempfile::tempdir().expect("temp dir");
    let app = App::start_in(data.path(), Arc::default());
    app.trust_ca(&world);
    app.sign_in();

    let screen = monitor_screen(&world);
    let (width, height) = screen.dimensions();
    let report: ScanReport =
        serde_json::from_value(app.scan(screen.as_raw(), width, height).expect("scanned"))
            .expect("a ScanReport");
    let Sighting::Found(found) = report.sighting else {
        panic!("expected the monitor, got {report:?}");
    };
    // The monitor leaves provisioning mode before the technician taps Pair.
    block_on(world.monitors[0].cancel_provisioning()).expect("cancelled");

    let pairing: Pairing = app.ok("pair_scanned", json!({"scanId": found.scan_id}));
    let failed = app.finished(&pairing.pairing_id);
    assert_eq!(
        failed.failure.as_ref().map(|f| f.code.as_str()),
        Some("not_in_provisioning_mode"),
        "{failed:?}"
    );
    // Typed, this would say to re-enter the code; scanned, to scan the
    // monitor's QR again once it shows one.
    assert_eq!(failed.next_action, Some(NextAction::Rescan));
}

#[test]
fn an_administrator_imports_deprovisions_manages_accounts_and_exports_through_the_commands() {
    use zpair_app::ipc::ExportedFile;
    use zpair_proto::admin::{
        AccountRecord, AuditPage, CertificateOverview, DevicePage, ImportDryRun, PairingReport,
        TemporaryPassword,
    };
    use zpair_proto::api::{AuditVerification, ImportReport};

    let mut world = block_on(World::start());
    let monitor = block_on(world.start_monitor("ZM-APP-ADM", zpair_tests::unique_ip()));
    let record = serde_json::to_string(&monitor.registration_record()).expect("record");
    world.monitors.push(monitor);
    let data = tempfile::tempdir().expect("temp dir");
    let app = App::start_in(data.path(), Arc::default());
    app.trust_ca(&world);
    let admin = app.sign_in_as(zpair_tests::ADMINISTRATOR);
    assert_eq!(admin.role, Role::Administrator);

    // The import file is read in Rust: one good record, one that is not.
    let file = json!({"fileName": "export.json", "text": format!("[{record}, {{\"deviceId\": \"ZM-X\"}}]")});
    let dry: ImportDryRun = app.ok("preview_import", file.clone());
    assert_eq!(dry.format, "json");
    assert_eq!((dry.preview.new, dry.preview.conflicting), (1, 0));
    assert_eq!(dry.lines, [1]);
    assert_eq!(dry.unreadable.len(), 1);
    assert!(
        dry.unreadable[0].message.contains("deviceSerial"),
        "{dry:?}"
    );
    let broken = app.err(
        "preview_import",
        json!({"fileName": "x.csv", "text": "deviceId\n"}),
    );
    assert_eq!(broken.code, ErrorCode::InvalidInput);
    let report: ImportReport = app.ok("commit_import", file);
    assert_eq!(report.imported, ["ZM-APP-ADM"]);
    let page: DevicePage = app.ok("search_devices", json!({"query": {"search": "app-adm"}}));
    assert_eq!(page.total, 1);
    assert_eq!(page.devices[0].device_id, "ZM-APP-ADM");

    // De-provision only with the device ID typed again; then re-admit.
    let args = |typed: &str| json!({"deviceId": "ZM-APP-ADM", "reason": "sent for repair", "confirmDeviceId": typed});
    let mismatch = app.err("deprovision_device", args("ZM-APP-AD"));
    assert_eq!(mismatch.code, ErrorCode::ConfirmationMismatch);
    let gone: DeviceSummary = app.ok("deprovision_device", args("ZM-APP-ADM"));
    assert_eq!(gone.state, DeviceState::Deprovisioned);
    let back: DeviceSummary = app.ok(
        "readmit_device",
        json!({"deviceId": "ZM-APP-ADM", "reason": "repaired"}),
    );
    assert_eq!(back.state, DeviceState::Unprovisioned);

    // Accounts.
    let created: TemporaryPassword = app.ok(
        "create_account",
        json!({"account": {"username": "night", "displayName": "Night Shift", "role": "technician"}}),
    );
    assert_eq!(created.username, "night");
    let reset: TemporaryPassword = app.ok("reset_password", json!({"username": "night"}));
    assert_ne!(reset.password.expose(), created.password.expose());
    let changed =
        |command: &str| -> AccountRecord { app.ok(command, json!({"username": "night"})) };
    assert!(changed("disable_account").disabled);
    assert!(!changed("enable_account").disabled);
    assert_eq!(changed("unlock_account").locked_until, None);
    assert_eq!(changed("end_account_sessions").active_sessions, 0);
    let accounts: Vec<AccountRecord> = app.ok("list_accounts", json!({}));
    let names: Vec<&str> = accounts.iter().map(|a| a.username.as_str()).collect();
    assert_eq!(names, ["admin", "night", "tech"]);

    // The audit log, verified and exported (never over an earlier file).
    let audit: AuditPage = app.ok("audit_page", json!({"query": {"deviceId": "ZM-APP-ADM"}}));
    let types: Vec<&str> = audit.events.iter().map(|e| e.event_type.as_str()).collect();
    assert!(
        types.contains(&"deprovisioned") && types.contains(&"readmitted"),
        "{types:?}"
    );
    let verified: AuditVerification = app.ok("verify_audit", json!({}));
    assert!(verified.intact);
    let query = json!({"query": {"deviceId": "ZM-APP-ADM"}});
    let first: ExportedFile = app.ok("export_audit", query.clone());
    let second: ExportedFile = app.ok("export_audit", query);
    assert_ne!(first.path, second.path);
    assert_eq!(first.rows as usize, audit.events.len());
    let exports = data.path().join("exports");
    for file in [&first, &second] {
        let path = std::path::Path::new(&file.path);
        assert_eq!(path.parent(), Some(exports.as_path()));
        let name = path.file_name().expect("name").to_string_lossy();
        assert!(
            name.starts_with("zpair-audit-") && name.ends_with(".csv"),
            "{name}"
        );
        let text = std::fs::read_to_string(path).expect("audit CSV");
        assert_eq!(text.lines().count(), audit.events.len() + 1);
    }

    // The pairing report and its files, and the certificates.
    let now = time::OffsetDateTime::now_utc();
    let period = json!({
        "from": zpair_proto::timestamp::format(now - time::Duration::hours(8)),
        "to": zpair_proto::timestamp::format(now + time::Duration::hours(1)),
    });
    let report: PairingReport = app.ok("pairing_report", json!({"query": period}));
    assert_eq!(report.provisioned as usize, report.pairings.len());
    for format in ["csv", "pdf"] {
        let file: ExportedFile =
            app.ok("export_report", json!({"query": period, "format": format}));
        assert!(file.path.ends_with(&format!(".{format}")), "{}", file.path);
        assert!(file.path.contains("zpair-report-"), "{}", file.path);
        let bytes = std::fs::read(&file.path).expect("report file");
        if format == "pdf" {
            assert!(bytes.starts_with(b"%PDF-"));
        }
    }
    let _: CertificateOverview = app.ok("certificate_overview", json!({}));
}
