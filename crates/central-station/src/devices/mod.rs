//! A registered monitor after pairing: its heartbeats over mTLS, its
//! connected status, and the signed commands that re-provision or
//! de-provision it.

mod commands;
mod status;

pub(crate) use commands::{deprovision, reprovision};
pub(crate) use status::{heartbeat, record_refused_certificates, status};
