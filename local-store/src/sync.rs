//! The desk's sync client: sign in, push the outbox, pull and rebase. The order is fixed —
//! push first, then pull — so the server has seen every local intent before the desk rebases.
//!
//! Access tokens are short-lived. When one is refused the desk renews it with its stored
//! refresh token. A desk's client ([`SyncClient::for_desk`]) holds no password: a person signs
//! in through [`SyncClient::sign_in_with`], and once the server refuses the refresh token
//! (revoked, expired) the desk waits for them to sign in again. A client made with
//! [`Credentials`] (tests, tools) signs in by itself with its password instead.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Mutex;
use tourdesk_domain::protocol::{
    ApiError, DeviceKind, OutcomeStatus, PullRequest, PushRequest, PushResponse, RefreshRequest, SCHEMA_VERSION,
    SignInRequest, SignInResponse,
};

use crate::{Session, Store, StoreError, wire};

/// The HTTP method of a [`SyncClient::staff_call`].
pub use reqwest::Method;

/// How many mutations one push carries. The server commits a batch once, so bigger batches
/// drain a long offline queue faster; this keeps one request well under the body limit.
const PUSH_BATCH: u32 = 500;

/// How many changes a pull page asks for (per bucket) unless [`SyncClient::with_page_limit`]
/// says otherwise: the server's maximum. Each page is applied, with its cursors, in one SQLite
/// transaction, so a long first sync costs a fifth of the requests and commits it would at the
/// server's default of 1,000; a page of a live edit is a few changes whatever the limit.
pub const PULL_PAGE: u32 = 5000;

/// What a person types into the sign-in form. The password is used for this one request and
/// kept nowhere.
#[derive(Clone)]
pub struct SignIn {
    pub organization: String,
    pub email: String,
    pub password: String,
    /// The 6-digit code of the authenticator app, or a recovery code, when the account has
    /// two-step sign-in.
    pub otp: Option<String>,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn")
            .field("organization", &self.organization)
            .field("email", &self.email)
            .field("password", &"***")
            .field("otp", &self.otp.as_ref().map(|_| "***"))
            .finish()
    }
}

#[derive(Clone)]
pub struct Credentials {
    pub organization: String,
    pub email: String,
    pub password: String,
    pub device: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("organization", &self.organization)
            .field("email", &self.email)
            .field("password", &"***")
            .field("device", &self.device)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("the server is unreachable ({0}); your changes are kept and will be sent when it is back")]
    Offline(String),
    #[error("sign-in refused: {0}")]
    Unauthorized(String),
    /// The account has two-step sign-in: the server's `MFA_REQUIRED` (no code sent) or
    /// `MFA_INVALID` (a wrong or spent code).
    #[error("{message}")]
    SecondFactor { code: String, message: String },
    #[error("the server refused the request ({code}): {message}")]
    Server { status: u16, code: String, message: String },
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),
    #[error("the server processed only part of the queued changes (up to #{processed}); the rest will be retried")]
    PushIncomplete { processed: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The server refused an account call ([`SyncClient::staff_call`]), in its own words and
    /// with the request field at fault, so a form can show it beside that field.
    #[error("{message}")]
    Refused { status: u16, code: String, message: String, field: Option<String> },
}

