use serde::{Deserialize, Serialize};
use ts_rs::TS;
use zpair_proto::api;

// What a signed-in account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Technician,
    Administrator,
}

// Who is signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub username: String,
    pub display_name: String,
    pub role: Role,
}

impl From<api::Role> for Role {
    fn from(role: api::Role) -> Self {
        match role {
            api::Role::Technician => Role::Technician,
            api::Role::Administrator => Role::Administrator,
        }
    }
}

impl From<api::Account> for Account {
    fn from(account: api::Account) -> Self {
        Self {
            username: account.username,
            display_name: account.display_name,
            role: account.role.into(),
        }
    }
}
