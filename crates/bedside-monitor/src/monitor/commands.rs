//! The station's signed commands: re-provision (back to provisioning mode,
//! keeping everything else) and de-provision (drop the configuration). Each is
//! obeyed once, only when fresh and signed by the station key the monitor trusts.

use time::OffsetDateTime;
use zpair_proto::canonical;
use zpair_proto::crypto;
use zpair_proto::device::{CommandKind, ConfigureResponse, DeviceCommand, MonitorState};

use super::core::{Core, Inner, SeenCommand};
use super::mode::Entry;
use crate::MonitorError;
use crate::events::EventType;
use crate::exchange::ExchangeError;
use crate::machine;
use crate::provisioning::screen;
use crate::provisioning::session::SessionEnd;
use crate::station_configuration;

/// Commands older (or further in the future) than this are refused.
pub(crate) const COMMAND_MAX_AGE: time::Duration = time::Duration::minutes(5);

impl Core {
    /// Carries out a signed station command.
    pub fn command(
        &self,
        command: &DeviceCommand,
        now: OffsetDateTime,
    ) -> Result<ConfigureResponse, ExchangeError> {
        if command.device_id != self.identity.device_id {
            return Err(ExchangeError::InvalidRequest(
                "The command is for another monitor: check the device ID.",
            ));
        }
        let mut inner = self.lock();
        let key = inner.station_key.ok_or(ExchangeError::SignatureInvalid(
            "The monitor trusts no Central Station key yet: register it with the station's key first.",
        ))?;
        crypto::verify(
            &key,
            &canonical::device_command(command),
            &command.signature,
        )
        .map_err(|_| {
            ExchangeError::SignatureInvalid(
                "The command is not signed by the Central Station this monitor trusts.",
            )
        })?;
        let age = now - command.issued_at;
        if age > COMMAND_MAX_AGE || age < -COMMAND_MAX_AGE {
            return Err(ExchangeError::SignatureInvalid(
                "The command is older than 5 minutes (or the clocks disagree): send it again.",
            ));
        }
        // Commands outside the window are refused anyway: forget their nonces.
        inner
            .seen_commands
            .retain(|seen| now - seen.issued_at <= COMMAND_MAX_AGE * 2);
        if inner
            .seen_commands
            .iter()
            .any(|seen| seen.nonce == command.nonce)
        {
            return Err(ExchangeError::SignatureInvalid(
                "This command was already carried out once: send a new one.",
            ));
        }
        inner.seen_commands.push(SeenCommand {
            nonce: command.nonce.clone(),
            issued_at: command.issued_at,
        });
        self.save_state(&inner)?;
        match command.command {
            CommandKind::Reprovision => {
                tracing::info!("the Central Station ordered re-provisioning");
                self.events.ok(EventType::ReprovisioningStarted);
                self.enter_locked(&mut inner, Entry::StationCommand, now)?;
            }
            CommandKind::Deprovision => {
                tracing::info!("the Central Station ordered de-provisioning");
                self.deprovision(&mut inner)?;
            }
        }
        Ok(ConfigureResponse { state: inner.state })
    }

    /// Drops the configuration and every certificate; identity, settings and
    /// patient data stay.
    fn deprovision(&self, inner: &mut Inner) -> Result<(), MonitorError> {
        if machine::mid_exchange(inner.state) {
            if inner.confirming() {
                return Err(MonitorError::PairingInProgress);
            }
            self.fail_exchange(
                inner,
                "the Central Station de-provisioned the monitor during the exchange",
            )?;
        }
        if let Some(session) = inner.session.take() {
            inner.previous = Some(session.into_past(SessionEnd::Deprovisioned));
            self.save_pairing(inner)?;
            screen::clear(&self.dir)?;
        }
        inner.exchange = None;
        station_configuration::remove(&self.dir)?;
        inner.committed = None;
        self.set_state(inner, MonitorState::Deprovisioned)?;
        self.events.ok(EventType::Deprovisioned);
        self.wake.notify_one();
        Ok(())
    }
}
