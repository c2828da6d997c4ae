//! Client certificate renewal without re-pairing
//! (`POST /api/devices/certificate/renew`, mTLS).
//!
//! A provisioned monitor sends a CSR for a key it just made over its mutual
//! TLS connection; the station, authenticating it by its current, unrevoked
//! certificate, issues a certificate for that key that *renews* the current
//! one. Nothing else changes until the monitor uses the new certificate: its
//! first heartbeat with it switches the device to it and revokes the old one
//! in one transaction ([`switch`]). A monitor that never switches keeps its
//! old certificate until it expires, so it is never left without a working
//! one.
//!
//! Against an attacker: only the device's current certificate may renew
//! (not a revoked, expired, pending or another device's one: the new
//! certificate names the device the TLS layer verified); a repeated request
//! for the same key answers with the certificate already issued; a request
//! for another key revokes the earlier pending renewal in the same
//! transaction, so the device never has more than its current certificate
//! and one to switch to.

use crate::db::Connection;
use axum::body::Bytes;
use axum::extract::State;
use axum::{Extension, Json};
use time::OffsetDateTime;
use zpair_proto::api::{ApiError, DeviceState};
use zpair_proto::device::{CertificateRenewal, RenewedCertificate};

use crate::audit::{self, Entry, EventType};
use crate::clock;
use crate::db::DbError;
use crate::http::{HttpError, json_body};
use crate::pairing::store::STATION;
use crate::pki::{PkiError, certificates};
use crate::registry::store as devices;
use crate::state::AppState;
use crate::tls::ClientIdentity;

/// The refusal of a certificate that may not renew.
const NOT_CURRENT: &str = "Only the monitor's current, valid client certificate can renew it. Re-provision the monitor if it has none.";

/// The most certificates one certificate may be renewed into. Each request
/// for a new key issues one and revokes the unused one before it, and every
/// revocation stays on the CRL until it expires: without a bound, a monitor
/// (or whoever holds its key) asking again and again would grow the list
/// every client downloads. A monitor that switches renews its *new*
/// certificate next time, so a working one never comes near the bound.
pub(crate) const MAX_RENEWALS_PER_CERTIFICATE: u32 = 10;

/// The refusal once [`MAX_RENEWALS_PER_CERTIFICATE`] is reached.
const TOO_MANY: &str = "This certificate was renewed too many times without the monitor switching to a new one. Re-provision the monitor.";

/// What a renewal request came to.
enum Outcome {
    /// A certificate, new or the one already issued for this key; and
    /// whether an unused earlier renewal was revoked for it (the CRL is
    /// re-signed only then).
    Issued(RenewedCertificate, bool),
    /// Refused: why, for the answer.
    Refused(&'static str),
    /// The CSR is unusable.
    BadCsr,
}

/// Renews the calling monitor's client certificate.
///
/// The CSR's key gets a certificate that replaces the presented one once
/// the monitor uses it (its next heartbeat); until then both work. The same
/// key asked for again gets the same certificate.
#[utoipa::path(post, path = "/api/devices/certificate/renew", operation_id = "renewCertificate", tag = "devices",
    request_body = CertificateRenewal, security(("mutualTLS" = [])),
    responses(
        (status = 200, description = "The new certificate (or the one already issued for this key).", body = RenewedCertificate),
        (status = 400, description = "`invalid_request`: the body or its CSR is unusable.", body = ApiError),
        (status = 401, description = "`client_certificate_required`: no client certificate, or one that is not \
            the device's current, valid certificate.", body = ApiError),
    ))]
pub(crate) async fn renew(
    State(state): State<AppState>,
    identity: Option<Extension<ClientIdentity>>,
    body: Bytes,
) -> Result<Json<RenewedCertificate>, HttpError> {
    let Some(Extension(identity)) = identity else {
        return Err(HttpError::ClientCertificateRequired(
            "Renewing a certificate needs the monitor's current client certificate.",
        ));
    };
    let request: CertificateRenewal = json_body(&body).map_err(|refused| {
        refused.unwrap_or_else(|| {
            HttpError::InvalidRequest("The renewal request is not what the station expects.".into())
        })
    })?;
    let station = state.clone();
    let who = identity.clone();
    let outcome = state
        .db()
        .call(move |c| issue(c, &station, &who, &request.csr_pem, clock::now()))
        .await?;
    match outcome {
        Outcome::Issued(renewed, revoked) => {
            tracing::info!(device_id = %identity.device_id, serial = %renewed.serial, "renewal certificate issued");
            if revoked {
                // A pending renewal it replaced was revoked: the list says so.
                state.revocations_changed().await;
            }
            Ok(Json(renewed))
        }
        Outcome::Refused(why) => {
            tracing::info!(device_id = %identity.device_id, serial = %identity.serial, "renewal refused");
            Err(HttpError::ClientCertificateRequired(why))
        }
        Outcome::BadCsr => Err(HttpError::InvalidRequest(
            "The CSR is not a valid PKCS#10 request for an ECDSA P-256/P-384 or Ed25519 key."
                .into(),
        )),
    }
}

