//! The JSON a Z Monitor shows as its QR code in provisioning mode.
//!
//! Fields are kept as text here because this is what arrives from a camera:
//! the app's validator (`zpair-core`) turns it into typed values and explains
//! each way it can be wrong. Field order is the seeds' and is kept when
//! serialising, so the monitor's QR stays byte-for-byte predictable.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::PairingCode;

/// The largest QR text the app will look at; a monitor's payload is about
/// 230 bytes (QR version 16 at error correction H), anything far larger is
/// not from a Z Monitor.
pub const MAX_PAYLOAD_BYTES: usize = 1024;
/// Random bytes in a `pairingToken` before base64url (22 characters).
pub const PAIRING_TOKEN_BYTES: usize = 16;

/// The provisioning QR payload, as the seeds name its fields.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QrPayload {
    /// The monitor's registry identifier, e.g. `ZM-ICU-04`.
    pub device_id: String,
    /// The manufacturer's serial number.
    pub device_serial: String,
    /// Where the Central Station reaches the monitor.
    pub ip_address: String,
    /// The code shown under the QR, `XXX-XXX-XXX`.
    pub pairing_code: String,
    /// 16 random bytes, base64url, fresh every 30 s.
    pub pairing_token: String,
    /// When the pairing code stops working (RFC 3339, UTC).
    pub expires_at: String,
    /// The monitor's firmware version.
    pub firmware_version: String,
}

impl QrPayload {
    /// Builds the payload a monitor displays.
    pub fn new(
        device_id: &str,
        device_serial: &str,
        ip_address: std::net::IpAddr,
        code: &PairingCode,
        token: &[u8; PAIRING_TOKEN_BYTES],
        expires_at: OffsetDateTime,
        firmware_version: &str,
    ) -> Self {
        Self {
            device_id: device_id.to_owned(),
            device_serial: device_serial.to_owned(),
            ip_address: ip_address.to_string(),
            pairing_code: code.display(),
            pairing_token: crate::b64::encode(token),
            expires_at: crate::timestamp::format(expires_at),
            firmware_version: firmware_version.to_owned(),
        }
    }

    /// The compact JSON that goes into the QR code.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl std::fmt::Debug for QrPayload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QrPayload")
            .field("device_id", &self.device_id)
            .field("device_serial", &self.device_serial)
            .field("ip_address", &self.ip_address)
            .field("pairing_code", &"<redacted>")
            .field("pairing_token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("firmware_version", &self.firmware_version)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    /// Golden vector: the exact text a monitor puts in its QR.
    #[test]
    fn payload_json_is_compact_and_in_seed_order() {
        let code = PairingCode::parse("K7P-M3X-Q9R").expect("valid");
        let payload = QrPayload::new(
            "ZM-ICU-04",
            "SN-2024-001234",
            "10.1.50.104".parse().expect("ip"),
            &code,
            &[7u8; PAIRING_TOKEN_BYTES],
            datetime!(2024-11-25 14:30:00.5 UTC),
            "1.2.3",
        );
        let json = payload.to_json();
        assert_eq!(
            json,
            r#"{"deviceId":"ZM-ICU-04","deviceSerial":"SN-2024-001234","ipAddress":"10.1.50.104","pairingCode":"K7P-M3X-Q9R","pairingToken":"BwcHBwcHBwcHBwcHBwcHBw","expiresAt":"2024-11-25T14:30:00Z","firmwareVersion":"1.2.3"}"#
        );
        assert!(
            json.len() < 240,
            "a monitor QR must stay small: {} bytes",
            json.len()
        );
        let back: QrPayload = serde_json::from_str(&json).expect("round trip");
        assert_eq!(back, payload);
        assert!(!format!("{back:?}").contains("K7P"));
    }
}
