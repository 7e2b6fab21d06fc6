//! Judging live traffic with the decider, from both sides, with the state learned from
//! the traffic itself: which token belongs to which client (the token answers), which
//! client to which tenant (`GET /clients/{id}`), and every report seen created, read,
//! updated or deleted.
//!
//! - The **client** is held to what the rules refuse: a request the decider refuses is a
//!   client finding under the rule that refuses it, with what a correct client sends.
//!   Without the state (a report made before the proxy started, a caller not yet seen),
//!   only what the rules refuse whatever the state counts.
//! - The **server** is held to the branch its answer took, its claims compared as in a
//!   conformance run (`verdict::judge`), and every answer to the implicit checks
//!   (schemas, error bodies, no echoed secret). Without the state, only the statuses the
//!   operation can answer and the implicit checks count. Then the answer becomes state.
//!
//! A client finding never fails the server, a server finding never the client.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::http::{HeaderMap, Method, header};
use base64::Engine as _;
use bytes::Bytes;
use parking_lot::Mutex;
use reportcheck_model::decide::{self, Caller, Decision, Known, Request};
use reportcheck_model::{Id, Operation, Report, Rule};
use serde::Serialize;
use serde_json::Value;

use crate::checks::{self, Exchange};
use crate::contract::Case;
use crate::openapi::Spec;
use crate::redact::Redactor;

/// Which side of the traffic a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Client,
    Server,
}

impl Side {
    pub fn name(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }
}

/// One finding, as it was printed: secrets redacted.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub side: Side,
    pub rule: Rule,
    pub message: String,
    /// What a correct client sends instead (client findings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instead: Option<&'static str>,
    /// The request line and body.
    pub request: String,
    /// The status and body of the answer.
    pub answer: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {:<7} {}: {}",
            self.side.name(),
            self.rule.id(),
            self.request.lines().next().unwrap_or_default(),
            self.message
        )?;
        if let Some(instead) = self.instead {
            write!(f, " (a correct client: {instead})")?;
        }
        Ok(())
    }
}

/// When a request was sent, relative to the other exchanges: what the judge may hold
/// it to depends on what had ended before it started, and on what overlapped it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ticket {
    /// The judge's clock when the request arrived.
    sent: u64,
    /// The report the request goes to.
    target: Option<Id>,
    /// Whether it writes that report (a PUT or a DELETE).
    write: bool,
    /// Whether another write to the report was in flight when it arrived.
    overlapped: bool,
}

/// One request and its answer, as they went through.
#[derive(Debug, Clone)]
pub struct Exchanged {
    pub ticket: Ticket,
    pub method: Method,
    pub path_and_query: String,
    pub request_headers: HeaderMap,
    pub request_body: Bytes,
    pub status: u16,
    pub response_headers: HeaderMap,
    /// Its first bytes (`forward::MAX_JUDGED_BYTES`), as sent (encoded).
    pub response_body: Bytes,
    /// Whether the answer ended (a client that left cuts it off).
    pub complete: bool,
}

/// What the judge learned and found.
#[derive(Debug, Default)]
struct State {
    redactor: Redactor,
    /// Access token → client id.
    tokens: HashMap<String, Id>,
    /// Client id → tenant.
    tenants: HashMap<Id, Id>,
    reports: BTreeMap<Id, Report>,
    deleted: Vec<Id>,
    findings: Vec<Finding>,
    exercised: BTreeSet<(Side, Rule, Case)>,
    failed: BTreeSet<(Side, Rule)>,
    counts: Counts,
    /// Ticks at every request's arrival and every exchange's end.
    clock: u64,
    writes_in_flight: HashMap<Id, u32>,
    /// When the last write to a report ended.
    last_write_ended: HashMap<Id, u64>,
    /// When the proxy learned of a report (its create, or a read of it, ended).
    learned: HashMap<Id, u64>,
    /// When a DELETE of a report arrived that has not ended yet.
    delete_pending: HashMap<Id, u64>,
    /// When a report's DELETE ended, the report gone.
    deleted_at: HashMap<Id, u64>,
    /// `--record`: the exchanges judged with state, as steps of a contract.
    recording: Option<Recording>,
}

