//! The one vocabulary of errors: every code the Central Station, the monitor,
//! the app, its camera and the CLI report, with the HTTP status the station
//! answers it with, what the technician should do next after a scanned and a
//! typed pairing, and the message a person reads when nothing more specific
//! is known.
//!
//! A code is added here once. The station's answers, the monitor's
//! refusals, the app's errors and the CLI's exit codes match on the enum, and
//! the app's bindings export it to TypeScript, so the UI's table of titles is
//! a `Record<ErrorCode, string>` that stops compiling when a code is added
//! without a title.

use serde::{Deserialize, Serialize};

/// What the technician should do after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum NextAction {
    /// Try the same request again (network, station restart).
    Retry,
    /// Type the code again (as shown on the monitor now).
    ReenterCode,
    /// Scan the monitor's QR code again.
    Rescan,
    /// Something is misconfigured or not allowed: contact IT support.
    CallIt,
    /// Sign in again.
    SignIn,
    /// Re-provision the monitor (password, reason, device ID), then pair it
    /// with the new code it shows.
    Reprovision,
}

impl NextAction {
    /// The wire spelling (`reenter_code`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            NextAction::Retry => "retry",
            NextAction::ReenterCode => "reenter_code",
            NextAction::Rescan => "rescan",
            NextAction::CallIt => "call_it",
            NextAction::SignIn => "sign_in",
            NextAction::Reprovision => "reprovision",
        }
    }
}

/// How the monitor was identified, which decides between re-scanning and
/// re-typing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entry {
    /// From the QR code.
    Scanned,
    /// Typed device ID and code.
    Typed,
}

/// What to do next after a scanned and after a typed pairing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Advice {
    scanned: NextAction,
    typed: NextAction,
}

const fn both(action: NextAction) -> Option<Advice> {
    Some(Advice {
        scanned: action,
        typed: action,
    })
}

/// Re-scan a scanned monitor; re-type the code of a typed one.
const RESCAN_OR_RETYPE: Option<Advice> = Some(Advice {
    scanned: NextAction::Rescan,
    typed: NextAction::ReenterCode,
});

const RETRY: Option<Advice> = both(NextAction::Retry);
const RESCAN: Option<Advice> = both(NextAction::Rescan);
const CALL_IT: Option<Advice> = both(NextAction::CallIt);
const SIGN_IN: Option<Advice> = both(NextAction::SignIn);
const NONE: Option<Advice> = None;

/// Declares the enum and its table from one list, so a code cannot be
/// added without its status, advice and message.
macro_rules! catalogue {
    ($(
        $(#[doc = $doc:literal])+
        $variant:ident = $code:literal, $status:expr, $advice:expr,
            $message:literal;
    )+) => {
        /// Every stable error code, spelled on the wire in snake_case.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ts_rs::TS, utoipa::ToSchema)]
        // The same spelling as each variant's `rename`: utoipa reads this one
        // (it does not see a rename written by a macro).
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $(
                $(#[doc = $doc])+
                #[serde(rename = $code)]
                $variant,
            )+
            /// A code this build does not know (a newer station's): the
            /// message that came with it says the rest.
            #[serde(rename = "unrecognised")]
            Unrecognised,
        }

        impl ErrorCode {
            /// Every code this build knows, in catalogue order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];

            /// The wire spelling.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)+
                    ErrorCode::Unrecognised => "unrecognised",
                }
            }

            /// The HTTP status the Central Station answers this code with;
            /// `None` for codes only the app, its camera or the CLI report.
            pub const fn http_status(self) -> Option<u16> {
                match self {
                    $(ErrorCode::$variant => $status,)+
                    ErrorCode::Unrecognised => None,
                }
            }

            const fn advice(self) -> Option<Advice> {
                match self {
                    $(ErrorCode::$variant => $advice,)+
                    ErrorCode::Unrecognised => None,
                }
            }

            /// What happened and what to do next, when nothing more specific
            /// is known (errors that carry details say them in their own
            /// message).
            pub const fn message(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $message,)+
                    ErrorCode::Unrecognised => {
                        "Something went wrong that this version of ZPair does not know. Retry; if it keeps happening, contact IT support."
                    }
                }
            }
        }
    };
}

