//! Re-provisioning a paired monitor: the one path the app and the CLI share.
//!
//! Its rules, checked here before anything is sent: a device ID of the same
//! shape as a scanned one, a reason the station will keep (the rule of
//! [`zpair_proto::api::check_reason`]), and the technician typing the device
//! ID again to confirm. Then the password buys a step-up confirmation bound
//! to this device and this action, which the re-provision request spends.
//! The two calls are separate so a CLI can check the password before it asks
//! for the typed confirmation.

use zpair_proto::api::{DeviceSummary, StepUpAction, check_reason};

use crate::error::{ErrorCode, UserFacing};
use crate::qr::{QrError, check_device_id};
use crate::secret::Secret;
use crate::session::{SessionError, TechnicianSession};

/// Why a re-provisioning was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReprovisionError {
    /// The device ID is not one a monitor could have.
    #[error("{0}")]
    DeviceId(QrError),
    /// The reason is empty, too long or has control characters.
    #[error("{0}")]
    Reason(zpair_proto::api::ReasonError),
    /// The device ID typed to confirm is not the monitor's.
    #[error(
        "The device ID you typed does not match {device_id}. Type the monitor's device ID exactly as shown to confirm."
    )]
    ConfirmationMismatch {
        /// The monitor being re-provisioned.
        device_id: String,
    },
}

impl UserFacing for ReprovisionError {
    fn code(&self) -> ErrorCode {
        match self {
            ReprovisionError::DeviceId(_) => ErrorCode::InvalidDeviceId,
            ReprovisionError::Reason(_) => ErrorCode::InvalidReason,
            ReprovisionError::ConfirmationMismatch { .. } => ErrorCode::ConfirmationMismatch,
        }
    }
}

/// A re-provisioning whose device ID and reason passed the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reprovision {
    device_id: String,
    reason: String,
}

/// The step-up confirmation the password bought, spent by [`Reprovision::apply`].
#[derive(Debug)]
pub struct Confirmation(Secret<String>);

impl Reprovision {
    /// Checks what the technician gave, trimmed.
    pub fn new(device_id: &str, reason: &str) -> Result<Self, ReprovisionError> {
        let device_id = device_id.trim();
        check_device_id(device_id).map_err(ReprovisionError::DeviceId)?;
        let reason = check_reason(reason).map_err(ReprovisionError::Reason)?;
        Ok(Self {
            device_id: device_id.to_owned(),
            reason: reason.to_owned(),
        })
    }

    /// The monitor this re-provisions.
    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    /// The technician typed the device ID again: it must be this one.
    pub fn confirm(&self, typed: &str) -> Result<(), ReprovisionError> {
        if typed.trim() == self.device_id {
            Ok(())
        } else {
            Err(ReprovisionError::ConfirmationMismatch {
                device_id: self.device_id.clone(),
            })
        }
    }

    /// The password again, for a confirmation bound to this device and
    /// action (and, at the station, to this session).
    pub async fn step_up(
        &self,
        session: &TechnicianSession,
        password: &str,
    ) -> Result<Confirmation, SessionError> {
        let client = session.client();
        let device_id = self.device_id.as_str();
        let answer = session
            .authorized(|token| async move {
                client
                    .step_up(&token, password, device_id, StepUpAction::Reprovision)
                    .await
            })
            .await?;
        Ok(Confirmation(answer.confirmation_token.into()))
    }

    /// Sends the re-provisioning with its confirmation; the monitor goes
    /// back to provisioning mode and the station opens its re-pairing window.
    pub async fn apply(
        &self,
        session: &TechnicianSession,
        confirmation: &Confirmation,
    ) -> Result<DeviceSummary, SessionError> {
        let client = session.client();
        let (device_id, reason) = (self.device_id.as_str(), self.reason.as_str());
        let confirmation = &confirmation.0;
        session
            .authorized(|token| async move {
                client
                    .reprovision(&token, device_id, confirmation, reason)
                    .await
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_id_and_reason_are_checked_before_anything_is_sent() {
        let ok = Reprovision::new(" ZM-ICU-04 ", "  board replaced ").expect("valid");
        assert_eq!(ok.device_id(), "ZM-ICU-04");
        assert_eq!(ok.reason, "board replaced");
        for reason in ["", "   ", "two\nlines", &"x".repeat(501)] {
            let refused = Reprovision::new("ZM-ICU-04", reason).expect_err("bad reason");
            assert_eq!(refused.code(), ErrorCode::InvalidReason, "{reason:?}");
        }
        let refused = Reprovision::new("", "reason").expect_err("no device");
        assert_eq!(refused.code(), ErrorCode::InvalidDeviceId);
    }

    #[test]
    fn the_typed_device_id_must_be_the_monitors() {
        let reprovision = Reprovision::new("ZM-ICU-04", "reason").expect("valid");
        assert_eq!(reprovision.confirm(" ZM-ICU-04 "), Ok(()));
        let wrong = reprovision
            .confirm("ZM-ICU-05")
            .expect_err("another monitor");
        assert_eq!(wrong.code(), ErrorCode::ConfirmationMismatch);
        assert!(wrong.message().contains("ZM-ICU-04"));
    }
}
