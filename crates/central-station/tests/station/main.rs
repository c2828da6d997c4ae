//! The station over real HTTPS on 127.0.0.1:0, with SQLite in temp dirs.

mod support;

mod auth;
mod gate;
mod jobs;
mod mtls;
mod pair_requests;
mod public;
mod recovery;
mod registry;
mod reprovision;
