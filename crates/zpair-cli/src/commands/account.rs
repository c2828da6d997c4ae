//! `zpair login`, `logout`, `whoami`, `password change`.

use std::io::IsTerminal as _;

use zpair_proto::api::Account;

use super::{session, signed_in};
use crate::failure::Failure;
use crate::output::Output;
use crate::prompt;

fn describe(account: &Account) -> String {
    format!(
        "{} ({}), {}",
        account.username,
        account.display_name,
        account.role.as_str()
    )
}

/// Signs in and keeps the session in the keyring.
pub async fn login(out: &Output, args: crate::LoginArgs) -> Result<(), Failure> {
    let session = session()?;
    let username = match args.username {
        Some(name) => name,
        None if std::io::stdin().is_terminal() => prompt::read_line("Username: ")?,
        None => {
            return Err(Failure::input(
                "Give --username when standard input is not a terminal.",
            ));
        }
    };
    if username.trim().is_empty() {
        return Err(Failure::input("The user name is empty."));
    }
    let password = prompt::read_password("Password: ", args.password_stdin)?;
    let account = session.login(username.trim(), password.expose()).await?;
    out.result(&account, || format!("Signed in as {}.", describe(&account)));
    Ok(())
}

/// Revokes the session at the station and forgets it here.
pub async fn logout(out: &Output) -> Result<(), Failure> {
    let session = session()?;
    session.logout().await?;
    out.result(&serde_json::json!({ "signedOut": true }), || {
        "Signed out.".to_owned()
    });
    Ok(())
}

/// Who is signed in, as the station sees it now.
pub async fn whoami(out: &Output) -> Result<(), Failure> {
    let session = signed_in().await?;
    let account = session.me().await?;
    out.result(&account, || format!("Signed in as {}.", describe(&account)));
    Ok(())
}

/// Changes the signed-in account's password: the current one, then the new
/// one twice on a terminal (once with `--password-stdin`: line 1 the
/// current, line 2 the new).
pub async fn change_password(out: &Output, args: crate::PasswordChangeArgs) -> Result<(), Failure> {
    let session = signed_in().await?;
    let current = prompt::read_password("Current password: ", args.password_stdin)?;
    let new = prompt::read_password(
        "New password (at least 12 characters): ",
        args.password_stdin,
    )?;
    if !args.password_stdin {
        let again = prompt::read_password("New password again: ", false)?;
        if again.expose() != new.expose() {
            return Err(Failure::input(
                "The two new passwords differ; nothing was changed. Run the command again.",
            ));
        }
    }
    zpair_core::admin::accounts::change_own_password(&session, current.expose(), new.expose())
        .await?;
    out.result(&serde_json::json!({ "passwordChanged": true }), || {
        "Password changed.".to_owned()
    });
    Ok(())
}
