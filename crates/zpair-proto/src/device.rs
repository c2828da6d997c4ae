//! What the Central Station and a Z Monitor say to each other (ARCHITECTURE.md,
//! steps 4, 6 and 7). The app never sees these.
//!
//! The exchange, over HTTPS to the monitor's own address:
//! 1. `POST /provisioning/challenge` [`ChallengeRequest`] → [`ChallengeResponse`]:
//!    the monitor makes a TLS key and a one-time HPKE key, and signs its CSR,
//!    the HPKE key and the challenge with its long-term identity key.
//! 2. `POST /provisioning/configure` [`ConfigureRequest`] → [`ConfigureResponse`]:
//!    the station proves it holds the pairing code (and token) with a MAC over
//!    the challenge, and sends the signed configuration sealed to the HPKE key.
//!    The monitor checks all of it and stages the configuration.
//! 3. `POST /provisioning/commit` [`CommitRequest`] → [`ConfigureResponse`]: the
//!    monitor tests its new mTLS connection (its first [`Heartbeat`]) and only
//!    then commits.
//!
//! Errors come back as [`crate::api::ApiError`] whose `code` is a
//! [`crate::api::FailureReason`] code.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// Bytes in a challenge.
pub const CHALLENGE_BYTES: usize = 32;

/// The longest field of a registration record, in characters: the station
/// refuses longer ones, and its API document states the same numbers.
pub mod record_limits {
    /// A device ID (it ends up in URL paths and certificate names).
    pub const DEVICE_ID: usize = 64;
    /// The manufacturer's serial.
    pub const SERIAL: usize = 64;
    /// The firmware version.
    pub const FIRMWARE: usize = 32;
    /// The label pushed to the monitor.
    pub const LABEL: usize = 64;
    /// The bed it serves.
    pub const BED_ID: usize = 64;
}

/// Path segments under the station's `/api/devices/` that are routes, not
/// device IDs.
pub const RESERVED_DEVICE_IDS: [&str; 2] = ["import", "heartbeat"];

/// Whether `id` may be a device ID: 1 to [`record_limits::DEVICE_ID`]
/// letters, digits, `.`, `_`, `-`, starting with a letter or digit, and not
/// one of [`RESERVED_DEVICE_IDS`] in any case. Device IDs end up in URL paths
/// and certificate common names, so they keep to a safe alphabet.
pub fn is_device_id(id: &str) -> bool {
    (1..=record_limits::DEVICE_ID).contains(&id.len())
        && id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && !RESERVED_DEVICE_IDS.contains(&id.to_ascii_lowercase().as_str())
}

/// Whether `text` is `min..=max` characters, none of them a control
/// character: the rule of a registration record's free-text fields.
pub fn is_printable(text: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&text.chars().count()) && !text.chars().any(char::is_control)
}

/// What a monitor exports for the station's registry: who it is and the key
/// that proves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationRecord {
    /// Registry identifier.
    #[schema(value_type = crate::schema::DeviceId)]
    pub device_id: String,
    /// Manufacturer's serial.
    #[schema(value_type = crate::schema::DeviceSerial)]
    pub device_serial: String,
    /// Ed25519 identity public key, base64url.
    #[schema(value_type = crate::schema::Ed25519Key)]
    pub identity_public_key: String,
    /// Firmware at export time.
    #[schema(value_type = crate::schema::FirmwareVersion)]
    pub firmware_version: String,
    /// Address at export time, when the monitor knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::schema::RegistryAddress>)]
    pub ip_address: Option<String>,
}

/// Step 1, station → monitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChallengeRequest {
    /// The monitor the station expects to be talking to.
    pub device_id: String,
    /// 32 fresh random bytes, base64url.
    pub challenge: String,
}

/// Step 1, monitor → station.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChallengeResponse {
    /// The monitor's device ID.
    pub device_id: String,
    /// PKCS#10 request for the monitor's new TLS key, PEM.
    pub csr_pem: String,
    /// One-time X25519 key the configuration is sealed to, base64url.
    pub hpke_public_key: String,
    /// Ed25519 signature by the identity key over
    /// [`crate::canonical::challenge_response`], base64url.
    pub signature: String,
}

