//! The provisioning state machine's rules (the seeds' DOC-PROC-001 §6, with
//! the states of [`MonitorState`]): which transitions exist, and where a
//! monitor resumes after a restart. Pure functions, so the rules are tested
//! apart from files and network.

use MonitorState::{
    ApplyingConfig, Deprovisioned, PairingReceived, Provisioned, ProvisioningFailed, ReadyToPair,
    TestingConnection, Unprovisioned,
};
use zpair_proto::device::MonitorState;

/// Whether the monitor may go from `from` to `to` (staying put always may).
pub fn allowed(from: MonitorState, to: MonitorState) -> bool {
    from == to
        || matches!(
            (from, to),
            // Entering provisioning mode (explicitly or on the station's command).
            (Unprovisioned | Provisioned | Deprovisioned, ReadyToPair)
            // Leaving it: cancelled, expired or closed, back to where it was.
            | (ReadyToPair, Unprovisioned | Provisioned | Deprovisioned)
            // The station refused the certificate in force: not paired any more.
            | (Provisioned, Unprovisioned)
            // The station's de-provision command.
            | (Unprovisioned | Provisioned, Deprovisioned)
            // One pairing exchange.
            | (ReadyToPair, PairingReceived)
            | (PairingReceived, ApplyingConfig)
            | (ApplyingConfig, TestingConnection)
            | (TestingConnection, Provisioned)
            | (PairingReceived | ApplyingConfig | TestingConnection, ProvisioningFailed)
            // A failed attempt keeps the code for a retry.
            | (ProvisioningFailed, ReadyToPair)
        )
}

/// Whether a pairing exchange is under way: a configuration is being
/// checked, staged or tested.
pub fn mid_exchange(state: MonitorState) -> bool {
    matches!(state, PairingReceived | ApplyingConfig | TestingConnection)
}

/// What was on disk when the monitor stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Persisted {
    /// The state last written.
    pub state: MonitorState,
    /// The provisioning-mode session on disk, if any.
    pub session: Option<SessionOnDisk>,
    /// Whether a committed configuration exists.
    pub configured: bool,
    /// Whether the configuration staged before the stop was in fact
    /// committed (the commit file was written, the state file not yet).
    pub staged_was_committed: bool,
    /// Whether a commit was prepared and its fail-safe window is still open:
    /// the station may have recorded it, so the monitor asks again.
    pub confirming: bool,
}

/// A provisioning-mode session found on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionOnDisk {
    /// The state provisioning mode was entered from.
    pub entered_from: MonitorState,
    /// Whether its code is still valid.
    pub alive: bool,
}

/// Where a monitor resumes after a restart. It resumes in the middle of an
/// exchange only to confirm a prepared commit whose fail-safe window is still
/// open; otherwise a half-applied configuration is dropped, and the monitor is
/// either back in provisioning mode with the same code or where it was before.
pub fn resume(p: Persisted) -> MonitorState {
    let entered_from = p.session.map_or(p.state, |s| s.entered_from);
    match p.state {
        PairingReceived | ApplyingConfig | TestingConnection | ProvisioningFailed
            if p.confirming =>
        {
            TestingConnection
        }
        PairingReceived | ApplyingConfig | TestingConnection | ProvisioningFailed
            if p.staged_was_committed && p.configured =>
        {
            Provisioned
        }
        ReadyToPair | PairingReceived | ApplyingConfig | TestingConnection | ProvisioningFailed => {
            if p.session.is_some_and(|s| s.alive) {
                ReadyToPair
            } else {
                rest_state(entered_from, p.configured)
            }
        }
        Provisioned | Unprovisioned | Deprovisioned => rest_state(p.state, p.configured),
    }
}

