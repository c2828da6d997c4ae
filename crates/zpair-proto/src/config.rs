//! The configuration the Central Station pushes to a monitor (ARCHITECTURE.md step 4).
//!
//! Unlike the seeds, it carries no private key: the monitor made its own and
//! sent a CSR. It is signed with the station's Ed25519 provisioning key over
//! [`crate::canonical::configuration`] and sealed to the monitor with HPKE.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// How long a pushed configuration may wait before the monitor refuses it.
pub const CONFIGURATION_LIFETIME: time::Duration = time::Duration::hours(1);

/// The configuration a monitor applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigurationPayload {
    /// Where the monitor sends its mTLS traffic.
    pub server_url: String,
    /// The hospital CA, PEM: trusted for `server_url`.
    pub ca_certificate: String,
    /// The monitor's client certificate, PEM, issued from its CSR.
    pub client_certificate: String,
    /// The monitor it is for.
    pub device_id: String,
    /// Label to show (`ICU-MON-04`).
    pub device_label: String,
    /// Bed it serves.
    pub bed_id: String,
    /// When the station made it.
    #[serde(with = "crate::timestamp")]
    pub timestamp: OffsetDateTime,
    /// When the monitor must stop accepting it (`timestamp` + 1 h).
    #[serde(with = "crate::timestamp")]
    pub expires_at: OffsetDateTime,
}

/// The sealed plaintext: the configuration and the station's signature over it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedConfiguration {
    /// The configuration.
    pub configuration: ConfigurationPayload,
    /// Ed25519 over [`crate::canonical::configuration`], base64url.
    pub signature: String,
}