/// Checks, issues and records in one transaction, so two requests at once
/// from one monitor are decided one after the other.
fn issue(
    conn: &mut Connection,
    state: &AppState,
    identity: &ClientIdentity,
    csr_pem: &str,
    now: OffsetDateTime,
) -> Result<Outcome, DbError> {
    let tx = conn.transaction()?;
    let current = match certificates::get(&tx, &identity.serial)? {
        Some(cert)
            if cert.device_id == identity.device_id
                && cert.revoked_at.is_none()
                && cert.not_after > now =>
        {
            cert
        }
        _ => return Ok(Outcome::Refused(NOT_CURRENT)),
    };
    let is_current = devices::get(&tx, &identity.device_id)?.is_some_and(|d| {
        d.state == DeviceState::Provisioned
            && d.certificate_serial.as_deref() == Some(current.serial.as_str())
    });
    if !is_current {
        return Ok(Outcome::Refused(NOT_CURRENT));
    }
    let issued = match state.ca().issue_client(
        csr_pem,
        &identity.device_id,
        now,
        state.config().client_certificate_lifetime,
    ) {
        Ok(issued) => issued,
        Err(PkiError::BadCsr) => return Ok(Outcome::BadCsr),
        Err(e) => return Err(DbError::Invalid(pki_failure(&e))),
    };
    // The same key again (a retry whose answer was lost, or a replay): the
    // certificate already issued for it, nothing new.
    if let Some(pending) = certificates::pending_renewal(&tx, &current.serial)?
        && pending.key_sha256.as_deref() == Some(issued.key_sha256.as_str())
    {
        return Ok(Outcome::Issued(
            RenewedCertificate {
                certificate_pem: pending.pem,
                serial: pending.serial,
                not_after: pending.not_after,
            },
            false,
        ));
    }
    if certificates::renewals_of(&tx, &current.serial)? >= MAX_RENEWALS_PER_CERTIFICATE {
        return Ok(Outcome::Refused(TOO_MANY));
    }
    let replaced =
        certificates::revoke_pending_renewals(&tx, &identity.device_id, None, "superseded", now)?;
    certificates::insert_renewal(
        &tx,
        &identity.device_id,
        None,
        &issued,
        Some(&current.serial),
        now,
    )?;
    let mut entries = vec![
        Entry::ok(EventType::CertificateRenewalIssued, &identity.device_id)
            .by(STATION)
            .subject(&issued.serial),
    ];
    for _ in 0..replaced {
        entries.push(
            Entry::ok(EventType::CertificateRevoked, &identity.device_id)
                .by(STATION)
                .failing("an unused renewal, replaced by a newer request"),
        );
    }
    audit::record(&tx, now, &entries)?;
    tx.commit()?;
    Ok(Outcome::Issued(
        RenewedCertificate {
            certificate_pem: issued.pem,
            serial: issued.serial,
            not_after: issued.not_after,
        },
        replaced > 0,
    ))
}

fn pki_failure(e: &PkiError) -> &'static str {
    tracing::error!(error = %e, "cannot issue a renewal certificate");
    "the device CA could not issue a certificate"
}

/// Whether `serial` is the unused renewal of `device_id`'s current
/// certificate: its first use switches the device to it.
pub(crate) fn is_pending_renewal(
    conn: &Connection,
    device_id: &str,
    renews: Option<&str>,
) -> Result<bool, DbError> {
    let Some(renews) = renews else {
        return Ok(false);
    };
    Ok(devices::get(conn, device_id)?.is_some_and(|d| {
        d.state == DeviceState::Provisioned && d.certificate_serial.as_deref() == Some(renews)
    }))
}

/// Makes `serial` the device's certificate and revokes the one it renews,
/// in the caller's transaction: the monitor just used it, so it works.
/// Returns whether the switch happened (another request may have done it).
pub(crate) fn switch(
    conn: &Connection,
    device_id: &str,
    serial: &str,
    renews: &str,
    now: OffsetDateTime,
) -> Result<bool, DbError> {
    let switched = conn.execute(
        "UPDATE devices SET certificate_serial = ?2, updated_at = ?4
         WHERE device_id = ?1 AND state = 'PROVISIONED' AND certificate_serial = ?3",
        crate::db::params![device_id, serial, renews, clock::unix(now)],
    )?;
    if switched != 1 {
        return Ok(false);
    }
    let mut entries = vec![
        Entry::ok(EventType::CertificateSwitched, device_id)
            .by(STATION)
            .subject(serial),
    ];
    if certificates::revoke(conn, renews, "superseded", now)? {
        entries.push(
            Entry::ok(EventType::CertificateRevoked, device_id)
                .by(STATION)
                .subject(renews),
        );
    }
    audit::record(conn, now, &entries)?;
    Ok(true)
}
