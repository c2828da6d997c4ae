//! Validation of the text read from a monitor's QR code (ARCHITECTURE.md step 2):
//! schema, pairing code, token and expiry, checked before anything is sent,
//! with a message for each way it can be wrong.
//!
//! Three kinds of bad input are told apart because the technician's next move
//! differs: text that is not JSON at all (a different QR code), JSON that is
//! not a Z Monitor payload (an asset tag, a Wi-Fi code), and a Z Monitor
//! payload with one bad field (a monitor problem: regenerate, or call IT).

use std::net::IpAddr;

use serde::Deserialize as _;
use serde_json::Value;
use time::{Duration, OffsetDateTime};
use zpair_proto::qr::{MAX_PAYLOAD_BYTES, PAIRING_TOKEN_BYTES, QrField, RawQrPayload};
use zpair_proto::{PairingCode, timestamp};

use crate::error::{ErrorCode, UserFacing};
use crate::secret::Secret;

/// How far the tablet's clock may be behind or ahead of the monitor's.
pub const CLOCK_SKEW: Duration = Duration::seconds(30);
/// The longest a monitor's code lives (10 min by default, configurable);
/// an expiry further ahead than this means a wrong clock or a forged QR.
pub const MAX_CODE_LIFETIME: Duration = Duration::hours(1);
/// Longest device ID and serial, in characters (the station's limit).
pub const MAX_ID_CHARS: usize = 64;
/// Longest firmware version, in characters (the station's limit).
pub const MAX_FIRMWARE_CHARS: usize = 32;

/// A Z Monitor found in a QR code, every field checked and typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedMonitor {
    /// The monitor's registry identifier.
    pub device_id: String,
    /// The manufacturer's serial number.
    pub device_serial: String,
    /// Where the station reaches the monitor.
    pub ip_address: IpAddr,
    /// The code shown under the QR.
    pub code: PairingCode,
    /// The QR's one-time token.
    pub token: Secret<[u8; PAIRING_TOKEN_BYTES]>,
    /// When the code stops working.
    pub expires_at: OffsetDateTime,
    /// The monitor's firmware version.
    pub firmware_version: String,
}

impl ScannedMonitor {
    /// Whole seconds until the code expires (0 once it has), as the monitor's
    /// clock counts them; shown so the technician knows whether to hurry.
    pub fn seconds_left(&self, now: OffsetDateTime) -> u64 {
        u64::try_from((self.expires_at - now).whole_seconds()).unwrap_or(0)
    }

    /// Whether the code has expired, allowing for [`CLOCK_SKEW`].
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        now > self.expires_at + CLOCK_SKEW
    }
}

/// Why a QR code was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    /// Larger than any Z Monitor payload.
    #[error(
        "This QR code holds {len} bytes, far more than a Z Monitor's pairing code (at most {MAX_PAYLOAD_BYTES}). Scan the QR code on the monitor's provisioning screen."
    )]
    TooLarge {
        /// Bytes read.
        len: usize,
    },
    /// Not JSON: some other kind of QR code.
    #[error(
        "This QR code is not a Z Monitor pairing code. Scan the QR code on the monitor's provisioning screen."
    )]
    NotJson,
    /// JSON, but without a device ID and pairing code.
    #[error(
        "This QR code is not from a Z Monitor in provisioning mode. Scan the QR code on the monitor's provisioning screen."
    )]
    NotZMonitor,
    /// A Z Monitor payload with a bad field.
    #[error(
        "The monitor's QR code has an invalid {field}: {reason}. On the monitor, choose Regenerate QR Code and scan again; if this persists, contact IT support."
    )]
    InvalidField {
        /// The field's JSON name.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The code has expired.
    #[error(
        "This QR code expired at {} with its pairing code. On the monitor, choose Enter Provisioning Mode again, then scan the new code.",
        timestamp::format(*expired_at)
    )]
    Expired {
        /// When it expired.
        expired_at: OffsetDateTime,
    },
}

