//! The administrators' side of the station's API: accounts, the registry's
//! search and bulk import with its dry run, the audit log's filtered pages,
//! pairing reports and the certificates overview.
//!
//! These types cross two boundaries unchanged — the station's HTTP API and
//! the app's IPC (they derive [`TS`] for the UI's bindings) — so a field
//! renamed here fails to compile in the station, the CLI and the app, and
//! fails the UI's type check.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use ts_rs::TS;
use utoipa::{IntoParams, ToSchema};

use crate::Redacted;
use crate::api::{ApiError, AuditEvent, DeviceState, Role};

/// The most rows one page of the registry, the audit log or a report holds.
pub const MAX_PAGE: u32 = 1_000;
/// Rows in a page when the request names no limit.
pub const DEFAULT_PAGE: u32 = 100;
/// Certificates ending within this many days count as expiring.
pub const EXPIRING_WITHIN_DAYS: i64 = 30;
/// The longest period one pairing report covers, in days.
pub const MAX_REPORT_DAYS: i64 = 31;
/// Shortest password an account may choose.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest username.
pub const MAX_USERNAME_CHARS: usize = 64;
/// Longest display name.
pub const MAX_DISPLAY_NAME_CHARS: usize = 100;

/// Whether `text` is a username a new account may take: 3 to 64 of
/// `a-z 0-9 . _ -`, starting with a letter (so it reads the same in any
/// case-folding, and never looks like an option or a path).
pub fn is_username(text: &str) -> bool {
    let mut chars = text.chars();
    (3..=MAX_USERNAME_CHARS).contains(&text.len())
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

/// Whether `text` is a display name a new account may take: 1 to 100
/// characters, no control character.
pub fn is_display_name(text: &str) -> bool {
    crate::device::is_printable(text, 1, MAX_DISPLAY_NAME_CHARS)
}

/// Every event type the station's audit log holds, as stored and as
/// `AuditQuery::event_type` names them.
pub const AUDIT_EVENT_TYPES: &[&str] = &[
    "pairing_requested",
    "monitor_identity_verified",
    "certificate_issued",
    "pairing_code_validated",
    "configuration_received",
    "configuration_applied",
    "connection_tested",
    "provisioning_completed",
    "provisioning_failed",
    "certificate_revoked",
    "reprovisioning_started",
    "deprovisioned",
    "readmitted",
    "command_delivered",
    "device_registered",
    "commit_recovered",
    "certificate_renewal_issued",
    "certificate_switched",
    "monitor_contact_retried",
    "certificate_refused",
    "sign_in",
    "sign_in_failed",
    "account_locked",
    "step_up",
    "sign_out",
    "sessions_ended",
    "account_created",
    "account_disabled",
    "account_enabled",
    "password_reset",
    "account_unlocked",
    "password_changed",
];

// ---------------------------------------------------------------- accounts

/// One account as administrators see it (`GET /api/users`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct AccountRecord {
    /// Account name.
    pub username: String,
    /// Name to show.
    pub display_name: String,
    /// What the account may do.
    pub role: Role,
    /// An administrator disabled it: it cannot sign in.
    pub disabled: bool,
    /// Locked after too many wrong passwords, until this time.
    #[serde(default, with = "crate::timestamp::option")]
    #[ts(type = "string | null")]
    pub locked_until: Option<OffsetDateTime>,
    /// Its password is temporary: it must be changed at the next sign-in.
    pub must_change_password: bool,
    /// Sessions that can still be refreshed.
    pub active_sessions: u32,
    /// The last successful sign-in.
    #[serde(default, with = "crate::timestamp::option")]
    #[ts(type = "string | null")]
    pub last_sign_in: Option<OffsetDateTime>,
    /// When it was created.
    #[serde(with = "crate::timestamp")]
    #[ts(type = "string")]
    pub created_at: OffsetDateTime,
}

/// `POST /api/users`: a new account. The station chooses its first
/// password ([`TemporaryPassword`]), to be changed at the first sign-in, so
/// no administrator ever picks, or knows for long, another person's password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewAccount {
    /// Account name: 3 to 64 of `a-z 0-9 . _ -`, starting with a letter.
    #[schema(value_type = crate::schema::Username)]
    pub username: String,
    /// Name to show: 1 to 100 characters, no control characters.
    #[schema(value_type = crate::schema::DisplayName)]
    pub display_name: String,
    /// What the account may do.
    pub role: Role,
}

/// A password the station chose, shown once to the administrator who asked
/// for it (account created, password reset), to hand to its owner. It must
/// be changed at the next sign-in.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct TemporaryPassword {
    /// The account.
    pub username: String,
    /// The password, never stored in clear and never shown again.
    #[schema(value_type = String, format = Password)]
    #[ts(type = "string")]
    pub password: Redacted<String>,
}

/// `POST /api/auth/password`: the signed-in account changes its own
/// password (required after a temporary one).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PasswordChange {
    /// The password it signed in with.
    #[schema(value_type = String, format = Password)]
    #[ts(type = "string")]
    pub current_password: Redacted<String>,
    /// The new one: at least 12 characters, not the current one.
    #[schema(value_type = String, format = Password, min_length = 12)]
    #[ts(type = "string")]
    pub new_password: Redacted<String>,
}

