//! OAuth token endpoint models (`POST /oauth/token`): the success body and the error body.

use serde::Deserialize;

/// Successful client-credentials answer. `token_type` casing is unverified, so callers
/// compare it case-insensitively; `refresh_token` is never issued for this grant.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TokenResponse {
    /// The bearer token (a secret: never log it).
    pub access_token: String,
    /// `bearer` (any casing).
    pub token_type: String,
    /// Lifetime in seconds (default org setting: about 86,400).
    pub expires_in: u64,
    /// Not issued for client credentials; kept so the shape is complete.
    pub refresh_token: Option<String>,
}

/// Non-200 answer of the token endpoint, e.g. `{"error":"invalid_client"}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AuthErrorResponse {
    /// OAuth error code (`invalid_client`, `invalid_request`, ...).
    pub error: Option<String>,
    /// Human description (Genesys form).
    pub description: Option<String>,
    /// Human description (RFC 6749 form).
    pub error_description: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_token_and_ignores_unknown_fields() {
        let t: TokenResponse =
            serde_json::from_str(r#"{"access_token":"abc","token_type":"Bearer","expires_in":300,"x":1}"#)
                .unwrap();
        assert_eq!((t.access_token.as_str(), t.expires_in), ("abc", 300));
        let e: AuthErrorResponse = serde_json::from_str(r#"{"error":"invalid_client"}"#).unwrap();
        assert_eq!(e.error.as_deref(), Some("invalid_client"));
    }
}
