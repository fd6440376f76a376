//! A small blocking client of the local API (ureq), used by the client commands.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::{ErrorBody, read_cookie};

/// How long a client call may take.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

/// A client of one node's API.
#[derive(Debug)]
pub struct ApiClient {
    agent: ureq::Agent,
    addr: SocketAddr,
    cookie: String,
}

/// An API answer that is an error.
#[derive(Debug, thiserror::Error)]
#[error("the node answered {status}: {code}: {message}")]
pub struct ApiCallError {
    /// HTTP status.
    pub status: u16,
    /// Error code.
    pub code: String,
    /// Message.
    pub message: String,
}

impl ApiClient {
    /// A client for `addr`, authorized by the cookie in `cookie_path`.
    pub fn new(addr: SocketAddr, cookie_path: &Path) -> anyhow::Result<Self> {
        let cookie = read_cookie(cookie_path).map_err(|e| {
            anyhow!(
                "is `talos run` running? could not read its API cookie {} ({e})",
                cookie_path.display()
            )
        })?;
        Ok(Self::with_cookie(addr, cookie))
    }

    /// A client with a known cookie.
    pub fn with_cookie(addr: SocketAddr, cookie: String) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(CLIENT_TIMEOUT))
            .http_status_as_error(false)
            .build()
            .into();
        Self {
            agent,
            addr,
            cookie,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn unreachable(&self, e: ureq::Error) -> anyhow::Error {
        anyhow!(
            "is `talos run` running? could not reach {} ({e})",
            self.addr
        )
    }

    fn finish<T: DeserializeOwned>(
        &self,
        mut resp: ureq::http::Response<ureq::Body>,
    ) -> anyhow::Result<T> {
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .read_to_string()
            .context("reading the node's answer")?;
        if (200..300).contains(&status) {
            return serde_json::from_str(&text)
                .context("the node's answer is not the expected JSON");
        }
        match serde_json::from_str::<ErrorBody>(&text) {
            Ok(b) => Err(ApiCallError {
                status,
                code: b.error.code,
                message: b.error.message,
            }
            .into()),
            Err(_) => bail!("the node answered {status}: {text}"),
        }
    }

    /// `GET path`, parsed as `T`.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let resp = self
            .agent
            .get(self.url(path))
            .header("Authorization", format!("Bearer {}", self.cookie))
            .call()
            .map_err(|e| self.unreachable(e))?;
        self.finish(resp)
    }

    /// `POST path` with a JSON body, parsed as `T`.
    pub fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> anyhow::Result<T> {
        let resp = self
            .agent
            .post(self.url(path))
            .header("Authorization", format!("Bearer {}", self.cookie))
            .send_json(body)
            .map_err(|e| self.unreachable(e))?;
        self.finish(resp)
    }
}