impl SyncError {
    /// Worth retrying later without anyone changing anything.
    pub fn is_transient(&self) -> bool {
        match self {
            SyncError::Offline(_) | SyncError::PushIncomplete { .. } => true,
            SyncError::Server { status, .. } | SyncError::Refused { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub pushed: u64,
    pub rejected: u64,
    pub pulled: u64,
    /// The kinds of rows the pulled pages changed, so the desk can tell its window what to reload.
    pub touched: std::collections::BTreeSet<tourdesk_domain::protocol::EntityKind>,
}

pub struct SyncClient {
    http: reqwest::Client,
    base: String,
    /// The name the server lists this device by.
    device: String,
    /// A password to sign in with by itself; `None` for a desk, where a person signs in.
    credentials: Option<Credentials>,
    /// The current access token. Its lock is held across a renewal, so the sync loop and the
    /// live stream never present one refresh token twice: the server would take the second
    /// presentation for theft and revoke this desk.
    token: Mutex<Option<String>>,
    page_limit: Option<u32>,
    /// Set while a pull is more than one page long; read by the sync loop for the status bar.
    progress: std::sync::Mutex<Option<tourdesk_domain::ipc::SyncProgress>>,
}

impl std::fmt::Debug for SyncClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the password or the bearer token.
        f.debug_struct("SyncClient")
            .field("base", &self.base)
            .field("device", &self.device)
            .field("email", &self.credentials.as_ref().map(|c| &c.email))
            .finish()
    }
}

impl SyncClient {
    /// A client that signs in by itself with `credentials` whenever it has no usable session
    /// (tests and tools; the desk uses [`SyncClient::for_desk`]).
    pub fn new(base_url: &str, credentials: Credentials) -> Result<SyncClient, SyncError> {
        let device = credentials.device.clone();
        Self::build(base_url, device, Some(credentials))
    }

    /// A desk's client: it holds no password. It works with the refresh token the store keeps
    /// from [`SyncClient::sign_in_with`], and once that is refused it fails with
    /// [`SyncError::Unauthorized`] until someone signs in again. `device` is the name the
    /// organization's device list shows.
    pub fn for_desk(base_url: &str, device: &str) -> Result<SyncClient, SyncError> {
        Self::build(base_url, device.to_string(), None)
    }

    fn build(base_url: &str, device: String, credentials: Option<Credentials>) -> Result<SyncClient, SyncError> {
        let base = base_url.trim().trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) || base.len() <= "https://".len() {
            return Err(SyncError::Protocol(format!("{base_url:?} is not a server address (http://… or https://…)")));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| SyncError::Protocol(e.to_string()))?;
        Ok(SyncClient {
            http,
            base: base.to_string(),
            device,
            credentials,
            token: Mutex::new(None),
            page_limit: None,
            progress: std::sync::Mutex::new(None),
        })
    }

