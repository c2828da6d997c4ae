//! Trusting a station: the anchor the technician gives is checked against
//! the live station before anything is saved, so a typo or an impostor is
//! caught at setup rather than at the first sign-in. The app's setup screens
//! and `zpair setup` both come through here.

use crate::client::{
    CertificateInfo, ClientError, StationClient, StationTrust, TrustAnchor, parse_fingerprint,
    probe_station,
};
use crate::error::{ErrorCode, UserFacing};

/// A station whose anchor has just been checked: reachable and trusted
/// exactly as later calls will be.
#[derive(Debug)]
pub struct TrustedStation {
    /// The address (normalised by the client) and the anchor, to save.
    pub trust: StationTrust,
    /// The anchor certificate: the CA's, or the station's own.
    pub anchor: CertificateInfo,
    /// A client already connected with that trust.
    pub client: StationClient,
}

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
pub async fn by_fingerprint(url: &str, fingerprint: &str) -> Result<TrustedStation, TrustError> {
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
pub async fn by_ca(url: &str, ca_pem: &str) -> Result<TrustedStation, TrustError> {
    let ca = CertificateInfo::from_pem(ca_pem)?;
    checked(url, TrustAnchor::CaPem(ca_pem.to_owned()), ca).await
}

/// Pins the certificate the station presented, read by [`probe_station`]
/// and confirmed by the technician against the fingerprint IT gave them.
pub async fn by_confirmed(
    url: &str,
    presented: CertificateInfo,
) -> Result<TrustedStation, TrustError> {
    let anchor = TrustAnchor::Fingerprint(presented.fingerprint.clone());
    checked(url, anchor, presented).await
}

/// Connects with `anchor` as the only trust, so the station is reachable and
/// trusted exactly as later calls will be.
async fn checked(
    url: &str,
    anchor: TrustAnchor,
    shown: CertificateInfo,
) -> Result<TrustedStation, TrustError> {
    let client = StationClient::new(StationTrust {
        url: url.trim().to_owned(),
        anchor: anchor.clone(),
    })?;
    client.health().await?;
    Ok(TrustedStation {
        trust: StationTrust {
            url: client.station_url().to_owned(),
            anchor,
        },
        anchor: shown,
        client,
    })
}