/// The traffic as the steps of a contract: the first two tenants seen are its parties,
/// the reports created in the traffic its variables.
#[derive(Debug, Default)]
struct Recording {
    sent: Vec<crate::property::Sent>,
    labels: BTreeMap<Id, String>,
    parties: Vec<Id>,
}

impl State {
    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    /// The ticket's write has ended.
    fn release(&mut self, ticket: Ticket) {
        let Some(id) = ticket.target.filter(|_| ticket.write) else { return };
        let tick = self.tick();
        if let Some(count) = self.writes_in_flight.get_mut(&id) {
            *count = count.saturating_sub(1);
        }
        self.last_write_ended.insert(id, tick);
        self.delete_pending.remove(&id);
    }
}

/// How many exchanges went through, and how they were judged.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Counts {
    pub exchanges: u64,
    /// Judged with the decider over the known state.
    pub with_state: u64,
    /// Judged by what holds whatever the state.
    pub without_state: u64,
    /// Outside the API (another path), forwarded only.
    pub not_judged: u64,
    /// Requests the upstream did not answer.
    pub unanswered: u64,
}

impl Known for State {
    fn report(&self, id: Id) -> Option<&Report> {
        self.reports.get(&id)
    }

    /// Only a tenant's own reports are judged with state; the tree above and below a
    /// tenant is not seen in traffic.
    fn is_within(&self, tenant: Id, caller: Id) -> bool {
        tenant == caller
    }
}

/// The judge of one proxy.
pub struct Judge {
    /// The API's base path on the upstream (`/api/2`).
    base: String,
    spec: Spec,
    state: Mutex<State>,
    on_finding: Box<dyn Fn(&Finding) + Send + Sync>,
}

impl std::fmt::Debug for Judge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Judge").field("base", &self.base).finish_non_exhaustive()
    }
}

/// The API's request, parsed from the method and the path below the base.
fn api_request<'a>(
    method: &Method,
    segments: &[&'a str],
    query: Option<&'a str>,
    content_type: Option<&'a str>,
    body: &'a [u8],
) -> Option<Request<'a>> {
    let version = query.and_then(|query| query.split('&').find_map(|pair| pair.strip_prefix("version=")));
    Some(match (method.as_str(), segments) {
        ("POST", ["reports"]) => Request::Create { content_type, body },
        ("GET", ["reports", id]) => Request::Get { id },
        ("PUT", ["reports", id]) => Request::Update { id, content_type, body },
        ("DELETE", ["reports", id]) => Request::Delete { id, version },
        ("GET", ["tenants", tenant, "reports"]) => Request::List { tenant },
        ("GET", ["reports", id, "stored"]) => Request::Stored { id },
        ("GET", ["reports", id, "stored", stored_id]) => Request::Download { id, stored_id },
        _ => return None,
    })
}

/// What a correct client sends instead, for a request refused under `rule`.
fn instead(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::Auth3 => "Authorization: Bearer <the access_token of POST /idp/token>",
        Rule::Crt2 => "recipients on a send report only, and at least one",
        Rule::Crt3 => "a period that ends today or before and starts before it ends",
        Rule::Crt4 => "a body of reportPost's schema: no unknown keys, no null, lower-case enum values and UUIDs",
        Rule::Crt5 | Rule::Upd8 => "Content-Type: application/json and a JSON body",
        Rule::Crt6 => "a tenant_id of the caller's tenant or one below it",
        Rule::Upd1 => "updates of scheduled reports only (monthly, or once and not yet generated)",
        Rule::Upd2 => "only parameters.kind and parameters.level (a fixed parameter at most with its current value)",
        Rule::Upd3 => "recipients on a send report only",
        Rule::Upd5 => "a body of reportPut's schema: recipients, parameters.kind/level, schedule.enabled, nothing else",
        Rule::Del2 => "DELETE /reports/{id}?version=<the report's current version>",
        Rule::Del3 => "the report's current version (read it first)",
        Rule::Get3 => "report ids as lower-case UUIDs",
        Rule::Sec1 => "only the caller's own tenant's reports",
        _ => return None,
    })
}

