//! A registered monitor after pairing: its heartbeats over mTLS, its
//! connected status, the renewal of its client certificate over mTLS, the signed commands that re-provision or
//! de-provision it, and its re-admission; the certificates overview.

pub(crate) mod certificates;
pub(crate) mod commands;
pub(crate) mod renewal;
pub(crate) mod status;
mod transitions;

pub(crate) use certificates::certificates;
pub(crate) use commands::{deprovision, readmit, reprovision};
pub(crate) use renewal::renew;
pub(crate) use status::{heartbeat, record_refused_certificates, status};
