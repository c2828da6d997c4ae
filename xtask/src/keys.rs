//! Session tokens a run leaves behind. The keyring store the app and the CLI
//! use links every key it writes into the user's persistent keyring as well
//! as the session's (so a sign-in survives logging out), and that keyring
//! outlives `keyctl session -`: without this, the tokens of the throwaway
//! stations of every test run, WebDriver run, bench and demo would stay in
//! the kernel for days. [`ForgetNewKeys`] unlinks, when a command ends, the
//! keys it added there.

use std::collections::BTreeSet;
use std::process::{Command, Stdio};

/// Lists the persistent keyring's keys (from a throwaway session, so asking
/// for the persistent keyring links it into nothing that lasts).
const LIST: &str = r#"keyctl rlist "$(keyctl get_persistent @s)""#;
/// Unlinks its arguments from the persistent keyring.
const UNLINK: &str =
    r#"p=$(keyctl get_persistent @s); for k; do keyctl unlink "$k" "$p" >/dev/null; done"#;

/// The persistent keyring's keys when a command started; the ones added
/// since are unlinked when it is dropped.
pub struct ForgetNewKeys {
    before: Option<BTreeSet<String>>,
}

impl ForgetNewKeys {
    /// Notes the keys there are now (none noted without `keyctl`, and then
    /// nothing is unlinked either).
    pub fn now() -> Self {
        Self { before: listed() }
    }
}

impl Drop for ForgetNewKeys {
    fn drop(&mut self) {
        let (Some(before), Some(after)) = (&self.before, listed()) else {
            return;
        };
        let added: Vec<&String> = after.difference(before).collect();
        if added.is_empty() {
            return;
        }
        let _ = in_throwaway_session(UNLINK, &added);
    }
}

fn listed() -> Option<BTreeSet<String>> {
    let out = in_throwaway_session(LIST, &[])?;
    Some(out.split_whitespace().map(str::to_owned).collect())
}

fn in_throwaway_session(script: &str, args: &[&String]) -> Option<String> {
    let out = Command::new("keyctl")
        .args(["session", "-", "sh", "-c", script, "sh"])
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}