/// The body as its `Content-Encoding` left it, decoded for judging.
fn decoded_body(exchanged: &Exchanged) -> Result<Vec<u8>, String> {
    let coding = exchanged.response_headers.get(header::CONTENT_ENCODING).and_then(|value| value.to_str().ok());
    match coding {
        Some(coding) if coding.trim().eq_ignore_ascii_case("gzip") => {
            checks::decoded(Some(coding), &exchanged.response_body)
        }
        _ => Ok(exchanged.response_body.to_vec()),
    }
}

/// `Basic base64(id:secret)`: the id and the secret.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let (id, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim()).filter(|token| !token.is_empty())
}

const QUOTED_BODY_CHARS: usize = 2000;

fn quoted(redactor: &Redactor, body: &[u8]) -> String {
    let text = match serde_json::from_slice::<Value>(body) {
        Ok(json) => redactor.json(&json).to_string(),
        Err(_) => redactor.text(&String::from_utf8_lossy(body)),
    };
    let mut shown: String = text.chars().take(QUOTED_BODY_CHARS).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    shown
}

impl Judge {
    pub fn new(base: &str, record: bool, on_finding: Box<dyn Fn(&Finding) + Send + Sync>) -> Judge {
        let state = State { recording: record.then(Recording::default), ..State::default() };
        Judge {
            base: base.trim_end_matches('/').to_owned(),
            spec: Spec::builtin(),
            state: Mutex::new(state),
            on_finding,
        }
    }

    /// `--record`: the traffic judged with state as a contract, its expectations built
    /// from the decisions (the claims pinned, nothing else), `None` when nothing was.
    pub fn recorded(&self) -> Option<crate::contract::Contract> {
        let state = self.state.lock();
        let recording = state.recording.as_ref().filter(|recording| !recording.sent.is_empty())?;
        let today = time::OffsetDateTime::now_utc().date();
        let day = |date: time::Date| Value::String(reportcheck_model::date::format_day(date));
        let mut vars = crate::template::Vars::new();
        vars.insert("today".to_owned(), day(today));
        vars.insert("yesterday".to_owned(), day(today - time::Duration::days(1)));
        vars.insert("tomorrow".to_owned(), day(today + time::Duration::days(1)));
        vars.insert("recipient".to_owned(), Value::from(crate::session::RECIPIENT));
        for (name, tenant) in ["tenant", "other_tenant"].into_iter().zip(&recording.parties) {
            vars.insert(name.to_owned(), serde_json::json!(tenant));
        }
        let description = format!(
            "Traffic recorded through reportcheck proxy on {}: {} exchanges judged with the known state.",
            reportcheck_model::date::format_day(today),
            recording.sent.len()
        );
        let name = format!("proxied-traffic-{}", reportcheck_model::date::format_day(today));
        Some(crate::property::replay::contract(name, description, &recording.sent, &vars))
    }

