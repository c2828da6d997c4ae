//! Checks of request fields that serde's types cannot make, shared by the
//! handlers that take the field.

use super::HttpError;

/// A device ID named in a request body, held to the rule the registry keeps
/// its IDs to (and the API document states): no other text can name a
/// monitor, so it is refused before any work, rate count or audit row.
pub(crate) fn checked_device_id(id: &str) -> Result<&str, HttpError> {
    if zpair_proto::device::is_device_id(id) {
        return Ok(id);
    }
    Err(HttpError::InvalidRequest(
        "deviceId is not a device ID: 1 to 64 letters, digits, '.', '_' or '-', as the monitor's screen shows it.".into(),
    ))
}
