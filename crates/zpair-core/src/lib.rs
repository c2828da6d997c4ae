//! ZPair's domain, without UI and without Tauri: everything the technician
//! app and the `zpair` CLI do, so both stay thin shells.
//!
//! - [`qr`] checks the text of a scanned QR code; [`code`] the typed code.
//! - [`client`] talks to the Central Station over HTTPS that trusts one anchor;
//!   [`trust`] checks that anchor against the live station at setup.
//! - [`session`] keeps the technician signed in, tokens in a [`secret_store`].
//! - [`pairing`] runs a pairing from request to PROVISIONED or FAILED;
//!   [`pairings`] keeps the pairings of this run (started, retried,
//!   dismissed, one per monitor at a time) and [`history`] the technician's
//!   log of them.
//! - [`admin`] is what an administrator does (accounts, the registry and its
//!   bulk import from an [`import_file`], the audit log and pairing
//!   [`report`]s with their exported files).
//! - [`platform`] names the systems the app is built for.
//! - [`error`] names the codes the app's domain refuses with; every error
//!   reduces to the `{code, message}` a technician sees
//!   ([`UserFacing`], from `zpair-proto`).
//!
//! The QR scanner is a crate of its own, `zpair-scanner`: the camera needs
//! it without the station client.

pub mod admin;
pub mod client;
pub mod code;
pub mod error;
pub mod history;
pub mod import_file;
pub mod pairing;
pub mod pairings;
pub mod platform;
pub mod qr;
pub mod report;
pub mod reprovision;
pub mod secret;
pub mod secret_store;
pub mod session;
pub mod sightings;
pub mod trust;

pub use code::{PairingCode, PairingCodeError};
pub use error::{UserFacing, UserFacingError};
pub use secret::Secret;