    /// The path below the base, or `None` outside the API.
    fn below_base<'p>(&self, path: &'p str) -> Option<&'p str> {
        path.strip_prefix(self.base.as_str()).filter(|rest| rest.is_empty() || rest.starts_with('/'))
    }

    /// A request arrives: its ticket says what it overlaps.
    pub fn sent(&self, method: &Method, path_and_query: &str) -> Ticket {
        let mut state = self.state.lock();
        let path = path_and_query.split('?').next().unwrap_or_default();
        let target = self
            .below_base(path)
            .and_then(|below| below.strip_prefix("/reports/"))
            .and_then(|rest| rest.split('/').next())
            .and_then(|id| id.parse::<Id>().ok());
        let write = target.is_some() && matches!(*method, Method::PUT | Method::DELETE) && !path.ends_with("/stored");
        let sent = state.tick();
        let mut overlapped = false;
        if let Some(id) = target {
            overlapped = state.writes_in_flight.get(&id).is_some_and(|count| *count > 0);
            if write {
                *state.writes_in_flight.entry(id).or_default() += 1;
            }
            if *method == Method::DELETE {
                state.delete_pending.entry(id).or_insert(sent);
            }
        }
        Ticket { sent, target, write, overlapped }
    }

    /// A request the upstream did not answer (a finding of the server, under the rule of
    /// the operation's accepted outcome).
    pub fn unanswered(&self, ticket: Ticket, method: &Method, path_and_query: &str, why: &str) {
        let mut state = self.state.lock();
        state.release(ticket);
        state.counts.exchanges += 1;
        state.counts.unanswered += 1;
        let path = path_and_query.split('?').next().unwrap_or_default();
        let Some(operation) = self.below_base(path).and_then(|below| Operation::find(method.as_str(), below)) else {
            return;
        };
        let rule = operation.success_rule();
        let request = format!("{method} {}", state.redactor.text(path_and_query));
        self.report(
            &mut state,
            Finding {
                side: Side::Server,
                rule,
                message: format!("no answer: {why}"),
                instead: None,
                request,
                answer: String::new(),
            },
        );
    }

    fn report(&self, state: &mut State, finding: Finding) {
        state.failed.insert((finding.side, finding.rule));
        (self.on_finding)(&finding);
        state.findings.push(finding);
    }

    /// `--probe`: before a write to a report it does not know, the proxy reads it with the
    /// client's credentials and learns its state.
    pub async fn probe(&self, shared: &super::Shared, method: &Method, path_and_query: &str, headers: &HeaderMap) {
        if !matches!(*method, Method::PUT | Method::DELETE) {
            return;
        }
        let path = path_and_query.split('?').next().unwrap_or_default();
        let Some(id) = self
            .below_base(path)
            .and_then(|below| below.strip_prefix("/reports/"))
            .and_then(|id| id.parse::<Id>().ok())
        else {
            return;
        };
        if self.state.lock().reports.contains_key(&id) {
            return;
        }
        if let Some((200, body)) = super::forward::read_upstream(shared, path, headers).await
            && let Ok(report) = serde_json::from_slice::<Report>(&body)
        {
            self.state.lock().reports.insert(report.id, report);
        }
    }

    /// Judges one exchange from both sides, then learns from it.
    pub fn exchange(&self, exchanged: Exchanged) {
        let mut state = self.state.lock();
        self.judge_exchange(&mut state, &exchanged);
        state.release(exchanged.ticket);
    }

    fn judge_exchange(&self, state: &mut State, exchanged: &Exchanged) {
        state.counts.exchanges += 1;
        let (path, query) = match exchanged.path_and_query.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (exchanged.path_and_query.as_str(), None),
        };
        let Some(below) = self.below_base(path) else {
            state.counts.not_judged += 1;
            return;
        };
        self.learn_secrets(state, exchanged);
        let body = match decoded_body(exchanged) {
            Ok(body) => body,
            Err(problem) => {
                let request = self.request_text(state, exchanged);
                let rule =
                    Operation::find(exchanged.method.as_str(), below).map_or(Rule::Sch1, Operation::success_rule);
                self.report(
                    state,
                    Finding {
                        side: Side::Server,
                        rule,
                        message: problem,
                        instead: None,
                        request,
                        answer: format!("{}", exchanged.status),
                    },
                );
                return;
            }
        };
        let json: Option<Value> = serde_json::from_slice(&body).ok();
        let problem = (!exchanged.complete).then_some("the answer was cut off before its end");
        let below_and_query = match query {
            Some(query) => format!("{below}?{query}"),
            None => below.to_owned(),
        };
        let content_type = exchanged.response_headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok());
        let implicit = checks::implicit(
            &self.spec,
            &state.redactor,
            &Exchange {
                method: exchanged.method.as_str(),
                path: &below_and_query,
                status: exchanged.status,
                content_type,
                body: &body,
                json: json.as_ref(),
                body_problem: problem,
            },
        );
        for (rule, result) in implicit {
            match result {
                Ok(()) => {
                    state.exercised.insert((Side::Server, rule, Case::Positive));
                }
                Err(problem) => {
                    let request = self.request_text(state, exchanged);
                    let answer = self.answer_text(state, exchanged, &body);
                    let message = state.redactor.text(&problem);
                    self.report(state, Finding { side: Side::Server, rule, message, instead: None, request, answer });
                }
            }
        }
        let segments: Vec<&str> = below.trim_matches('/').split('/').collect();
        match segments.as_slice() {
            ["idp", "token"] => {
                if exchanged.status == 200 {
                    // AUTH-1: a token answer carries what the profile names.
                    let token = json.clone().map(serde_json::from_value::<reportcheck_model::Token>);
                    let checked = token.map(|token| match token {
                        Ok(token) => token.auth1_problem().map_or(Ok(()), |problem| Err(problem.to_owned())),
                        Err(err) => Err(err.to_string()),
                    });
                    self.served_as(state, exchanged, &body, Rule::Auth1, checked);
                }
                self.learn_token(state, exchanged, json.as_ref());
            }
            ["clients", client] => {
                if exchanged.status == 200 {
                    // AUTH-4: the client object, of the client asked for.
                    let client_object = json.clone().map(serde_json::from_value::<reportcheck_model::ApiClient>);
                    let checked = client_object.map(|object| match object {
                        Ok(object) if object.client_id.to_string() == *client => Ok(()),
                        Ok(object) => {
                            Err(format!("the answer is the client object of {}, not of {client}", object.client_id))
                        }
                        Err(err) => Err(err.to_string()),
                    });
                    self.served_as(state, exchanged, &body, Rule::Auth4, checked);
                }
                if exchanged.status == 200
                    && let (Ok(client), Some(tenant)) = (
                        client.parse::<Id>(),
                        json.as_ref()
                            .and_then(|json| json.get("tenant_id"))
                            .and_then(Value::as_str)
                            .and_then(|tenant| tenant.parse().ok()),
                    )
                {
                    state.tenants.insert(client, tenant);
                }
            }
            _ => {
                let content = exchanged.request_headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok());
                if let Some(request) =
                    api_request(&exchanged.method, &segments, query, content, &exchanged.request_body)
                {
                    self.judge_report_call(state, exchanged, request, json.as_ref(), &body);
                }
            }
        }
    }

    /// A 2xx answer of `rule`'s schema: `None` for a body that is not JSON.
    fn served_as(
        &self,
        state: &mut State,
        exchanged: &Exchanged,
        body: &[u8],
        rule: Rule,
        checked: Option<Result<(), String>>,
    ) {
        match checked {
            Some(Ok(())) => {
                state.exercised.insert((Side::Server, rule, Case::Positive));
            }
            Some(Err(problem)) => {
                let finding = self.finding(state, exchanged, body, Side::Server, rule, format!("{rule}: {problem}"));
                self.report(state, finding);
            }
            None => {
                let finding =
                    self.finding(state, exchanged, body, Side::Server, rule, format!("{rule}: the answer is not JSON"));
                self.report(state, finding);
            }
        }
    }

    fn learn_secrets(&self, state: &mut State, exchanged: &Exchanged) {
        if let Some(token) = bearer(&exchanged.request_headers) {
            state.redactor.add(token);
        }
        if let Some((_, secret)) = basic_credentials(&exchanged.request_headers) {
            state.redactor.add(&secret);
        }
        for (key, value) in form_urlencoded::parse(&exchanged.request_body) {
            if key == "client_secret" || key == "client_assertion" {
                state.redactor.add(&value);
            }
        }
    }

    /// A token answer: its tokens are secrets, and the access token is the client's.
    fn learn_token(&self, state: &mut State, exchanged: &Exchanged, json: Option<&Value>) {
        let Some(json) = json else { return };
        for key in ["access_token", "id_token", "refresh_token"] {
            if let Some(token) = json.get(key).and_then(Value::as_str) {
                state.redactor.add(token);
            }
        }
        let form_id = form_urlencoded::parse(&exchanged.request_body)
            .find(|(key, _)| key == "client_id")
            .map(|(_, value)| value.into_owned());
        let client = basic_credentials(&exchanged.request_headers).map(|(id, _)| id).or(form_id);
        if exchanged.status == 200
            && let (Some(token), Some(client)) =
                (json.get("access_token").and_then(Value::as_str), client.and_then(|id| id.parse::<Id>().ok()))
        {
            state.tokens.insert(token.to_owned(), client);
        }
    }

    fn judge_report_call(
        &self,
        state: &mut State,
        exchanged: &Exchanged,
        request: Request<'_>,
        json: Option<&Value>,
        body: &[u8],
    ) {
        let today = time::OffsetDateTime::now_utc().date();
        let Some(token) = bearer(&exchanged.request_headers) else {
            // AUTH-3: no bearer token. The client's mistake; the server must answer 401.
            let finding = self.finding(
                state,
                exchanged,
                body,
                Side::Client,
                Rule::Auth3,
                "a call without a bearer token".to_owned(),
            );
            self.report(state, finding);
            self.expect_status(state, exchanged, body, Rule::Auth3, &[401]);
            return;
        };
        let tenant = state.tokens.get(token).and_then(|client| state.tenants.get(client)).copied();
        let target = request.report_id();
        let ticket = exchanged.ticket;
        // With state only where it is certain: the caller's own tenant, a report it knows
        // that no other write overlapped, and a body the server's limit did not stop.
        let certain =
            |id: Id| !ticket.overlapped && state.last_write_ended.get(&id).is_none_or(|ended| *ended < ticket.sent);
        let known = |tenant: Id| match request {
            Request::Create { body, .. } => rule_check_tenant(body) == Some(tenant),
            Request::List { tenant: listed } => listed.parse::<Id>().ok() == Some(tenant),
            _ => target.is_some_and(|id| {
                certain(id)
                    && (state.reports.get(&id).is_some_and(|report| report.parameters.tenant_id == tenant)
                        || state.deleted.contains(&id))
            }),
        };
        let too_large = exchanged.status == 413 && exchanged.request_body.len() >= checks::BODY_LIMIT_READING;
        match tenant.filter(|tenant| known(*tenant) && !too_large) {
            Some(tenant) => {
                state.counts.with_state += 1;
                let admissible = decide::decide(&*state, Caller { tenant, today }, request);
                if let Decision::Rejected(violations) = admissible.reference()
                    && let Some(first) = violations.iter().find(|violation| violation.status != 404)
                {
                    let finding = self.finding(state, exchanged, body, Side::Client, first.rule, first.message.clone());
                    self.report(state, finding);
                } else {
                    state.exercised.insert((Side::Client, admissible.rule(), Case::Positive));
                }
                let decision = admissible.follow(exchanged.status).clone();
                record(state, exchanged, tenant, target, &decision, json);
                let redactor = state.redactor.clone();
                let judged = crate::verdict::judge(&admissible, &decision, exchanged.status, json, &|value| {
                    redactor.json(value)
                });
                for (rule, case) in judged.exercised {
                    state.exercised.insert((Side::Server, rule, case));
                }
                for (rule, message) in judged.findings {
                    let finding = self.finding(state, exchanged, body, Side::Server, rule, message);
                    self.report(state, finding);
                }
                if let Decision::StoredListed { stored, .. } = &decision
                    && exchanged.status == 200
                    && let Some(list) = json.and_then(|json| {
                        serde_json::from_value::<reportcheck_model::StoredReportList>(json.clone()).ok()
                    })
                {
                    let formats: Vec<_> = list.items.iter().map(|item| item.report_format).collect();
                    if let Some(violation) = stored.violation(&formats) {
                        let finding =
                            self.finding(state, exchanged, body, Side::Server, violation.rule, violation.message);
                        self.report(state, finding);
                    }
                }
                if let Decision::Listed { .. } = decision
                    && exchanged.status == 200
                    && let Some(items) =
                        json.and_then(|json| serde_json::from_value::<reportcheck_model::UuidList>(json.clone()).ok())
                {
                    // Present: learned before the list was asked for, and no DELETE since;
                    // gone: deleted before it was asked for.
                    let present: Vec<Id> = state
                        .reports
                        .values()
                        .filter(|report| report.parameters.tenant_id == tenant)
                        .map(|report| report.id)
                        .filter(|id| state.learned.get(id).is_some_and(|learned| *learned < ticket.sent))
                        .filter(|id| !state.delete_pending.contains_key(id))
                        .collect();
                    let deleted: Vec<Id> =
                        state.deleted_at.iter().filter(|(_, at)| **at < ticket.sent).map(|(id, _)| *id).collect();
                    if let Some(violation) = decide::list_discrepancies(&present, &deleted, &items.items) {
                        let finding =
                            self.finding(state, exchanged, body, Side::Server, violation.rule, violation.message);
                        self.report(state, finding);
                    }
                }
            }
            None => {
                state.counts.without_state += 1;
                let refused = decide::refused_whatever_the_state(today, request);
                match refused.first() {
                    Some(first) => {
                        let finding =
                            self.finding(state, exchanged, body, Side::Client, first.rule, first.message.clone());
                        self.report(state, finding);
                        // The server must refuse it, under any of the rules it breaks (or
                        // its body limit).
                        // A report the proxy does not know may be unknown or another
                        // tenant's on the server: those refusals are as conformant.
                        let admitted = decide::refusals_without_state(today, request);
                        if !too_large && !Decision::Rejected(admitted.clone()).admits_status(exchanged.status) {
                            let message = format!(
                                "{}: expected {}, the server answered {}",
                                first.message,
                                decide::admitted_statuses(&admitted),
                                exchanged.status
                            );
                            let finding = self.finding(state, exchanged, body, Side::Server, first.rule, message);
                            self.report(state, finding);
                        }
                    }
                    None if too_large => {
                        state.exercised.insert((Side::Server, Rule::Err3, Case::Negative));
                    }
                    None => {
                        // Served, or refused under any rule the profile lets the operation answer with.
                        let operation = request.operation();
                        let served = if operation == Operation::DeleteReport { 204 } else { 200 };
                        let statuses: Vec<u16> = std::iter::once(served)
                            .chain(operation.profile_statuses())
                            .collect::<BTreeSet<_>>()
                            .into_iter()
                            .collect();
                        self.expect_status(state, exchanged, body, operation.success_rule(), &statuses);
                    }
                }
            }
        }
        let certain = target.is_none_or(|id| {
            !ticket.overlapped && state.last_write_ended.get(&id).is_none_or(|ended| *ended < ticket.sent)
        });
        self.learn_report(state, exchanged, request, target, json, certain);
    }

    fn expect_status(&self, state: &mut State, exchanged: &Exchanged, body: &[u8], rule: Rule, statuses: &[u16]) {
        if statuses.contains(&exchanged.status) {
            state.exercised.insert((Side::Server, rule, Case::Positive));
            return;
        }
        let message =
            format!("a conformant server answers one of {statuses:?}; the server answered {}", exchanged.status);
        let finding = self.finding(state, exchanged, body, Side::Server, rule, message);
        self.report(state, finding);
    }

    /// What the answer tells of the state: a report answered becomes the known one, a
    /// deleted one is gone.
    /// `certain`: no other write to the report overlapped the exchange; else what it
    /// says may already be old, and the report is forgotten until a read shows it again.
    fn learn_report(
        &self,
        state: &mut State,
        exchanged: &Exchanged,
        request: Request<'_>,
        target: Option<Id>,
        json: Option<&Value>,
        certain: bool,
    ) {
        if !certain && let Some(id) = target {
            state.reports.remove(&id);
        }
        if !(200..300).contains(&exchanged.status) {
            if exchanged.status == 404
                && let Some(id) = target
                && let Request::Get { .. } = request
            {
                state.reports.remove(&id);
            }
            return;
        }
        let now = state.tick();
        match request {
            Request::Delete { .. } => {
                if let Some(id) = target {
                    state.reports.remove(&id);
                    state.deleted.push(id);
                    state.deleted_at.insert(id, now);
                }
            }
            Request::Create { .. } | Request::Get { .. } | Request::Update { .. } if certain => {
                if let Some(report) = json.and_then(|json| serde_json::from_value::<Report>(json.clone()).ok()) {
                    state.learned.entry(report.id).or_insert(now);
                    state.reports.insert(report.id, report);
                }
            }
            _ => {}
        }
    }

    fn finding(
        &self,
        state: &State,
        exchanged: &Exchanged,
        body: &[u8],
        side: Side,
        rule: Rule,
        message: String,
    ) -> Finding {
        Finding {
            side,
            rule,
            message: state.redactor.text(&message),
            instead: (side == Side::Client).then(|| instead(rule)).flatten(),
            request: self.request_text(state, exchanged),
            answer: self.answer_text(state, exchanged, body),
        }
    }

    fn request_text(&self, state: &State, exchanged: &Exchanged) -> String {
        let line = format!("{} {}", exchanged.method, state.redactor.text(&exchanged.path_and_query));
        if exchanged.request_body.is_empty() {
            line
        } else {
            format!("{line}\n{}", quoted(&state.redactor, &exchanged.request_body))
        }
    }

    fn answer_text(&self, state: &State, exchanged: &Exchanged, body: &[u8]) -> String {
        format!("{} {}", exchanged.status, quoted(&state.redactor, body))
    }

    /// Everything judged so far.
    pub fn report_so_far(&self) -> Judged {
        let state = self.state.lock();
        let mut exercised: BTreeMap<Side, BTreeSet<Rule>> = BTreeMap::new();
        for (side, rule, _) in &state.exercised {
            exercised.entry(*side).or_default().insert(*rule);
        }
        for (side, rule) in &state.failed {
            exercised.entry(*side).or_default().insert(*rule);
        }
        let seen: BTreeSet<Rule> = exercised.values().flatten().copied().collect();
        Judged {
            counts: state.counts,
            findings: state.findings.clone(),
            exercised: exercised.into_iter().map(|(side, rules)| (side, rules.into_iter().collect())).collect(),
            never_exercised: Rule::ALL.iter().copied().filter(|rule| !seen.contains(rule)).collect(),
            passed: state
                .exercised
                .iter()
                .filter(|(side, rule, _)| !state.failed.contains(&(*side, *rule)))
                .copied()
                .collect(),
        }
    }
}

