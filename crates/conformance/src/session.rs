//! A connection to the server under test: both clients, what they learned at the start
//! (tenants, the server's today), the built-in variables, and cleanup of what a run made.

use std::sync::atomic::{AtomicU64, Ordering};

use reportcheck_client::{Client, ClientOptions, Credentials, Error as ClientError, RawRequest, RawResponse, Secret};
use reportcheck_model::{Date, Id};
use reqwest::Method;
use serde_json::{Value, json};
use time::Duration;

use crate::contract::Party;
use crate::control::RunControl;
use crate::error::Error;
use crate::redact::Redactor;
use crate::template::Vars;

/// The recipient used where a `send` report needs one.
pub const RECIPIENT: &str = "ca451758-b48a-45d9-9ae6-8f1059f67619";

/// Client credentials of one side: the client id (it names the client in
/// `GET /clients/{id}`, which tells the run its tenant) and either the secret or a ready
/// bearer token. With a token only, the steps that need the secret (the token endpoint's
/// own contracts) are skipped, with that reason.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    pub client_id: String,
    pub client_secret: Secret,
    /// A bearer token to use instead of exchanging the secret.
    pub bearer: Option<Secret>,
}

impl ClientCredentials {
    /// The secret, when the run has one (not with a bearer token alone).
    pub fn secret(&self) -> Option<&Secret> {
        Some(&self.client_secret).filter(|_| self.bearer.is_none())
    }
}

/// One API client of the run.
#[derive(Debug, Clone)]
pub struct Side {
    pub client: Client,
    pub credentials: ClientCredentials,
    pub tenant: Option<Id>,
}

#[derive(Debug)]
pub struct Session {
    pub a: Side,
    pub b: Option<Side>,
    pub today: Date,
    pub redactor: Redactor,
    pub base_url: String,
    requests: AtomicU64,
    bogus_token: String,
    /// Stops the run, and knows every report it created and has not deleted.
    pub control: RunControl,
    /// How many requests may be in flight, and how many may start per second.
    pub pace: crate::pace::Pace,
    /// A tenant below the first client's, for the checks on its subtree.
    pub child_tenant: Option<Id>,
    /// The report `probe_today` created (id, version), deleted beside the first checks.
    probe: std::sync::Mutex<Option<(String, String)>>,
    /// Set once connected: from then on a request without an answer is `Unanswered`
    /// while the server answers a probe, and the run's end once it does not.
    connected: bool,
    /// The server stopped answering (a probe got no answer either).
    gone: std::sync::atomic::AtomicBool,
    /// One liveness probe at a time.
    probing: tokio::sync::Mutex<()>,
}

impl Session {
    /// Connects both clients. A transport failure is `Unreachable`, refused credentials
    /// are `BadCredentials`; a failing `GET /clients/{id}` leaves the tenant unknown (the
    /// runner reports AUTH-4).
    pub async fn connect(
        base_url: &str,
        a: ClientCredentials,
        b: Option<ClientCredentials>,
        options: ClientOptions,
    ) -> Result<(Session, Vec<(Party, String)>), Error> {
        Session::connect_with(base_url, a, b, options, RunControl::default()).await
    }

