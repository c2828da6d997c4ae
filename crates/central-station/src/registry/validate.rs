//! What a registration record must look like before it enters the registry.
//! Device IDs end up in URL paths and certificate common names, so they are
//! kept to a safe alphabet.

use std::net::IpAddr;

use zpair_proto::ErrorCode;
use zpair_proto::api::{ApiError, DeviceImport};

/// A record that passed validation, with defaults filled in.
#[derive(Debug, Clone)]
pub(crate) struct ValidDevice {
    pub(crate) device_id: String,
    pub(crate) device_serial: String,
    pub(crate) identity_public_key: String,
    pub(crate) firmware_version: String,
    pub(crate) ip_address: Option<IpAddr>,
    pub(crate) device_label: String,
    pub(crate) bed_id: String,
}

/// Path segments under `/api/devices/` that are routes, not device IDs.
const RESERVED_IDS: [&str; 2] = ["import", "heartbeat"];

/// Whether `id` may be a device ID: 1–64 letters, digits, `.`, `_`, `-`,
/// starting with a letter or digit.
pub(crate) fn is_device_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && !RESERVED_IDS.contains(&id.to_ascii_lowercase().as_str())
}

fn is_text(text: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&text.chars().count()) && !text.chars().any(char::is_control)
}

fn invalid(message: String) -> ApiError {
    ApiError {
        code: ErrorCode::InvalidRecord,
        message,
    }
}

/// Checks one import record.
pub(crate) fn device(import: &DeviceImport) -> Result<ValidDevice, ApiError> {
    let r = &import.record;
    if !is_device_id(&r.device_id) {
        return Err(invalid(
            "deviceId must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit.".into(),
        ));
    }
    if !is_text(&r.device_serial, 1, 64) {
        return Err(invalid(
            "deviceSerial must be 1 to 64 printable characters.".into(),
        ));
    }
    if zpair_proto::crypto::parse_public_key(&r.identity_public_key).is_err() {
        return Err(invalid(
            "identityPublicKey must be the monitor's Ed25519 public key, base64url (as `bedside-monitor` exports it).".into(),
        ));
    }
    if !is_text(&r.firmware_version, 1, 32) {
        return Err(invalid(
            "firmwareVersion must be 1 to 32 printable characters.".into(),
        ));
    }
    let ip_address = match r.ip_address.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            text.parse::<IpAddr>()
                .map_err(|_| invalid("ipAddress must be an IPv4 or IPv6 address.".into()))?,
        ),
    };
    let device_label = import
        .device_label
        .clone()
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| r.device_id.clone());
    if !is_text(&device_label, 1, 64) {
        return Err(invalid(
            "deviceLabel must be 1 to 64 printable characters.".into(),
        ));
    }
    let bed_id = import.bed_id.clone().unwrap_or_default();
    if !is_text(&bed_id, 0, 64) {
        return Err(invalid(
            "bedId must be at most 64 printable characters.".into(),
        ));
    }
    Ok(ValidDevice {
        device_id: r.device_id.clone(),
        device_serial: r.device_serial.clone(),
        identity_public_key: r.identity_public_key.clone(),
        firmware_version: r.firmware_version.clone(),
        ip_address,
        device_label,
        bed_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_ids_are_safe_path_segments() {
        for good in ["ZM-ICU-04", "zm.1", "A", "ZM_2"] {
            assert!(is_device_id(good), "{good}");
        }
        for bad in [
            "",
            "-ZM",
            "ZM/1",
            "ZM 1",
            "import",
            "Heartbeat",
            &"Z".repeat(65),
            "ZМ",
        ] {
            assert!(!is_device_id(bad), "{bad}");
        }
    }
}