catalogue! {
    // Signing in and sessions.
    /// A missing or expired bearer token.
    Unauthorized = "unauthorized", Some(401), SIGN_IN,
        "Sign in to continue.";
    /// Wrong user name or password.
    InvalidCredentials = "invalid_credentials", Some(401), NONE,
        "The username or password is wrong. Check them and try again.";
    /// Too many failed sign-ins for the account.
    AccountLocked = "account_locked", Some(423), NONE,
        "Too many failed sign-ins: this account is locked for 15 minutes. Try again later or ask an administrator.";
    /// The right password for an account an administrator disabled.
    AccountDisabled = "account_disabled", Some(403), NONE,
        "This account is disabled. Ask an administrator to enable it.";
    /// No account has this username (administrator endpoints).
    UnknownUser = "unknown_user", Some(404), NONE,
        "There is no account with this username. Check the spelling.";
    /// The account's password was set by an administrator (a new account,
    /// a reset): it must be changed before anything else.
    PasswordChangeRequired = "password_change_required", Some(403), NONE,
        "Your password was set by an administrator and must be changed before you continue. Choose a new password.";
    /// A new account named like an existing one.
    UsernameTaken = "username_taken", Some(409), NONE,
        "An account with this username already exists. Choose another username.";
    /// Disabling the last enabled administrator account.
    LastAdministrator = "last_administrator", Some(409), NONE,
        "This is the last enabled administrator account: without it nobody could manage accounts. Enable or create another administrator first.";
    /// The refresh token is spent, revoked or expired.
    SessionExpired = "session_expired", Some(401), SIGN_IN,
        "Your session has ended. Sign in again.";
    /// No session was ever started (or it was signed out).
    NotSignedIn = "not_signed_in", None, SIGN_IN,
        "You are not signed in. Sign in, then try again.";
    /// The app signed the technician out after a period without use.
    IdleSignOut = "idle_sign_out", None, SIGN_IN,
        "You were signed out after a period without activity. Sign in again.";
    /// The account's role may not do this.
    ForbiddenRole = "forbidden_role", Some(403), CALL_IT,
        "Your account's role cannot do this.";
    /// Re-provisioning needs a fresh confirmation token.
    ConfirmationRequired = "confirmation_required", Some(403), NONE,
        "Re-provisioning needs a fresh confirmation: re-enter your password, then confirm again.";
    /// Too many requests (pair requests, or failed sign-ins from one client).
    RateLimited = "rate_limited", Some(429), RETRY,
        "Too many pairing requests. Wait a minute, then try again.";

    // Requests the station cannot take.
    /// A malformed body, query or path.
    InvalidRequest = "invalid_request", Some(400), NONE,
        "The request is not what this endpoint expects. See /api/openapi.json.";
    /// The body is larger than the route takes.
    PayloadTooLarge = "payload_too_large", Some(413), NONE,
        "The request body is larger than this endpoint takes. Send less.";
    /// No such route.
    NotFound = "not_found", Some(404), NONE,
        "There is no such endpoint. See /api/openapi.json.";
    /// The route exists, the method does not.
    MethodNotAllowed = "method_not_allowed", Some(405), NONE,
        "This endpoint does not take this method. See /api/openapi.json.";
    /// The user holds as many live event streams as allowed.
    TooManyStreams = "too_many_streams", Some(429), NONE,
        "You have too many live status views open. Close one, then try again.";
    /// The station is at its connection cap.
    StationBusy = "station_busy", Some(503), RETRY,
        "The Central Station is busy. Try again in a few seconds.";
    /// A monitor endpoint reached without a valid client certificate.
    ClientCertificateRequired = "client_certificate_required", Some(401), NONE,
        "This endpoint is for monitors: connect with the client certificate the Central Station issued.";
    /// Something on the station's side broke.
    InternalError = "internal_error", Some(500), RETRY,
        "The Central Station hit an internal error. Try again; if it persists, contact IT support.";

    // The registry.
    /// The monitor is not in the station's registry.
    UnknownDevice = "unknown_device", Some(404), CALL_IT,
        "This monitor is not in the Central Station's registry. Check the device ID, or ask an administrator to register it.";
    /// No such pairing job.
    UnknownJob = "unknown_job", Some(404), NONE,
        "There is no pairing job with this ID.";
    /// An import record the registry cannot take.
    InvalidRecord = "invalid_record", None, NONE,
        "This record is not a valid monitor record. Correct it and import it again.";
    /// A device ID that appears twice in one import.
    DuplicateInImport = "duplicate_in_import", None, NONE,
        "This device ID appears earlier in the same import; only the first record was used.";
    /// A registered monitor imported with another identity key, or a key
    /// another registered monitor has.
    IdentityConflict = "identity_conflict", Some(409), NONE,
        "This monitor is registered under a different identity key. De-provision it before registering a replacement.";
    /// An import record whose serial another registered monitor has.
    SerialConflict = "serial_conflict", Some(409), NONE,
        "Another monitor in the registry has this serial. Check the record; if the monitor was replaced or renamed, de-provision the old entry first.";
    /// Re-provisioning a monitor that is not paired.
    DeviceNotProvisioned = "device_not_provisioned", Some(409), NONE,
        "This monitor is not paired, so there is nothing to re-provision. Pair it instead (a de-provisioned one needs an administrator to re-admit it first).";
    /// Re-admitting a monitor that is not de-provisioned.
    DeviceNotDeprovisioned = "device_not_deprovisioned", Some(409), NONE,
        "This monitor is not de-provisioned, so there is nothing to re-admit.";

    // The pairing gate.
    /// The pairing code is not `XXX-XXX-XXX`.
    InvalidCode = "invalid_code", Some(400), RESCAN_OR_RETYPE,
        "This is not a pairing code: a pairing code is 9 characters, XXX-XXX-XXX. Check the code on the monitor's screen.";
    /// The QR's token was already used.
    TokenReplayed = "token_replayed", Some(409), RESCAN,
        "This QR code was already used. Scan the QR code the monitor shows now.";
    /// A pairing job for the monitor is still running.
    PairingInProgress = "pairing_in_progress", Some(409), RETRY,
        "This monitor is already being paired. Wait for that pairing to finish.";
    /// The monitor is paired (or its re-provisioning expired): re-provision
    /// it, which authorises one pairing.
    ReprovisionRequired = "reprovision_required", Some(409), both(NextAction::Reprovision),
        "This monitor is already paired (or its re-provisioning expired). To pair it again, re-provision it first: your password, a reason and its device ID. Then pair it with the new code it shows.";
    /// The monitor was de-provisioned: an administrator must re-admit it
    /// (nothing to do at the bedside).
    DeviceDeprovisioned = "device_deprovisioned", Some(409), CALL_IT,
        "This monitor was de-provisioned by an administrator and cannot be paired. Ask an administrator to re-admit it, then pair it again.";
    /// The monitor answered a command with an error of its own.
    MonitorRefused = "monitor_refused", Some(502), CALL_IT,
        "The monitor refused the command. Nothing was changed. Contact IT support.";

    // Why a pairing job failed (the seeds' error table; `FailureReason`).
    /// The code does not match the monitor's current code.
    CodeMismatch = "code_mismatch", Some(502), RESCAN_OR_RETYPE,
        "The pairing code does not match the monitor's. Re-scan the QR code or re-enter the code shown on the monitor.";
    /// The code (or the QR) has expired.
    /// Once expired, the monitor has left provisioning mode (Regenerate QR
    /// Code refuses then): only entering it again gives a working code.
    CodeExpired = "code_expired", Some(502), RESCAN_OR_RETYPE,
        "The pairing code has expired and the monitor left provisioning mode. On the monitor, choose Enter Provisioning Mode again, then scan the new code (or type it).";
    /// The QR's token is not one the monitor issued for its current code.
    TokenStale = "token_stale", Some(502), RESCAN,
        "This QR code is no longer current. Scan the QR code the monitor shows now.";
    /// Too many wrong codes: the monitor closed provisioning mode.
    ProvisioningClosed = "provisioning_closed", Some(502), RESCAN_OR_RETYPE,
        "Too many wrong codes: the monitor left provisioning mode. Enter provisioning mode on the monitor again, then scan its new code.";
    /// The monitor is not in provisioning mode.
    NotInProvisioningMode = "not_in_provisioning_mode", Some(502), RESCAN_OR_RETYPE,
        "The monitor is not in provisioning mode. Choose Enter Provisioning Mode on the monitor, then scan its code.";
    /// A signature did not verify: the monitor's identity, or the configuration.
    SignatureInvalid = "signature_invalid", Some(502), CALL_IT,
        "A signature did not verify: the monitor or the configuration could not be authenticated. Nothing was changed. Contact IT support.";
    /// The configuration reached the monitor after its expiry: signed
    /// correctly, but too late (a slow network, or the station's clock).
    ConfigExpired = "config_expired", Some(502), RETRY,
        "The configuration expired before it reached the monitor, so the monitor kept its previous one. Nothing was changed. Retry; if it keeps happening, ask IT to check the Central Station's clock and the network to the monitor.";
    /// A certificate or CSR was malformed, or did not chain.
    CertificateInvalid = "certificate_invalid", Some(502), CALL_IT,
        "A certificate was invalid or malformed. Nothing was changed. Contact IT support.";
    /// The station could not reach the monitor.
    MonitorUnreachable = "monitor_unreachable", Some(502), RETRY,
        "The Central Station could not reach the monitor. Check that the monitor is on the ward network, then retry.";
    /// The monitor could not connect with its new configuration; it kept its old one.
    ConnectionTestFailed = "connection_test_failed", Some(502), RETRY,
        "The monitor could not connect to the Central Station with its new configuration and kept its previous one. Check the network, then retry.";
    /// The station restarted while the job ran.
    Interrupted = "interrupted", Some(502), RETRY,
        "The Central Station restarted during pairing. Retry; the monitor is unchanged.";
    /// The monitor's proof of commit never reached the station within the
    /// fail-safe window: it rolled back.
    CommitUnconfirmed = "commit_unconfirmed", Some(502), RETRY,
        "The monitor did not confirm its new configuration in time, so it went back to its previous one. Check the network between the monitor and the Central Station, then retry.";

    // The app's connection to the station.
    /// The station could not be reached (connection refused, timeout, DNS).
    StationUnreachable = "station_unreachable", None, RETRY,
        "Cannot reach the Central Station. Check the network connection and the station address, then retry.";
    /// The station's TLS certificate is not the one that was trusted.
    StationUntrusted = "station_untrusted", None, CALL_IT,
        "The Central Station's certificate is not the one you trusted. If the station's certificate was changed on purpose, set up trust again; otherwise contact IT support.";
    /// The station answered with an error that carried no error body.
    StationError = "station_error", None, NONE,
        "The Central Station answered with an error and no explanation. Retry; if it keeps happening, contact IT support.";
    /// The station's answer could not be understood.
    StationResponseInvalid = "station_response_invalid", None, NONE,
        "The Central Station's answer could not be read. Check that the address is the Central Station's; if it is, contact IT support.";
    /// The live status stream ended before the job did, twice.
    StatusStreamLost = "status_stream_lost", None, RETRY,
        "The live status from the Central Station was lost. The pairing may still be running: check the monitor's status, then retry if needed.";
    /// The station address is not an `https://` URL.
    InvalidStationUrl = "invalid_station_url", None, NONE,
        "The Central Station address is not usable. Enter it as https://host:port, as IT gave it to you.";
    /// The CA file or the fingerprint given to trust is unusable.
    InvalidTrustAnchor = "invalid_trust_anchor", None, NONE,
        "The station trust settings are not usable. Check the CA file or fingerprint IT gave you, then set up trust again.";
    /// No station is set up yet.
    StationNotSetUp = "station_not_set_up", None, NONE,
        "No Central Station is set up yet. Open Settings and set up the station IT gave you.";

    // The app's own storage.
    /// The operating system's secret store failed.
    SecretStoreFailed = "secret_store_failed", None, NONE,
        "The system keyring failed to keep the sign-in. Sign in again; if it keeps failing, contact IT support.";
    /// No usable secret store on this machine.
    SecretStoreUnavailable = "secret_store_unavailable", None, NONE,
        "No usable secret store is available: sign-in tokens are only kept in the system keyring.";
    /// The station settings could not be saved.
    SettingsUnavailable = "settings_unavailable", None, NONE,
        "The station settings could not be saved. Check the disk has space, then set up the station again.";
    /// Something inside the app itself broke (a bug, or its UI opened
    /// outside the app).
    AppInternal = "app_internal", None, NONE,
        "Something went wrong inside ZPair. Restart the app; if it happens again, contact IT.";
    /// The local pairing history could not be read or written.
    HistoryUnavailable = "history_unavailable", None, NONE,
        "The local history could not be read or written. Check the disk has space, then try again.";
    /// An exported file (audit CSV, pairing report) could not be written.
    ExportFailed = "export_failed", None, NONE,
        "The file could not be written to the export folder. Check the folder exists, is writable and the disk has space, then export again.";

    // What the technician typed or chose.
    /// The device ID typed is not a device ID.
    InvalidDeviceId = "invalid_device_id", None, RESCAN_OR_RETYPE,
        "This is not a device ID. Type it exactly as the monitor shows it.";
    /// A reason for the audit log that the station would refuse.
    InvalidReason = "invalid_reason", None, NONE,
        "Give a reason for the audit log.";
    /// The device ID typed to confirm is not the monitor's.
    ConfirmationMismatch = "confirmation_mismatch", None, NONE,
        "The device ID you typed does not match this monitor. Type it exactly as shown.";
    /// No pairing with this ID in the app's list.
    UnknownPairing = "unknown_pairing", None, NONE,
        "This pairing is no longer listed. Start a new pairing from the monitor's code.";
    /// The pairing already finished: the monitor is paired.
    AlreadyProvisioned = "already_provisioned", None, NONE,
        "This monitor is already paired.";

    // QR codes and scanning.
    /// Larger than any Z Monitor payload.
    QrTooLarge = "qr_too_large", None, RESCAN,
        "This QR code holds far more than a Z Monitor's pairing code. Scan the QR code on the monitor's provisioning screen.";
    /// Not JSON: some other kind of QR code.
    QrNotJson = "qr_not_json", None, RESCAN,
        "This QR code is not a Z Monitor pairing code. Scan the QR code on the monitor's provisioning screen.";
    /// JSON, but without a device ID and pairing code.
    QrNotZmonitor = "qr_not_zmonitor", None, RESCAN,
        "This QR code is not from a Z Monitor in provisioning mode. Scan the QR code on the monitor's provisioning screen.";
    /// A Z Monitor payload with a bad field.
    QrInvalidField = "qr_invalid_field", None, RESCAN,
        "The monitor's QR code has an invalid field. On the monitor, choose Regenerate QR Code and scan again; if this persists, contact IT support.";
    /// The QR's code has expired.
    QrExpired = "qr_expired", None, RESCAN,
        "This QR code expired with its pairing code. On the monitor, choose Enter Provisioning Mode again, then scan the new code.";
    /// A QR already sent for pairing.
    QrAlreadySent = "qr_already_sent", None, NONE,
        "This QR code was already sent for pairing. Follow that pairing in the list; to pair again, scan the new QR code the monitor shows.";
    /// A scan ID that is not (or no longer) a found monitor's.
    ScanUnknown = "scan_unknown", None, NONE,
        "This monitor is no longer in the found list. Point the camera at its QR code again.";
    /// A camera frame that did not arrive in the form the scanner reads.
    FrameInvalid = "frame_invalid", None, NONE,
        "The camera frame arrived in the wrong form. Close the Scan screen and open it again.";
    /// An image file that could not be drawn.
    ImageUnreadable = "image_unreadable", None, NONE,
        "The image could not be read. Try another image.";
    /// No QR code in the image.
    NoQrInImage = "no_qr_in_image", None, NONE,
        "No QR code was found in the image. Try a sharper image of the monitor's QR code, or type the code.";

    // The camera.
    /// No camera is connected.
    CameraNone = "camera_none", None, NONE,
        "No camera was found. Connect a camera, or type the pairing code shown under the monitor's QR code.";
    /// The camera asked for is not connected.
    CameraNotFound = "camera_not_found", None, NONE,
        "That camera is no longer connected. Choose another one from the list.";
    /// The system refused the camera to this app.
    CameraDenied = "camera_denied", None, NONE,
        "ZPair is not allowed to use the camera. Allow it in the system's privacy settings, or type the code.";
    /// Another app holds the camera.
    CameraBusy = "camera_busy", None, NONE,
        "The camera is in use by another app. Close that app, then try again.";
    /// The camera was unplugged while scanning.
    CameraDisconnected = "camera_disconnected", None, NONE,
        "The camera was disconnected. Reconnect it, then open the Scan screen again.";
    /// The camera failed or stopped.
    CameraFailed = "camera_failed", None, NONE,
        "The camera could not be opened. Open the Scan screen again.";
    /// The image, folder or video given as a virtual camera cannot be played.
    CameraFile = "camera_file", None, NONE,
        "The file given as a camera cannot be played. Check the path given to --camera file:.";
    /// This device's web view offers no camera.
    CameraUnsupported = "camera_unsupported", None, NONE,
        "This device offers no camera to ZPair. Type the pairing code shown under the monitor's QR code.";

    // The command line.
    /// A file or answer the CLI could not use.
    InvalidInput = "invalid_input", None, NONE,
        "The input could not be used. Check the command's arguments and files.";
    /// The technician did not confirm.
    NotConfirmed = "not_confirmed", None, NONE,
        "Nothing was done: the action was not confirmed.";
    /// Some monitors of a batch were not paired.
    BatchIncomplete = "batch_incomplete", None, NONE,
        "Some monitors were not paired; see each one's reason.";
}

