//! Renewing the client certificate before it expires, without re-pairing.
//!
//! When less than `renew_percent_left` of its validity is left, the monitor
//! makes a new TLS key and CSR and asks the station over its mutual-TLS
//! connection (`POST /api/devices/certificate/renew`, presenting the
//! current certificate). The certificate it gets back is checked as a
//! pairing's is (its key, its name, its chain) and staged in a generation
//! of its own beside the one in force, recorded in `renewal.json`.
//!
//! From then on the monitor heartbeats with the new certificate only — the
//! station switches to it on the first one it accepts and revokes the old
//! one, so an old-certificate heartbeat after that would be refused and
//! tear the pairing down. The accepted heartbeat commits the switch (one
//! atomic write of `configuration.json`); a definite refusal gives the new
//! certificate up and keeps the old one, which the station has not revoked;
//! no answer keeps the renewal pending for the next heartbeat. A restart
//! finds it in `renewal.json` and carries on the same way.

use time::OffsetDateTime;
use zpair_proto::config::ConfigurationPayload;
use zpair_proto::device::{CertificateRenewal, RenewedCertificate};

use super::core::Core;
use crate::MonitorError;
use crate::connection::REQUEST_TIMEOUT;
use crate::events::EventType;
use crate::exchange::{keys, verify};
use crate::station_configuration::{self, Committed, Credentials, PendingRenewal};

/// Why a renewal could not be staged; the old certificate stays in force.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RenewalError {
    /// The key or CSR could not be made.
    #[error("cannot make the new key: {0}")]
    Keys(#[from] keys::KeysError),
    /// The station could not be asked, or refused.
    #[error("the renewal request failed: {0}")]
    Request(String),
    /// The certificate the station sent does not fit.
    #[error("the renewed certificate is unusable: {0}")]
    Certificate(String),
    /// It could not be staged on disk.
    #[error(transparent)]
    Monitor(#[from] MonitorError),
}

/// When the client certificate's validity is read from its PEM.
fn validity(certificate_pem: &str) -> Option<(OffsetDateTime, OffsetDateTime)> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    let der = CertificateDer::from_pem_slice(certificate_pem.as_bytes()).ok()?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der).ok()?;
    let at = |t: x509_parser::time::ASN1Time| OffsetDateTime::from_unix_timestamp(t.timestamp());
    Some((
        at(cert.validity().not_before).ok()?,
        at(cert.validity().not_after).ok()?,
    ))
}

/// Whether a certificate valid over `not_before..not_after` is due for
/// renewal at `now`: less than `percent_left` of its validity is left (and
/// it has not expired: the station no longer takes an expired one).
pub(crate) fn due(
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    percent_left: u32,
    now: OffsetDateTime,
) -> bool {
    let lifetime = (not_after - not_before).whole_milliseconds();
    let left = (not_after - now).whole_milliseconds();
    left > 0 && left * 100 <= lifetime * i128::from(percent_left)
}

impl Core {
    /// The renewal staged and not yet switched to.
    pub(crate) fn pending_renewal(&self) -> Option<PendingRenewal> {
        self.lock().renewal.clone()
    }

    /// Whether the certificate of `credentials` is due for renewal now.
    pub(crate) fn renewal_due(&self, credentials: &Credentials, now: OffsetDateTime) -> bool {
        validity(&credentials.certificate_pem)
            .is_some_and(|(from, to)| due(from, to, self.config.renew_percent_left, now))
    }

