//! Cookie authorization: a random secret written to `api.cookie` (0600) in the data dir on
//! every start; clients send `Authorization: Bearer <cookie>`.

use std::path::Path;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::identity::{IdentityError, write_private_file};

/// Creates a fresh cookie (32 random bytes, hex) and writes it to `path` with mode 0600,
/// replacing any previous one.
pub fn write_cookie(path: &Path) -> Result<String, IdentityError> {
    let mut secret = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
    let cookie = hex::encode(secret);
    write_private_file(path, cookie.as_bytes(), false)?;
    Ok(cookie)
}

/// Reads a cookie file (client side).
pub fn read_cookie(path: &Path) -> std::io::Result<String> {
    Ok(std::fs::read_to_string(path)?.trim().to_owned())
}

/// Equality that takes the same time wherever the first difference is.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Middleware: 401 unless the request carries the right bearer cookie.
pub(crate) async fn require_cookie(
    State(cookie): State<Arc<str>>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match presented {
        Some(p) if constant_time_eq(p.as_bytes(), cookie.as_bytes()) => next.run(request).await,
        Some(_) => ApiError::unauthorized("wrong API cookie").into_response(),
        None => ApiError::unauthorized(
            "missing `Authorization: Bearer <cookie>`; the cookie is in api.cookie in the data dir",
        )
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_is_private_fresh_and_readable() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("api.cookie");
        let a = write_cookie(&path).unwrap();
        let b = write_cookie(&path).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(read_cookie(&path).unwrap(), b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
