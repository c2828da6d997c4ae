//! The three steps a Central Station takes with the monitor — challenge,
//! configure, commit — as the monitor carries them out (the brief's "Monitor
//! API"). Every refusal is an [`ExchangeError`]; every step is in the event log.

use std::sync::Arc;
use std::time::Instant;

use time::OffsetDateTime;
use zpair_proto::crypto;
use zpair_proto::device::{
    CHALLENGE_BYTES, ChallengeRequest, ChallengeResponse, CommitRequest, ConfigureRequest,
    ConfigureResponse, MonitorState,
};

use tokio::sync::watch;

use super::core::{Core, Exchange, Inner, Staged};
use super::fail_safe::{Confirmation, FailSafe};
use crate::MonitorError;
use crate::events::EventType;
use crate::exchange::verify::{self, SealedBox};
use crate::exchange::{ExchangeError, keys};
use crate::machine;
use crate::provisioning::screen;
use crate::provisioning::session::{Attempt, SessionEnd};
use crate::station_configuration::{self, Committed, Credentials, Prepared};

const NOT_THIS_SESSION: &str =
    "This request does not belong to the monitor's current pairing session.";

impl Core {
    /// Step 1: answers a challenge with a CSR and an HPKE key, signed by the identity key.
    pub fn challenge(
        &self,
        request: &ChallengeRequest,
        now: OffsetDateTime,
    ) -> Result<ChallengeResponse, ExchangeError> {
        self.check_device(&request.device_id)?;
        let challenge = decode_challenge(&request.challenge)?;
        self.refuse_outside_provisioning(&mut self.lock(), now)?;
        // Key generation runs without the lock.
        let (keys, response) = keys::answer_challenge(
            self.identity.signing_key(),
            &self.identity.device_id,
            &challenge,
        )
        .map_err(|e| {
            tracing::error!(error = %e, "cannot make the keys for a challenge");
            ExchangeError::Internal
        })?;
        let mut inner = self.lock();
        self.refuse_outside_provisioning(&mut inner, now)?;
        inner.exchange = Some(Exchange {
            challenge,
            keys,
            last_step: Instant::now(),
            staged: None,
        });
        self.wake.notify_one();
        tracing::info!("answered a pairing challenge");
        Ok(response)
    }

    /// Step 2: checks the pairing proof, then the sealed configuration, and stages it.
    pub fn configure(
        &self,
        request: &ConfigureRequest,
        now: OffsetDateTime,
    ) -> Result<ConfigureResponse, ExchangeError> {
        self.check_device(&request.device_id)?;
        let challenge = decode_challenge(&request.challenge)?;
        let mut inner = self.lock();
        self.refuse_outside_provisioning(&mut inner, now)?;
        let ours = inner
            .exchange
            .as_ref()
            .is_some_and(|e| e.challenge == challenge && e.staged.is_none());
        if !ours {
            return Err(ExchangeError::InvalidRequest(NOT_THIS_SESSION));
        }
        // One configure per challenge, whatever its outcome.
        let exchange = inner
            .exchange
            .take()
            .ok_or(ExchangeError::InvalidRequest(NOT_THIS_SESSION))?;
        let session = inner
            .session
            .as_ref()
            .ok_or(ExchangeError::NotInProvisioningMode)?;
        let token = match &request.token_id {
            None => None,
            Some(id) => match session.find_token(id) {
                Some(token) => Some(*token),
                None => {
                    let expired = inner
                        .previous
                        .as_ref()
                        .is_some_and(|p| p.issued(id) && p.expired(now));
                    return Err(if expired {
                        ExchangeError::CodeExpired
                    } else {
                        ExchangeError::TokenStale
                    });
                }
            },
        };
        let key = crypto::pairing_key(session.code(), token.as_ref().map(|t| &t[..]));
        if !crypto::verify_pairing_proof(&key, &self.identity.device_id, &challenge, &request.proof)
        {
            return Err(self.wrong_code(&mut inner)?);
        }
        self.events.ok(EventType::PairingCodeValidated);
        if let Err(e) = screen::clear_notice(&self.dir) {
            tracing::warn!(error = %e, "cannot clear the last pairing's notice");
        }
        self.set_state(&mut inner, MonitorState::PairingReceived)?;
        inner.fail_safe = Some(FailSafe::arm(request.fail_safe_seconds, now));
        self.wake.notify_one();
        let sealed = SealedBox {
            encapped_key: &request.encapped_key,
            ciphertext: &request.ciphertext,
        };
        match self.receive(&mut inner, exchange, sealed, now) {
            Ok(()) => Ok(ConfigureResponse { state: inner.state }),
            Err(e) => {
                self.fail_exchange(&mut inner, &e.to_string())?;
                Err(e)
            }
        }
    }