// ---------------------------------------------------------------- registry

/// Which monitors a registry page holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum RegistryFilter {
    /// Registered, and no pairing of it ever reached PROVISIONED.
    NeverPaired,
    /// Paired (PROVISIONED).
    Provisioned,
    /// Its last pairing failed.
    Failed,
    /// Paired, with a certificate that ends within 30 days (or has ended).
    CertificateExpiring,
    /// De-provisioned by an administrator.
    Deprovisioned,
}

/// `GET /api/devices` query: a search, a filter and a keyset page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeviceQuery {
    /// Case-insensitive text in the device ID, serial, label, bed or address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    /// Only the monitors in this group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(inline)]
    pub filter: Option<RegistryFilter>,
    /// The page after this device ID (the previous page's `nextAfter`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Rows in the page, 1 to 1000 (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(value_type = Option<crate::schema::PageLimit>, inline)]
    pub limit: Option<u32>,
}

/// One monitor in the registry, with what an administrator sorts it by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct RegistryEntry {
    /// Registry identifier.
    pub device_id: String,
    /// Manufacturer's serial.
    pub device_serial: String,
    /// Label pushed to the monitor.
    pub device_label: String,
    /// Bed it serves.
    pub bed_id: String,
    /// Last known address.
    #[serde(default)]
    pub ip_address: Option<String>,
    /// Provisioning state.
    pub state: DeviceState,
    /// Its last pairing failed (and none succeeded since).
    pub last_pairing_failed: bool,
    /// When its current certificate ends, if it has one.
    #[serde(default, with = "crate::timestamp::option")]
    #[ts(type = "string | null")]
    pub certificate_not_after: Option<OffsetDateTime>,
    /// The last heartbeat.
    #[serde(default, with = "crate::timestamp::option")]
    #[ts(type = "string | null")]
    pub last_heartbeat: Option<OffsetDateTime>,
}

/// One page of the registry, in device-ID order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct DevicePage {
    /// The monitors.
    pub devices: Vec<RegistryEntry>,
    /// Monitors matching the search and filter, on every page.
    pub total: u64,
    /// Pass as `after` for the next page; absent on the last one.
    #[serde(default)]
    pub next_after: Option<String>,
}

/// What committing one record of an import would do (the dry run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum ImportOutcome {
    /// Not registered yet: it would be added.
    New,
    /// Registered with the same fields: nothing would change.
    Unchanged,
    /// Registered: some of its fields would change (listed in `changes`).
    Updated,
    /// Refused: see `problem`.
    Conflicting,
}

/// One record of an import's dry run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ImportPreviewRow {
    /// Position in the submitted list, from 0.
    pub index: usize,
    /// Its device ID, when it had one.
    #[serde(default)]
    pub device_id: Option<String>,
    /// What committing it would do.
    pub outcome: ImportOutcome,
    /// For `updated`: the fields that would change (`deviceSerial`,
    /// `identityPublicKey`, `firmwareVersion`, `ipAddress`, `deviceLabel`,
    /// `bedId`).
    #[serde(default)]
    pub changes: Vec<String>,
    /// For `conflicting`: why (`invalid_record`, `duplicate_in_import`,
    /// `identity_conflict`, `serial_conflict`) and what to do — the refusal
    /// the import would report.
    #[serde(default)]
    pub problem: Option<ApiError>,
}

/// `POST /api/devices/import/preview`: what an import would do, row by row,
/// with nothing written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ImportPreview {
    /// One row per submitted record, in order.
    pub rows: Vec<ImportPreviewRow>,
    /// Records that would be added.
    pub new: u32,
    /// Records already registered exactly so.
    pub unchanged: u32,
    /// Records that would update a registered monitor.
    pub updated: u32,
    /// Records that would be refused.
    pub conflicting: u32,
}

// ---------------------------------------------------------------- audit

/// `GET /api/audit` query: filters and a keyset page, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this monitor's rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// Only rows this account (or `station`, `admin-cli`) caused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// Only rows of this event type (`pairing_requested`,
    /// `account_disabled`, …: one of [`AUDIT_EVENT_TYPES`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(value_type = Option<crate::schema::AuditEventType>, inline)]
    pub event_type: Option<String>,
    /// Only rows at or after this time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(value_type = Option<crate::schema::Timestamp>, inline)]
    pub since: Option<String>,
    /// Only rows before this time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(value_type = Option<crate::schema::Timestamp>, inline)]
    pub until: Option<String>,
    /// The page of rows older than this row id (the previous page's `nextBefore`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<i64>,
    /// Rows in the page, 1 to 1000 (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(value_type = Option<crate::schema::PageLimit>, inline)]
    pub limit: Option<u32>,
}

/// One page of the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    /// The rows.
    pub events: Vec<AuditEvent>,
    /// Pass as `before` for the next (older) page; absent on the last one.
    #[serde(default)]
    pub next_before: Option<i64>,
}

