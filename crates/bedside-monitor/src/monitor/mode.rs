//! Provisioning mode: entering it (on the monitor, or on the station's signed
//! command), the QR refresh, cancelling it, and its end when the code expires
//! or too many wrong codes arrive.

use std::time::{Duration, Instant};

use time::OffsetDateTime;
use zpair_proto::device::MonitorState;

use super::core::{Core, Inner};
use crate::MonitorError;
use crate::events::EventType;
use crate::machine;
use crate::provisioning::screen::{self, Screen};
use crate::provisioning::session::{PairingSession, SessionEnd};
use crate::station_configuration;

/// How long an exchange may wait for the station's next step before the
/// monitor gives up on it and is ready for a new one.
pub(crate) const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(120);

/// The shortest pause of the housekeeping timer.
const MIN_WAIT: Duration = Duration::from_millis(50);

/// Who asked for provisioning mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry {
    /// Someone at the monitor: showing the current code again is enough.
    OnMonitor,
    /// The station's re-provision command: always a new code.
    StationCommand,
}

impl Core {
    /// Enters provisioning mode, or shows the current code again when already in it.
    pub fn enter_provisioning_mode(&self, now: OffsetDateTime) -> Result<Screen, MonitorError> {
        let mut inner = self.lock();
        self.enter_locked(&mut inner, Entry::OnMonitor, now)
    }

    /// [`Self::enter_provisioning_mode`] with the lock held.
    pub fn enter_locked(
        &self,
        inner: &mut Inner,
        entry: Entry,
        now: OffsetDateTime,
    ) -> Result<Screen, MonitorError> {
        self.expire_if_due(inner, now)?;
        if machine::mid_exchange(inner.state) {
            if entry == Entry::OnMonitor || inner.confirming() {
                return Err(MonitorError::PairingInProgress);
            }
            self.fail_exchange(
                inner,
                "the Central Station ordered re-provisioning during the exchange",
            )?;
        }
        if entry == Entry::OnMonitor
            && inner.state == MonitorState::ReadyToPair
            && let Some(screen) = inner.session.as_ref().and_then(|s| self.screen_of(s))
        {
            return Ok(screen);
        }
        let entered_from = inner
            .session
            .as_ref()
            .map_or(inner.state, |s| s.entered_from());
        let session = PairingSession::new(self.config.code_lifetime, entered_from, now)?;
        if let Some(old) = inner.session.replace(session) {
            inner.previous = Some(old.into_past(SessionEnd::Replaced));
        }
        inner.exchange = None;
        // The code is on disk before the state says it exists.
        self.save_pairing(inner)?;
        self.set_state(inner, MonitorState::ReadyToPair)?;
        self.events.ok(EventType::ProvisioningModeEntered);
        self.events.ok(EventType::PairingCodeGenerated);
        self.wake.notify_one();
        let session = inner
            .session
            .as_ref()
            .ok_or(MonitorError::NotInProvisioningMode)?;
        self.show(session)?
            .ok_or(MonitorError::NotInProvisioningMode)
    }

    /// A new QR token for the same code.
    pub fn regenerate_qr(&self, now: OffsetDateTime) -> Result<Screen, MonitorError> {
        let mut inner = self.lock();
        self.expire_if_due(&mut inner, now)?;
        let session = inner
            .session
            .as_mut()
            .ok_or(MonitorError::NotInProvisioningMode)?;
        session.refresh_token(now)?;
        self.save_pairing(&inner)?;
        self.wake.notify_one();
        let session = inner
            .session
            .as_ref()
            .ok_or(MonitorError::NotInProvisioningMode)?;
        self.show(session)?
            .ok_or(MonitorError::NotInProvisioningMode)
    }

    /// Leaves provisioning mode; the code and its tokens stop working.
    pub fn cancel_provisioning(&self) -> Result<(), MonitorError> {
        let mut inner = self.lock();
        if inner.session.is_none() {
            return Ok(());
        }
        if inner.confirming() {
            return Err(MonitorError::PairingInProgress);
        }
        self.fail_exchange(&mut inner, "provisioning mode was cancelled on the monitor")?;
        self.end_session(&mut inner, SessionEnd::Cancelled)
    }

    /// What the provisioning view shows now.
    pub fn view(&self) -> crate::provisioning::view::View {
        let inner = self.lock();
        crate::provisioning::view::View {
            device_id: self.identity.device_id.clone(),
            state: inner.state,
            screen: inner.session.as_ref().and_then(|s| self.screen_of(s)),
            code_expired: inner.session.is_none()
                && inner
                    .previous
                    .as_ref()
                    .is_some_and(|p| p.ended() == SessionEnd::Expired),
            notice: screen::read_notice(&self.dir).ok().flatten(),
        }
    }

    /// What the monitor shows now.
    pub fn screen(&self) -> Option<Screen> {
        let inner = self.lock();
        inner.session.as_ref().and_then(|s| self.screen_of(s))
    }

