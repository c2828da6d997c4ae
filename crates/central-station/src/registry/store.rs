//! The SQL of the `devices` table.

use std::net::IpAddr;

use crate::db::{Connection, OptionalExtension as _, params};
use time::OffsetDateTime;
use zpair_proto::api::{DeviceState, DeviceSummary};

use crate::clock;
use crate::db::{DbError, counter, parse_column};

/// A registry row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeviceRow {
    pub(crate) device_id: String,
    pub(crate) device_serial: String,
    pub(crate) identity_public_key: String,
    pub(crate) firmware_version: String,
    pub(crate) ip_address: Option<String>,
    pub(crate) device_label: String,
    pub(crate) bed_id: String,
    pub(crate) state: DeviceState,
    pub(crate) server_url: Option<String>,
    pub(crate) certificate_serial: Option<String>,
    pub(crate) last_heartbeat: Option<OffsetDateTime>,
    pub(crate) uptime_seconds: u64,
    pub(crate) heartbeats: u64,
    pub(crate) bytes_sent: u64,
    pub(crate) errors: u64,
}

impl DeviceRow {
    /// The API view.
    pub(crate) fn summary(&self) -> DeviceSummary {
        DeviceSummary {
            device_id: self.device_id.clone(),
            device_serial: self.device_serial.clone(),
            device_label: self.device_label.clone(),
            bed_id: self.bed_id.clone(),
            ip_address: self.ip_address.clone(),
            state: self.state,
        }
    }

    /// The last known address, when it parses.
    pub(crate) fn address(&self) -> Option<IpAddr> {
        self.ip_address.as_deref().and_then(|a| a.parse().ok())
    }
}

const COLUMNS: &str = "device_id, device_serial, identity_public_key, firmware_version, ip_address,
    device_label, bed_id, state, server_url, certificate_serial, last_heartbeat_ms,
    uptime_seconds, heartbeats, bytes_sent, errors";

type RawRow = (
    (
        String,
        String,
        String,
        String,
        Option<String>,
        String,
        String,
        String,
    ),
    (
        Option<String>,
        Option<String>,
        Option<i64>,
        i64,
        i64,
        i64,
        i64,
    ),
);

fn read(r: &crate::db::Row) -> Result<RawRow, crate::db::DbError> {
    Ok((
        (
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
        ),
        (
            r.get(8)?,
            r.get(9)?,
            r.get(10)?,
            r.get(11)?,
            r.get(12)?,
            r.get(13)?,
            r.get(14)?,
        ),
    ))
}

fn convert(raw: RawRow) -> Result<DeviceRow, DbError> {
    let (
        (
            device_id,
            device_serial,
            identity_public_key,
            firmware_version,
            ip_address,
            device_label,
            bed_id,
            state,
        ),
        (server_url, certificate_serial, last_heartbeat_ms, uptime, heartbeats, bytes_sent, errors),
    ) = raw;
    Ok(DeviceRow {
        device_id,
        device_serial,
        identity_public_key,
        firmware_version,
        ip_address,
        device_label,
        bed_id,
        state: parse_column(&state, DeviceState::parse, "device state")?,
        server_url,
        certificate_serial,
        last_heartbeat: last_heartbeat_ms.map(clock::from_unix_ms),
        uptime_seconds: counter(uptime),
        heartbeats: counter(heartbeats),
        bytes_sent: counter(bytes_sent),
        errors: counter(errors),
    })
}

/// One device.
pub(crate) fn get(conn: &Connection, device_id: &str) -> Result<Option<DeviceRow>, DbError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM devices WHERE device_id = ?1"),
        [device_id],
        read,
    )
    .optional()?
    .map(convert)
    .transpose()
}

/// A monitor's registry fields as an import would store them, every one
/// decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Registration {
    pub(crate) device_id: String,
    pub(crate) device_serial: String,
    pub(crate) identity_public_key: String,
    pub(crate) firmware_version: String,
    pub(crate) ip_address: Option<String>,
    pub(crate) device_label: String,
    pub(crate) bed_id: String,
}

impl Registration {
    /// The fields of `self` that differ from `device`'s, by their wire names.
    pub(crate) fn changes_from(&self, device: &DeviceRow) -> Vec<&'static str> {
        [
            ("deviceSerial", self.device_serial == device.device_serial),
            (
                "identityPublicKey",
                self.identity_public_key == device.identity_public_key,
            ),
            (
                "firmwareVersion",
                self.firmware_version == device.firmware_version,
            ),
            ("ipAddress", self.ip_address == device.ip_address),
            ("deviceLabel", self.device_label == device.device_label),
            ("bedId", self.bed_id == device.bed_id),
        ]
        .into_iter()
        .filter(|(_, same)| !same)
        .map(|(name, _)| name)
        .collect()
    }
}

/// Adds a monitor, never paired.
pub(crate) fn insert(
    conn: &Connection,
    device: &Registration,
    now: OffsetDateTime,
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO devices (device_id, device_serial, identity_public_key, firmware_version,
                              ip_address, device_label, bed_id, state, registered_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
        params![
            device.device_id,
            device.device_serial,
            device.identity_public_key,
            device.firmware_version,
            device.ip_address,
            device.device_label,
            device.bed_id,
            DeviceState::Unprovisioned.as_str(),
            clock::unix(now),
        ],
    )?;
    Ok(())
}

/// Updates a registered monitor's record.
pub(crate) fn update(
    conn: &Connection,
    device: &Registration,
    now: OffsetDateTime,
) -> Result<(), DbError> {
    conn.execute(
        "UPDATE devices SET device_serial = ?2, identity_public_key = ?3, firmware_version = ?4,
                ip_address = ?5, device_label = ?6, bed_id = ?7, updated_at = ?8
         WHERE device_id = ?1",
        params![
            device.device_id,
            device.device_serial,
            device.identity_public_key,
            device.firmware_version,
            device.ip_address,
            device.device_label,
            device.bed_id,
            clock::unix(now),
        ],
    )?;
    Ok(())
}

/// What one monitor alone may have in the registry.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Unique {
    Serial,
    IdentityKey,
}

/// The registered, not de-provisioned monitor other than `device_id` that
/// has `value` as its `what`, if any.
pub(crate) fn holder(
    conn: &Connection,
    what: Unique,
    value: &str,
    device_id: &str,
) -> Result<Option<String>, DbError> {
    let column = match what {
        Unique::Serial => "device_serial",
        Unique::IdentityKey => "identity_public_key",
    };
    conn.query_row(
        &format!(
            "SELECT device_id FROM devices
                 WHERE {column} = ?1 AND device_id <> ?2 AND state <> ?3 LIMIT 1"
        ),
        params![value, device_id, DeviceState::Deprovisioned.as_str()],
        |r| r.get(0),
    )
    .optional()
}