// ---------------------------------------------------------------- reports

/// `GET /api/reports/pairings` query: the pairings started in a period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Start of the period (RFC 3339), inclusive.
    #[param(value_type = crate::schema::Timestamp, inline)]
    pub from: String,
    /// End of the period (RFC 3339), exclusive; not before `from`, and at
    /// most 31 days after it.
    #[param(value_type = crate::schema::Timestamp, inline)]
    pub to: String,
    /// Only this technician's pairings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub technician: Option<String>,
}

/// How a pairing ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum PairingOutcome {
    /// The monitor was PROVISIONED.
    Provisioned,
    /// It FAILED: see the failure code.
    Failed,
    /// Still running when the report was made.
    Running,
}

/// One pairing in a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct PairingRecord {
    /// The pairing job.
    pub job_id: String,
    /// The monitor.
    pub device_id: String,
    /// Its label, as the registry has it now.
    pub device_label: String,
    /// Its bed.
    pub bed_id: String,
    /// Who asked for it.
    pub technician: String,
    /// When it was asked for.
    #[serde(with = "crate::timestamp")]
    #[ts(type = "string")]
    pub started_at: OffsetDateTime,
    /// When it ended (absent while running).
    #[serde(default, with = "crate::timestamp::option")]
    #[ts(type = "string | null")]
    pub finished_at: Option<OffsetDateTime>,
    /// How long it took, in milliseconds (absent while running).
    #[serde(default)]
    pub duration_ms: Option<u64>,
    /// How it ended.
    pub outcome: PairingOutcome,
    /// Why it failed (the failure reason's code).
    #[serde(default)]
    pub failure: Option<String>,
    /// Attempts to reach the monitor (1 unless it was retried).
    pub attempts: u32,
}

/// The pairings of a period, oldest first, with its totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct PairingReport {
    /// Start of the period.
    #[serde(with = "crate::timestamp")]
    #[ts(type = "string")]
    pub from: OffsetDateTime,
    /// End of the period.
    #[serde(with = "crate::timestamp")]
    #[ts(type = "string")]
    pub to: OffsetDateTime,
    /// The pairings.
    pub pairings: Vec<PairingRecord>,
    /// How many were PROVISIONED.
    pub provisioned: u32,
    /// How many FAILED.
    pub failed: u32,
    /// Median time to PROVISIONED, in milliseconds.
    #[serde(default)]
    pub median_duration_ms: Option<u64>,
}

// ---------------------------------------------------------------- certificates

/// Where a client certificate stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum CertificateStanding {
    /// The monitor's current certificate, ending within 30 days (or ended).
    Expiring,
    /// Issued by a renewal, over the monitor's mutual-TLS connection.
    Renewed,
    /// Revoked (replaced, re-provisioned, de-provisioned).
    Revoked,
}

/// One certificate in the overview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct CertificateEntry {
    /// Serial number, hex.
    pub serial: String,
    /// The monitor it was issued to.
    pub device_id: String,
    /// Its label.
    pub device_label: String,
    /// Where it stands.
    pub standing: CertificateStanding,
    /// When it was issued.
    #[serde(with = "crate::timestamp")]
    #[ts(type = "string")]
    pub issued_at: OffsetDateTime,
    /// End of validity.
    #[serde(with = "crate::timestamp")]
    #[ts(type = "string")]
    pub not_after: OffsetDateTime,
    /// When it was revoked, and why.
    #[serde(default, with = "crate::timestamp::option")]
    #[ts(type = "string | null")]
    pub revoked_at: Option<OffsetDateTime>,
    /// The revocation's reason.
    #[serde(default)]
    pub revocation_reason: Option<String>,
}

/// `GET /api/certificates`: certificates expiring within 30 days, renewed
/// in the last 30 days, and revoked in the last 30 days, each newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct CertificateOverview {
    /// Current certificates ending within 30 days, soonest first.
    pub expiring: Vec<CertificateEntry>,
    /// Certificates issued by renewal in the last 30 days.
    pub renewed: Vec<CertificateEntry>,
    /// Certificates revoked in the last 30 days.
    pub revoked: Vec<CertificateEntry>,
}

// ---------------------------------------------------------------- import files

/// A line of an import file that could not be read as a record (a CSV row
/// with a missing column, JSON that is not a registration record). It is
/// never sent to the station; the dry run lists it beside the station's rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct UnreadableRow {
    /// The line in the file, from 1 (for JSON: the record's position, from 1).
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

/// An import file read and checked against the registry, nothing written:
/// what the administrator reads before committing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ImportDryRun {
    /// `csv` or `json`, as the file was read.
    pub format: String,
    /// For each record sent to the station, the line it came from, in the
    /// order of `preview.rows` (so `preview.rows[i]` is from `lines[i]`).
    pub lines: Vec<usize>,
    /// The station's answer for the records that could be read.
    pub preview: ImportPreview,
    /// Lines that could not be read as records.
    pub unreadable: Vec<UnreadableRow>,
}
