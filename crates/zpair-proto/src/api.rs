//! The Central Station's HTTP API as the app (and the CLI) speaks it.
//!
//! Every error body is an [`ApiError`]: a stable `code` that clients switch
//! on and a `message` a technician can act on.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::Redacted;
use crate::error_code::ErrorCode;

/// Error body of every non-2xx response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
pub struct ApiError {
    /// Stable identifier, snake_case (`unknown_device`, `rate_limited`, …).
    pub code: ErrorCode,
    /// What happened and what to do next.
    pub message: String,
}

impl ApiError {
    /// The code with the catalogue's message for it.
    pub fn from_code(code: ErrorCode) -> Self {
        Self {
            code,
            message: code.message().to_owned(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// What a signed-in account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Pairs and re-provisions monitors.
    Technician,
    /// Manages accounts and the device registry; de-provisions monitors.
    Administrator,
}

impl Role {
    /// The wire and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Technician => "technician",
            Role::Administrator => "administrator",
        }
    }

    /// Reads the wire and database spelling.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "technician" => Some(Role::Technician),
            "administrator" => Some(Role::Administrator),
            _ => None,
        }
    }
}

/// `POST /api/auth/login`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoginRequest {
    /// Account name.
    pub username: String,
    /// Password, sent only over TLS and never stored in clear.
    #[schema(value_type = String, format = Password)]
    pub password: Redacted<String>,
}

/// `POST /api/auth/refresh` and `POST /api/auth/logout`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token from the last [`Session`].
    #[schema(value_type = String)]
    pub refresh_token: Redacted<String>,
}

/// Who is signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// Account name.
    pub username: String,
    /// Name to show.
    pub display_name: String,
    /// What the account may do.
    pub role: Role,
    /// Its password is temporary (set by an administrator): until it is
    /// changed (`POST /api/auth/password`), the station refuses every other
    /// request of the account with `password_change_required`.
    #[serde(default)]
    pub must_change_password: bool,
}

/// Answer to login and refresh: a short-lived access token and a longer-lived
/// refresh token.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// Bearer token for API calls.
    #[schema(value_type = String)]
    pub access_token: Redacted<String>,
    /// When the access token stops working.
    #[serde(with = "crate::timestamp")]
    pub access_expires_at: OffsetDateTime,
    /// Exchanged for a new session at `POST /api/auth/refresh`; one use.
    #[schema(value_type = String)]
    pub refresh_token: Redacted<String>,
    /// When the refresh token stops working.
    #[serde(with = "crate::timestamp")]
    pub refresh_expires_at: OffsetDateTime,
    /// Who signed in.
    pub account: Account,
}

/// `POST /api/auth/step-up`: the password again, for a confirmation token
/// bound to this session, this device and this action.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StepUpRequest {
    /// The signed-in technician's password, re-entered.
    #[schema(value_type = String, format = Password)]
    pub password: Redacted<String>,
    /// The one device the confirmation may act on.
    #[schema(value_type = crate::schema::DeviceId)]
    pub device_id: String,
    /// The one action it authorises.
    pub action: StepUpAction,
}

/// What a step-up confirmation authorises. A confirmation asked for one
/// action is refused for any other, so a new one never widens an old one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepUpAction {
    /// `POST /api/devices/{id}/reprovision`.
    Reprovision,
}

impl StepUpAction {
    /// The wire and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            StepUpAction::Reprovision => "reprovision",
        }
    }
}

/// Answer to step-up: a confirmation token good for one re-provisioning.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StepUpResponse {
    /// Sent with the re-provision request; one use, a few minutes.
    #[schema(value_type = String)]
    pub confirmation_token: Redacted<String>,
    /// When it stops working.
    #[serde(with = "crate::timestamp")]
    pub expires_at: OffsetDateTime,
}

/// `POST /api/provisioning/pair`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PairRequest {
    /// The monitor's registry identifier.
    #[schema(value_type = crate::schema::DeviceId)]
    pub device_id: String,
    /// The code on the monitor's screen, as typed or scanned.
    #[schema(value_type = crate::schema::PairingCodeText)]
    pub pairing_code: Redacted<String>,
    /// The token from the QR; absent when the code was typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::schema::PairingToken>)]
    pub pairing_token: Option<Redacted<String>>,
    /// The monitor's address from the QR; absent when typed (the registry's is used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::schema::MonitorAddress>)]
    pub ip_address: Option<String>,
}