    /// Step 3: prepares the staged configuration and sends its connection
    /// test, which is the proof of commit (see [`super::fail_safe`]); answers
    /// once the station confirmed it (PROVISIONED) or it was rolled back.
    pub async fn commit(
        self: &Arc<Self>,
        request: &CommitRequest,
    ) -> Result<ConfigureResponse, ExchangeError> {
        self.check_device(&request.device_id)?;
        let challenge = decode_challenge(&request.challenge)?;
        let mut outcome = {
            let mut inner = self.lock();
            if inner.state != MonitorState::TestingConnection {
                return Err(match inner.state {
                    MonitorState::ReadyToPair => ExchangeError::InvalidRequest(NOT_THIS_SESSION),
                    state if machine::mid_exchange(state) => ExchangeError::PairingInProgress,
                    _ => ExchangeError::NotInProvisioningMode,
                });
            }
            match &inner.confirming {
                // The same commit again (its first answer was lost): the same outcome.
                Some(c) if c.challenge.as_deref() == Some(&challenge[..]) => c.outcome.subscribe(),
                Some(_) => return Err(ExchangeError::PairingInProgress),
                None => self.prepare_staged(&mut inner, &challenge)?,
            }
        };
        let confirmation = outcome
            .wait_for(Option::is_some)
            .await
            .map_err(|_| ExchangeError::Internal)?
            .ok_or(ExchangeError::Internal)?;
        match confirmation {
            Confirmation::Committed => Ok(ConfigureResponse {
                state: MonitorState::Provisioned,
            }),
            Confirmation::RolledBack => Err(ExchangeError::ConnectionTestFailed),
        }
    }

    /// Moves the exchange's staged configuration to a prepared commit.
    fn prepare_staged(
        self: &Arc<Self>,
        inner: &mut Inner,
        challenge: &[u8],
    ) -> Result<watch::Receiver<Option<Confirmation>>, ExchangeError> {
        let fail_safe = inner.fail_safe.ok_or(ExchangeError::Internal)?;
        if fail_safe.fired() {
            // Too late to commit: the exchange is being rolled back.
            self.fail_safe_fired(inner)?;
            return Err(ExchangeError::ConnectionTestFailed);
        }
        let exchange = inner
            .exchange
            .as_mut()
            .filter(|e| e.challenge == challenge)
            .ok_or(ExchangeError::InvalidRequest(NOT_THIS_SESSION))?;
        let staged = exchange
            .staged
            .take()
            .ok_or(ExchangeError::InvalidRequest(NOT_THIS_SESSION))?;
        let prepared = Prepared {
            committed: Committed {
                generation: staged.generation,
                configuration: staged.applied,
            },
            hash: staged.hash,
            until: fail_safe.until,
        };
        Ok(self.prepare_commit(
            inner,
            prepared,
            staged.credentials,
            fail_safe,
            Some(challenge.to_vec()),
        )?)
    }

    fn check_device(&self, device_id: &str) -> Result<(), ExchangeError> {
        if device_id == self.identity.device_id {
            Ok(())
        } else {
            Err(ExchangeError::InvalidRequest(
                "The request is for another monitor: check the device ID.",
            ))
        }
    }

