//! A small blocking client of the local API (ureq), used by the client commands.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use serde::Serialize;
use serde::de::DeserializeOwned;
use talos_api::ErrorBody;

use crate::config::Config;
use crate::files::{read_api_addr, read_cookie};

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

/// The address a client command talks to: the one given on the command line or in
/// `TALOS_API_ADDR`, else the one the running node recorded in its data dir, else the
/// configured one (`talos.toml` or the default).
pub fn api_target(config: &Config, given: Option<SocketAddr>) -> anyhow::Result<SocketAddr> {
    if let Some(addr) = given {
        return Ok(addr);
    }
    Ok(read_api_addr(&config.data_dir)
        .context("reading the running node's API address")?
        .unwrap_or(config.api_addr))
}

impl ApiClient {
    /// A client of the node whose data dir `config` names: its API address (see
    /// [`api_target`]) and the cookie it wrote there.
    pub fn for_node(config: &Config, given: Option<SocketAddr>) -> anyhow::Result<Self> {
        let addr = api_target(config, given)?;
        let cookie = read_cookie(&config.data_dir).map_err(|e| {
            anyhow!(
                "is `talos run` running with --data-dir {}? ({e})",
                config.data_dir.display()
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
        self.call(self.agent.get(self.url(path)))
    }

    /// `DELETE path`, parsed as `T`.
    pub fn delete<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        self.call(self.agent.delete(self.url(path)))
    }

    /// Sends a request without a body, with the cookie; its answer parsed as `T`.
    fn call<T: DeserializeOwned>(
        &self,
        request: ureq::RequestBuilder<ureq::typestate::WithoutBody>,
    ) -> anyhow::Result<T> {
        let resp = request
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
