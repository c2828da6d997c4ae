//! ZPair's domain, without UI and without Tauri: everything the technician
//! app and the `zpair` CLI do, so both stay thin shells.
//!
//! - [`qr`] checks the text of a scanned QR code; [`code`] the typed code.
//! - [`scanner`] finds QR codes in grey camera frames; [`mailbox`] hands the
//!   newest frame to a worker without ever holding the camera up.
//! - [`client`] talks to the Central Station over HTTPS that trusts one anchor.
//! - [`session`] keeps the technician signed in, tokens in a [`secret_store`].
//! - [`pairing`] runs a pairing from request to PROVISIONED or FAILED.
//! - [`error`] reduces every error to the `{code, message}` a technician sees.

pub mod client;
pub mod code;
pub mod error;
pub mod mailbox;
pub mod pairing;
pub mod qr;
pub mod scanner;
pub mod secret;
pub mod secret_store;
pub mod session;

pub use code::{PairingCode, PairingCodeError};
pub use error::{UserFacing, UserFacingError};
pub use secret::Secret;