    /// Ends provisioning mode: back to where it was entered from.
    pub fn end_session(&self, inner: &mut Inner, end: SessionEnd) -> Result<(), MonitorError> {
        let entered_from = inner
            .session
            .as_ref()
            .map_or(inner.state, |s| s.entered_from());
        if let Some(session) = inner.session.take() {
            inner.previous = Some(session.into_past(end));
        }
        inner.exchange = None;
        self.save_pairing(inner)?;
        let rest = machine::rest_state(entered_from, inner.committed.is_some());
        self.set_state(inner, rest)?;
        screen::clear(&self.dir)?;
        self.wake.notify_one();
        Ok(())
    }

    /// Abandons the exchange under way, if any: its staged files go, and a
    /// monitor mid-exchange passes through PROVISIONING_FAILED back to
    /// READY_TO_PAIR with the same code.
    pub fn fail_exchange(&self, inner: &mut Inner, why: &str) -> Result<(), MonitorError> {
        if let Some(staged) = inner.exchange.take().and_then(|e| e.staged)
            && let Err(e) = station_configuration::discard(&self.dir, &staged.generation)
        {
            tracing::warn!(error = %e, "cannot remove a staged configuration");
        }
        inner.staged_generation = None;
        inner.fail_safe = None;
        if machine::mid_exchange(inner.state) {
            self.set_state(inner, MonitorState::ProvisioningFailed)?;
            self.events.failed(EventType::ProvisioningFailed, why);
            self.set_state(inner, MonitorState::ReadyToPair)?;
        }
        Ok(())
    }

    /// Ends provisioning mode if its code has expired (unless a commit is
    /// being confirmed: only its confirmation or its fail-safe ends it).
    pub fn expire_if_due(
        &self,
        inner: &mut Inner,
        now: OffsetDateTime,
    ) -> Result<(), MonitorError> {
        let expired = inner.session.as_ref().is_some_and(|s| s.is_expired(now));
        if !expired || inner.confirming() {
            return Ok(());
        }
        self.fail_exchange(inner, "the pairing code expired during the exchange")?;
        self.end_session(inner, SessionEnd::Expired)?;
        self.events.failed(
            EventType::ProvisioningFailed,
            "the pairing code expired before a Central Station used it",
        );
        Ok(())
    }

    /// Runs what is due at `now` (expiry, QR refresh, an idle exchange) and
    /// says when to look again.
    pub fn tick(&self, now: OffsetDateTime) -> Option<Instant> {
        let mut inner = self.lock();
        if let Err(e) = self.tick_locked(&mut inner, now) {
            tracing::error!(error = %e, "provisioning housekeeping failed");
        }
        let at = Instant::now();
        let mut next: Option<Instant> = None;
        let mut consider = |when: Instant| next = Some(next.map_or(when, |n| n.min(when)));
        if let Some(session) = &inner.session {
            let refresh = session.token_issued_at() + self.qr_refresh();
            for deadline in [session.expires_at(), refresh] {
                // A deadline already past (expiry held back by a running
                // connection test) is looked at again shortly, not in a spin.
                let wait = Duration::try_from(deadline - now).unwrap_or(Duration::ZERO);
                consider(at + wait.max(MIN_WAIT));
            }
        }
        match (&inner.fail_safe, &inner.exchange) {
            // A prepared commit: its confirmation task watches the deadline.
            _ if inner.confirming() => {}
            (Some(fail_safe), _) => consider(fail_safe.deadline.max(at + MIN_WAIT)),
            (None, Some(exchange)) => consider(exchange.last_step + EXCHANGE_TIMEOUT),
            (None, None) => {}
        }
        next
    }

    /// The QR refresh period; never zero, so the refresh cannot spin.
    fn qr_refresh(&self) -> Duration {
        self.config.qr_refresh.max(Duration::from_millis(100))
    }

    fn tick_locked(&self, inner: &mut Inner, now: OffsetDateTime) -> Result<(), MonitorError> {
        self.expire_if_due(inner, now)?;
        if !inner.confirming() && inner.fail_safe.is_some_and(|f| f.fired()) {
            self.fail_safe_fired(inner)?;
        }
        let idle = inner.fail_safe.is_none()
            && inner
                .exchange
                .as_ref()
                .is_some_and(|e| e.last_step.elapsed() >= EXCHANGE_TIMEOUT);
        if idle {
            self.fail_exchange(
                inner,
                "the Central Station did not finish the exchange in time",
            )?;
        }
        let Some(session) = inner.session.as_mut() else {
            return Ok(());
        };
        if now >= session.token_issued_at() + self.qr_refresh() {
            session.refresh_token(now)?;
            self.save_pairing(inner)?;
            if let Some(session) = inner.session.as_ref() {
                self.show(session)?;
            }
        }
        Ok(())
    }
}
