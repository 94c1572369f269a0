//! The generic Genesys `ErrorBody` every failing route answers with.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// An API error rendered as an `ErrorBody`.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub params: Map<String, Value>,
    pub retry_after: Option<u64>,
    /// The `limit` object of a 429 (`{key, namespace, value}`).
    pub limit: Option<Box<Value>>,
}

impl ApiError {
    /// An error with a status, code and message.
    pub(crate) fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            params: Map::new(),
            retry_after: None,
            limit: None,
        }
    }
    /// 404 for an unknown entity.
    pub(crate) fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not.found", format!("{what} not found"))
    }
    /// 400 for bad input.
    pub(crate) fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    /// 401 for a missing, expired or revoked token.
    pub(crate) fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "bad.credentials",
            "Invalid login credentials.",
        )
    }
    /// 403 naming the permissions of which the client holds none.
    pub(crate) fn missing_permissions(perms: &[String]) -> Self {
        let list = perms.join(", ");
        let mut e = Self::new(
            StatusCode::FORBIDDEN,
            "missing.any.permissions",
            format!(
                "Unable to perform the requested action. You are missing the following permission(s): [{list}]"
            ),
        );
        e.params
            .insert("permissions".into(), Value::String(format!("[{list}]")));
        e
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let context = uuid::Uuid::new_v4().to_string();
        let mut body = json!({
            "message": self.message, "code": self.code, "status": self.status.as_u16(),
            "messageWithParams": self.message, "messageParams": self.params,
            "contextId": context, "details": [], "errors": [],
        });
        if let Some(limit) = self.limit {
            body["limit"] = *limit;
        }
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert("retry-after", v);
        }
        resp
    }
}

/// Handler result.
pub(crate) type ApiResult<T> = Result<T, ApiError>;
