//! The Linux stores end with the login session: each test signs in from a
//! child process (this test binary again, running one ignored test) inside a
//! session of its own, ends that session, and looks for what is left.
//!
//! - The kernel keyring: the child runs under `keyctl session -`; when it
//!   exits its session keyring ends, and the user's persistent keyring (which
//!   outlives logout, three days by default) must hold nothing of it.
//! - The Secret Service: the child talks to GNOME Keyring on a D-Bus session
//!   bus of the test's own, in a throwaway home; the bus and the keyring are
//!   then stopped (a logout) and started again (the next login), and no
//!   collection, in memory or on disk, may still have the item.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::keyutils_session::description;
use super::{KeyringSecretStore, SecretStore as _};
use crate::secret::Secret;

/// The service the children sign in under.
const SERVICE: &str = "zpair-core-session-tests";
/// What a child is asked to do, and with which key.
const ACTION: &str = "ZPAIR_SESSION_TEST_ACTION";
const KEY: &str = "ZPAIR_SESSION_TEST_KEY";
/// The secret a child stores (a test value, not a token).
const VALUE: &str = "session-scoped test value";
/// Printed by a child that did what it was asked.
const DONE: &str = "zpair-session-child-done";

/// A key no other test run uses.
fn unique_key(what: &str) -> String {
    let nonce: [u8; 6] = zpair_proto::crypto::random_bytes().expect("randomness");
    format!(
        "{what}-{}-{}",
        std::process::id(),
        zpair_proto::b64::encode(nonce)
    )
}

/// The arguments that make this test binary run [`child`] alone.
const CHILD_ARGS: [&str; 5] = [
    "--exact",
    "secret_store::session_tests::child",
    "--ignored",
    "--nocapture",
    "--test-threads=1",
];

/// This test binary, to run [`child`] as a process of its own, started by
/// `program` (the binary itself, or `keyctl session -` in front of it).
fn child_command(action: &str, key: &str, wrapper: &[&str]) -> Command {
    let exe = std::env::current_exe().expect("the test binary");
    let mut cmd = match wrapper.split_first() {
        Some((program, args)) => {
            let mut cmd = Command::new(program);
            cmd.args(args).arg(exe);
            cmd
        }
        None => Command::new(exe),
    };
    cmd.args(CHILD_ARGS)
        .env(ACTION, action)
        .env(KEY, key)
        .stdin(Stdio::null());
    cmd
}

fn run(cmd: &mut Command, what: &str) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(DONE),
        "{what} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The child's side: `store` signs in (and checks it reads back), `present`
/// reads it back, `absent` checks the store has nothing under the key (the
/// store being the one `ZPAIR_SESSION_TEST_KIND` names), and `nowhere` that
/// no collection of the Secret Service has an item for it, locked or not
/// (asked of the service directly, whichever store the app would choose).
#[test]
#[ignore = "run by the session tests in a process and session of its own"]
fn child() {
    let (Ok(action), Ok(key)) = (std::env::var(ACTION), std::env::var(KEY)) else {
        return;
    };
    if action == "nowhere" {
        assert_in_no_collection(&key);
        println!("{DONE}");
        return;
    }
    let store = KeyringSecretStore::new(SERVICE).expect("the system store opens");
    let kind = format!("{:?}", store.kind());
    assert_eq!(
        Some(kind.as_str()),
        std::env::var("ZPAIR_SESSION_TEST_KIND").ok().as_deref(),
        "the store chosen"
    );
    match action.as_str() {
        "store" => {
            store.set(&key, &Secret::new(VALUE.into())).expect("set");
            let back = store.get(&key).expect("get").expect("stored");
            assert_eq!(back.expose(), VALUE);
        }
        "present" => {
            let back = store.get(&key).expect("get").expect("still stored");
            assert_eq!(back.expose(), VALUE);
        }
        "absent" => assert!(store.get(&key).expect("get").is_none(), "still there"),
        other => panic!("unknown action {other}"),
    }
    println!("{DONE}");
}

/// No collection of the session bus's Secret Service, in memory or on
/// disk, locked or not, has an item for `key`.
fn assert_in_no_collection(key: &str) {
    use dbus_secret_service::{EncryptionType, SecretService};
    let service = SecretService::connect(EncryptionType::Plain).expect("connect");
    let attributes = std::collections::HashMap::from([("service", SERVICE), ("username", key)]);
    let found = service.search_items(attributes).expect("search");
    assert!(
        found.unlocked.is_empty() && found.locked.is_empty(),
        "an item outlived the login: {} unlocked, {} locked",
        found.unlocked.len(),
        found.locked.len()
    );
}

