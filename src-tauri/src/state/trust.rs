//! Trusting a station: the anchor the technician gives is checked against
//! the live station before anything is saved, so a typo or an impostor is
//! caught at setup rather than at the first sign-in.

use zpair_core::client::{
    CertificateInfo, ClientError, StationClient, StationTrust, TrustAnchor, parse_fingerprint,
    probe_station,
};
use zpair_core::error::ErrorCode;
use zpair_proto::user_facing::UserFacing;

use super::settings::StationSetup;

/// Why a station was not trusted.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// Unreachable, not the trusted certificate, or an unusable URL or anchor.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The station presents another certificate than the fingerprint given.
    /// Its own fingerprint is not shown: copying it into the field would
    /// trust whoever answered.
    #[error(
        "The station presents a different certificate from the fingerprint you entered. Nothing was saved: check the station address and the fingerprint with IT."
    )]
    FingerprintMismatch {
        /// SHA-256 hex of the certificate presented.
        presented: String,
    },
}

impl UserFacing for TrustError {
    fn code(&self) -> ErrorCode {
        match self {
            TrustError::Client(e) => e.code(),
            TrustError::FingerprintMismatch { .. } => ErrorCode::StationUntrusted,
        }
    }
}

/// Pins the station's certificate by `fingerprint`, if the station at `url`
/// presents exactly that certificate now.
pub async fn by_fingerprint(
    url: &str,
    fingerprint: &str,
) -> Result<(StationSetup, StationClient), TrustError> {
    let expected = parse_fingerprint(fingerprint)?;
    let presented = probe_station(url).await?;
    if presented.fingerprint != expected {
        return Err(TrustError::FingerprintMismatch {
            presented: presented.fingerprint,
        });
    }
    checked(url, TrustAnchor::Fingerprint(expected), presented).await
}

/// Trusts the hospital CA in `ca_pem`, if the station at `url` presents a
/// certificate that chains to it.
pub async fn by_ca(url: &str, ca_pem: &str) -> Result<(StationSetup, StationClient), TrustError> {
    let ca = CertificateInfo::from_pem(ca_pem)?;
    checked(url, TrustAnchor::CaPem(ca_pem.to_owned()), ca).await
}

/// Connects with `anchor` as the only trust, so the station is reachable and
/// trusted exactly as later calls will be.
async fn checked(
    url: &str,
    anchor: TrustAnchor,
    shown: CertificateInfo,
) -> Result<(StationSetup, StationClient), TrustError> {
    let client = StationClient::new(StationTrust {
        url: url.trim().to_owned(),
        anchor: anchor.clone(),
    })?;
    client.health().await?;
    let setup = StationSetup {
        trust: StationTrust {
            url: client.station_url().to_owned(),
            anchor,
        },
        fingerprint: shown.fingerprint,
        subject: shown.subject,
    };
    Ok((setup, client))
}
