//! Provisioning mode's data: the pairing session (code, tokens, expiry,
//! attempts), the screen that shows it, and the provisioning view page.

pub mod screen;
pub mod session;
pub mod view;
