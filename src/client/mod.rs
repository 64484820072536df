//! The typed async client of a controller's API (docs/daemons.md), shared by the command
//! line and the live console: every answer is read into the [`crate::wire`] type the
//! controller wrote it from, every failure is a one-line [`ClientError`] naming the
//! controller, and no call waits forever (a connect timeout and a per-request timeout; the
//! event stream, which has no end, is watched for silence instead).
//!
//! - [`Endpoint`], [`Secret`], [`ConnectArgs`]: which controllers, with which token and
//!   CA, from flags, environment and the contexts of the configuration file ([`context`]).
//! - [`Client`]: one controller's API: [`Client::snapshot`], [`Client::events`],
//!   [`Client::stream`], [`Client::plan`], [`Client::request`], [`Client::run_status`]...
//! - [`EventStream`]: the live events of one connection, resumable by cursor.

pub mod context;
mod endpoint;
mod error;
mod sse;

use std::time::Duration;

use serde::de::DeserializeOwned;

pub use endpoint::{ConnectArgs, Endpoint, Secret, Target, check_url};
pub use error::ClientError;
pub use sse::{EventStream, SseEvent, SseParser};

use crate::wire::{
    Accepted, Command, CommandKind, ErrorBody, EventPage, PlanAnswer, PlanView, Request, RunId, RunView, Snapshot,
    TopologyView,
};

/// The largest answer read (a snapshot of thousands of pairs is a few MiB).
const MAX_ANSWER: usize = 64 << 20;

/// How long a client waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// To open a connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// For one whole request and its answer.
    pub request_timeout: Duration,
    /// For the next bytes of the event stream: the controller sends a keep-alive every
    /// 15 s, so a longer silence means a dead connection.
    pub stream_idle: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(15),
            stream_idle: Duration::from_secs(45),
        }
    }
}

/// One controller's API.
#[derive(Clone)]
pub struct Client {
    url: String,
    token: Option<Secret>,
    http: reqwest::Client,
    /// Without an overall timeout, for the event stream.
    stream_http: reqwest::Client,
    opts: Options,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("url", &self.url).finish_non_exhaustive()
    }
}

/// A fresh request id (`cli-18f2a3b4c5d-9e8d7c6b5a4f3e2d`): the same id sent twice is
/// carried out once, so a request that may not have arrived can be sent again.
pub fn new_request_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    // RandomState is seeded from the OS for each process, and differs per instance.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(ms);
    h.write_u32(std::process::id());
    format!("cli-{ms:x}-{:016x}", h.finish())
}

impl Client {
    /// A client of the controller at `ep` with the default [`Options`].
    pub fn new(ep: &Endpoint) -> Result<Client, ClientError> {
        Client::with_options(ep, Options::default())
    }

