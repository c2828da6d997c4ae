//! `zpair reprovision ID --reason TEXT`: the password again (step-up), an
//! explicit confirmation, then the station sends the monitor back to
//! provisioning mode.

use zpair_proto::api::StepUpAction;

use super::signed_in;
use crate::failure::{CONFIRMATION_MISMATCH, Exit, Failure};
use crate::output::Output;
use crate::prompt;

/// Steps up, confirms, re-provisions.
pub async fn run(out: &Output, args: crate::ReprovisionArgs) -> Result<(), Failure> {
    if args.reason.trim().is_empty() {
        return Err(Failure::input(
            "Give a reason for the audit log with --reason.",
        ));
    }
    let session = signed_in().await?;
    let client = session.client();
    let password = prompt::read_password("Password (to confirm it is you): ", args.password_stdin)?;
    let confirmation = session
        .authorized(|token| {
            let password = &password;
            let device_id = args.device_id.as_str();
            async move {
                client
                    .step_up(
                        &token,
                        password.expose(),
                        device_id,
                        StepUpAction::Reprovision,
                    )
                    .await
            }
        })
        .await?;
    if !args.yes {
        out.note(&format!(
            "Re-provisioning revokes {}'s certificate and puts it back in provisioning mode; its patient data stays.",
            args.device_id
        ));
        let typed = prompt::read_line(&format!(
            "Type the device ID ({}) to confirm: ",
            args.device_id
        ))?;
        if typed.trim() != args.device_id {
            return Err(Failure::new(
                CONFIRMATION_MISMATCH,
                "The device ID typed does not match: nothing was changed.",
                Exit::Usage,
            ));
        }
    }
    let device_id = args.device_id.as_str();
    let reason = args.reason.trim();
    let confirmation_token = confirmation.confirmation_token.as_str();
    let device = session
        .authorized(|token| async move {
            client
                .reprovision(&token, device_id, confirmation_token, reason)
                .await
        })
        .await?;
    out.result(&device, || {
        format!(
            "{}: {}. The monitor is back in provisioning mode: pair it again with its new code (zpair pair).",
            device.device_id,
            device.state.as_str()
        )
    });
    Ok(())
}
