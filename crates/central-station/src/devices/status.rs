//! Heartbeats (`POST /api/devices/heartbeat`, mTLS) and the connected-status
//! view (`GET /api/devices/{id}/status`).

use std::time::Duration;

use crate::db::params;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use time::OffsetDateTime;
use zpair_proto::api::{
    ApiError, CertificateStatus, CertificateValidity, ConnectedStatus, ConnectionCounters,
    ConnectionState,
};
use zpair_proto::device::Heartbeat;

use crate::accounts::Caller;
use crate::clock;
use crate::db::{DbError, relaxed, to_sql_int};
use crate::http::{ApiPath, HttpError, json_body};
use crate::openapi::{DevicePath, UNKNOWN_DEVICE};
use crate::pairing::job;
use crate::pairing::store::{self, Proof};
use crate::pki::certificates::{self, CertificateRow};
use crate::registry::{DeviceRow, store as devices};
use crate::state::AppState;
use crate::tls::ClientIdentity;

use super::renewal;

/// A certificate this close to its end shows as expiring soon.
const EXPIRING_WITHIN: time::Duration = time::Duration::days(30);
/// Missed heartbeats after which a monitor shows as disconnected.
const MISSED_HEARTBEATS: u32 = 3;

/// What a heartbeat's certificate is to the station.
#[derive(Debug, PartialEq, Eq)]
enum Beat {
    /// The device's current certificate: counted.
    Current,
    /// The first use of a renewal of the current certificate (`renews`):
    /// the device switches to it, the old one is revoked, and it is counted.
    Renewed { renews: String },
    /// The certificate of a running job: the monitor's connection test,
    /// which is its proof of commit (see `pairing::job`).
    ProofOfCommit,
    /// Anything else; `alert` when the device's own monitor presented it
    /// (it believes it is paired).
    Refused { why: &'static str, alert: bool },
}

const REVOKED: &str = "This certificate is revoked or expired. Pair the monitor again.";
const REPLACED: &str = "This certificate has been replaced. Pair the monitor again.";

fn classify(
    conn: &crate::db::Connection,
    identity: &ClientIdentity,
    connection_test: bool,
    now: OffsetDateTime,
) -> Result<Beat, DbError> {
    let Some(cert) = certificates::get(conn, &identity.serial)? else {
        return Ok(Beat::Refused {
            why: "This certificate was not issued by this Central Station.",
            alert: false,
        });
    };
    if cert.device_id != identity.device_id {
        return Ok(Beat::Refused {
            why: REVOKED,
            alert: false,
        });
    }
    if cert.revoked_at.is_some() || cert.not_after <= now {
        return Ok(Beat::Refused {
            why: REVOKED,
            alert: true,
        });
    }
    let Some(device) = devices::get(conn, &identity.device_id)? else {
        return Ok(Beat::Refused {
            why: "This monitor is not in the registry.",
            alert: false,
        });
    };
    if device.certificate_serial.as_deref() == Some(identity.serial.as_str()) {
        return Ok(Beat::Current);
    }
    if renewal::is_pending_renewal(conn, &identity.device_id, cert.renews.as_deref())?
        && let Some(renews) = cert.renews
    {
        return Ok(Beat::Renewed { renews });
    }
    let running = store::pending_for_certificate(conn, &identity.serial)?.is_some();
    Ok(match (running, connection_test) {
        (true, true) => Beat::ProofOfCommit,
        (true, false) => Beat::Refused {
            why: "This certificate is not committed yet.",
            alert: false,
        },
        (false, _) => Beat::Refused {
            why: REPLACED,
            alert: true,
        },
    })
}

/// A monitor's heartbeat, over mTLS.
///
/// 204 for a monitor presenting its current certificate, or the proof of
/// commit of a running pairing (recorded here: the pairing is PROVISIONED
/// once this answers 204).
#[utoipa::path(post, path = "/api/devices/heartbeat", operation_id = "heartbeat", tag = "devices",
    request_body = Heartbeat, security(("mutualTLS" = [])),
    responses(
        (status = 204, description = "Counted, or the proof of commit recorded."),
        (status = 401, description = "`client_certificate_required`: no client certificate from the device CA, \
            or one that is revoked, expired, replaced or not committed yet.", body = ApiError),
    ))]