impl UserFacing for QrError {
    fn code(&self) -> ErrorCode {
        match self {
            QrError::TooLarge { .. } => ErrorCode::QrTooLarge,
            QrError::NotJson => ErrorCode::QrNotJson,
            QrError::NotZMonitor => ErrorCode::QrNotZmonitor,
            QrError::InvalidField { .. } => ErrorCode::QrInvalidField,
            QrError::Expired { .. } => ErrorCode::QrExpired,
        }
    }
}

/// Checks the text of a scanned QR code against the Z Monitor payload and
/// the clock; `now` is the tablet's time.
pub fn validate(text: &str, now: OffsetDateTime) -> Result<ScannedMonitor, QrError> {
    if text.len() > MAX_PAYLOAD_BYTES {
        return Err(QrError::TooLarge { len: text.len() });
    }
    // Parsed as a `Value` first, so that text that is not JSON (`12 34`) is
    // told apart from JSON that is not an object (`[1,2]`); the raw payload
    // is then read from the value, and only an object gives one.
    let value: Value = serde_json::from_str(text).map_err(|_| QrError::NotJson)?;
    let raw = RawQrPayload::deserialize(value).map_err(|_| QrError::NotZMonitor)?;
    if raw.get(QrField::DeviceId).is_none() || raw.get(QrField::PairingCode).is_none() {
        return Err(QrError::NotZMonitor);
    }

    let device_id = text_field(&raw, QrField::DeviceId)?;
    check_printable(QrField::DeviceId, device_id, MAX_ID_CHARS)?;
    let device_serial = text_field(&raw, QrField::DeviceSerial)?;
    check_printable(QrField::DeviceSerial, device_serial, MAX_ID_CHARS)?;
    let firmware_version = text_field(&raw, QrField::FirmwareVersion)?;
    check_printable(
        QrField::FirmwareVersion,
        firmware_version,
        MAX_FIRMWARE_CHARS,
    )?;

    let ip_address = text_field(&raw, QrField::IpAddress)?
        .parse::<IpAddr>()
        .map_err(|_| invalid(QrField::IpAddress, "not an IPv4 or IPv6 address"))?;
    let code = PairingCode::parse(text_field(&raw, QrField::PairingCode)?)
        .map_err(|e| invalid(QrField::PairingCode, &e.to_string()))?;
    let token = text_field(&raw, QrField::PairingToken)?;
    let token = zpair_proto::b64::decode_array::<PAIRING_TOKEN_BYTES>(token).ok_or_else(|| {
        invalid(
            QrField::PairingToken,
            "not 16 bytes of unpadded base64url (22 characters)",
        )
    })?;
    let expires_at = timestamp::parse(text_field(&raw, QrField::ExpiresAt)?)
        .map_err(|_| invalid(QrField::ExpiresAt, "not an RFC 3339 time"))?;

    let scanned = ScannedMonitor {
        device_id: device_id.to_owned(),
        device_serial: device_serial.to_owned(),
        ip_address,
        code,
        token: Secret::new(token),
        expires_at,
        firmware_version: firmware_version.to_owned(),
    };
    if scanned.is_expired(now) {
        return Err(QrError::Expired {
            expired_at: expires_at,
        });
    }
    if expires_at > now + MAX_CODE_LIFETIME + CLOCK_SKEW {
        return Err(invalid(
            QrField::ExpiresAt,
            "more than an hour ahead; the monitor's or this device's clock is wrong",
        ));
    }
    Ok(scanned)
}

/// Checks a device ID as a technician typed it, with the same rule as the QR's.
pub fn check_device_id(device_id: &str) -> Result<(), QrError> {
    check_printable(QrField::DeviceId, device_id, MAX_ID_CHARS)
}

fn invalid(field: QrField, reason: &str) -> QrError {
    QrError::InvalidField {
        field: field.name(),
        reason: reason.to_owned(),
    }
}

fn text_field(raw: &RawQrPayload, field: QrField) -> Result<&str, QrError> {
    match raw.get(field) {
        Some(Value::String(text)) => Ok(text),
        Some(_) => Err(invalid(field, "not text")),
        None => Err(invalid(field, "missing")),
    }
}