/// `202 Accepted` answer to a pair request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PairAccepted {
    /// The pairing job to follow.
    pub job_id: String,
    /// Where its server-sent events stream.
    pub events_url: String,
}

/// Where a pairing job stands (ARCHITECTURE.md, step 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobState {
    /// The station is reaching the monitor and proving the code.
    Pairing,
    /// The certificate is issued and the configuration pushed.
    Configuring,
    /// The monitor tests its new connection.
    Validating,
    /// The monitor's answer to the commit was lost: the station waits, for
    /// the rest of the fail-safe window, for the monitor's proof of commit
    /// (its connection test over the new certificate) before it decides.
    Confirming,
    /// Done: the monitor is connected with its new configuration.
    Provisioned,
    /// Stopped with a [`FailureReason`].
    Failed,
}

impl JobState {
    /// No further events follow a terminal state.
    pub fn is_terminal(self) -> bool {
        matches!(self, JobState::Provisioned | JobState::Failed)
    }

    /// The wire and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pairing => "PAIRING",
            JobState::Configuring => "CONFIGURING",
            JobState::Validating => "VALIDATING",
            JobState::Confirming => "CONFIRMING",
            JobState::Provisioned => "PROVISIONED",
            JobState::Failed => "FAILED",
        }
    }

    /// Reads the wire and database spelling.
    pub fn parse(text: &str) -> Option<Self> {
        [
            JobState::Pairing,
            JobState::Configuring,
            JobState::Validating,
            JobState::Confirming,
            JobState::Provisioned,
            JobState::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// Why a pairing job failed: the fixed list of ARCHITECTURE.md step 5, with
/// each case the monitor and the station can tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// The code does not match the monitor's current code.
    CodeMismatch,
    /// The code (or the QR) has expired.
    CodeExpired,
    /// The QR's token is not one the monitor issued for its current code.
    TokenStale,
    /// Too many wrong codes: the monitor closed provisioning mode.
    ProvisioningClosed,
    /// The monitor is not in provisioning mode.
    NotInProvisioningMode,
    /// A signature did not verify: the monitor's identity, or the configuration.
    SignatureInvalid,
    /// The configuration was authentic but expired when it reached the monitor.
    ConfigExpired,
    /// A certificate or CSR was malformed, or did not chain.
    CertificateInvalid,
    /// The station could not reach the monitor.
    MonitorUnreachable,
    /// The monitor could not connect with its new configuration; it kept its old one.
    ConnectionTestFailed,
    /// The station restarted while the job ran.
    Interrupted,
    /// The monitor was configured but its proof of commit never reached the
    /// station within the fail-safe window: it rolled back.
    CommitUnconfirmed,
}

impl FailureReason {
    /// Every reason, for tables and exhaustive tests.
    pub const ALL: [FailureReason; 12] = [
        FailureReason::CodeMismatch,
        FailureReason::CodeExpired,
        FailureReason::TokenStale,
        FailureReason::ProvisioningClosed,
        FailureReason::NotInProvisioningMode,
        FailureReason::SignatureInvalid,
        FailureReason::ConfigExpired,
        FailureReason::CertificateInvalid,
        FailureReason::MonitorUnreachable,
        FailureReason::ConnectionTestFailed,
        FailureReason::Interrupted,
        FailureReason::CommitUnconfirmed,
    ];

    /// The stable code, from the catalogue.
    pub const fn code(self) -> ErrorCode {
        match self {
            FailureReason::CodeMismatch => ErrorCode::CodeMismatch,
            FailureReason::CodeExpired => ErrorCode::CodeExpired,
            FailureReason::TokenStale => ErrorCode::TokenStale,
            FailureReason::ProvisioningClosed => ErrorCode::ProvisioningClosed,
            FailureReason::NotInProvisioningMode => ErrorCode::NotInProvisioningMode,
            FailureReason::SignatureInvalid => ErrorCode::SignatureInvalid,
            FailureReason::ConfigExpired => ErrorCode::ConfigExpired,
            FailureReason::CertificateInvalid => ErrorCode::CertificateInvalid,
            FailureReason::MonitorUnreachable => ErrorCode::MonitorUnreachable,
            FailureReason::ConnectionTestFailed => ErrorCode::ConnectionTestFailed,
            FailureReason::Interrupted => ErrorCode::Interrupted,
            FailureReason::CommitUnconfirmed => ErrorCode::CommitUnconfirmed,
        }
    }

    /// The reason a code names, if it names one.
    pub fn from_code(code: ErrorCode) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    /// Reads the wire spelling back.
    pub fn parse(text: &str) -> Option<Self> {
        ErrorCode::parse(text).and_then(Self::from_code)
    }

    /// What happened and what the technician should do next (the seeds' error table).
    pub const fn message(self) -> &'static str {
        self.code().message()
    }
}

