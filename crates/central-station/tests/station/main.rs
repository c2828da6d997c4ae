//! The station over real HTTPS on 127.0.0.1:0, with SQLite in temp dirs, or
//! with `ZPAIR_TEST_POSTGRES` set a PostgreSQL database per station on a
//! throwaway server.

mod support;

mod accounts;
mod audit;
mod auth;
mod conformance;
mod database_tls;
mod edge;
mod fuzz_seeds;
mod gate;
mod instances;
mod jobs;
mod matrix;
mod mtls;
mod nul;
mod openapi;
mod pair_requests;
mod public;
mod recovery;
mod registry;
mod renewal;
mod reports;
mod reprovision;
mod sessions;
