//! Provisioning mode's data: the pairing session (code, tokens, expiry,
//! attempts) and the screen that shows it.

pub mod screen;
pub mod session;