    /// Refuses unless the monitor shows a valid code and no exchange is past its proof.
    fn refuse_outside_provisioning(
        &self,
        inner: &mut Inner,
        now: OffsetDateTime,
    ) -> Result<(), ExchangeError> {
        self.expire_if_due(inner, now)?;
        match inner.state {
            MonitorState::ReadyToPair if inner.session.is_some() => Ok(()),
            state if machine::mid_exchange(state) => Err(ExchangeError::PairingInProgress),
            _ => {
                let expired = inner
                    .previous
                    .as_ref()
                    .is_some_and(|p| p.ended() == SessionEnd::Expired);
                Err(if expired {
                    ExchangeError::CodeExpired
                } else {
                    ExchangeError::NotInProvisioningMode
                })
            }
        }
    }

    /// Counts a wrong pairing proof; the last allowed one closes provisioning mode.
    fn wrong_code(&self, inner: &mut Inner) -> Result<ExchangeError, MonitorError> {
        let max = self.config.max_failed_attempts;
        let outcome = inner
            .session
            .as_mut()
            .map_or(Attempt::Closed, |s| s.record_failure(max));
        self.events.failed(
            EventType::PairingCodeValidated,
            "the pairing proof did not match the code on the screen",
        );
        match outcome {
            Attempt::Refused => {
                self.save_pairing(inner)?;
                Ok(ExchangeError::CodeMismatch)
            }
            Attempt::Closed => {
                self.end_session(inner, SessionEnd::Closed)?;
                self.events.failed(
                    EventType::ProvisioningFailed,
                    "too many wrong pairing codes: provisioning mode closed",
                );
                Ok(ExchangeError::ProvisioningClosed)
            }
        }
    }

    /// Opens and checks the configuration, then stages its files.
    fn receive(
        &self,
        inner: &mut Inner,
        mut exchange: Exchange,
        sealed: SealedBox<'_>,
        now: OffsetDateTime,
    ) -> Result<(), ExchangeError> {
        let checked = verify::open_configuration(
            &exchange.keys.hpke,
            sealed,
            inner.station_key.as_ref(),
            &self.identity.device_id,
            now,
        )
        .and_then(|opened| {
            verify::check_certificates(&opened.configuration, &exchange.keys.tls_public_key, now)
                .map(|applied| (opened, applied))
        });
        let (opened, applied) = match checked {
            Ok(checked) => checked,
            Err(e) => {
                self.events
                    .failed(EventType::ConfigurationReceived, &e.to_string());
                return Err(e);
            }
        };
        self.events
            .ok_with_hash(EventType::ConfigurationReceived, &opened.hash);

        let generation = station_configuration::new_generation().map_err(MonitorError::from)?;
        inner.staged_generation = Some(generation.clone());
        self.set_state(inner, MonitorState::ApplyingConfig)?;
        let credentials = Credentials {
            ca_pem: opened.configuration.ca_certificate.clone(),
            certificate_pem: opened.configuration.client_certificate.clone(),
            key_pem: exchange.keys.tls_key_pem.clone(),
        };
        exchange.staged = Some(Staged {
            generation: generation.clone(),
            applied,
            hash: opened.hash.clone(),
            credentials,
        });
        exchange.last_step = Instant::now();
        // From here on, fail_exchange finds the staged files and removes them.
        inner.exchange = Some(exchange);
        if let Some(staged) = inner.exchange.as_ref().and_then(|e| e.staged.as_ref()) {
            station_configuration::stage(&self.dir, &generation, &staged.credentials)
                .map_err(MonitorError::from)?;
        }
        self.events
            .ok_with_hash(EventType::ConfigurationApplied, &opened.hash);
        self.set_state(inner, MonitorState::TestingConnection)?;
        self.wake.notify_one();
        Ok(())
    }
}

fn decode_challenge(text: &str) -> Result<Vec<u8>, ExchangeError> {
    zpair_proto::b64::decode_array::<CHALLENGE_BYTES>(text)
        .map(|c| c.to_vec())
        .ok_or(ExchangeError::InvalidRequest(
            "The challenge is not 32 bytes of base64url.",
        ))
}