    /// How far the current multi-page pull has come; `None` when no long pull is under way.
    pub fn progress(&self) -> Option<tourdesk_domain::ipc::SyncProgress> {
        *self.progress.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set_progress(&self, p: Option<tourdesk_domain::ipc::SyncProgress>) {
        *self.progress.lock().unwrap_or_else(|p| p.into_inner()) = p;
    }

    /// Asks for pull pages of at most `limit` changes ([`PULL_PAGE`] otherwise).
    pub fn with_page_limit(mut self, limit: u32) -> SyncClient {
        self.page_limit = Some(limit);
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The name the server lists this device by.
    pub fn device(&self) -> &str {
        &self.device
    }

    async fn post<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        path: &str,
        body: &Req,
        token: Option<&str>,
    ) -> Result<Resp, SyncError> {
        post(&self.http, &format!("{}{path}", self.base), body, token).await
    }

    /// Signs in with the password and records who this desk is, so it can work offline after
    /// a restart.
    pub async fn sign_in(&self, store: &Store) -> Result<Session, SyncError> {
        let mut current = self.token.lock().await;
        let (session, token) = self.password_sign_in(store).await?;
        *current = Some(token);
        Ok(session)
    }

    async fn password_sign_in(&self, store: &Store) -> Result<(Session, String), SyncError> {
        let Some(c) = &self.credentials else {
            return Err(SyncError::Unauthorized("this desk is signed out; sign in to sync".into()));
        };
        let form = SignIn {
            organization: c.organization.clone(),
            email: c.email.clone(),
            password: c.password.clone(),
            otp: None,
        };
        let resp = self.request_sign_in(store, &form).await?;
        adopt(store, resp)
    }

    async fn request_sign_in(&self, store: &Store, form: &SignIn) -> Result<SignInResponse, SyncError> {
        let req = SignInRequest {
            organization: form.organization.trim().to_string(),
            email: form.email.trim().to_string(),
            password: form.password.clone(),
            device: self.device.clone(),
            device_kind: DeviceKind::Desk,
            device_id: store.device_id()?,
            otp: form.otp.as_deref().map(str::trim).filter(|o| !o.is_empty()).map(str::to_string),
        };
        self.post("/api/v1/auth/sign-in", &req, None).await
    }

    /// A person's sign-in through the desk's form. Under [`Store::save_session`]'s rule: another
    /// user while this desk holds unsent changes of the previous one is refused, and then this
    /// desk keeps nothing of the new sign-in (the session the server just opened is closed
    /// again). Accepted, the device and refresh token are kept — the password never is.
    pub async fn sign_in_with(&self, store: &Store, form: &SignIn) -> Result<Session, SyncError> {
        let mut current = self.token.lock().await;
        let resp = self.request_sign_in(store, form).await?;
        if let Err(e) = store.check_session(&session_of(&resp)) {
            // Best effort: a refused sign-in should not leave a live device behind on the server.
            if let Err(close) = self.post_empty("/api/v1/auth/sign-out", Some(&resp.access_token)).await {
                tracing::warn!("could not close the refused sign-in on the server: {close}");
            }
            return Err(e.into());
        }
        let (session, token) = adopt(store, resp)?;
        *current = Some(token);
        Ok(session)
    }

    /// Signs this device out on the server (which revokes it: its refresh token stops working
    /// everywhere). The local session is the caller's business ([`Store::sign_out`]); the
    /// access token in memory is dropped whatever the answer. A device the server has already
    /// revoked or forgotten counts as signed out.
    pub async fn sign_out(&self, store: &Store) -> Result<(), SyncError> {
        let result = match self.access_token(store, None).await {
            Ok(token) => match self.post_empty("/api/v1/auth/sign-out", Some(&token)).await {
                Err(SyncError::Unauthorized(_)) => match self.access_token(store, Some(&token)).await {
                    Ok(token) => self.post_empty("/api/v1/auth/sign-out", Some(&token)).await,
                    Err(e) => Err(e),
                },
                other => other,
            },
            Err(e) => Err(e),
        };
        *self.token.lock().await = None;
        match result {
            Err(SyncError::Unauthorized(_)) => Ok(()),
            other => other,
        }
    }

    /// Forgets the access token in memory (after a local sign-out).
    pub async fn forget_token(&self) {
        *self.token.lock().await = None;
    }

    /// A POST whose success has no body (204).
    async fn post_empty(&self, path: &str, token: Option<&str>) -> Result<(), SyncError> {
        let mut req = self.http.post(format!("{}{path}", self.base)).json(&serde_json::json!({}));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.map_err(|e| SyncError::Offline(without_url(&e)))?;
        if resp.status().is_success() {
            return Ok(());
        }
        Err(refusal(resp).await)
    }

    /// A new access token from the stored refresh token. When the server refuses it (expired,
    /// revoked, reused) it is dropped, and a client with a password signs in with it; a desk's
    /// client reports the refusal, and the desk waits for a person to sign in. An unreachable
    /// server is not a refusal, and the refresh token is kept for next time.
    async fn renew(&self, store: &Store) -> Result<String, SyncError> {
        if let Some(refresh_token) = store.refresh_token()? {
            let req = RefreshRequest { refresh_token };
            match self.post::<_, SignInResponse>("/api/v1/auth/refresh", &req, None).await {
                Ok(resp) => return adopt(store, resp).map(|(_, token)| token),
                Err(SyncError::Unauthorized(why)) => {
                    store.forget_refresh_token()?;
                    if self.credentials.is_none() {
                        return Err(SyncError::Unauthorized(why));
                    }
                }
                Err(e) => return Err(e),
            }
        }
        self.password_sign_in(store).await.map(|(_, token)| token)
    }

    /// The access token to send: the current one, unless there is none or it is `refused`, in
    /// which case it is renewed (once, even when several callers found it refused).
    async fn access_token(&self, store: &Store, refused: Option<&str>) -> Result<String, SyncError> {
        let mut current = self.token.lock().await;
        if let Some(t) = current.as_deref()
            && Some(t) != refused
        {
            return Ok(t.to_string());
        }
        *current = None;
        let token = self.renew(store).await?;
        *current = Some(token.clone());
        Ok(token)
    }

    /// Posts with the current token, renewing it first if there is none and once more if the
    /// token was refused (expired or revoked).
    async fn authed<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        store: &Store,
        path: &str,
        body: &Req,
    ) -> Result<Resp, SyncError> {
        let token = self.access_token(store, None).await?;
        match self.post(path, body, Some(&token)).await {
            Err(SyncError::Unauthorized(_)) => {
                let token = self.access_token(store, Some(&token)).await?;
                self.post(path, body, Some(&token)).await
            }
            other => other,
        }
    }