/// `--record`: one exchange judged with state as a step, its ids as the variables of the
/// reports created in the traffic (an exchange about another report cannot replay).
fn record(
    state: &mut State,
    exchanged: &Exchanged,
    tenant: Id,
    target: Option<Id>,
    decision: &Decision,
    json: Option<&Value>,
) {
    let Some(recording) = state.recording.as_mut() else { return };
    if !recording.parties.contains(&tenant) && recording.parties.len() < 2 {
        recording.parties.push(tenant);
    }
    let party = match recording.parties.iter().position(|known| *known == tenant) {
        Some(0) => crate::contract::Party::A,
        Some(1) => crate::contract::Party::B,
        _ => return,
    };
    // A contract step sends JSON: a body of another media type is not replayable.
    let content_type = exchanged.request_headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok());
    let json_body =
        exchanged.request_body.is_empty() || reportcheck_model::rule_check::is_json_media_type(content_type);
    if target.is_some_and(|id| !recording.labels.contains_key(&id)) || !json_body {
        return;
    }
    let below = exchanged.path_and_query.split_once("/reports").map_or("", |(_, rest)| rest);
    let path = match exchanged.path_and_query.split_once("/tenants/") {
        Some((_, rest)) => format!("/tenants/{rest}"),
        None => format!("/reports{below}"),
    };
    let mut template = path.clone();
    for (id, label) in &recording.labels {
        template = template.replace(&id.to_string(), &format!("{{{{{label}}}}}"));
    }
    for (name, tenant) in ["tenant", "other_tenant"].into_iter().zip(&recording.parties) {
        template = template.replace(&tenant.to_string(), &format!("{{{{{name}}}}}"));
    }
    let creates = matches!(decision, Decision::Created { .. })
        .then(|| json.and_then(|json| json.get("id")).and_then(Value::as_str).and_then(|id| id.parse::<Id>().ok()))
        .flatten()
        .filter(|_| (200..300).contains(&exchanged.status))
        .map(|id| {
            let label = format!("r{}", recording.labels.len());
            recording.labels.insert(id, label.clone());
            label
        });
    recording.sent.push(crate::property::Sent {
        party,
        method: exchanged.method.clone(),
        path,
        template,
        body: serde_json::from_slice(&exchanged.request_body).ok(),
        status: exchanged.status,
        decision: decision.clone(),
        creates,
        answer: None,
    });
}

/// The tenant a create names, if its body says.
fn rule_check_tenant(body: &[u8]) -> Option<Id> {
    serde_json::from_slice::<Value>(body).ok()?.pointer("/parameters/tenant_id")?.as_str()?.parse().ok()
}

/// What the judge found, by side.
#[derive(Debug, Clone, Serialize)]
pub struct Judged {
    pub counts: Counts,
    pub findings: Vec<Finding>,
    /// The rules each side exercised (judged at least once).
    pub exercised: BTreeMap<Side, Vec<Rule>>,
    /// The rules no exchange exercised.
    pub never_exercised: Vec<Rule>,
    /// Every (side, rule, case) exercised without a finding.
    #[serde(skip)]
    pub passed: Vec<(Side, Rule, Case)>,
}
