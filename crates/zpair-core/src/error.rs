//! One shape for every error a technician can see: a stable `code` that the
//! app's UI and scripts switch on, and a `message` that says what happened and
//! what to do next (GitButler's `but_api::json::Error`).
//!
//! Each module keeps its own `thiserror` enum; [`UserFacing`] (defined in
//! `zpair-proto`, re-exported here) is how all of
//! them reduce to `{code, message}`, so the app and the CLI print them alike.

/// Stable error codes shared by the modules of this crate and the station.
///
/// Station codes arrive in [`zpair_proto::api::ApiError::code`]; the ones
/// named here are those this crate acts on (refresh, sign-in, next action).
pub mod codes {
    /// The station could not be reached (connection refused, timeout, DNS).
    pub const STATION_UNREACHABLE: &str = "station_unreachable";
    /// The station's TLS certificate is not the one that was trusted.
    pub const STATION_UNTRUSTED: &str = "station_untrusted";
    /// A missing or expired bearer token.
    pub const UNAUTHORIZED: &str = "unauthorized";
    /// The refresh token is spent, revoked or expired.
    pub const SESSION_EXPIRED: &str = "session_expired";
    /// No session was ever started (or it was signed out).
    pub const NOT_SIGNED_IN: &str = "not_signed_in";
    /// Wrong user name or password.
    pub const INVALID_CREDENTIALS: &str = "invalid_credentials";
    /// Too many failed sign-ins.
    pub const ACCOUNT_LOCKED: &str = "account_locked";
    /// The account's role may not do this.
    pub const FORBIDDEN_ROLE: &str = "forbidden_role";
    /// The monitor is not in the station's registry.
    pub const UNKNOWN_DEVICE: &str = "unknown_device";
    /// The QR's token was already used.
    pub const TOKEN_REPLAYED: &str = "token_replayed";
    /// Too many pair requests.
    pub const RATE_LIMITED: &str = "rate_limited";
    /// A pairing job for the monitor is still running.
    pub const PAIRING_IN_PROGRESS: &str = "pairing_in_progress";
    /// Re-provisioning needs a fresh confirmation token.
    pub const CONFIRMATION_REQUIRED: &str = "confirmation_required";
    /// The monitor is paired (or its re-provisioning expired): re-provision
    /// it, which authorises one pairing.
    pub const REPROVISION_REQUIRED: &str = "reprovision_required";
    /// The monitor was de-provisioned: an administrator must re-admit it.
    pub const DEVICE_DEPROVISIONED: &str = "device_deprovisioned";
    /// The pairing code is not `XXX-XXX-XXX`.
    pub const INVALID_CODE: &str = "invalid_code";
    /// The device ID typed is not a device ID.
    pub const INVALID_DEVICE_ID: &str = "invalid_device_id";
    /// A scan ID that is not (or no longer) a found monitor's.
    pub const SCAN_UNKNOWN: &str = "scan_unknown";
    /// A QR already sent for pairing.
    pub const QR_ALREADY_SENT: &str = "qr_already_sent";
    /// A reason for the audit log that the station would refuse.
    pub const INVALID_REASON: &str = "invalid_reason";
    /// The device ID typed to confirm is not the monitor's.
    pub const CONFIRMATION_MISMATCH: &str = "confirmation_mismatch";
    /// The live status stream ended before the job did, twice.
    pub const STATUS_STREAM_LOST: &str = "status_stream_lost";
    /// The station's answer could not be understood.
    pub const STATION_RESPONSE_INVALID: &str = "station_response_invalid";
    /// The station answered with an error that carried no error body.
    pub const STATION_ERROR: &str = "station_error";
    /// The station address is not an `https://` URL.
    pub const INVALID_STATION_URL: &str = "invalid_station_url";
    /// The CA file or the fingerprint given to trust is unusable.
    pub const INVALID_TRUST_ANCHOR: &str = "invalid_trust_anchor";
    /// The operating system's secret store failed.
    pub const SECRET_STORE_FAILED: &str = "secret_store_failed";
    /// No usable secret store on this machine.
    pub const SECRET_STORE_UNAVAILABLE: &str = "secret_store_unavailable";
}

pub use zpair_proto::user_facing::{UserFacing, UserFacingError};
