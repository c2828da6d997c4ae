//! `zpair reprovision ID --reason TEXT`: the password again (step-up), an
//! explicit confirmation, then the station sends the monitor back to
//! provisioning mode.

use zpair_core::reprovision::Reprovision;

use super::signed_in;
use crate::failure::Failure;
use crate::output::Output;
use crate::prompt;

/// Steps up, confirms, re-provisions, on zpair-core's re-provisioning (the
/// app's path too): the password is checked before the typed confirmation.
pub async fn run(out: &Output, args: crate::ReprovisionArgs) -> Result<(), Failure> {
    let reprovision = Reprovision::new(&args.device_id, &args.reason)?;
    let session = signed_in().await?;
    let password = prompt::read_password("Password (to confirm it is you): ", args.password_stdin)?;
    let confirmation = reprovision.step_up(&session, password.expose()).await?;
    let device_id = reprovision.device_id();
    if !args.yes {
        out.note(&format!(
            "Re-provisioning revokes {device_id}'s certificate and puts it back in provisioning mode; its patient data stays."
        ));
        let typed = prompt::read_line(&format!("Type the device ID ({device_id}) to confirm: "))?;
        reprovision.confirm(&typed)?;
    }
    let device = reprovision.apply(&session, &confirmation).await?;
    out.result(&device, || {
        format!(
            "{}: {}. The monitor is back in provisioning mode: pair it again with its new code (zpair pair).",
            device.device_id,
            device.state.as_str()
        )
    });
    Ok(())
}
