//! HTTP plumbing shared by every handler: the one error type that maps to a
//! status and a stable `{code, message}` body, and extractors whose
//! rejections use that body too.

mod checks;
mod error;
mod extract;

pub(crate) use checks::checked_device_id;
pub(crate) use error::HttpError;
pub(crate) use extract::{ApiJson, ApiPath, ApiQuery, json_body};