fn check_printable(field: QrField, text: &str, max_chars: usize) -> Result<(), QrError> {
    let chars = text.chars().count();
    if chars == 0 {
        return Err(invalid(field, "empty"));
    }
    if chars > max_chars {
        return Err(QrError::InvalidField {
            field: field.name(),
            reason: format!("{chars} characters, more than {max_chars}"),
        });
    }
    if text.chars().any(char::is_control) || text.trim() != text {
        return Err(invalid(
            field,
            "contains control characters or surrounding spaces",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2024-11-25 14:25:00 UTC);

    /// The golden payload of `zpair_proto::qr`, valid until 14:30:00.
    const VALID: &str = r#"{"deviceId":"ZM-ICU-04","deviceSerial":"SN-2024-001234","ipAddress":"10.1.50.104","pairingCode":"K7P-M3X-Q9R","pairingToken":"BwcHBwcHBwcHBwcHBwcHBw","expiresAt":"2024-11-25T14:30:00Z","firmwareVersion":"1.2.3"}"#;

    fn with(field: &str, value: Value) -> String {
        let mut map: Map<String, Value> = serde_json::from_str(VALID).expect("golden");
        map.insert(field.to_owned(), value);
        Value::Object(map).to_string()
    }

    fn without(field: &str) -> String {
        let mut map: Map<String, Value> = serde_json::from_str(VALID).expect("golden");
        map.remove(field);
        Value::Object(map).to_string()
    }

    fn field_error(text: &str) -> &'static str {
        match validate(text, NOW) {
            Err(QrError::InvalidField { field, .. }) => field,
            other => panic!("expected an invalid field, got {other:?}"),
        }
    }

    #[test]
    fn golden_payload_is_accepted_and_typed() {
        let m = validate(VALID, NOW).expect("valid");
        assert_eq!(m.device_id, "ZM-ICU-04");
        assert_eq!(m.device_serial, "SN-2024-001234");
        assert_eq!(m.ip_address, "10.1.50.104".parse::<IpAddr>().expect("ip"));
        assert_eq!(m.code.display(), "K7P-M3X-Q9R");
        assert_eq!(m.token.expose(), &[7u8; 16]);
        assert_eq!(m.expires_at, datetime!(2024-11-25 14:30:00 UTC));
        assert_eq!(m.firmware_version, "1.2.3");
        assert_eq!(m.seconds_left(NOW), 300);
        assert_eq!(m.seconds_left(datetime!(2024-11-25 14:31:00 UTC)), 0);
        let debug = format!("{m:?}");
        assert!(!debug.contains("K7P") && !debug.contains("BwcH"), "{debug}");
    }

    #[test]
    fn payloads_from_the_monitor_crate_validate() {
        let code = PairingCode::parse("ABC-DEF-GHJ").expect("code");
        let payload = zpair_proto::QrPayload::new(
            "ZM-1",
            "SN-1",
            "127.0.0.2".parse().expect("ip"),
            &code,
            &[1u8; 16],
            NOW + Duration::minutes(10),
            "0.1.0",
        );
        let m = validate(&payload.to_json(), NOW).expect("valid");
        assert_eq!(m.code, code);
    }

    #[test]
    fn lower_case_and_undashed_codes_are_normalised() {
        let m = validate(&with("pairingCode", "k7pm3xq9r".into()), NOW).expect("valid");
        assert_eq!(m.code.display(), "K7P-M3X-Q9R");
    }

    #[test]
    fn other_qr_codes_are_told_apart_from_bad_monitor_payloads() {
        for text in ["https://example.org", "WIFI:S:ward;;", "", "{", "12 34"] {
            assert_eq!(validate(text, NOW), Err(QrError::NotJson), "{text}");
        }
        for text in [
            "42",
            "[1,2]",
            r#""text""#,
            r#"{"ssid":"ward"}"#,
            &without("deviceId"),
            &without("pairingCode"),
        ] {
            assert_eq!(validate(text, NOW), Err(QrError::NotZMonitor), "{text}");
        }
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases: [(String, &str); 17] = [
            (with("deviceId", "".into()), "deviceId"),
            (with("deviceId", "A".repeat(65).into()), "deviceId"),
            (with("deviceId", "ZM\u{7}1".into()), "deviceId"),
            (with("deviceId", 4.into()), "deviceId"),
            (without("deviceSerial"), "deviceSerial"),
            (
                with("firmwareVersion", "1".repeat(33).into()),
                "firmwareVersion",
            ),
            (with("ipAddress", "10.1.50".into()), "ipAddress"),
            (with("ipAddress", "monitor.local".into()), "ipAddress"),
            (with("pairingCode", "K7P-M3X-Q90".into()), "pairingCode"),
            (with("pairingCode", "K7P-M3X".into()), "pairingCode"),
            (
                with("pairingToken", "BwcHBwcHBwcHBwcHBwcH".into()),
                "pairingToken",
            ),
            (
                with("pairingToken", "BwcHBwcHBwcHBwcHBwcHBw==".into()),
                "pairingToken",
            ),
            (
                with("pairingToken", "not base64 at all!!!!!".into()),
                "pairingToken",
            ),
            (without("pairingToken"), "pairingToken"),
            (with("expiresAt", "tomorrow".into()), "expiresAt"),
            (with("expiresAt", Value::Null), "expiresAt"),
            (
                with("expiresAt", "2024-11-25T15:55:31Z".into()),
                "expiresAt",
            ),
        ];
        for (text, field) in &cases {
            assert_eq!(field_error(text), *field, "{text}");
        }
    }

    #[test]
    fn expiry_allows_thirty_seconds_of_clock_skew() {
        let expired = with("expiresAt", "2024-11-25T14:24:30Z".into());
        assert!(validate(&expired, NOW).is_ok(), "exactly at the skew limit");
        let expired = with("expiresAt", "2024-11-25T14:24:29Z".into());
        assert_eq!(
            validate(&expired, NOW),
            Err(QrError::Expired {
                expired_at: datetime!(2024-11-25 14:24:29 UTC)
            })
        );
        // Up to an hour plus the skew ahead is a plausible code lifetime.
        let ahead = with("expiresAt", "2024-11-25T15:25:30Z".into());
        assert!(validate(&ahead, NOW).is_ok());
        // Offsets other than Z are read correctly.
        let offset = with("expiresAt", "2024-11-25T15:30:00+01:00".into());
        assert!(validate(&offset, NOW).is_ok());
    }

    #[test]
    fn oversized_text_is_refused_before_parsing() {
        let huge = format!("{{\"deviceId\":\"{}\"}}", "A".repeat(MAX_PAYLOAD_BYTES));
        assert_eq!(
            validate(&huge, NOW),
            Err(QrError::TooLarge { len: huge.len() })
        );
    }

    #[test]
    fn every_error_has_a_stable_code_and_a_next_step() {
        let errors = [
            QrError::TooLarge { len: 5000 },
            QrError::NotJson,
            QrError::NotZMonitor,
            invalid(QrField::IpAddress, "bad"),
            QrError::Expired { expired_at: NOW },
        ];
        let codes: Vec<ErrorCode> = errors.iter().map(UserFacing::code).collect();
        assert_eq!(
            codes,
            [
                ErrorCode::QrTooLarge,
                ErrorCode::QrNotJson,
                ErrorCode::QrNotZmonitor,
                ErrorCode::QrInvalidField,
                ErrorCode::QrExpired
            ]
        );
        for e in &errors {
            assert!(
                e.message().contains("scan") || e.message().contains("Scan"),
                "{e}"
            );
        }
    }

    #[test]
    fn typed_device_ids_follow_the_same_rule() {
        assert!(check_device_id("ZM-ICU-04").is_ok());
        assert!(check_device_id(" ZM-ICU-04").is_err());
        assert!(check_device_id("").is_err());
    }
}