pub(crate) async fn heartbeat(
    State(state): State<AppState>,
    identity: Option<Extension<ClientIdentity>>,
    body: Bytes,
) -> Result<StatusCode, HttpError> {
    // Who is asking comes before what they sent.
    let Some(Extension(identity)) = identity else {
        return Err(HttpError::ClientCertificateRequired(
            "Heartbeats need the monitor's client certificate from the Central Station's device CA.",
        ));
    };
    let beat: Heartbeat = json_body(&body).map_err(|refused| {
        refused.unwrap_or_else(|| {
            HttpError::InvalidRequest("The heartbeat is not what the station expects.".into())
        })
    })?;
    let now = clock::now();
    let who = identity.clone();
    let connection_test = beat.connection_test;
    let kind = state
        .db()
        .call(move |c| {
            let mut kind = classify(c, &who, connection_test, now)?;
            if let Beat::Renewed { renews } = &kind {
                // Switch and count in one transaction; a switch another
                // heartbeat made first leaves this one a current one.
                let tx = c.transaction()?;
                let switched = renewal::switch(&tx, &who.device_id, &who.serial, renews, now)?;
                tx.commit()?;
                if !switched {
                    kind = classify(c, &who, connection_test, now)?;
                }
            }
            match &kind {
                Beat::Current | Beat::Renewed { .. } => relaxed(c, |c| {
                    c.execute(
                    "UPDATE devices SET last_heartbeat_ms = ?2, uptime_seconds = ?3, heartbeats = heartbeats + 1,
                            bytes_sent = ?4, errors = ?5, firmware_version = ?6, alert = NULL, alert_ms = NULL
                     WHERE device_id = ?1",
                    params![
                        who.device_id,
                        clock::unix_ms(now),
                        to_sql_int(beat.uptime_seconds),
                        to_sql_int(beat.bytes_sent),
                        to_sql_int(beat.errors),
                        beat.firmware_version,
                    ],
                    )?;
                    Ok(())
                })?,
                Beat::Refused { why, alert: true } => {
                    store::certificate_refused(c, &who.serial, why, now)?;
                }
                Beat::Refused { .. } | Beat::ProofOfCommit => {}
            }
            Ok(kind)
        })
        .await?;
    match kind {
        Beat::Current => Ok(StatusCode::NO_CONTENT),
        Beat::Renewed { .. } => {
            tracing::info!(device_id = %identity.device_id, serial = %identity.serial, "the monitor switched to its renewed certificate");
            state.revocations_changed().await;
            Ok(StatusCode::NO_CONTENT)
        }
        Beat::ProofOfCommit => proof_of_commit(&state, &identity).await,
        Beat::Refused { why, .. } => {
            tracing::info!(device_id = %identity.device_id, serial = %identity.serial, "heartbeat refused");
            Err(HttpError::ClientCertificateRequired(why))
        }
    }
}

/// Records the pairing's commit on the monitor's proof, if it came in time.
async fn proof_of_commit(
    state: &AppState,
    identity: &ClientIdentity,
) -> Result<StatusCode, HttpError> {
    let serial = identity.serial.clone();
    let server_url = state.public_url().to_owned();
    let proof = job::write_and_stream(state, move |c| {
        store::proof_of_commit(c, &serial, &server_url)
    })
    .await?;
    match proof {
        Proof::Recorded(written) => {
            tracing::info!(device_id = %identity.device_id, job_id = %written.event.job_id, "proof of commit recorded: provisioned");
            Ok(StatusCode::NO_CONTENT)
        }
        Proof::TooLate(_) => {
            tracing::info!(device_id = %identity.device_id, "proof of commit after the window: the pairing failed");
            Err(HttpError::ClientCertificateRequired(
                "The pairing was not confirmed in time and was cancelled. Pair the monitor again.",
            ))
        }
        Proof::AlreadyRecorded => Ok(StatusCode::NO_CONTENT),
        Proof::NotAwaited => Err(HttpError::ClientCertificateRequired(
            "This certificate is not committed yet.",
        )),
    }
}

/// Raises an alert on the device of each revoked certificate presented at
/// the TLS handshake, until the station stops.
pub(crate) async fn record_refused_certificates(
    db: crate::db::Db,
    mut refused: tokio::sync::mpsc::Receiver<ClientIdentity>,
) {
    while let Some(identity) = refused.recv().await {
        let serial = identity.serial.clone();
        let now = clock::now();
        let raised = db
            .call(move |c| store::certificate_refused(c, &serial, "revoked", now))
            .await;
        match raised {
            Ok(true) => {
                tracing::warn!(device_id = %identity.device_id, serial = %identity.serial, "a monitor presented a revoked certificate")
            }
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "cannot raise the refused-certificate alert"),
        }
    }
}

/// The connected-status view of a device at `now`.
pub(crate) fn connected_status(
    device: &DeviceRow,
    certificate: Option<&CertificateRow>,
    heartbeat_interval: Duration,
    now: OffsetDateTime,
) -> ConnectedStatus {
    let connection_state = match device.last_heartbeat {
        None => ConnectionState::Never,
        Some(last) if now - last <= clock::span(heartbeat_interval * MISSED_HEARTBEATS) => {
            ConnectionState::Connected
        }
        Some(_) => ConnectionState::Disconnected,
    };
    let certificate = certificate.map(|c| CertificateStatus {
        serial: c.serial.clone(),
        not_before: c.not_before,
        not_after: c.not_after,
        validity: if c.revoked_at.is_some() {
            CertificateValidity::Revoked
        } else if c.not_after <= now {
            CertificateValidity::Expired
        } else if c.not_after - now <= EXPIRING_WITHIN {
            CertificateValidity::ExpiringSoon
        } else {
            CertificateValidity::Valid
        },
    });
    ConnectedStatus {
        device_id: device.device_id.clone(),
        device_label: device.device_label.clone(),
        state: device.state,
        connection_state,
        server_url: device.server_url.clone(),
        certificate,
        last_connected: device.last_heartbeat,
        uptime_seconds: device.uptime_seconds,
        counters: ConnectionCounters {
            heartbeats: device.heartbeats,
            bytes_sent: device.bytes_sent,
            errors: device.errors,
        },
        alert: None,
    }
}