/// One step of a pairing job, as streamed to the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobEvent {
    /// The job.
    pub job_id: String,
    /// The monitor being paired.
    pub device_id: String,
    /// The state reached.
    pub state: JobState,
    /// Why it failed, when `state` is `FAILED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<FailureReason>,
    /// What this step means for the technician.
    pub message: String,
    /// When the state was reached.
    #[serde(with = "crate::timestamp")]
    pub at: OffsetDateTime,
}

/// `GET /api/provisioning/jobs/{id}`: the job with every step so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobSummary {
    /// The job.
    pub job_id: String,
    /// The monitor being paired.
    pub device_id: String,
    /// Who asked for it.
    pub technician: String,
    /// The latest state.
    pub state: JobState,
    /// Why it failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<FailureReason>,
    /// Every step, oldest first.
    pub events: Vec<JobEvent>,
}

/// A monitor's provisioning state as the station last knew it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeviceState {
    /// In the registry and pairable: never paired, its last pairing failed,
    /// or an administrator re-admitted it.
    Unprovisioned,
    /// A pairing job is running.
    Pairing,
    /// Paired and holding a valid certificate.
    Provisioned,
    /// Re-provisioning was confirmed; waiting for the monitor to be paired
    /// again (one pairing, within the station's re-provisioning window).
    AwaitingReprovision,
    /// De-provisioned by an administrator; pairable only once re-admitted.
    Deprovisioned,
}

impl DeviceState {
    /// The wire and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceState::Unprovisioned => "UNPROVISIONED",
            DeviceState::Pairing => "PAIRING",
            DeviceState::Provisioned => "PROVISIONED",
            DeviceState::AwaitingReprovision => "AWAITING_REPROVISION",
            DeviceState::Deprovisioned => "DEPROVISIONED",
        }
    }

    /// Reads the wire and database spelling.
    pub fn parse(text: &str) -> Option<Self> {
        [
            DeviceState::Unprovisioned,
            DeviceState::Pairing,
            DeviceState::Provisioned,
            DeviceState::AwaitingReprovision,
            DeviceState::Deprovisioned,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// A monitor in the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct DeviceSummary {
    /// Registry identifier.
    pub device_id: String,
    /// Manufacturer's serial.
    pub device_serial: String,
    /// Label pushed to the monitor (`ICU-MON-04`).
    pub device_label: String,
    /// Bed the monitor serves.
    pub bed_id: String,
    /// Last known address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// Provisioning state.
    pub state: DeviceState,
}

/// Whether a provisioned monitor is talking to the station.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    /// A heartbeat arrived within the last three intervals.
    Connected,
    /// Heartbeats stopped.
    Disconnected,
    /// No heartbeat ever arrived.
    Never,
}

/// The status of the monitor's client certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CertificateValidity {
    /// Within its validity period and not revoked.
    Valid,
    /// Valid, but ends within 30 days.
    ExpiringSoon,
    /// Past its end date.
    Expired,
    /// Revoked by the station.
    Revoked,
}

/// The monitor's current client certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificateStatus {
    /// Serial number, hex.
    pub serial: String,
    /// Start of validity.
    #[serde(with = "crate::timestamp")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "crate::timestamp")]
    pub not_after: OffsetDateTime,
    /// Whether it can be used now.
    pub validity: CertificateValidity,
}

