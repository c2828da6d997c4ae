//! One shape for every error a technician can see: a stable `code` that the
//! app's UI and scripts switch on, and a `message` that says what happened and
//! what to do next (GitButler's `but_api::json::Error`).
//!
//! Each module keeps its own `thiserror` enum; [`UserFacing`] (defined in
//! `zpair-proto`, re-exported here) is how all of them reduce to
//! `{code, message}`, so the app and the CLI print them alike. The codes
//! themselves are [`ErrorCode`], the one catalogue in `zpair-proto`.

pub use zpair_proto::error_code::ErrorCode;
pub use zpair_proto::user_facing::{UserFacing, UserFacingError};
