//! The monitor's side of the station → monitor exchange (zpair_proto::device):
//! its refusals, the keys it makes for one exchange, and its checks of the
//! pushed configuration.

mod error;
pub mod keys;
pub mod verify;

pub use error::ExchangeError;
