//! The monitor's local log of provisioning events, `events.jsonl`: one JSON
//! object a line, with the seeds' event types and columns — but never the
//! pairing code, a token or a key, so the log can be handed to anyone.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::PathBuf;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::storage::PRIVATE_FILE;

/// The seeds' provisioning event types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    /// Provisioning mode was entered.
    ProvisioningModeEntered,
    /// A pairing code was drawn.
    PairingCodeGenerated,
    /// A station proved it holds the code (or failed to).
    PairingCodeValidated,
    /// A configuration arrived and was checked.
    ConfigurationReceived,
    /// A configuration was staged for the connection test.
    ConfigurationApplied,
    /// The mTLS connection test ran.
    ConnectionTested,
    /// The new configuration was committed.
    ProvisioningCompleted,
    /// A provisioning attempt or the provisioning mode ended without success.
    ProvisioningFailed,
    /// The station ordered the monitor back into provisioning mode.
    ReprovisioningStarted,
    /// The station removed the monitor's configuration.
    Deprovisioned,
    /// The station refused the certificate in force (revoked, replaced or
    /// expired): the monitor is not paired any more.
    CertificateRefused,
    /// A renewed client certificate was received and staged (or the
    /// renewal failed).
    CertificateRenewalReceived,
    /// The monitor switched to its renewed certificate after the station
    /// accepted it (or gave it up).
    CertificateRenewed,
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// When.
    #[serde(with = "zpair_proto::timestamp")]
    pub timestamp: OffsetDateTime,
    /// What.
    pub event_type: EventType,
    /// This monitor.
    pub device_id: String,
    /// Whether the step succeeded.
    pub success: bool,
    /// Why it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// SHA-256 of the configuration's signed bytes, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration_hash: Option<String>,
}

/// Appends events to `events.jsonl`.
#[derive(Debug)]
pub struct EventLog {
    path: PathBuf,
    device_id: String,
    // One writer at a time, so lines never interleave.
    lock: Mutex<()>,
}

impl EventLog {
    /// The log at `path` for `device_id`.
    pub fn new(path: PathBuf, device_id: &str) -> Self {
        Self {
            path,
            device_id: device_id.to_owned(),
            lock: Mutex::new(()),
        }
    }

    /// Records a successful step.
    pub fn ok(&self, event_type: EventType) {
        self.append(event_type, true, None, None);
    }

    /// Records a successful step about a configuration.
    pub fn ok_with_hash(&self, event_type: EventType, configuration_hash: &str) {
        self.append(event_type, true, None, Some(configuration_hash.to_owned()));
    }

    /// Records a failed step and why (a message meant for people, never a secret).
    pub fn failed(&self, event_type: EventType, why: &str) {
        self.append(event_type, false, Some(why.to_owned()), None);
    }

    fn append(
        &self,
        event_type: EventType,
        success: bool,
        error_message: Option<String>,
        configuration_hash: Option<String>,
    ) {
        let event = Event {
            timestamp: OffsetDateTime::now_utc(),
            event_type,
            device_id: self.device_id.clone(),
            success,
            error_message,
            configuration_hash,
        };
        tracing::info!(event = ?event.event_type, success, "provisioning event");
        let Ok(mut line) = serde_json::to_vec(&event) else {
            return;
        };
        line.push(b'\n');
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(PRIVATE_FILE)
            .open(&self.path)
            .and_then(|mut f| f.write_all(&line).and_then(|()| f.sync_data()));
        // The event log is a record, not a gate: a full disk must not stop
        // the monitor from pairing, but it must be visible.
        if let Err(e) = written {
            tracing::warn!(path = %self.path.display(), error = %e, "cannot append to the event log");
        }
    }

    /// Every event recorded so far, oldest first (damaged lines skipped).
    pub fn read_all(&self) -> Vec<Event> {
        std::fs::read_to_string(&self.path)
            .map(|text| {
                text.lines()
                    .filter_map(|l| serde_json::from_str(l).ok())
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_appended_as_json_lines_in_the_seeds_vocabulary() {
        let root = tempfile::tempdir().expect("temp");
        let log = EventLog::new(root.path().join("events.jsonl"), "ZM-1");
        log.ok(EventType::ProvisioningModeEntered);
        log.failed(
            EventType::PairingCodeValidated,
            "the pairing code did not match",
        );
        log.ok_with_hash(EventType::ConfigurationApplied, "abc");
        let text = std::fs::read_to_string(root.path().join("events.jsonl")).expect("read");
        assert_eq!(text.lines().count(), 3);
        assert!(
            text.contains(r#""eventType":"provisioning_mode_entered""#),
            "{text}"
        );
        let events = log.read_all();
        assert_eq!(events[1].event_type, EventType::PairingCodeValidated);
        assert!(!events[1].success);
        assert_eq!(events[2].configuration_hash.as_deref(), Some("abc"));
    }
}
