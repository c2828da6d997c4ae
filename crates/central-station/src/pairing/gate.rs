//! The one pairing gate. A monitor is paired only if it was never paired or
//! its last pairing failed (UNPROVISIONED, which is also where an
//! administrator's re-admission puts a de-provisioned one), or if a
//! technician re-provisioned it with a step-up confirmation: that authorises
//! one pairing of the device until the re-provisioning window closes. Any
//! other way round the confirmation (a PROVISIONED monitor put back into
//! provisioning mode at its screen, a lost or stolen monitor that was
//! de-provisioned) is refused here, at the station, whatever the client.

use crate::db::{Connection, OptionalExtension as _};
use time::OffsetDateTime;
use zpair_proto::ErrorCode;
use zpair_proto::api::DeviceState;

use crate::clock;
use crate::db::DbError;

/// Why a device may not be paired now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Closed {
    /// Paired (or its re-provisioning expired): re-provision it first.
    ReprovisionRequired,
    /// De-provisioned: an administrator must re-admit it.
    Deprovisioned,
    /// A job is running.
    InProgress,
}

impl Closed {
    /// The stable code, as answered and audited.
    pub(crate) fn code(self) -> ErrorCode {
        match self {
            Closed::ReprovisionRequired => ErrorCode::ReprovisionRequired,
            Closed::Deprovisioned => ErrorCode::DeviceDeprovisioned,
            Closed::InProgress => ErrorCode::PairingInProgress,
        }
    }
}

/// Whether a device in `state` may be paired at `now`; `allowed_until` is
/// the end of the pairing a re-provisioning authorised, if any.
pub(crate) fn check(
    state: DeviceState,
    allowed_until: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<(), Closed> {
    match state {
        DeviceState::Unprovisioned => Ok(()),
        DeviceState::AwaitingReprovision if allowed_until.is_some_and(|until| now < until) => {
            Ok(())
        }
        DeviceState::AwaitingReprovision | DeviceState::Provisioned => {
            Err(Closed::ReprovisionRequired)
        }
        DeviceState::Deprovisioned => Err(Closed::Deprovisioned),
        DeviceState::Pairing => Err(Closed::InProgress),
    }
}

/// Until when a re-provisioning lets the device be paired.
pub(crate) fn allowed_until(
    conn: &Connection,
    device_id: &str,
) -> Result<Option<OffsetDateTime>, DbError> {
    let ms: Option<i64> = conn
        .query_row(
            "SELECT pairing_allowed_until_ms FROM devices WHERE device_id = ?1",
            [device_id],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    Ok(ms.map(clock::from_unix_ms))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn only_unpaired_or_reprovisioned_devices_pass() {
        let now = clock::now();
        let later = Some(now + clock::span(Duration::from_secs(60)));
        let earlier = Some(now - clock::span(Duration::from_secs(1)));
        assert_eq!(check(DeviceState::Unprovisioned, None, now), Ok(()));
        assert_eq!(check(DeviceState::AwaitingReprovision, later, now), Ok(()));
        for (state, until, closed) in [
            (DeviceState::Provisioned, None, Closed::ReprovisionRequired),
            // A window on a PROVISIONED device is no licence: it was spent.
            (DeviceState::Provisioned, later, Closed::ReprovisionRequired),
            (
                DeviceState::AwaitingReprovision,
                earlier,
                Closed::ReprovisionRequired,
            ),
            (
                DeviceState::AwaitingReprovision,
                None,
                Closed::ReprovisionRequired,
            ),
            (DeviceState::Deprovisioned, later, Closed::Deprovisioned),
            (DeviceState::Pairing, None, Closed::InProgress),
        ] {
            assert_eq!(check(state, until, now), Err(closed), "{state:?} {until:?}");
        }
    }
}