    /// [`Session::connect`], steered by `control`.
    pub async fn connect_with(
        base_url: &str,
        a: ClientCredentials,
        b: Option<ClientCredentials>,
        options: ClientOptions,
        control: RunControl,
    ) -> Result<(Session, Vec<(Party, String)>), Error> {
        let mut redactor = Redactor::default();
        let mut problems = Vec::new();
        let mut sides = Vec::new();
        let mut clients = Vec::new();
        for (party, credentials) in [(Party::A, Some(a)), (Party::B, b)] {
            let Some(credentials) = credentials else { continue };
            redactor.add(credentials.client_secret.expose());
            // The Basic authorization value is as secret as the secret itself.
            redactor.add(&base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                format!("{}:{}", credentials.client_id, credentials.client_secret.expose()),
            ));
            for (_, value) in &options.headers {
                redactor.add(value.expose());
            }
            let client_credentials = match &credentials.bearer {
                Some(token) => {
                    redactor.add(token.expose());
                    Credentials::Bearer(token.clone())
                }
                None => Credentials::client_secret(&credentials.client_id, credentials.client_secret.clone()),
            };
            let client = Client::with_options(base_url, client_credentials, options.clone())
                .map_err(|err| Error::Options(err.to_string()))?;
            clients.push((party, credentials, client));
        }
        // Both clients learn their tenant at the same time; their findings are read in
        // order, the first client's first.
        // The client id names the client whichever way it authenticates (a secret or a
        // ready bearer token).
        let whoami = futures_util::future::join_all(clients.iter().map(|(_, credentials, client)| async move {
            match credentials.client_id.parse() {
                Ok(id) => client.get_client(id).await,
                Err(_) => client.whoami().await,
            }
        }));
        // Connecting obeys a stop (a signal, the overall timeout) like every other request.
        let answers = tokio::select! {
            biased;
            () = control.stopped() => return Err(Error::Stopped(control.stop_reason().unwrap_or_default())),
            answers = whoami => answers,
        };
        for ((party, credentials, client), answer) in clients.into_iter().zip(answers) {
            let which = match party {
                Party::A => format!("the first client ({})", credentials.client_id),
                Party::B => format!("the second client ({})", credentials.client_id),
            };
            let tenant = match answer {
                Ok(me) => Some(me.tenant_id),
                Err(err) => {
                    let timeout = options.request_timeout;
                    let answered = fatal(err).map_err(|err| match err {
                        Error::BadCredentials(message) => {
                            Error::BadCredentials(format!("{which}: {}", redactor.text(&message)))
                        }
                        Error::Unreachable(message) => Error::Unreachable(unreachable(&message, timeout)),
                        other => other,
                    })?;
                    problems.push((party, client.redact(&redactor.text(&answered.to_string()))));
                    None
                }
            };
            sides.push(Side { client, credentials, tenant });
        }
        let mut sides = sides.into_iter();
        let a = sides.next().ok_or_else(|| Error::Options("no client credentials".to_owned()))?;
        let b = sides.next();
        let bogus_token = format!("{}{}", Id::new_v4().as_uuid().simple(), Id::new_v4().as_uuid().simple());
        redactor.add(&bogus_token);
        let mut session = Session {
            a,
            b,
            today: time::OffsetDateTime::now_utc().date(),
            redactor,
            base_url: base_url.to_owned(),
            requests: AtomicU64::new(0),
            bogus_token,
            control,
            pace: crate::pace::Pace::default(),
            child_tenant: None,
            probe: std::sync::Mutex::new(None),
            connected: false,
            gone: std::sync::atomic::AtomicBool::new(false),
            probing: tokio::sync::Mutex::new(()),
        };
        // Both clients are known from here: a request without an answer is probed for.
        session.connected = true;
        // The last round trip of the setup: the server's today, and where the second
        // client is, at once.
        let (today, outside) = futures_util::join!(session.probe_today(), session.second_client_outside());
        if let Err(err) = outside {
            session.remove_probe().await;
            return Err(err);
        }
        session.today = today?.unwrap_or(session.today);
        Ok((session, problems))
    }

    pub fn side(&self, party: Party) -> Option<&Side> {
        match party {
            Party::A => Some(&self.a),
            Party::B => self.b.as_ref(),
        }
    }

    pub fn bogus_token(&self) -> &str {
        &self.bogus_token
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Sends through a side's client; a server that cannot be reached (after the client's
    /// retries) ends the run.
    ///
    /// Once the run is stopped, nothing new is sent (`Error::Stopped`), and a request in
    /// flight is abandoned unless it may create something (a POST runs to its end, so
    /// every report the run creates is known and can be deleted).
    pub async fn send(&self, side: &Side, request: &RawRequest) -> Result<RawResponse, Error> {
        let stopped = || Error::Stopped(self.control.stop_reason().unwrap_or_default());
        if self.control.stop_reason().is_some() {
            return Err(stopped());
        }
        // A request still waiting for its slot (`--concurrency`, `--rps`) is dropped at a
        // stop: queued work never goes out.
        let slot = tokio::select! {
            biased;
            () = self.control.stopped() => return Err(stopped()),
            slot = self.pace.slot() => slot,
        };
        if self.control.stop_reason().is_some() {
            return Err(stopped());
        }
        let result = if request.method == Method::POST {
            self.send_in_slot(side, request, slot).await
        } else {
            tokio::select! {
                biased;
                response = self.send_in_slot(side, request, slot) => response,
                () = self.control.stopped() => Err(stopped()),
            }
        };
        match result {
            Err(Error::Unreachable(message)) if self.answers_others().await => {
                Err(Error::Unanswered(self.redact(&format!("{} {} ({message})", request.method, request.path))))
            }
            other => other,
        }
    }

    /// After a request got no answer: whether the server still answers (a read of an
    /// unknown report, any status, within three tries). Once it does not, the run ends
    /// as unreachable, and later requests without an answer are not probed again. A stop
    /// ends the probing at once (no answer, then).
    async fn answers_others(&self) -> bool {
        if !self.connected || self.gone.load(Ordering::Relaxed) {
            return false;
        }
        let _one = self.probing.lock().await;
        if self.gone.load(Ordering::Relaxed) {
            return false;
        }
        // Up to three probes, one after the other: one lost answer says no more about the
        // server than the request that set this off.
        let mut answered = false;
        for _ in 0..3 {
            let probe = RawRequest::new(Method::GET, format!("/reports/{}", Id::new_v4()));
            let probed = async {
                let slot = self.pace.slot().await;
                self.send_in_slot(&self.a, &probe, slot).await.is_ok()
            };
            let probed = tokio::select! {
                biased;
                () = self.control.stopped() => return false,
                probed = probed => probed,
            };
            if probed {
                answered = true;
                break;
            }
        }
        if !answered {
            self.gone.store(true, Ordering::Relaxed);
        }
        answered
    }

    /// Sends even when the run is stopped (the cleanup), keeping track of the reports
    /// created and deleted.
    async fn send_always(&self, side: &Side, request: &RawRequest) -> Result<RawResponse, Error> {
        let slot = self.pace.slot().await;
        self.send_in_slot(side, request, slot).await
    }

    /// Sends in a slot of the pace, which is held until the answer is read.
    async fn send_in_slot(
        &self,
        side: &Side,
        request: &RawRequest,
        _slot: crate::pace::Slot,
    ) -> Result<RawResponse, Error> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let timeout = side.client.options().request_timeout;
        let response = side.client.send_raw(request).await.map_err(|err| match fatal(err) {
            Ok(err) => Error::Unreachable(format!("unexpected client failure: {err}")),
            Err(Error::Unreachable(message)) => Error::Unreachable(unreachable(&message, timeout)),
            Err(fatal) => fatal,
        })?;
        self.track(side, request, &response);
        Ok(response)
    }

    /// Notes a report created (`POST /reports` answered 2xx with an id) or deleted.
    fn track(&self, side: &Side, request: &RawRequest, response: &RawResponse) {
        if !response.status.is_success() {
            return;
        }
        let path = request.path.split('?').next().unwrap_or_default();
        if request.method == Method::POST && path == "/reports" {
            let party = if std::ptr::eq(side, &self.a) { Party::A } else { Party::B };
            let created: Option<Value> = serde_json::from_slice(&response.body).ok();
            if let Some(id) = created.as_ref().and_then(|body| body["id"].as_str()) {
                self.control.created(id, party);
            }
        } else if request.method == Method::DELETE
            && let Some(id) = path.strip_prefix("/reports/").filter(|id| !id.contains('/'))
        {
            self.control.deleted(id);
        }
    }

    /// Deletes every report the run created and has not deleted, at its current version,
    /// even when the run was stopped; returns the ids of those left behind.
    pub async fn clean_up(&self) -> Vec<String> {
        // Twice: a request of the first pass that got no answer is tried once more
        // (unless the server answers nothing any more).
        for pass in 0..2 {
            if pass > 0 && self.gone.load(Ordering::Relaxed) {
                break;
            }
            let removals = self.control.tracked().into_iter().filter_map(|(id, party)| {
                let side = self.side(party)?;
                Some(async move {
                    let _ = self.remove_with(side, &id, true).await;
                })
            });
            futures_util::future::join_all(removals).await;
        }
        self.control.left_behind()
    }

    /// Every secret the run knows replaced: client secrets, the clients' current tokens,
    /// the bogus token.
    pub fn redact(&self, text: &str) -> String {
        let mut text = self.redactor.text(text);
        for side in std::iter::once(&self.a).chain(&self.b) {
            text = side.client.redact(&text);
        }
        text
    }

    /// Redacts secret keys and every known secret in a JSON value.
    pub fn redact_json(&self, value: &Value) -> Value {
        let text = self.redactor.json(value).to_string();
        serde_json::from_str(&self.redact(&text)).unwrap_or(Value::Null)
    }

    /// Whether `text` holds a secret the run knows.
    pub fn leaks(&self, text: &str) -> bool {
        self.redact(text) != text
    }

    /// The variables every contract may use.
    pub fn vars(&self) -> Vars {
        let day = |date: Date| Value::String(reportcheck_model::date::format_day(date));
        let previous = reportcheck_model::rule_check::previous_month(self.today);
        let mut vars = Vars::new();
        vars.insert("today".to_owned(), day(self.today));
        vars.insert("yesterday".to_owned(), day(self.today - Duration::days(1)));
        vars.insert("tomorrow".to_owned(), day(self.today + Duration::days(1)));
        vars.insert("in_a_week".to_owned(), day(self.today + Duration::days(7)));
        vars.insert("prev_month_start".to_owned(), day(previous.start));
        vars.insert("prev_month_end".to_owned(), day(previous.end));
        vars.insert("next_month_first".to_owned(), day(reportcheck_model::rule_check::first_of_next_month(self.today)));
        vars.insert("unknown_id".to_owned(), json!(Id::new_v4()));
        vars.insert("recipient".to_owned(), json!(RECIPIENT));
        vars.insert("bogus_token".to_owned(), json!(self.bogus_token));
        vars.insert("client_id".to_owned(), json!(self.a.credentials.client_id));
        if let Some(secret) = self.a.credentials.secret() {
            vars.insert("client_secret".to_owned(), json!(secret.expose()));
        }
        if let Some(tenant) = self.a.tenant {
            vars.insert("tenant".to_owned(), json!(tenant));
        }
        if let Some(child) = self.child_tenant {
            vars.insert("child_tenant".to_owned(), json!(child));
        }
        if let Some(b) = &self.b {
            vars.insert("other_client_id".to_owned(), json!(b.credentials.client_id));
            if let Some(tenant) = b.tenant {
                vars.insert("other_tenant".to_owned(), json!(tenant));
            }
        }
        debug_assert!(
            vars.keys().all(|name| crate::template::BUILTIN.contains(&name.as_str())),
            "template::BUILTIN lists every built-in variable (contracts are checked against it at load)"
        );
        vars
    }

    /// A second client must be of another tenant, outside the first one's subtree, or the
    /// SEC checks would blame the server for what the clients are allowed to do.
    async fn second_client_outside(&self) -> Result<(), Error> {
        let (Some(b), Some(tenant_a)) = (&self.b, self.a.tenant) else { return Ok(()) };
        let Some(tenant_b) = b.tenant else { return Ok(()) };
        if tenant_a == tenant_b {
            return Err(Error::Options(format!(
                "the second client ({}) belongs to the first client's tenant {tenant_a}; the SEC checks need a \
                 client of a tenant outside the first one's subtree",
                b.credentials.client_id
            )));
        }
        // Inside the subtree: the first client reads the second's tenant, not the reverse
        // (both ways would be a server that lets anyone read anything: a finding, not this).
        let list = |tenant| RawRequest::new(Method::GET, format!("/tenants/{tenant}/reports"));
        let (down, up) =
            futures_util::future::join(self.send(&self.a, &list(tenant_b)), self.send(b, &list(tenant_a))).await;
        // A read without an answer leaves the question open: the checks go on.
        let answered = |read: Result<RawResponse, Error>| match read {
            Err(Error::Unanswered(_)) => Ok(None),
            other => other.map(|answer| Some(answer.status.is_success())),
        };
        if answered(down)? == Some(true) && answered(up)? == Some(false) {
            return Err(Error::Options(format!(
                "the second client ({}) belongs to tenant {tenant_b}, inside the first client's subtree ({tenant_a}): \
                 the SEC checks need a client of a tenant outside it",
                b.credentials.client_id
            )));
        }
        Ok(())
    }

    /// The server's today: a one-time report created without `generation_date` is
    /// generated today (CRT-7). Falls back to the UTC date when that does not work or
    /// disagrees with it by more than a day.
    async fn probe_today(&self) -> Result<Option<Date>, Error> {
        let Some(tenant) = self.a.tenant else { return Ok(None) };
        let body = json!({"recipients": [RECIPIENT], "result_action": "send",
            "parameters": {"tenant_id": tenant, "kind": "usage_current", "level": "direct_partners"},
            "schedule": {"type": "once"}});
        let response = match self.send(&self.a, &RawRequest::new(Method::POST, "/reports").json(&body)).await {
            Ok(response) => response,
            // The UTC date, then.
            Err(Error::Unanswered(_)) => return Ok(None),
            Err(err) => return Err(err),
        };
        let created: Option<Value> = serde_json::from_slice(&response.body).ok();
        let Some(created) = created.filter(|_| response.status.is_success()) else { return Ok(None) };
        // Deleted beside the first checks (`remove_probe`); until then, and if that
        // fails, it stays tracked: the run's cleanup deletes it, or names it as left behind.
        if let Some(id) = created["id"].as_str() {
            *self.probe.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                Some((id.to_owned(), version_of(&created).unwrap_or_default()));
        }
        let probed = created["generation_date"].as_str().and_then(|text| reportcheck_model::date::parse_day(text).ok());
        let utc = time::OffsetDateTime::now_utc().date();
        Ok(probed.filter(|date| (*date - utc).whole_days().abs() <= 1))
    }

    /// Deletes the report the today probe created, if there is one.
    pub async fn remove_probe(&self) {
        let probe = self.probe.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some((id, version)) = probe {
            let _ = self.remove_known(&self.a, &id, &version).await;
        }
    }

    /// Deletes a report at the version the caller knows, in one request; when that does
    /// not delete it (the version moved on), as [`Session::remove`] does.
    pub async fn remove_known(&self, side: &Side, id: &str, version: &str) -> Result<(), Error> {
        let delete = RawRequest::new(Method::DELETE, format!("/reports/{id}?version={version}"));
        let answer = match self.send(side, &delete).await {
            Ok(answer) => answer,
            // Still tracked: the run's cleanup tries again.
            Err(Error::Unanswered(_)) => return Ok(()),
            Err(err) => return Err(err),
        };
        if answer.status == reqwest::StatusCode::NOT_FOUND {
            self.control.deleted(id);
        }
        if answer.status.is_success() || answer.status == reqwest::StatusCode::NOT_FOUND {
            return Ok(());
        }
        self.remove_with(side, id, false).await
    }

    /// Deletes a report this run created, at its current version; errors are ignored
    /// (the report may be gone already).
    pub async fn remove(&self, side: &Side, report: &Value) -> Result<(), Error> {
        let Some(id) = report["id"].as_str() else { return Ok(()) };
        self.remove_with(side, id, false).await
    }

    async fn remove_with(&self, side: &Side, id: &str, always: bool) -> Result<(), Error> {
        let send = |request: RawRequest| async move {
            if always { self.send_always(side, &request).await } else { self.send(side, &request).await }
        };
        let current = match send(RawRequest::new(Method::GET, format!("/reports/{id}"))).await {
            Ok(current) => current,
            // Still tracked: the run's cleanup tries again.
            Err(Error::Unanswered(_)) => return Ok(()),
            Err(err) => return Err(err),
        };
        if current.status == reqwest::StatusCode::NOT_FOUND {
            self.control.deleted(id);
        }
        if !current.status.is_success() {
            return Ok(());
        }
        let version = serde_json::from_slice::<Value>(&current.body).ok().and_then(|body| version_of(&body));
        if let Some(version) = version {
            match send(RawRequest::new(Method::DELETE, format!("/reports/{id}?version={version}"))).await {
                Ok(_) | Err(Error::Unanswered(_)) => {}
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }
}

/// A report's `version` as a query value (a number, or a string where servers send one).
pub(crate) fn version_of(report: &Value) -> Option<String> {
    match &report["version"] {
        Value::String(text) => Some(text.clone()),
        other => other.as_i64().map(|n| n.to_string()),
    }
}

/// An unreachable server's message; a timeout says the server accepted the connection
/// and did not answer.
fn unreachable(message: &str, timeout: Option<std::time::Duration>) -> String {
    match timeout {
        Some(timeout) if message.contains("timed out") => {
            format!("no answer within {} s (--request-timeout): {message}", timeout.as_secs_f64())
        }
        _ => message.to_owned(),
    }
}

/// Sorts a client error: `Err` when the run cannot go on (unreachable server, refused
/// credentials), `Ok` when the server answered and the answer is a finding.
pub fn fatal(err: ClientError) -> Result<ClientError, Error> {
    match err {
        ClientError::Transport { .. } | ClientError::RetriesExhausted { .. } => {
            Err(Error::Unreachable(err.to_string()))
        }
        ClientError::Auth { .. } => Err(Error::BadCredentials(err.to_string())),
        answered => Ok(answered),
    }
}