/// Where provisioning mode returns to when it ends without a new
/// configuration: a committed configuration stays in force; without one, a
/// de-provisioned monitor stays de-provisioned.
pub fn rest_state(entered_from: MonitorState, configured: bool) -> MonitorState {
    if configured {
        Provisioned
    } else if entered_from == Deprovisioned {
        Deprovisioned
    } else {
        Unprovisioned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [MonitorState; 8] = [
        Unprovisioned,
        ReadyToPair,
        PairingReceived,
        ApplyingConfig,
        TestingConnection,
        Provisioned,
        ProvisioningFailed,
        Deprovisioned,
    ];

    #[test]
    fn the_happy_path_is_allowed_step_by_step() {
        let path = [
            Unprovisioned,
            ReadyToPair,
            PairingReceived,
            ApplyingConfig,
            TestingConnection,
            Provisioned,
            ReadyToPair,
        ];
        for pair in path.windows(2) {
            assert!(allowed(pair[0], pair[1]), "{:?} → {:?}", pair[0], pair[1]);
        }
    }

    #[test]
    fn no_step_of_the_exchange_can_be_skipped() {
        assert!(!allowed(Unprovisioned, Provisioned));
        assert!(!allowed(ReadyToPair, TestingConnection));
        assert!(!allowed(PairingReceived, Provisioned));
        assert!(!allowed(ApplyingConfig, Provisioned));
        assert!(!allowed(Unprovisioned, PairingReceived));
        assert!(!allowed(ProvisioningFailed, Provisioned));
        assert!(!allowed(TestingConnection, ReadyToPair));
    }

    #[test]
    fn failure_is_reachable_only_from_inside_an_exchange_and_leads_back_to_ready() {
        for from in ALL {
            assert_eq!(
                allowed(from, ProvisioningFailed),
                mid_exchange(from) || from == ProvisioningFailed,
                "{from:?}"
            );
        }
        let out: Vec<_> = ALL
            .into_iter()
            .filter(|to| *to != ProvisioningFailed && allowed(ProvisioningFailed, *to))
            .collect();
        assert_eq!(out, vec![ReadyToPair]);
    }

    fn persisted(state: MonitorState) -> Persisted {
        Persisted {
            state,
            session: None,
            configured: false,
            staged_was_committed: false,
            confirming: false,
        }
    }

    fn session(entered_from: MonitorState, alive: bool) -> Option<SessionOnDisk> {
        Some(SessionOnDisk {
            entered_from,
            alive,
        })
    }

    #[test]
    fn a_restart_mid_exchange_never_resumes_mid_exchange() {
        for state in [
            PairingReceived,
            ApplyingConfig,
            TestingConnection,
            ProvisioningFailed,
        ] {
            let live = Persisted {
                session: session(Unprovisioned, true),
                ..persisted(state)
            };
            assert_eq!(resume(live), ReadyToPair, "{state:?} with a live code");
            let expired = Persisted {
                session: session(Unprovisioned, false),
                ..persisted(state)
            };
            assert_eq!(resume(expired), Unprovisioned, "{state:?}, code expired");
            let configured = Persisted {
                configured: true,
                ..persisted(state)
            };
            assert_eq!(
                resume(configured),
                Provisioned,
                "{state:?} with an old configuration"
            );
            let committed = Persisted {
                configured: true,
                staged_was_committed: true,
                session: session(Provisioned, true),
                ..persisted(state)
            };
            assert_eq!(resume(committed), Provisioned, "{state:?}, commit written");
        }
    }

    #[test]
    fn a_restart_with_a_prepared_commit_in_its_window_resumes_confirming_it() {
        for state in [ApplyingConfig, TestingConnection, ProvisioningFailed] {
            let open = Persisted {
                confirming: true,
                configured: true,
                session: session(Provisioned, true),
                ..persisted(state)
            };
            assert_eq!(resume(open), TestingConnection, "{state:?}");
        }
        // At rest, a prepared file means nothing to resume.
        let at_rest = Persisted {
            confirming: true,
            ..persisted(Unprovisioned)
        };
        assert_eq!(resume(at_rest), Unprovisioned);
    }

    #[test]
    fn only_a_refused_certificate_takes_a_provisioned_monitor_to_unprovisioned() {
        assert!(allowed(Provisioned, Unprovisioned));
        assert!(!allowed(TestingConnection, Unprovisioned));
    }

    #[test]
    fn a_restart_in_provisioning_mode_keeps_it_until_the_code_expires() {
        let live = Persisted {
            session: session(Unprovisioned, true),
            ..persisted(ReadyToPair)
        };
        assert_eq!(resume(live), ReadyToPair);
        let expired = Persisted {
            session: session(Deprovisioned, false),
            ..persisted(ReadyToPair)
        };
        assert_eq!(resume(expired), Deprovisioned);
        assert_eq!(
            resume(Persisted {
                configured: true,
                session: session(Provisioned, false),
                ..persisted(ReadyToPair)
            }),
            Provisioned
        );
    }

    #[test]
    fn resting_states_resume_as_they_were() {
        assert_eq!(resume(persisted(Unprovisioned)), Unprovisioned);
        assert_eq!(resume(persisted(Deprovisioned)), Deprovisioned);
        assert_eq!(
            resume(Persisted {
                configured: true,
                ..persisted(Provisioned)
            }),
            Provisioned
        );
        // A configuration that vanished cannot be in force.
        assert_eq!(resume(persisted(Provisioned)), Unprovisioned);
    }

    #[test]
    fn provisioning_mode_returns_to_where_it_was_entered_from() {
        assert_eq!(rest_state(Unprovisioned, false), Unprovisioned);
        assert_eq!(rest_state(Provisioned, true), Provisioned);
        assert_eq!(rest_state(Deprovisioned, false), Deprovisioned);
        assert_eq!(rest_state(ReadyToPair, true), Provisioned);
    }
}
