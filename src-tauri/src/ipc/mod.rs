//! The types that cross the IPC boundary (notes/ipc.md), in the camelCase
//! JSON the UI reads, and the TypeScript the UI's `src/bindings/` holds.
//!
//! Each type derives `ts_rs::TS`; `bindings` regenerates the UI's files from
//! them and fails when they differ. ts-rs turns `///` comments into JSDoc in
//! those files, which the UI's files do not have, so the types here carry
//! plain `//` comments instead.
//!
//! The station's wire types (`zpair_proto::api`) are converted here, in one
//! place, because the UI wants `null` where the wire leaves a field out.

mod account;
mod admin;
#[cfg(test)]
mod bindings;
mod camera;
#[cfg(test)]
mod contract;
mod device;
mod error;
mod history;
mod pairing;
mod scan;
mod setup;

pub use account::Account;
pub use admin::{ExportedFile, ReportFormat, export_dir};
pub use camera::{CameraChoice, CameraEnded, CameraEvent, CameraSeen, CameraStarted, PreviewShown};
pub use device::{
    CertificateStatus, CertificateValidity, ConnectedStatus, ConnectionCounters, ConnectionState,
    DeviceAlert, DeviceSummary,
};
// The station's own types, one per concept: their spellings are the UI's.
pub use error::AppError;
pub use history::{HistoryAction, HistoryEntry, HistoryOutcome};
pub use pairing::{CodeCheck, JobState, NextAction, Pairing, PairingStep};
pub use scan::{FoundMonitor, Point, ScanReport, SentMonitor, Sighting};
pub use setup::{SetupState, StationProbe, TrustInfo, TrustKind};
pub use zpair_proto::api::{DeviceState, Role};

use time::OffsetDateTime;
use time::macros::format_description;

/// Formats a time as the UI reads it: RFC 3339 in UTC with milliseconds, so
/// steps a fraction of a second apart still show apart.
pub fn timestamp(at: OffsetDateTime) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    let utc = at.to_offset(time::UtcOffset::UTC);
    // Every UTC time in the four-digit years the format allows formats; the
    // fallback keeps a (never expected) failure from becoming a panic.
    utc.format(&format)
        .unwrap_or_else(|_| zpair_proto::timestamp::format(utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_with_milliseconds() {
        let at = time::macros::datetime!(2024-11-25 15:30:00.1234 +01:00);
        assert_eq!(timestamp(at), "2024-11-25T14:30:00.123Z");
        let whole = time::macros::datetime!(2024-11-25 14:30:00 UTC);
        assert_eq!(timestamp(whole), "2024-11-25T14:30:00.000Z");
    }
}
