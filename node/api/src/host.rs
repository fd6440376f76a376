//! DNS-rebinding defence: the API and metrics answer only requests whose `Host` names the
//! loopback interface.
//!
//! Binding to loopback keeps other machines out, but not a web page in the operator's browser:
//! a page on `evil.example` whose name the attacker re-points at 127.0.0.1 sends requests the
//! browser labels `Host: evil.example`. Refusing every host but `localhost`, a 127/8 address or
//! `[::1]` (any port) makes such a request fail before a handler runs, cookie or not.

use std::net::{IpAddr, Ipv6Addr};

use axum::extract::Request;
use axum::http::StatusCode;
use axum::http::header::HOST;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Whether `authority` (`host[:port]`, as in a `Host` header) names the loopback interface.
pub(crate) fn is_loopback_authority(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((v6, tail)) if tail.is_empty() || tail.strip_prefix(':').is_some_and(is_port) => {
                return v6.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback());
            }
            _ => return false,
        },
        None => match authority.rsplit_once(':') {
            Some((host, port)) if is_port(port) => host,
            Some(_) => return false,
            None => authority,
        },
    };
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// 1 to 5 ASCII digits.
fn is_port(p: &str) -> bool {
    (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit())
}

/// Middleware: 403 `forbidden_host` unless the request's `Host` (or, without one, its URI's
/// authority) is loopback.
pub(crate) async fn require_loopback_host(request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.as_str().to_owned()));
    match host {
        Some(h) if is_loopback_authority(&h) => next.run(request).await,
        _ => ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden_host",
            "only a loopback Host (localhost, 127.0.0.1, [::1]) is answered",
        )
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::is_loopback_authority;

    #[test]
    fn loopback_names_with_or_without_a_port_pass() {
        for ok in [
            "localhost",
            "LOCALHOST:8080",
            "127.0.0.1",
            "127.0.0.1:9100",
            "127.8.9.10:1",
            "[::1]",
            "[::1]:7777",
        ] {
            assert!(is_loopback_authority(ok), "{ok}");
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "evil.example",
            "evil.example:8080",
            "localhost.evil.example",
            "localhost:",
            "localhost:80:80",
            "localhost:123456",
            "localhost:8o",
            "10.0.0.1",
            "0.0.0.0:80",
            "[::2]:80",
            "[::1",
            "[::1]x",
            "::1",
            "127.0.0.1@evil.example",
        ] {
            assert!(!is_loopback_authority(bad), "{bad}");
        }
    }
}