/// How long one attempt at the proof of commit (the monitor's connection
/// test) may take. The station waits for the proof this long and more past
/// the fail-safe window, so an attempt the monitor starts at its deadline
/// is still answered, never dropped.
pub const PROOF_ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Step 2, station → monitor.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigureRequest {
    /// The monitor's device ID.
    pub device_id: String,
    /// The challenge of step 1, base64url: names the session.
    pub challenge: String,
    /// Which QR token the proof is keyed with ([`crate::crypto::token_id`]);
    /// absent when the code was typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
    /// HMAC-SHA256 over [`crate::canonical::pairing_proof`] keyed by
    /// [`crate::crypto::pairing_key`], base64url.
    pub proof: String,
    /// The HPKE encapsulated key, base64url.
    pub encapped_key: String,
    /// The sealed [`crate::config::SignedConfiguration`] JSON, base64url.
    pub ciphertext: String,
    /// The monitor's fail-safe window, in seconds: armed when the
    /// configuration arrives, it rolls the monitor back unless the station
    /// confirms the commit first. The station chooses it (as a Matter
    /// commissioner arms the fail-safe), because it waits at least as long
    /// for the monitor's proof of commit before it gives up.
    pub fail_safe_seconds: u32,
}

impl std::fmt::Debug for ConfigureRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigureRequest")
            .field("device_id", &self.device_id)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

/// Step 3, station → monitor: run the connection test and commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitRequest {
    /// The monitor's device ID.
    pub device_id: String,
    /// The challenge of step 1, base64url.
    pub challenge: String,
}

/// The monitor's provisioning state machine (the seeds' DOC-PROC-001 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MonitorState {
    /// No server configuration and not in provisioning mode.
    Unprovisioned,
    /// Showing its QR and pairing code.
    ReadyToPair,
    /// A station has proven the code; validating its configuration.
    PairingReceived,
    /// Installing certificates and settings.
    ApplyingConfig,
    /// Testing the new connection.
    TestingConnection,
    /// Configured and connected.
    Provisioned,
    /// The last attempt failed; the previous configuration is kept.
    ProvisioningFailed,
    /// An administrator de-provisioned it.
    Deprovisioned,
}

/// Answer to steps 2 and 3.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigureResponse {
    /// Where the monitor now stands.
    pub state: MonitorState,
}

/// What the station may order a monitor to do, signed with its provisioning key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandKind {
    /// Return to provisioning mode, keeping patient data and settings.
    Reprovision,
    /// Drop the server configuration (administrators only).
    Deprovision,
}

impl CommandKind {
    /// The spelling signed in [`crate::canonical::device_command`].
    pub fn as_str(self) -> &'static str {
        match self {
            CommandKind::Reprovision => "reprovision",
            CommandKind::Deprovision => "deprovision",
        }
    }
}

/// `POST /provisioning/command`, station → monitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceCommand {
    /// The monitor it is for.
    pub device_id: String,
    /// What to do.
    pub command: CommandKind,
    /// When the station issued it; monitors refuse commands older than 5 minutes.
    #[serde(with = "crate::timestamp")]
    pub issued_at: OffsetDateTime,
    /// 16 random bytes, base64url, so two commands never sign the same bytes.
    pub nonce: String,
    /// Ed25519 signature by the station's provisioning key, base64url.
    pub signature: String,
}

/// The headers that carry a [`StationSignature`] on every request the station
/// sends to a monitor's provisioning API.
pub mod signature_header {
    /// When the station signed, RFC 3339.
    pub const TIMESTAMP: &str = "zpair-timestamp";
    /// 16 random bytes, base64url: the monitor takes each one once.
    pub const NONCE: &str = "zpair-nonce";
    /// Ed25519 by the station's provisioning key over
    /// [`crate::canonical::station_request`], base64url.
    pub const SIGNATURE: &str = "zpair-signature";
}

