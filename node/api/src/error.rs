//! API errors: an HTTP status and a JSON body `{ "error": { "code": "...", "message": "..." } }`
//! with a stable, typed code.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use talos_chain::MempoolError;

use crate::backend::{BackendError, SubmitRejection};

/// The body of every error response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// An error's code and message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable snake_case code: `not_found`, `bad_request`, `unauthorized`, `forbidden_host`, `invalid_item`,
    /// `body_too_large`, `node_unavailable`, `storage_error`, `internal`, or a mempool code
    /// (`duplicate`, `nonce_reused`, `already_in_chain`, `too_large`, `weak_author_key`,
    /// `bad_signature`, `author_cap`, `full`).
    pub code: String,
    /// Human detail.
    pub message: String,
}

/// An error an API handler returns.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code.
    pub code: &'static str,
    /// Human detail.
    pub message: String,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 400 `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 401 `unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 500 `internal`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl From<BackendError> for ApiError {
    fn from(e: BackendError) -> Self {
        match e {
            BackendError::Unavailable | BackendError::Timeout => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "node_unavailable",
                e.to_string(),
            ),
            BackendError::Storage(_) => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "storage_error",
                e.to_string(),
            ),
            BackendError::WrongRole { .. } => {
                Self::new(StatusCode::NOT_FOUND, "wrong_role", e.to_string())
            }
            BackendError::BadQuestion(_) => {
                Self::new(StatusCode::BAD_REQUEST, "bad_request", e.to_string())
            }
            BackendError::NotFound(_) => {
                Self::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
            }
            BackendError::Refused { code, .. } => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, e.to_string())
            }
        }
    }
}

/// The HTTP status of a mempool refusal.
fn refusal_status(e: &MempoolError) -> StatusCode {
    match e {
        MempoolError::Duplicate | MempoolError::NonceReused | MempoolError::AlreadyInChain => {
            StatusCode::CONFLICT
        }
        MempoolError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        MempoolError::AuthorCap { .. } => StatusCode::TOO_MANY_REQUESTS,
        MempoolError::Full => StatusCode::SERVICE_UNAVAILABLE,
        MempoolError::WeakAuthorKey | MempoolError::BadSignature => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
    }
}

impl From<SubmitRejection> for ApiError {
    fn from(e: SubmitRejection) -> Self {
        match e {
            SubmitRejection::Refused(e) => Self::new(refusal_status(&e), e.code(), e.to_string()),
            SubmitRejection::Backend(e) => e.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_map_to_statuses_and_stable_codes() {
        let cases = [
            (MempoolError::Duplicate, 409, "duplicate"),
            (MempoolError::AlreadyInChain, 409, "already_in_chain"),
            (MempoolError::TooLarge { size: 2, max: 1 }, 413, "too_large"),
            (MempoolError::AuthorCap { max: 1 }, 429, "author_cap"),
            (MempoolError::Full, 503, "full"),
            (MempoolError::BadSignature, 422, "bad_signature"),
        ];
        for (refusal, status, code) in cases {
            let e = ApiError::from(SubmitRejection::Refused(refusal));
            assert_eq!((e.status.as_u16(), e.code), (status, code));
        }
        let e = ApiError::from(SubmitRejection::Backend(BackendError::Timeout));
        assert_eq!((e.status.as_u16(), e.code), (503, "node_unavailable"));
    }
}