/// A monitor's connected status.
///
/// From its mTLS heartbeats: connected, disconnected or never; its
/// certificate; counters; an alert when it presented a certificate the
/// station refused.
#[utoipa::path(get, path = "/api/devices/{id}/status", operation_id = "deviceStatus", tag = "devices",
    params(DevicePath), security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The connected-status view.", body = ConnectedStatus),
        (status = 404, description = UNKNOWN_DEVICE, body = ApiError),
    ))]
pub(crate) async fn status(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath(device_id): ApiPath<String>,
) -> Result<Json<ConnectedStatus>, HttpError> {
    let (device, certificate, alert) = state
        .db()
        .call(move |c| {
            let Some(device) = devices::get(c, &device_id)? else {
                return Ok(None);
            };
            let certificate = match &device.certificate_serial {
                Some(serial) => certificates::get(c, serial)?,
                None => None,
            };
            let alert = store::device_alert(c, &device_id)?;
            Ok(Some((device, certificate, alert)))
        })
        .await?
        .ok_or(HttpError::UnknownDevice)?;
    let now = clock::now();
    let mut status = connected_status(
        &device,
        certificate.as_ref(),
        state.config().heartbeat_interval,
        now,
    );
    status.alert = alert.or_else(|| expired_alert(&device, certificate.as_ref(), now));
    Ok(Json(status))
}

/// A paired monitor whose certificate ran out (it was offline past the
/// point it would have renewed it) can no longer connect: the station's
/// TLS port refuses the certificate. Only re-provisioning gives it another.
fn expired_alert(
    device: &DeviceRow,
    certificate: Option<&CertificateRow>,
    now: OffsetDateTime,
) -> Option<zpair_proto::api::DeviceAlert> {
    let certificate = certificate?;
    let expired = device.state == zpair_proto::api::DeviceState::Provisioned
        && certificate.revoked_at.is_none()
        && certificate.not_after <= now;
    expired.then(|| zpair_proto::api::DeviceAlert {
        message: format!(
            "The monitor's certificate expired at {} before it was renewed: the monitor cannot connect to the Central Station. Re-provision it, then pair it again.",
            zpair_proto::timestamp::format(certificate.not_after)
        ),
        at: certificate.not_after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use zpair_proto::api::DeviceState;

    fn device(last: Option<OffsetDateTime>) -> DeviceRow {
        DeviceRow {
            device_id: "ZM-1".into(),
            device_serial: "SN".into(),
            identity_public_key: String::new(),
            firmware_version: "1".into(),
            ip_address: None,
            device_label: "ICU-1".into(),
            bed_id: String::new(),
            state: DeviceState::Provisioned,
            server_url: Some("https://127.0.0.1:8443".into()),
            certificate_serial: Some("10ab".into()),
            last_heartbeat: last,
            uptime_seconds: 42,
            heartbeats: 7,
            bytes_sent: 100,
            errors: 1,
        }
    }

    fn cert(not_after: OffsetDateTime, revoked: bool) -> CertificateRow {
        CertificateRow {
            serial: "10ab".into(),
            device_id: "ZM-1".into(),
            job_id: None,
            not_before: not_after - time::Duration::days(365),
            not_after,
            revoked_at: revoked.then_some(not_after - time::Duration::days(1)),
            renews: None,
        }
    }

    #[test]
    fn connection_state_follows_three_heartbeat_intervals() {
        let now = clock::now();
        let interval = Duration::from_secs(10);
        let at = |ago: i64| {
            connected_status(
                &device(Some(now - time::Duration::seconds(ago))),
                None,
                interval,
                now,
            )
        };
        assert_eq!(at(29).connection_state, ConnectionState::Connected);
        assert_eq!(at(31).connection_state, ConnectionState::Disconnected);
        let never = connected_status(&device(None), None, interval, now);
        assert_eq!(never.connection_state, ConnectionState::Never);
        assert_eq!(at(1).counters.heartbeats, 7);
        assert_eq!(at(1).uptime_seconds, 42);
    }

    #[test]
    fn certificate_validity_covers_revoked_expired_and_expiring() {
        let now = clock::now();
        let interval = Duration::from_secs(10);
        let validity = |c: CertificateRow| {
            connected_status(&device(None), Some(&c), interval, now)
                .certificate
                .map(|c| c.validity)
        };
        let days = time::Duration::days;
        assert_eq!(
            validity(cert(now + days(300), false)),
            Some(CertificateValidity::Valid)
        );
        assert_eq!(
            validity(cert(now + days(10), false)),
            Some(CertificateValidity::ExpiringSoon)
        );
        assert_eq!(
            validity(cert(now - days(1), false)),
            Some(CertificateValidity::Expired)
        );
        assert_eq!(
            validity(cert(now + days(300), true)),
            Some(CertificateValidity::Revoked)
        );
    }
}