/// The station's signature on one request to a monitor: who may drive the
/// monitor's API (the key it trusts), when (a short window) and once (the
/// nonce). Sent as the [`signature_header`] headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationSignature {
    /// When the station signed.
    pub timestamp: OffsetDateTime,
    /// 16 random bytes, base64url.
    pub nonce: String,
    /// Ed25519 signature, base64url.
    pub signature: String,
}

impl StationSignature {
    /// The three headers, name and value.
    pub fn headers(&self) -> [(&'static str, String); 3] {
        [
            (
                signature_header::TIMESTAMP,
                crate::timestamp::format(self.timestamp),
            ),
            (signature_header::NONCE, self.nonce.clone()),
            (signature_header::SIGNATURE, self.signature.clone()),
        ]
    }

    /// Reads the three headers through `header` (name → value); `None` when
    /// one is missing or the timestamp is unreadable.
    pub fn from_headers<'a>(header: impl Fn(&str) -> Option<&'a str>) -> Option<Self> {
        Some(Self {
            timestamp: crate::timestamp::parse(header(signature_header::TIMESTAMP)?).ok()?,
            nonce: header(signature_header::NONCE)?.to_owned(),
            signature: header(signature_header::SIGNATURE)?.to_owned(),
        })
    }
}

/// `POST /api/devices/heartbeat` over mTLS, monitor → station. The client
/// certificate names the monitor. Unknown fields are ignored, not refused:
/// monitors' firmware is upgraded on its own schedule, and a newer counter
/// must not cut a monitor off from its station.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Heartbeat {
    /// Seconds since the monitor started.
    pub uptime_seconds: u64,
    /// Bytes sent to the station since it started.
    pub bytes_sent: u64,
    /// Connection errors counted since it started.
    pub errors: u64,
    /// Its firmware.
    pub firmware_version: String,
    /// `true` for the connection test of a configuration the monitor has
    /// prepared to commit. It is the pairing's proof of commit: the station
    /// records the pairing as PROVISIONED when it accepts it, and the monitor
    /// makes its commit final only on that acceptance.
    #[serde(default)]
    pub connection_test: bool,
}

/// `POST /api/devices/certificate/renew` over mTLS, monitor → station: a
/// CSR for a key the monitor just made. The client certificate (the
/// monitor's current one) names the monitor; the private key never leaves
/// it. Not signed: the mutual TLS authenticates it, and the certificate
/// issued is only for the key in the CSR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificateRenewal {
    /// PKCS#10 CSR, PEM, for the monitor's new TLS key.
    pub csr_pem: String,
}

/// The answer to a [`CertificateRenewal`]: the new client certificate. It
/// becomes the monitor's when the station first sees it used (a heartbeat
/// with it); only then is the previous one revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RenewedCertificate {
    /// The new client certificate, PEM.
    pub certificate_pem: String,
    /// Its serial: lowercase hex, no leading zero bytes.
    pub serial: String,
    /// When it expires.
    #[serde(with = "crate::timestamp")]
    pub not_after: OffsetDateTime,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Texts that are device IDs (`true`) and that are not, for every test
    /// of the rule (the API document's pattern too).
    pub(crate) fn device_id_samples() -> Vec<(String, bool)> {
        let good = ["ZM-ICU-04", "zm.1", "A", "ZM_2", "IMPORTS", &"Z".repeat(64)];
        let bad = [
            "",
            "-ZM",
            "ZM/1",
            "ZM 1",
            "import",
            "Heartbeat",
            &"Z".repeat(65),
            "ZМ",
        ];
        let sample = |ok| move |id: &str| (id.to_owned(), ok);
        good.map(sample(true))
            .into_iter()
            .chain(bad.map(sample(false)))
            .collect()
    }

    #[test]
    fn device_ids_are_safe_path_segments() {
        for (id, ok) in device_id_samples() {
            assert_eq!(is_device_id(&id), ok, "{id:?}");
        }
    }
}