impl ErrorCode {
    /// What the technician should do next after this code, for a monitor
    /// identified by scanning or by typing; `None` when the message is all
    /// there is to say.
    pub const fn next_action(self, entry: Entry) -> Option<NextAction> {
        match (self.advice(), entry) {
            (Some(advice), Entry::Scanned) => Some(advice.scanned),
            (Some(advice), Entry::Typed) => Some(advice.typed),
            (None, _) => None,
        }
    }

    /// Reads a wire spelling back (`None` for one this build does not know).
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|known| known.as_str() == code)
    }
}

/// Reads any string: one this build does not know becomes
/// [`ErrorCode::Unrecognised`] rather than failing the whole answer, so a
/// newer station's refusal still reaches the technician with its message.
impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(Self::parse(&code).unwrap_or(ErrorCode::Unrecognised))
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_spelled_once_in_snake_case_and_round_trips_through_serde() {
        let mut seen = std::collections::HashSet::new();
        for &code in ErrorCode::ALL {
            let spelling = code.as_str();
            assert!(seen.insert(spelling), "{spelling} twice");
            assert!(
                spelling.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{spelling}"
            );
            let json = serde_json::to_string(&code).expect("json");
            assert_eq!(json, format!("\"{spelling}\""));
            assert_eq!(
                serde_json::from_str::<ErrorCode>(&json).expect("parse"),
                code
            );
            assert_eq!(ErrorCode::parse(spelling), Some(code));
            assert!(!code.message().is_empty(), "{spelling} has no message");
        }
    }

    #[test]
    fn each_spelling_is_its_variants_name_in_snake_case() {
        // What the API document lists (from `rename_all`) is what is sent.
        for &code in ErrorCode::ALL.iter().chain([&ErrorCode::Unrecognised]) {
            let mut snake = String::new();
            for (i, c) in format!("{code:?}").chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    snake.push('_');
                }
                snake.push(c.to_ascii_lowercase());
            }
            assert_eq!(snake, code.as_str());
        }
    }

    #[test]
    fn a_code_from_a_newer_peer_is_read_as_unrecognised() {
        let code: ErrorCode = serde_json::from_str("\"added_next_year\"").expect("parse");
        assert_eq!(code, ErrorCode::Unrecognised);
        assert_eq!(ErrorCode::parse("added_next_year"), None);
    }

    #[test]
    fn next_actions_depend_on_how_the_monitor_was_identified() {
        let cases = [
            (
                ErrorCode::CodeMismatch,
                Some(NextAction::Rescan),
                Some(NextAction::ReenterCode),
            ),
            (
                ErrorCode::TokenStale,
                Some(NextAction::Rescan),
                Some(NextAction::Rescan),
            ),
            (
                ErrorCode::MonitorUnreachable,
                Some(NextAction::Retry),
                Some(NextAction::Retry),
            ),
            (
                ErrorCode::SignatureInvalid,
                Some(NextAction::CallIt),
                Some(NextAction::CallIt),
            ),
            (
                ErrorCode::SessionExpired,
                Some(NextAction::SignIn),
                Some(NextAction::SignIn),
            ),
            (
                ErrorCode::ReprovisionRequired,
                Some(NextAction::Reprovision),
                Some(NextAction::Reprovision),
            ),
            (
                ErrorCode::DeviceDeprovisioned,
                Some(NextAction::CallIt),
                Some(NextAction::CallIt),
            ),
            (ErrorCode::InvalidCredentials, None, None),
        ];
        for (code, scanned, typed) in cases {
            assert_eq!(code.next_action(Entry::Scanned), scanned, "{code}");
            assert_eq!(code.next_action(Entry::Typed), typed, "{code}");
        }
        assert_eq!(
            serde_json::to_string(&NextAction::ReenterCode).expect("json"),
            format!("\"{}\"", NextAction::ReenterCode.as_str())
        );
    }
}