    /// One call of the staff account API (`/api/v1/organization`, `/api/v1/staff/…`,
    /// `/api/v1/auth/mfa/…`, `/api/v1/auth/devices…`) as the signed-in member. These are online
    /// operations: account management is not replicated. The token is renewed like a sync
    /// round's; a refusal comes back as [`SyncError::Refused`] with the server's code, message and
    /// field; an unreachable server as [`SyncError::Offline`]. A `204 No Content` reads as JSON
    /// `null` (so `T = ()`).
    pub async fn staff_call<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        store: &Store,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, SyncError> {
        let url = format!("{}{path}", self.base);
        let token = self.access_token(store, None).await?;
        match call(&self.http, method.clone(), &url, body, &token).await {
            Err(SyncError::Unauthorized(_)) => {
                let token = self.access_token(store, Some(&token)).await?;
                call(&self.http, method, &url, body, &token).await
            }
            other => other,
        }
    }

    /// The website funnel for the days `from..=to` (the server counts it from the site's
    /// events, which no desk holds), kept in `store` as the range's last copy. Offline, or with
    /// the server failing, [`funnel_or_kept`](Self::funnel_or_kept) falls back on that copy.
    pub async fn funnel_report(
        &self,
        store: &Store,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<tourdesk_domain::reports::funnel::FunnelReport, SyncError> {
        let path = format!("/api/v1/analytics/funnel-report?from={from}&to={to}");
        let r: tourdesk_domain::reports::funnel::FunnelReport =
            self.staff_call(store, Method::GET, &path, None::<&()>).await?;
        if (r.from, r.to) != (from, to) {
            return Err(SyncError::Protocol("the funnel answered for other dates".into()));
        }
        store.save_funnel_report(&r)?;
        Ok(r)
    }

    /// The funnel fresh from the server, or, when the server cannot be reached or fails (a
    /// transient error), the copy this desk kept, saying why. A refusal (no permission, a bad
    /// range) is the server's answer, not a reason to show old figures.
    pub async fn funnel_or_kept(
        &self,
        store: &Store,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<tourdesk_domain::reports::funnel::FunnelAnswer, SyncError> {
        use tourdesk_domain::reports::funnel::FunnelAnswer;
        match self.funnel_report(store, from, to).await {
            Ok(report) => Ok(FunnelAnswer { report, offline_reason: None }),
            Err(e) if e.is_transient() => match store.funnel_report(from, to)? {
                Some(report) => Ok(FunnelAnswer { report, offline_reason: Some(e.to_string()) }),
                None => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// Follows the server's live change notifications, calling `on_poke` with each new change
    /// sequence, until the stream ends or fails (the caller reconnects). Pokes only say "pull
    /// now"; they carry no data, so a missed one costs nothing but latency.
    pub async fn watch(&self, store: &Store, mut on_poke: impl FnMut(i64)) -> Result<(), SyncError> {
        let token = self.access_token(store, None).await?;
        let mut resp = self
            .http
            .get(format!("{}/sync/v1/events", self.base))
            .bearer_auth(&token)
            // The client's default timeout would cut a stream that is meant to stay open; the
            // server sends a keep-alive every 15 s, so a dead peer is still noticed by TCP.
            .timeout(Duration::from_secs(24 * 3600))
            .send()
            .await
            .map_err(|e| SyncError::Offline(without_url(&e)))?;
        if resp.status().as_u16() == 401 {
            // Renewed by the next caller; cleared only if nobody has renewed it meanwhile.
            let mut current = self.token.lock().await;
            if current.as_deref() == Some(token.as_str()) {
                *current = None;
            }
            return Err(SyncError::Unauthorized("the session expired".into()));
        }
        if !resp.status().is_success() {
            return Err(SyncError::Server {
                status: resp.status().as_u16(),
                code: "HTTP".into(),
                message: resp.status().to_string(),
            });
        }
        let mut buf = String::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| SyncError::Offline(without_url(&e)))? {
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find('\n') {
                let line: String = buf.drain(..=end).collect();
                if let Some(data) = line.trim_end().strip_prefix("data:")
                    && let Ok(seq) = data.trim().parse::<i64>()
                {
                    on_poke(seq);
                }
            }
        }
        Ok(())
    }

    /// One full round: push the whole outbox in order, then pull until up to date. A push the
    /// server stopped part-way still pulls (the desk stays current) and then reports the stop.
    pub async fn sync_once(&self, store: &Store) -> Result<SyncReport, SyncError> {
        let mut report = SyncReport::default();
        let mut incomplete = None;
        loop {
            let batch = store.outbox(PUSH_BATCH)?;
            let Some(last) = batch.last().map(|m| m.id) else { break };
            // From here these may reach the server: no longer undoable on this desk.
            store.note_push_started(last)?;
            let req = PushRequest {
                client_id: store.client_id().to_string(),
                schema_version: SCHEMA_VERSION,
                mutations: batch,
            };
            let resp: PushResponse = self.authed(store, "/sync/v1/push", &req).await?;
            store.record_push(resp.last_mutation_id, &resp.results)?;
            report.pushed += resp.results.len() as u64;
            report.rejected += resp.results.iter().filter(|r| r.status == OutcomeStatus::Rejected).count() as u64;
            if resp.last_mutation_id < last {
                // The server stopped early (a transient failure on its side); what it did
                // process is settled, the rest goes in the next round.
                incomplete = Some(SyncError::PushIncomplete { processed: resp.last_mutation_id });
                break;
            }
        }
        let start = store.cursors()?;
        let result = self.pull_pages(store, &start, &mut report).await;
        self.set_progress(None);
        result?;
        match incomplete {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }

    /// Pulls until the server says complete, publishing progress from the second page on (a
    /// one-page pull is over before anyone could look).
    ///
    /// While one page is applied, the next is already asked for, with the cursors that page
    /// leaves behind: the server reads and sends it, and this desk reads its JSON, while SQLite
    /// writes the page before it. Pages are still applied one at a time, in order, each in its own
    /// transaction. The request sent ahead is used only if it is exactly the one this loop would
    /// send after the page is applied (same cursors, same oldest pending mutation); anything else
    /// — a failed or refused early request, cursors some other writer moved — drops it and asks
    /// again the ordinary way.
    async fn pull_pages(
        &self,
        store: &Store,
        start: &std::collections::BTreeMap<String, u64>,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        let mut req = self.pull_request(store)?;
        let mut ahead: Option<(PullRequest, Ahead)> = None;
        loop {
            let resp: wire::Pull = match ahead.take() {
                Some((asked, early)) if asked == req => match early.answer().await {
                    Some(resp) => resp,
                    None => self.authed(store, PULL_PATH, &req).await?,
                },
                _ => self.authed(store, PULL_PATH, &req).await?,
            };
            report.pulled += resp.changes() as u64;
            report.touched.extend(resp.buckets.iter().flat_map(|b| b.changes.iter().map(|c| c.entity)));
            if !resp.complete {
                let next = after(&req, &resp);
                let token = self.access_token(store, None).await?;
                let early = Ahead::send(&self.http, format!("{}{PULL_PATH}", self.base), token, next.clone());
                ahead = Some((next, early));
            }
            // An error here drops (and so cancels) the request sent ahead.
            store.apply_page(&resp)?;
            if resp.complete {
                return Ok(());
            }
            self.set_progress(Some(progress_of(&resp, start)));
            req = self.pull_request(store)?;
        }
    }

    fn pull_request(&self, store: &Store) -> Result<PullRequest, SyncError> {
        Ok(PullRequest {
            client_id: store.client_id().to_string(),
            schema_version: SCHEMA_VERSION,
            cursors: store.cursors()?,
            limit: Some(self.page_limit.unwrap_or(PULL_PAGE)),
            pending_from: store.oldest_pending()?,
        })
    }
}

const PULL_PATH: &str = "/sync/v1/pull";

/// The request that follows `req` once `resp` is applied: each bucket's cursor where the page
/// leaves it, removed buckets gone (as `Store::apply_page` records them).
fn after(req: &PullRequest, resp: &wire::Pull) -> PullRequest {
    let mut next = req.clone();
    for b in &resp.buckets {
        next.cursors.insert(b.bucket.clone(), b.cursor);
    }
    for b in &resp.removed_buckets {
        next.cursors.remove(b);
    }
    next
}

/// A pull request sent ahead, running on the runtime while the caller applies the page before
/// it. Dropped unanswered, it is cancelled. A pull changes nothing on the server beyond
/// registering the client id (which this desk's earlier requests already did), so an early
/// request that is never used leaves nothing behind.
struct Ahead(Option<tokio::task::JoinHandle<Result<wire::Pull, SyncError>>>);

impl Ahead {
    fn send(http: &reqwest::Client, url: String, token: String, req: PullRequest) -> Ahead {
        let http = http.clone();
        Ahead(Some(tokio::spawn(async move { post(&http, &url, &req, Some(&token)).await })))
    }

    /// The page, or `None` if the early request failed in any way (say its token expired
    /// meanwhile); the caller then asks again with its usual renewal and error reporting.
    async fn answer(mut self) -> Option<wire::Pull> {
        let task = self.0.take()?;
        match task.await {
            Ok(Ok(resp)) => Some(resp),
            Ok(Err(e)) => {
                tracing::debug!("pull sent ahead failed, asking again: {e}");
                None
            }
            Err(_) => None,
        }
    }
}

impl Drop for Ahead {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

async fn post<Req: Serialize, Resp: DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
    body: &Req,
    token: Option<&str>,
) -> Result<Resp, SyncError> {
    let mut req = http.post(url).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.map_err(|e| SyncError::Offline(without_url(&e)))?;
    if resp.status().is_success() {
        return resp.json::<Resp>().await.map_err(|e| SyncError::Protocol(without_url(&e)));
    }
    Err(refusal(resp).await)
}

/// The error a non-success answer stands for, from its `{code, message}` body.
async fn refusal(resp: reqwest::Response) -> SyncError {
    let status = resp.status();
    let api: Option<ApiError> = resp.json().await.ok();
    let (code, message) = api.map(|a| (a.code, a.message)).unwrap_or_else(|| ("HTTP".into(), status.to_string()));
    if status.as_u16() == 401 {
        if code.starts_with("MFA_") {
            return SyncError::SecondFactor { code, message };
        }
        return SyncError::Unauthorized(message);
    }
    SyncError::Server { status: status.as_u16(), code, message }
}

/// A [`SyncClient::staff_call`] request: any method, an optional JSON body, the server's
/// `ApiError` kept whole on a refusal.
async fn call<T: DeserializeOwned, B: Serialize + ?Sized>(
    http: &reqwest::Client,
    method: Method,
    url: &str,
    body: Option<&B>,
    token: &str,
) -> Result<T, SyncError> {
    let mut req = http.request(method, url).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(b);
    }
    let resp = req.send().await.map_err(|e| SyncError::Offline(without_url(&e)))?;
    let status = resp.status();
    let bytes = resp.bytes().await.map_err(|e| SyncError::Offline(without_url(&e)))?;
    if status.is_success() {
        let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
        return serde_json::from_slice(bytes).map_err(|e| SyncError::Protocol(e.to_string()));
    }
    let api: Option<ApiError> = serde_json::from_slice(&bytes).ok();
    if status.as_u16() == 401 {
        return Err(SyncError::Unauthorized(api.map_or_else(|| status.to_string(), |a| a.message)));
    }
    Err(match api {
        Some(a) => SyncError::Refused { status: status.as_u16(), code: a.code, message: a.message, field: a.field },
        None => SyncError::Refused {
            status: status.as_u16(),
            code: "HTTP".into(),
            message: status.to_string(),
            field: None,
        },
    })
}

/// Progress of a pull: for each bucket, how far its cursor moved from where this pull started,
/// against how far its head is.
fn progress_of(
    resp: &wire::Pull,
    start: &std::collections::BTreeMap<String, u64>,
) -> tourdesk_domain::ipc::SyncProgress {
    let (mut done, mut total) = (0u64, 0u64);
    for b in &resp.buckets {
        let from = start.get(&b.bucket).copied().unwrap_or(0);
        done += b.cursor.saturating_sub(from);
        total += b.head.max(b.cursor).saturating_sub(from);
    }
    tourdesk_domain::ipc::SyncProgress { done, total }
}

/// Records what the server issued and who this desk now is. The device and refresh token are
/// saved before the session: the previous refresh token is already spent, even if the session
/// is then refused as a change of identity.
fn adopt(store: &Store, resp: SignInResponse) -> Result<(Session, String), SyncError> {
    store.save_device_auth(&resp.device_id, &resp.refresh_token)?;
    let session = session_of(&resp);
    store.save_session(&session)?;
    Ok((session, resp.access_token))
}

fn session_of(resp: &SignInResponse) -> Session {
    let u = &resp.user;
    Session {
        user_id: u.id.clone(),
        user_name: u.name.clone(),
        role: u.role,
        organization_id: u.organization_id.clone(),
        organization_name: u.organization_name.clone(),
        organization_defaults: u.organization_defaults.clone(),
    }
}

/// reqwest errors print the URL; ours carry no secrets, but keep messages short for the UI.
fn without_url(e: &reqwest::Error) -> String {
    let mut msg = e.to_string();
    if let Some(url) = e.url() {
        msg = msg.replace(&format!(" for url ({url})"), "");
    }
    if e.is_connect() { "connection refused".to_string() } else { msg }
}

#[cfg(test)]
mod progress_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::wire::{Bucket, Pull};

    #[test]
    fn progress_sums_buckets_from_where_the_pull_started() {
        let page = |bucket: &str, cursor, head| Bucket { bucket: bucket.into(), changes: vec![], cursor, head };
        let resp = Pull {
            buckets: vec![page("a", 60, 100), page("b", 10, 10)],
            complete: false,
            last_mutation_id: 0,
            results: vec![],
            removed_buckets: vec![],
        };
        let start = [("a".to_string(), 20u64)].into_iter().collect();
        let p = progress_of(&resp, &start);
        assert_eq!((p.done, p.total), (40 + 10, 80 + 10));
        assert_eq!(p.percent(), 55);
    }

    #[test]
    fn the_request_sent_ahead_carries_the_cursors_the_page_leaves() {
        let page = |bucket: &str, cursor| Bucket { bucket: bucket.into(), changes: vec![], cursor, head: 99 };
        let resp = Pull {
            buckets: vec![page("a", 60), page("new", 7)],
            complete: false,
            last_mutation_id: 0,
            results: vec![],
            removed_buckets: vec!["gone".into()],
        };
        let req = PullRequest {
            client_id: "c".into(),
            schema_version: SCHEMA_VERSION,
            cursors: [("a", 20u64), ("b", 5), ("gone", 3)].into_iter().map(|(b, c)| (b.to_string(), c)).collect(),
            limit: Some(PULL_PAGE),
            pending_from: Some(4),
        };
        let next = after(&req, &resp);
        let cursors: Vec<(&str, u64)> = next.cursors.iter().map(|(b, c)| (b.as_str(), *c)).collect();
        assert_eq!(cursors, [("a", 60), ("b", 5), ("new", 7)]);
        assert_eq!((next.client_id.as_str(), next.limit, next.pending_from), ("c", Some(PULL_PAGE), Some(4)));
    }
}