/// Counters a monitor reports with its heartbeats.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionCounters {
    /// Heartbeats the station received.
    pub heartbeats: u64,
    /// Bytes the monitor says it sent since it connected.
    pub bytes_sent: u64,
    /// Connection errors the monitor counted.
    pub errors: u64,
}

/// `GET /api/devices/{id}/status` (ARCHITECTURE.md step 6; the seeds' connected-status view).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectedStatus {
    /// The monitor.
    pub device_id: String,
    /// Its label.
    pub device_label: String,
    /// Provisioning state.
    pub state: DeviceState,
    /// Connected, disconnected or never connected.
    pub connection_state: ConnectionState,
    /// The server URL the monitor was configured with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_url: Option<String>,
    /// Its client certificate, once it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificateStatus>,
    /// The last heartbeat.
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_connected: Option<OffsetDateTime>,
    /// The monitor's uptime as of its last heartbeat.
    pub uptime_seconds: u64,
    /// Heartbeat counters.
    pub counters: ConnectionCounters,
    /// Raised when the monitor presented a certificate the station refused:
    /// it believes it is paired and is not. Cleared when it is paired again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<DeviceAlert>,
}

/// Something about a monitor that needs a person's attention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeviceAlert {
    /// What happened and what to do.
    pub message: String,
    /// When it was last seen.
    #[serde(with = "crate::timestamp")]
    pub at: OffsetDateTime,
}

/// Longest reason kept for the audit log (re-provision, de-provision, re-admit).
pub const MAX_REASON_CHARS: usize = 500;

/// Why a reason for the audit log was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Give a reason of 1 to {MAX_REASON_CHARS} characters, on one line, for the audit log.")]
pub struct ReasonError;

/// A reason for the audit log as a person typed it, trimmed: 1 to
/// [`MAX_REASON_CHARS`] characters, no control characters. The station and
/// its clients apply the same rule, so a client refuses what the station
/// would before anything is sent.
pub fn check_reason(reason: &str) -> Result<&str, ReasonError> {
    let reason = reason.trim();
    if reason.is_empty()
        || reason.chars().count() > MAX_REASON_CHARS
        || reason.chars().any(char::is_control)
    {
        return Err(ReasonError);
    }
    Ok(reason)
}

/// `POST /api/devices/{id}/reprovision`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReprovisionRequest {
    /// From `POST /api/auth/step-up`.
    #[schema(value_type = String)]
    pub confirmation_token: Redacted<String>,
    /// Why, for the audit log.
    #[schema(value_type = crate::schema::Reason)]
    pub reason: String,
}

/// `POST /api/devices/{id}/deprovision` (administrators).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeprovisionRequest {
    /// Why, for the audit log.
    #[schema(value_type = crate::schema::Reason)]
    pub reason: String,
}

/// `POST /api/devices/{id}/readmit` (administrators): a de-provisioned
/// monitor may be paired again.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReadmitRequest {
    /// Why, for the audit log.
    #[schema(value_type = crate::schema::Reason)]
    pub reason: String,
}

/// Registry fields the station adds to a monitor's own registration record.
/// Unknown fields are ignored, not refused: the record is what a monitor's
/// firmware exported, and a newer firmware's must still register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct DeviceImport {
    /// What the monitor exported.
    #[serde(flatten)]
    pub record: crate::device::RegistrationRecord,
    /// Label pushed to the monitor; empty for the device ID. Absent: a new
    /// monitor's is its device ID, a registered monitor keeps its own (so
    /// importing the monitors' exported records keeps the labels given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::schema::DeviceLabel>)]
    pub device_label: Option<String>,
    /// Bed it serves. Absent: a new monitor's is empty, a registered
    /// monitor keeps its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::schema::BedId>)]
    pub bed_id: Option<String>,
}

/// Answer to a bulk import: which records went in and which did not, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    /// Device IDs added or updated.
    pub imported: Vec<String>,
    /// Records refused, with their reason.
    pub rejected: Vec<ImportRejection>,
}