/// `keyctl` with `args`, in a throwaway session of its own (so asking for
/// the persistent keyring links it into nothing that lasts).
fn keyctl_in_fresh_session(script: &str, args: &[&str]) -> Output {
    Command::new("keyctl")
        .args(["session", "-", "sh", "-c", script, "sh"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("keyctl (package keyutils)")
}

#[test]
fn a_sign_in_in_the_kernel_keyring_ends_with_its_login_session() {
    let key = unique_key("logout");
    let described = description(SERVICE, &key);
    // The child signs in inside a session of its own, as a desktop login
    // has; no session bus, so the kernel keyring is the store.
    let mut child = child_command("store", &key, &["keyctl", "session", "-"]);
    child
        .env("ZPAIR_SESSION_TEST_KIND", "KeyutilsSession")
        .env_remove("DBUS_SESSION_BUS_ADDRESS");
    run(&mut child, "signing in from a session of its own");

    // That session has ended. The persistent keyring, which outlives it,
    // must not have the key (the keyutils store's own Store links it there).
    let persistent = keyctl_in_fresh_session(
        r#"p=$(keyctl get_persistent @s) || exit 10; keyctl search "$p" user "$1""#,
        &[&described],
    );
    let code = persistent.status.code();
    assert_ne!(
        code,
        Some(10),
        "this kernel has no persistent keyring to check: {}",
        String::from_utf8_lossy(&persistent.stderr)
    );
    assert!(
        !persistent.status.success(),
        "the sign-in outlived its login session in the persistent keyring (key {})",
        String::from_utf8_lossy(&persistent.stdout).trim()
    );
    assert!(
        String::from_utf8_lossy(&persistent.stderr).contains("Required key not available"),
        "the search failed for another reason: {}",
        String::from_utf8_lossy(&persistent.stderr)
    );
    // Nor can any other session find it: the key went with its keyring.
    let anywhere = keyctl_in_fresh_session(r#"keyctl request user "$1""#, &[&described]);
    assert!(!anywhere.status.success(), "the key is still reachable");
}

/// A D-Bus session bus with GNOME Keyring on it, in `home`: one login.
struct DesktopSession {
    bus: Child,
    keyring: Child,
    address: String,
}

impl DesktopSession {
    /// Starts a login; with `password`, the login keyring is unlocked (and
    /// created on disk) with it, as a desktop login does.
    fn start(home: &Path, password: Option<&str>) -> Self {
        let runtime = home.join("run");
        std::fs::create_dir_all(&runtime).expect("runtime dir");
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
            .env("HOME", home)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (package dbus-daemon)");
        let mut line = String::new();
        BufReader::new(bus.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the bus address");
        let address = line.trim().to_owned();
        assert!(!address.is_empty(), "dbus-daemon printed no address");
        let mut keyring = Command::new("gnome-keyring-daemon");
        keyring
            .args(["--foreground", "--components=secrets"])
            .args(password.map(|_| "--unlock"))
            .env("HOME", home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut keyring = keyring
            .spawn()
            .expect("gnome-keyring-daemon (package gnome-keyring)");
        // The password on stdin, then end of input.
        if let (Some(password), Some(mut stdin)) = (password, keyring.stdin.take()) {
            use std::io::Write as _;
            stdin
                .write_all(password.as_bytes())
                .expect("the login password");
        }
        drop(keyring.stdin.take());
        let session = Self {
            bus,
            keyring,
            address,
        };
        session.wait_for_secret_service();
        session
    }

    /// Until GNOME Keyring owns `org.freedesktop.secrets` on the bus.
    fn wait_for_secret_service(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let owned = Command::new("dbus-send")
                .args([
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.secrets",
                ])
                .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("boolean true"));
            if owned {
                return;
            }
            assert!(Instant::now() < deadline, "GNOME Keyring never came up");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn child(&self, action: &str, key: &str, home: &Path) -> Output {
        let mut cmd = child_command(action, key, &[]);
        cmd.env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .env("HOME", home)
            .env("ZPAIR_SESSION_TEST_KIND", "SecretServiceSession");
        run(&mut cmd, &format!("`{action}` in the desktop session"))
    }

    /// Logging out: the keyring daemon and the bus end (see `Drop`).
    fn end(self) {
        drop(self);
    }
}

/// The daemons end with the login, also when a step of the test panics.
impl Drop for DesktopSession {
    fn drop(&mut self) {
        for child in [&mut self.keyring, &mut self.bus] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn a_sign_in_in_the_desktop_keyring_stays_in_its_session_collection() {
    let home = tempfile::tempdir().expect("home");
    let key = unique_key("desktop");

    // A login whose keyring is unlocked: a store that wrote to the default
    // (login) collection would succeed here, and leave the item on disk.
    let login = DesktopSession::start(home.path(), Some("login password"));
    login.child("store", &key, home.path());
    // A second process of the same login (the app started again) sees it.
    login.child("present", &key, home.path());
    login.end();

    // The next login, keyring still locked: the item is in no collection,
    // neither the new session collection nor the login keyring on disk.
    let next_login = DesktopSession::start(home.path(), None);
    next_login.child("nowhere", &key, home.path());
    next_login.child("absent", &key, home.path());
    next_login.end();
}
