//! The generic Genesys Cloud REST error body (`ErrorBody`), read from every non-2xx answer.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// `Limit`: which rate limit was hit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Limit {
    /// e.g. `client.credentials.token.rate.per.minute`.
    pub key: Option<String>,
    /// e.g. `platform.api`.
    pub namespace: Option<String>,
    /// The limit value.
    pub value: Option<i64>,
}

/// `Detail`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Detail {
    pub error_code: Option<String>,
    /// Offending field.
    pub field_name: Option<String>,
}

/// `ErrorBody`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ErrorBody {
    /// Human message.
    pub message: Option<String>,
    /// Machine code, e.g. `missing.any.permissions`.
    pub code: Option<String>,
    /// HTTP status.
    pub status: Option<i64>,
    /// Message with `{param}` placeholders.
    pub message_with_params: Option<String>,
    /// The placeholders' values (403s name the permissions here).
    pub message_params: HashMap<String, String>,
    /// Correlation id.
    pub context_id: Option<String>,
    pub details: Vec<Detail>,
    /// The rate limit hit (429).
    pub limit: Option<Limit>,
}
