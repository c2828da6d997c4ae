//! What a registration record must look like before it enters the registry:
//! the rules of `zpair_proto::device` (which the API document states too),
//! with defaults filled in.

use std::net::IpAddr;

use zpair_proto::ErrorCode;
use zpair_proto::api::{ApiError, DeviceImport};
use zpair_proto::device::{is_device_id, is_printable, record_limits};

/// A record that passed validation. What it leaves out (`None`) keeps
/// what the registry has, or takes the default for a new monitor.
#[derive(Debug, Clone)]
pub(crate) struct ValidDevice {
    pub(crate) device_id: String,
    pub(crate) device_serial: String,
    pub(crate) identity_public_key: String,
    pub(crate) firmware_version: String,
    pub(crate) ip_address: Option<IpAddr>,
    /// An empty label given is the device ID.
    pub(crate) device_label: Option<String>,
    pub(crate) bed_id: Option<String>,
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
    if !is_printable(&r.device_serial, 1, record_limits::SERIAL) {
        return Err(invalid(
            "deviceSerial must be 1 to 64 printable characters.".into(),
        ));
    }
    if zpair_proto::crypto::parse_public_key(&r.identity_public_key).is_err() {
        return Err(invalid(
            "identityPublicKey must be the monitor's Ed25519 public key, base64url (as `bedside-monitor` exports it).".into(),
        ));
    }
    if !is_printable(&r.firmware_version, 1, record_limits::FIRMWARE) {
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
    let device_label = import.device_label.as_ref().map(|l| {
        if l.is_empty() {
            r.device_id.clone()
        } else {
            l.clone()
        }
    });
    if device_label
        .as_ref()
        .is_some_and(|l| !is_printable(l, 1, record_limits::LABEL))
    {
        return Err(invalid(
            "deviceLabel must be 1 to 64 printable characters.".into(),
        ));
    }
    let bed_id = import.bed_id.clone();
    if bed_id
        .as_ref()
        .is_some_and(|b| !is_printable(b, 0, record_limits::BED_ID))
    {
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