    /// Asks the station for a renewed certificate over `http` (the mTLS
    /// client of the generation in force) and stages it as pending.
    pub(crate) async fn request_renewal(
        &self,
        http: &reqwest::Client,
        committed: &Committed,
        credentials: &Credentials,
    ) -> Result<(), RenewalError> {
        let device_id = self.identity.device_id.clone();
        let key = tokio::task::spawn_blocking(move || keys::tls_key(&device_id))
            .await
            .map_err(|e| RenewalError::Request(e.to_string()))??;
        let url = format!(
            "{}/api/devices/certificate/renew",
            committed.configuration.server_url.trim_end_matches('/')
        );
        let response = http
            .post(url)
            .json(&CertificateRenewal {
                csr_pem: key.csr_pem.clone(),
            })
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(|e| RenewalError::Request(e.to_string()))?;
        if !response.status().is_success() {
            return Err(RenewalError::Request(format!(
                "the station answered {}",
                response.status()
            )));
        }
        let renewed: RenewedCertificate = response
            .json()
            .await
            .map_err(|e| RenewalError::Request(e.to_string()))?;
        let now = OffsetDateTime::now_utc();
        // The checks of a pairing's certificate: for this key, naming this
        // monitor, chaining to the CA in force, valid now.
        let applied = &committed.configuration;
        let payload = ConfigurationPayload {
            server_url: applied.server_url.clone(),
            ca_certificate: credentials.ca_pem.clone(),
            client_certificate: renewed.certificate_pem.clone(),
            device_id: self.identity.device_id.clone(),
            device_label: applied.device_label.clone(),
            bed_id: applied.bed_id.clone(),
            timestamp: now,
            expires_at: now,
        };
        let checked = verify::check_certificates(&payload, &key.public_key, now)
            .map_err(|e| RenewalError::Certificate(e.to_string()))?;
        let generation = station_configuration::new_generation().map_err(MonitorError::from)?;
        let staged = Credentials {
            ca_pem: credentials.ca_pem.clone(),
            certificate_pem: renewed.certificate_pem,
            key_pem: key.key_pem,
        };
        let pending = PendingRenewal {
            renews: committed.generation.clone(),
            committed: Committed {
                generation: generation.clone(),
                configuration: checked,
            },
        };
        let mut inner = self.lock();
        if inner.committed.as_ref().map(|c| &c.generation) != Some(&committed.generation) {
            return Err(RenewalError::Certificate(
                "the configuration in force changed meanwhile".into(),
            ));
        }
        // Files first, then the record naming them: a crash in between
        // leaves a folder the next start removes.
        station_configuration::stage(&self.dir, &generation, &staged)
            .map_err(MonitorError::from)?;
        station_configuration::save_renewal(&self.dir, &pending).map_err(MonitorError::from)?;
        inner.renewal = Some(pending);
        drop(inner);
        self.events.ok(EventType::CertificateRenewalReceived);
        tracing::info!(serial = %renewed.serial, "renewed certificate staged");
        Ok(())
    }

    /// The station accepted a heartbeat with the renewed certificate: it is
    /// the one in force now, and the old generation goes.
    pub(crate) fn commit_renewal(&self, pending: &PendingRenewal) -> Result<(), MonitorError> {
        let mut inner = self.lock();
        if inner.renewal.as_ref() != Some(pending) {
            return Ok(());
        }
        station_configuration::commit(&self.dir, &pending.committed)?;
        let old = inner.committed.replace(pending.committed.clone());
        inner.renewal = None;
        station_configuration::clear_renewal(&self.dir)?;
        drop(inner);
        if let Some(old) = old
            && let Err(e) = station_configuration::discard(&self.dir, &old.generation)
        {
            tracing::warn!(error = %e, "cannot remove the previous certificate");
        }
        self.events.ok(EventType::CertificateRenewed);
        tracing::info!(serial = %pending.committed.configuration.certificate_serial, "switched to the renewed certificate");
        Ok(())
    }

    /// Gives a pending renewal up; the certificate in force stays.
    pub(crate) fn discard_renewal(
        &self,
        pending: &PendingRenewal,
        why: &str,
    ) -> Result<(), MonitorError> {
        let mut inner = self.lock();
        if inner.renewal.as_ref() != Some(pending) {
            return Ok(());
        }
        inner.renewal = None;
        station_configuration::clear_renewal(&self.dir)?;
        drop(inner);
        station_configuration::discard(&self.dir, &pending.committed.generation)?;
        self.events.failed(EventType::CertificateRenewed, why);
        tracing::warn!(why, "gave up the renewed certificate");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    #[test]
    fn renewal_is_due_once_the_share_left_is_below_the_setting() {
        let start = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        let end = start + Duration::seconds(100);
        assert!(!due(start, end, 30, start + Duration::seconds(69)));
        assert!(due(start, end, 30, start + Duration::seconds(70)));
        assert!(due(start, end, 30, start + Duration::seconds(99)));
        assert!(!due(start, end, 30, end), "expired: too late to renew");
        assert!(!due(start, end, 0, start + Duration::seconds(99)));
    }
}
