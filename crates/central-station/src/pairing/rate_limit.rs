//! Sliding-window limits on pair requests, per device and per technician:
//! the monitor closes provisioning mode after a few wrong codes anyway; this
//! keeps one technician (or one stolen session) from hammering monitors.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::RateLimits;

const WINDOW: Duration = Duration::from_secs(60);
/// Above this many tracked keys, stale ones are swept.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Debug, Default)]
struct Windows {
    devices: HashMap<String, VecDeque<Instant>>,
    technicians: HashMap<String, VecDeque<Instant>>,
}

/// Admits or refuses pair requests.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    limits: RateLimits,
    windows: Mutex<Windows>,
}

fn prune(window: &mut VecDeque<Instant>, now: Instant) {
    while window
        .front()
        .is_some_and(|t| now.duration_since(*t) >= WINDOW)
    {
        window.pop_front();
    }
}

/// How long until `window` has room again.
fn wait(window: &VecDeque<Instant>, now: Instant) -> Duration {
    window
        .front()
        .map(|t| WINDOW.saturating_sub(now.duration_since(*t)))
        .unwrap_or(WINDOW)
}

impl RateLimiter {
    /// Limits from the configuration.
    pub(crate) fn new(limits: RateLimits) -> Self {
        Self {
            limits,
            windows: Mutex::new(Windows::default()),
        }
    }

    /// Admits a request (and counts it), or says how long to wait.
    pub(crate) fn admit(&self, device_id: &str, technician: &str) -> Result<(), Duration> {
        self.admit_at(device_id, technician, Instant::now())
    }

    fn admit_at(&self, device_id: &str, technician: &str, now: Instant) -> Result<(), Duration> {
        let mut w = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let Windows {
            devices,
            technicians,
        } = &mut *w;
        if devices.len() + technicians.len() > SWEEP_ABOVE {
            for map in [&mut *devices, &mut *technicians] {
                map.retain(|_, window| {
                    prune(window, now);
                    !window.is_empty()
                });
            }
        }
        let device = devices.entry(device_id.to_owned()).or_default();
        let tech = technicians.entry(technician.to_owned()).or_default();
        prune(device, now);
        prune(tech, now);
        let device_full = device.len() >= self.limits.per_device_per_minute as usize;
        let tech_full = tech.len() >= self.limits.per_technician_per_minute as usize;
        if device_full || tech_full {
            let mut retry = Duration::ZERO;
            if device_full {
                retry = retry.max(wait(device, now));
            }
            if tech_full {
                retry = retry.max(wait(tech, now));
            }
            return Err(retry);
        }
        device.push_back(now);
        tech.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_apply_per_device_and_per_technician_and_slide() {
        let limiter = RateLimiter::new(RateLimits {
            per_device_per_minute: 2,
            per_technician_per_minute: 3,
        });
        let t0 = Instant::now();
        assert!(limiter.admit_at("ZM-1", "ana", t0).is_ok());
        assert!(limiter.admit_at("ZM-1", "bob", t0).is_ok());
        let wait = limiter
            .admit_at("ZM-1", "carla", t0)
            .expect_err("device full");
        assert_eq!(wait, WINDOW);
        assert!(limiter.admit_at("ZM-2", "ana", t0).is_ok());
        assert!(limiter.admit_at("ZM-3", "ana", t0).is_ok());
        assert!(
            limiter.admit_at("ZM-4", "ana", t0).is_err(),
            "technician full"
        );
        let later = t0 + WINDOW;
        assert!(
            limiter.admit_at("ZM-1", "carla", later).is_ok(),
            "window slid"
        );
        assert!(limiter.admit_at("ZM-4", "ana", later).is_ok());
    }
}