/// One refused record of a bulk import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ImportRejection {
    /// Position in the submitted list, from 0.
    pub index: usize,
    /// Its device ID, when it had one.
    pub device_id: Option<String>,
    /// Why it was refused.
    pub error: ApiError,
}

/// `GET /api/provisioning/station-key`: the key monitors trust configurations from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StationKey {
    /// Ed25519 public key, base64url.
    #[schema(value_type = crate::schema::Ed25519Key)]
    pub public_key: String,
}

/// One row of the audit log (`GET /api/audit`, administrators).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// Row id.
    pub id: i64,
    /// When.
    #[serde(with = "crate::timestamp")]
    #[ts(type = "string")]
    pub timestamp: OffsetDateTime,
    /// One of the seeds' event types.
    pub event_type: String,
    /// The monitor.
    pub device_id: String,
    /// Whether the step succeeded.
    pub success: bool,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// SHA-256 of the configuration pushed, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration_hash: Option<String>,
    /// Who acted: a username, `station` for its own steps, `admin-cli`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// The client's address (`ip:port`) for events a request caused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_address: Option<String>,
    /// The account concerned, for account events (whose `deviceId` is
    /// empty); the certificate's serial, for a renewal issued or switched to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The pairing job the step belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
}

/// The audit log's hash chain checked (`GET /api/audit/verify`,
/// `central-station audit verify`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct AuditVerification {
    /// Every row is as written, none is missing and none moved.
    pub intact: bool,
    /// Rows found sound before the first broken link (all of them when intact).
    pub rows_checked: u64,
    /// The last row's hash when intact: copied elsewhere, it pins the whole log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_hash: Option<String>,
    /// Where the chain first breaks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_broken_link: Option<BrokenLink>,
}

/// The first row at which the audit chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct BrokenLink {
    /// The row id (for `missing`, the first id that is gone).
    pub id: i64,
    /// What is wrong.
    pub problem: LinkProblem,
    /// The same, in a sentence.
    pub message: String,
}

/// How a link of the audit chain is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum LinkProblem {
    /// The row's content (or its hash) was changed after it was written.
    Edited,
    /// Rows were deleted.
    Missing,
    /// The row was moved: it chains to a row other than the one before it.
    Reordered,
}

impl LinkProblem {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkProblem::Edited => "edited",
            LinkProblem::Missing => "missing",
            LinkProblem::Reordered => "reordered",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_codes_round_trip_and_match_serde() {
        for reason in FailureReason::ALL {
            assert_eq!(FailureReason::from_code(reason.code()), Some(reason));
            let json = serde_json::to_string(&reason).expect("serialise");
            assert_eq!(json, format!("\"{}\"", reason.code()));
            assert_eq!(FailureReason::parse(reason.code().as_str()), Some(reason));
            assert!(!reason.message().is_empty());
        }
    }

    #[test]
    fn states_round_trip_and_match_serde() {
        for state in [JobState::Pairing, JobState::Failed, JobState::Provisioned] {
            assert_eq!(JobState::parse(state.as_str()), Some(state));
            assert_eq!(
                serde_json::to_string(&state).expect("ser"),
                format!("\"{}\"", state.as_str())
            );
        }
        let s = DeviceState::AwaitingReprovision;
        assert_eq!(
            serde_json::to_string(&s).expect("ser"),
            format!("\"{}\"", s.as_str())
        );
    }

