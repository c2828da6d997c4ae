//! `zpair users …`: accounts at the station (administrators).

use zpair_core::admin::accounts;
use zpair_core::client::AccountChange;
use zpair_proto::admin::{AccountRecord, NewAccount, TemporaryPassword};
use zpair_proto::api::Role;

use super::signed_in;
use crate::UsersCommand;
use crate::failure::Failure;
use crate::output::{Output, say, timestamp};

/// Reads `--role`.
pub fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| "technician or administrator".into())
}

/// `zpair users …`.
pub async fn run(out: &Output, command: UsersCommand) -> Result<(), Failure> {
    let session = signed_in().await?;
    let (username, change) = match command {
        UsersCommand::List => {
            let list = accounts::list(&session).await?;
            print_accounts(out, &list);
            return Ok(());
        }
        UsersCommand::Add(args) => {
            let account = NewAccount {
                username: args.username,
                display_name: args.display_name,
                role: args.role,
            };
            let password = accounts::create(&session, &account).await?;
            print_password(out, &password, "created");
            return Ok(());
        }
        UsersCommand::ResetPassword(user) => {
            let password = accounts::reset_password(&session, &user.username).await?;
            print_password(out, &password, "given a new password; its sessions ended");
            return Ok(());
        }
        UsersCommand::Unlock(user) => (user.username, AccountChange::Unlock),
        UsersCommand::Disable(user) => (user.username, AccountChange::Disable),
        UsersCommand::Enable(user) => (user.username, AccountChange::Enable),
        UsersCommand::EndSessions(user) => (user.username, AccountChange::EndSessions),
    };
    let account = accounts::change(&session, &username, change).await?;
    out.result(&account, || {
        format!(
            "{} {}: {}.",
            account.username,
            change.done(),
            state(&account)
        )
    });
    Ok(())
}

/// The temporary password alone on its own stdout line (so a script can
/// take it with `tail -1`); what it is goes to stderr.
fn print_password(out: &Output, password: &TemporaryPassword, done: &str) {
    if out.is_json() {
        out.json_line(&serde_json::json!({
            "username": password.username,
            "temporaryPassword": password.password.expose(),
        }));
        return;
    }
    out.note(&format!(
        "{} {done}. Its temporary password, shown only now (to be changed at the next sign-in):",
        password.username
    ));
    say(password.password.expose());
}

fn state(account: &AccountRecord) -> String {
    let mut parts = Vec::new();
    if account.disabled {
        parts.push("disabled".to_owned());
    }
    if let Some(until) = account
        .locked_until
        .filter(|until| *until > time::OffsetDateTime::now_utc())
    {
        parts.push(format!("locked until {}", timestamp(until)));
    }
    if account.must_change_password {
        parts.push("must change password".into());
    }
    if parts.is_empty() {
        parts.push("active".into());
    }
    parts.join(", ")
}

fn print_accounts(out: &Output, list: &[AccountRecord]) {
    if out.is_json() {
        out.result(&list, String::new);
        return;
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|a| {
            vec![
                a.username.clone(),
                a.display_name.clone(),
                a.role.as_str().to_owned(),
                state(a),
                a.active_sessions.to_string(),
                a.last_sign_in.map_or_else(|| "never".into(), timestamp),
            ]
        })
        .collect();
    out.table(
        &[
            "USERNAME",
            "NAME",
            "ROLE",
            "STATE",
            "SESSIONS",
            "LAST SIGN-IN",
        ],
        &rows,
    );
}
