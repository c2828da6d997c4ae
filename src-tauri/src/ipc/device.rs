use serde::{Deserialize, Serialize};
use ts_rs::TS;
use zpair_proto::api::{self, DeviceState};

use super::timestamp;

// A monitor in the station's registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeviceSummary {
    pub device_id: String,
    pub device_serial: String,
    pub device_label: String,
    pub bed_id: String,
    pub ip_address: Option<String>,
    pub state: DeviceState,
}

// Whether a provisioned monitor is talking to the station.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    Connected,
    Disconnected,
    Never,
}

// Whether the monitor's client certificate can be used now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CertificateValidity {
    Valid,
    ExpiringSoon,
    Expired,
    Revoked,
}

// The monitor's current client certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CertificateStatus {
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    pub validity: CertificateValidity,
}

// Counters the monitor reports with its heartbeats (JSON numbers: the UI
// reads them as `number`, see `bindings`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionCounters {
    pub heartbeats: u64,
    pub bytes_sent: u64,
    pub errors: u64,
}

// The connected-status view of one monitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ConnectedStatus {
    pub device_id: String,
    pub device_label: String,
    pub state: DeviceState,
    pub connection_state: ConnectionState,
    pub server_url: Option<String>,
    pub certificate: Option<CertificateStatus>,
    pub last_connected: Option<String>,
    pub uptime_seconds: u64,
    pub counters: ConnectionCounters,
    pub alert: Option<DeviceAlert>,
}

// The station's alert on a monitor: it presented a certificate the station
// refused, so it believes it is paired and is not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeviceAlert {
    pub message: String,
    pub at: String,
}

impl From<api::DeviceSummary> for DeviceSummary {
    fn from(device: api::DeviceSummary) -> Self {
        Self {
            device_id: device.device_id,
            device_serial: device.device_serial,
            device_label: device.device_label,
            bed_id: device.bed_id,
            ip_address: device.ip_address,
            state: device.state,
        }
    }
}

impl From<api::ConnectionState> for ConnectionState {
    fn from(state: api::ConnectionState) -> Self {
        match state {
            api::ConnectionState::Connected => ConnectionState::Connected,
            api::ConnectionState::Disconnected => ConnectionState::Disconnected,
            api::ConnectionState::Never => ConnectionState::Never,
        }
    }
}

impl From<api::CertificateValidity> for CertificateValidity {
    fn from(validity: api::CertificateValidity) -> Self {
        match validity {
            api::CertificateValidity::Valid => CertificateValidity::Valid,
            api::CertificateValidity::ExpiringSoon => CertificateValidity::ExpiringSoon,
            api::CertificateValidity::Expired => CertificateValidity::Expired,
            api::CertificateValidity::Revoked => CertificateValidity::Revoked,
        }
    }
}

impl From<api::CertificateStatus> for CertificateStatus {
    fn from(certificate: api::CertificateStatus) -> Self {
        Self {
            serial: certificate.serial,
            not_before: timestamp(certificate.not_before),
            not_after: timestamp(certificate.not_after),
            validity: certificate.validity.into(),
        }
    }
}

impl From<api::ConnectionCounters> for ConnectionCounters {
    fn from(counters: api::ConnectionCounters) -> Self {
        Self {
            heartbeats: counters.heartbeats,
            bytes_sent: counters.bytes_sent,
            errors: counters.errors,
        }
    }
}

impl From<api::ConnectedStatus> for ConnectedStatus {
    fn from(status: api::ConnectedStatus) -> Self {
        Self {
            device_id: status.device_id,
            device_label: status.device_label,
            state: status.state,
            connection_state: status.connection_state.into(),
            server_url: status.server_url,
            certificate: status.certificate.map(CertificateStatus::from),
            last_connected: status.last_connected.map(timestamp),
            uptime_seconds: status.uptime_seconds,
            counters: status.counters.into(),
            alert: status.alert.map(|alert| DeviceAlert {
                message: alert.message,
                at: timestamp(alert.at),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_wire_fields_become_null_for_the_ui() {
        let wire = api::DeviceSummary {
            device_id: "ZM-1".into(),
            device_serial: "S-1".into(),
            device_label: "ICU 1".into(),
            bed_id: "ICU-1".into(),
            ip_address: None,
            state: api::DeviceState::AwaitingReprovision,
        };
        let json = serde_json::to_value(DeviceSummary::from(wire)).expect("json");
        assert_eq!(json["ipAddress"], serde_json::Value::Null);
        assert_eq!(json["state"], "AWAITING_REPROVISION");
        assert!(json.as_object().expect("object").contains_key("ipAddress"));
    }
}