    /// One value of a type that carries secrets, as `{:?}` and JSON print it.
    struct Carrier {
        debug: String,
        secrets: &'static [&'static str],
        json: String,
    }

    fn case<T: std::fmt::Debug + Serialize>(value: T, secrets: &'static [&'static str]) -> Carrier {
        Carrier {
            debug: format!("{value:?}"),
            secrets,
            json: serde_json::to_string(&value).expect("serialise"),
        }
    }

    /// Each type that carries a secret, with a distinct secret in every
    /// secret field.
    fn secret_carriers() -> Vec<Carrier> {
        let at = time::macros::datetime!(2024-11-25 14:30:00 UTC);
        vec![
            case(
                LoginRequest {
                    username: "ana".into(),
                    password: "hunter2".into(),
                },
                &["hunter2"],
            ),
            case(
                RefreshRequest {
                    refresh_token: "refresh-1".into(),
                },
                &["refresh-1"],
            ),
            case(
                Session {
                    access_token: "access-2".into(),
                    access_expires_at: at,
                    refresh_token: "refresh-3".into(),
                    refresh_expires_at: at,
                    account: Account {
                        username: "ana".into(),
                        display_name: "Ana".into(),
                        role: Role::Technician,
                        must_change_password: false,
                    },
                },
                &["access-2", "refresh-3"],
            ),
            case(
                StepUpRequest {
                    password: "hunter4".into(),
                    device_id: "ZM-1".into(),
                    action: StepUpAction::Reprovision,
                },
                &["hunter4"],
            ),
            case(
                StepUpResponse {
                    confirmation_token: "confirm-5".into(),
                    expires_at: at,
                },
                &["confirm-5"],
            ),
            case(
                PairRequest {
                    device_id: "ZM-1".into(),
                    pairing_code: "K7P-M3X-Q9R".into(),
                    pairing_token: Some("pairing-6".into()),
                    ip_address: Some("10.1.50.104".into()),
                },
                &["K7P-M3X-Q9R", "pairing-6"],
            ),
            case(
                ReprovisionRequest {
                    confirmation_token: "confirm-7".into(),
                    reason: "screen replaced".into(),
                },
                &["confirm-7"],
            ),
            case(
                crate::admin::TemporaryPassword {
                    username: "ana".into(),
                    password: "temporary-8".into(),
                },
                &["temporary-8"],
            ),
            case(
                crate::admin::PasswordChange {
                    current_password: "current-9".into(),
                    new_password: "chosen-10".into(),
                },
                &["current-9", "chosen-10"],
            ),
        ]
    }

    /// Fails when a secret field is no longer wrapped in [`Redacted`]: its
    /// value would then show in the derived `Debug`.
    #[test]
    fn secrets_never_show_in_debug() {
        for Carrier { debug, secrets, .. } in secret_carriers() {
            assert!(debug.contains("<redacted>"), "{debug}");
            for secret in secrets {
                assert!(!debug.contains(secret), "{secret} shows in {debug}");
            }
        }
    }

    /// Wrapping the secrets changed no byte on the wire.
    #[test]
    fn secret_carriers_keep_their_wire_format() {
        let json: Vec<String> = secret_carriers().into_iter().map(|c| c.json).collect();
        assert_eq!(
            json,
            [
                r#"{"username":"ana","password":"hunter2"}"#,
                r#"{"refreshToken":"refresh-1"}"#,
                r#"{"accessToken":"access-2","accessExpiresAt":"2024-11-25T14:30:00Z","refreshToken":"refresh-3","refreshExpiresAt":"2024-11-25T14:30:00Z","account":{"username":"ana","displayName":"Ana","role":"technician","mustChangePassword":false}}"#,
                r#"{"password":"hunter4","deviceId":"ZM-1","action":"reprovision"}"#,
                r#"{"confirmationToken":"confirm-5","expiresAt":"2024-11-25T14:30:00Z"}"#,
                r#"{"deviceId":"ZM-1","pairingCode":"K7P-M3X-Q9R","pairingToken":"pairing-6","ipAddress":"10.1.50.104"}"#,
                r#"{"confirmationToken":"confirm-7","reason":"screen replaced"}"#,
                r#"{"username":"ana","password":"temporary-8"}"#,
                r#"{"currentPassword":"current-9","newPassword":"chosen-10"}"#,
            ]
        );
        let typed: PairRequest =
            serde_json::from_str(r#"{"deviceId":"ZM-1","pairingCode":"K7P-M3X-Q9R"}"#)
                .expect("a typed code has no token");
        assert_eq!(typed.pairing_code.expose(), "K7P-M3X-Q9R");
        assert!(typed.pairing_token.is_none());
        let back: Session = serde_json::from_str(&json[2]).expect("round trip");
        assert_eq!(back.access_token.expose(), "access-2");
        assert_eq!(back.refresh_token.expose(), "refresh-3");
    }
}