    pub fn with_options(ep: &Endpoint, opts: Options) -> Result<Client, ClientError> {
        let url = check_url(&ep.url).map_err(|e| ClientError::Setup {
            url: ep.url.clone(),
            detail: e,
        })?;
        let setup = |detail: String| ClientError::Setup {
            url: url.clone(),
            detail,
        };
        let ca = match &ep.ca {
            Some(path) => Some(crate::daemon::tls::reqwest_ca(path).map_err(setup)?),
            None if url.starts_with("https://") => {
                return Err(setup(
                    "an https:// controller needs the CA that signed its certificate: give --ca FILE (or HACTL_CA, or ca in the context)"
                        .into(),
                ));
            }
            None => None,
        };
        let build = |timeout: Option<Duration>| {
            let mut b = reqwest::Client::builder()
                .connect_timeout(opts.connect_timeout)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("hactl/", env!("CARGO_PKG_VERSION")));
            if let Some(t) = timeout {
                b = b.timeout(t);
            }
            if let Some(ca) = &ca {
                b = b.add_root_certificate(ca.clone());
            }
            b.build().map_err(|e| {
                setup(format!(
                    "cannot build the HTTP client: {}",
                    error::one_line(&e.to_string())
                ))
            })
        };
        Ok(Client {
            http: build(Some(opts.request_timeout))?,
            stream_http: build(None)?,
            url,
            token: ep.token.clone(),
            opts,
        })
    }

    /// The controller's base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.authed(self.http.get(format!("{}{path}", self.url)))
    }

    fn authed(&self, r: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(t) => r.bearer_auth(t.expose()),
            None => r,
        }
    }

    /// Sends and reads the answer as `T`, or the controller's error.
    async fn call<T: DeserializeOwned>(&self, r: reqwest::RequestBuilder) -> Result<T, ClientError> {
        let mut resp = r.send().await.map_err(|e| ClientError::transport(&self.url, &e))?;
        let status = resp.status();
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| ClientError::transport(&self.url, &e))? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_ANSWER {
                return Err(ClientError::protocol(
                    &self.url,
                    format!("an answer larger than {} MiB", MAX_ANSWER >> 20),
                ));
            }
        }
        if status.is_success() {
            return serde_json::from_slice(&body)
                .map_err(|e| ClientError::protocol(&self.url, format!("unexpected JSON: {e}")));
        }
        Err(self.refusal(status.as_u16(), &body))
    }

    fn refusal(&self, status: u16, body: &[u8]) -> ClientError {
        match serde_json::from_slice::<ErrorBody>(body) {
            Ok(b) => {
                let mut detail = error::one_line(&b.detail);
                if status == 401 && self.token.is_none() {
                    detail
                        .push_str(" (no token given: --token-file FILE, HACTL_TOKEN_FILE or the context's token-file)");
                }
                ClientError::Refused {
                    url: self.url.clone(),
                    status,
                    error: error::one_line(&b.error),
                    detail,
                }
            }
            Err(_) => ClientError::protocol(&self.url, format!("HTTP status {status} without a JSON error")),
        }
    }

    /// `GET /healthz`: the process runs and answers.
    pub async fn healthz(&self) -> Result<(), ClientError> {
        let _: serde::de::IgnoredAny = self.call(self.http.get(format!("{}/healthz", self.url))).await?;
        Ok(())
    }

    /// `GET /v1/topology`: the deployment, and which site this controller runs.
    pub async fn topology(&self) -> Result<TopologyView, ClientError> {
        self.call(self.get("/v1/topology")).await
    }

    /// `GET /v1/snapshot`: this controller's site's state.
    pub async fn snapshot(&self) -> Result<Snapshot, ClientError> {
        self.call(self.get("/v1/snapshot")).await
    }

    /// `GET /v1/events`: up to `limit` (1 to 1000) events after the cursor `after`.
    pub async fn events(&self, after: Option<u64>, limit: usize) -> Result<EventPage, ClientError> {
        let after = after.unwrap_or(0);
        self.call(self.get(&format!("/v1/events?after={after}&limit={limit}")))
            .await
    }

    /// `GET /v1/events/stream`: the events after `last_event_id` (every event when none),
    /// then live ones, until the connection ends. Returns once the controller accepted
    /// the stream.
    pub async fn stream(&self, last_event_id: Option<u64>) -> Result<EventStream, ClientError> {
        let mut r = self
            .authed(self.stream_http.get(format!("{}/v1/events/stream", self.url)))
            .header(reqwest::header::ACCEPT, "text/event-stream");
        if let Some(id) = last_event_id {
            r = r.header("Last-Event-ID", id.to_string());
        }
        let resp = tokio::time::timeout(self.opts.request_timeout, r.send())
            .await
            .map_err(|_| ClientError::unreachable(&self.url, "no answer in time (timed out)"))?
            .map_err(|e| ClientError::transport(&self.url, &e))?;
        let status = resp.status();
        if !status.is_success() {
            let body = tokio::time::timeout(self.opts.request_timeout, resp.bytes())
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default();
            return Err(self.refusal(status.as_u16(), &body));
        }
        Ok(EventStream::new(
            self.url.clone(),
            resp,
            last_event_id,
            self.opts.stream_idle,
        ))
    }

    /// A dry run of a switchover of `pair` (or a group) to `to` (an instance or its host):
    /// the plan and its pre-flight checks. Nothing is carried out.
    pub async fn plan(&self, pair: &str, to: Option<&str>) -> Result<PlanView, ClientError> {
        let req = Request::new(Command::Switchover {
            pair: pair.to_string(),
            to: to.map(String::from),
            force: false,
            dry_run: true,
        });
        let answer: PlanAnswer = self.call(self.post(&req)?).await?;
        Ok(answer.plan)
    }

    /// Carries out an operator request (give it a request id, [`new_request_id`], so it
    /// can be sent again safely). Dry runs go through [`Client::plan`].
    pub async fn request(&self, req: &Request) -> Result<Accepted, ClientError> {
        if req.is_dry_run() {
            return Err(ClientError::protocol(
                &self.url,
                "a dry run answers with a plan: use Client::plan",
            ));
        }
        self.call(self.post(req)?).await
    }

    /// The POST of a request: its path, and its flat form without `kind` as the body.
    fn post(&self, req: &Request) -> Result<reqwest::RequestBuilder, ClientError> {
        let path = match req.command.kind() {
            CommandKind::Switchover => "/v1/switchover",
            CommandKind::Maintenance => "/v1/maintenance",
            CommandKind::RunScript => "/v1/runs",
            CommandKind::ResetAntiFlap => "/v1/anti-flap/reset",
        };
        let mut body = serde_json::to_value(req).map_err(|e| ClientError::protocol(&self.url, e.to_string()))?;
        if let Some(obj) = body.as_object_mut() {
            obj.remove("kind");
        }
        Ok(self
            .authed(self.http.post(format!("{}{path}", self.url)))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string()))
    }

    /// `GET /v1/runs/{n}`: a script run of this controller's site, as far as it has gone.
    pub async fn run_status(&self, run: &RunId) -> Result<RunView, ClientError> {
        self.call(self.get(&format!("/v1/runs/{}", run.n))).await
    }
}
