//! The server's state and every operation on it. Each report operation hands the request
//! as it arrived to the model's decider (`reportcheck_model::decide`), over the state it
//! holds the lock on, and executes the decision under that same lock: concurrent writes
//! are serialised (UPD-9) and a rejected request changes nothing. Faults and variations
//! are applied around the decision, never instead of it.

use std::collections::HashMap;
use std::io::Write as _;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::http::StatusCode;
use parking_lot::{Mutex, RwLock};
use reportcheck_model::decide::{self, Decision, Prediction, Request, StoredExpectation};
use reportcheck_model::rule_check::{self, Violation};
use reportcheck_model::{
    ApiClient, ClientStatus, ClientType, Date, Format, Freedom, Id, Kind, Level, Period, Report, ReportPost, ReportPut,
    Rule, ScheduleType, Secret, StoredReport, StoredReportList, StoredStatus, Timestamp, Token,
    TokenEndpointAuthMethod, UuidList,
};

use reportcheck_model::classes::{self, Before, Observation};

use crate::config::{Config, Pick, VersionScheme};
use crate::content;
use crate::failure::{Failure, TokenFailure};
use crate::fault::Fault;
use crate::fixture::Fixture;
use crate::mutant::{self, Change, Mutant};

/// Who is calling: the API client behind a valid token.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub client_id: Id,
    pub tenant_id: Id,
}

#[derive(Debug)]
struct Grant {
    caller: Caller,
    /// On tokio's clock, so that tests on its paused clock can let a token expire.
    expires_at: tokio::time::Instant,
}

#[derive(Debug, Default)]
struct Reports {
    by_id: HashMap<Id, Entry>,
    next_seq: u64,
}

#[derive(Debug)]
struct Entry {
    /// Creation order, for listing.
    seq: u64,
    report: Report,
    /// The report as created (only the stale-get fault reads it).
    created: Report,
    generation: Option<Generation>,
    /// Successful PUTs so far (only the third-update-lost fault reads it).
    updates: u32,
    /// The last write the report saw (only a mutant's class reads it).
    before: Before,
}

/// The stored reports of a generated `save` report.
#[derive(Debug)]
struct Generation {
    started: Instant,
    created_at: Timestamp,
    files: Vec<StoredFile>,
}

/// One generated file, kept both plain and gzip-compressed.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub id: Id,
    pub format: Format,
    pub plain: Bytes,
    pub gzip: Bytes,
}

/// The state of one reference server.
#[derive(Debug)]
pub struct Store {
    config: Config,
    fixture: Fixture,
    tokens: Mutex<HashMap<String, Grant>>,
    reports: RwLock<Reports>,
    /// When the last PUTs arrived (only the racy-under-high-overlap fault reads it).
    recent_puts: Mutex<std::collections::VecDeque<Instant>>,
    /// Each tenant's list as its last create left it (only the list-stale-until-create
    /// fault reads it).
    stale_lists: Mutex<HashMap<Id, Vec<Id>>>,
    /// The draws of [`Pick::Seeded`]; `None` for the reference behaviour.
    rng: Mutex<Option<fastrand::Rng>>,
}

impl Store {
    pub fn new(config: Config, fixture: Fixture) -> Store {
        let pick = config.pick;
        let store = Store {
            config,
            fixture,
            tokens: Mutex::default(),
            reports: RwLock::default(),
            recent_puts: Mutex::default(),
            stale_lists: Mutex::default(),
            rng: Mutex::new(match pick {
                Pick::Reference => None,
                Pick::Seeded(seed) => Some(fastrand::Rng::with_seed(seed)),
            }),
        };
        if store.variation(Freedom::PreexistingReports) {
            store.seed();
        }
        store
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A draw of the seeded mode: `None` on the reference server, else `draw` applied to
    /// its generator.
    pub fn draw<T>(&self, draw: impl FnOnce(&mut fastrand::Rng) -> T) -> Option<T> {
        self.rng.lock().as_mut().map(draw)
    }

    /// A coin of the seeded mode (always `false` on the reference server).
    fn coin(&self) -> bool {
        self.draw(|rng| rng.bool()).unwrap_or(false)
    }

    /// Whether the server runs with `fault`.
    pub fn fault(&self, fault: Fault) -> bool {
        let on = self.config.faults.contains(&fault);
        if on {
            crate::request_log::fault_consulted(fault);
        }
        on
    }

    /// The fixture's first client (tenant A), for the anonymous-access fault.
    pub fn first_client(&self) -> Caller {
        let client = &self.fixture.clients[0];
        Caller { client_id: client.client_id, tenant_id: client.tenant_id }
    }

    pub fn today(&self) -> Date {
        self.config.today.unwrap_or_else(|| time::OffsetDateTime::now_utc().date())
    }

    /// AUTH-1 / AUTH-2: client credentials for a token.
    pub fn issue_token(&self, client_id: &str, secret: &str) -> Result<Token, TokenFailure> {
        let client = client_id
            .parse::<Id>()
            .ok()
            .and_then(|id| self.fixture.client(id))
            .filter(|client| constant_time_eq(client.client_secret.expose().as_bytes(), secret.as_bytes()))
            .ok_or_else(|| {
                let status = if self.fault(Fault::WrongSecretIs400) {
                    StatusCode::BAD_REQUEST
                } else {
                    StatusCode::UNAUTHORIZED
                };
                TokenFailure::new(status, self.token_error(), "invalid client credentials")
            })?;
        let access_token = random_token();
        let lifetime = self.config.token_lifetime;
        let now = tokio::time::Instant::now();
        let mut tokens = self.tokens.lock();
        tokens.retain(|_, grant| grant.expires_at > now);
        tokens.insert(
            access_token.clone(),
            Grant {
                caller: Caller { client_id: client.client_id, tenant_id: client.tenant_id },
                expires_at: now.checked_add(lifetime).unwrap_or(now + Duration::from_secs(100 * 365 * 24 * 3600)),
            },
        );
        let unix_now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        Ok(Token {
            access_token: Secret::new(access_token),
            token_type: if self.variation(Freedom::TokenTypeCase) { "Bearer" } else { "bearer" }.to_owned(),
            id_token: Some(Secret::new(id_token(client.client_id))),
            expires_in: (!self.variation(Freedom::TokenExpiry)).then(|| seconds(lifetime)),
            expires_on: Some(i64::try_from(unix_now).unwrap_or(i64::MAX).saturating_add(seconds(lifetime))),
            refresh_token: None,
        })
    }

    /// The `error` of a refused token request's credentials (AUTH-2).
    pub fn token_error(&self) -> &'static str {
        // The spec's enum has `access_denied`; servers in the field send `invalid_client` (REFERENCE.md §5).
        if self.variation(Freedom::TokenErrorString) { "invalid_client" } else { "access_denied" }
    }

    /// AUTH-3: the caller behind a bearer token.
    pub fn authenticate(&self, token: &str) -> Result<Caller, Failure> {
        let forged = |accepted: bool, client: Option<Id>| {
            accepted
                .then_some(client)
                .flatten()
                .and_then(|id| self.fixture.client(id))
                .map(|client| Caller { client_id: client.client_id, tenant_id: client.tenant_id })
        };
        let id_token_of = self.fixture.clients.iter().find(|client| id_token(client.client_id) == token);
        if let Some(caller) = forged(self.fault(Fault::IdTokenAccepted), id_token_of.map(|client| client.client_id))
            .or_else(|| forged(self.fault(Fault::UnsignedJwtAccepted), unsigned_jwt_subject(token)))
        {
            return Ok(caller);
        }
        let tokens = self.tokens.lock();
        match tokens.get(token) {
            Some(grant) if grant.expires_at > tokio::time::Instant::now() => Ok(grant.caller),
            Some(_) => Err(Failure::unauthenticated("the access token has expired")),
            None => Err(Failure::unauthenticated("the access token is not known")),
        }
    }

    /// Basic authentication with a client's own credentials (accepted by `/clients`).
    pub fn authenticate_basic(&self, client_id: &str, secret: &str) -> Result<Caller, Failure> {
        client_id
            .parse::<Id>()
            .ok()
            .and_then(|id| self.fixture.client(id))
            .filter(|client| constant_time_eq(client.client_secret.expose().as_bytes(), secret.as_bytes()))
            .map(|client| Caller { client_id: client.client_id, tenant_id: client.tenant_id })
            .ok_or_else(|| Failure::unauthenticated("the client credentials are not valid"))
    }

    /// AUTH-4: an API client in the caller's subtree.
    pub fn client(&self, caller: Caller, client_id: Id) -> Result<ApiClient, Failure> {
        let client = self.fixture.client(client_id).ok_or_else(|| Failure::not_found("no such client", Rule::Auth4))?;
        if !self.fixture.is_within(client.tenant_id, caller.tenant_id) {
            return Err(Failure::forbidden(Rule::Auth4));
        }
        Ok(ApiClient {
            client_id: client.client_id,
            tenant_id: client.tenant_id,
            client_secret_expires_at: 0,
            client_type: ClientType::ApiClient,
            token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
            created_at: "2026-01-01T00:00:00+00:00".parse().ok(),
            created_by: client.tenant_id.to_string(),
            // Free (AUTH-4 pins client_id and tenant_id only): the seeded mode refreshes it.
            last_access_at: self.draw(|_| Timestamp::now()),
            last_access_from_ip: None,
            status: ClientStatus::Enabled,
            data: Some(serde_json::Map::from_iter([("client_name".to_owned(), "reportcheck fixture".into())])),
            redirect_uris: None,
            origin_id: None,
        })
    }

    /// CRT-*: `POST /reports`, decided by the model, written under the lock it was
    /// decided under.
    pub fn create(&self, caller: Caller, content_type: Option<&str>, body: &[u8]) -> Result<Report, Failure> {
        let (sent_type, sent_body) = (content_type, body);
        let content_type = if self.fault(Fault::CreateAnyMediaType) { Some(JSON) } else { content_type };
        let body =
            if self.fault(Fault::LaxCreateSchema) { strip_unknown_keys(body, CREATE_KEYS) } else { body.to_vec() };
        let body = self.lenient_values(body, "/parameters/kind", Fault::UpperCaseKindAccepted);
        let body = self.lenient_values(body, "/parameters/level", Fault::NullLevelAccepted);
        let body = self.lenient_shape(body, "/parameters", Fault::SingletonParametersAccepted);
        let excused_period = self.excused_period(&body);
        let request = Request::Create { content_type, body: &body };
        let mut reports = self.reports.write();
        self.judge_for_log(&reports, caller, Request::Create { content_type: sent_type, body: sent_body });
        let negation = self.negation(&reports, caller, request);
        match self
            .decide_excusing(&reports, caller, request, &|violation| excused_period && violation.rule == Rule::Crt3)
        {
            Decision::Created { post, prediction } => {
                let report = self.new_report(&post, prediction);
                let mut answer = report.clone();
                self.negate(negation, &mut answer, None);
                let seq = reports.next_seq;
                reports.next_seq += 1;
                let entry = Entry {
                    seq,
                    report: report.clone(),
                    created: report.clone(),
                    generation: None,
                    updates: 0,
                    before: Before::Created,
                };
                reports.by_id.insert(report.id, entry);
                self.generate_if_due(&mut reports, caller, report.id);
                if self.fault(Fault::ListStaleUntilCreate) {
                    let tenant = report.parameters.tenant_id;
                    self.stale_lists.lock().insert(tenant, self.listed(&reports, tenant));
                }
                Ok(answer)
            }
            decision => Err(self.refusal(decision, request)),
        }
    }

    /// GET-1: `GET /reports/{id}`.
    pub fn get(&self, caller: Caller, id: &str) -> Result<Report, Failure> {
        let reports = self.reports.read();
        let request = Request::Get { id };
        self.judge_for_log(&reports, caller, request);
        let negation = self.negation(&reports, caller, request);
        match self.decide(&reports, caller, request) {
            Decision::Read(prediction) => {
                let mut answer = match reports.by_id.get(&prediction.report.id) {
                    Some(entry) if self.fault(Fault::StaleGet) => entry.created.clone(),
                    _ => prediction.report,
                };
                self.negate(negation, &mut answer, None);
                Ok(answer)
            }
            Decision::Rejected(violations) => {
                let first = violations.first();
                if self.fault(Fault::CrossTenantReads)
                    && first.is_some_and(|violation| violation.rule == Rule::Sec1)
                    && let Some(entry) = id.parse().ok().and_then(|id: Id| reports.by_id.get(&id))
                {
                    return Ok(entry.report.clone());
                }
                if self.fault(Fault::MalformedIdIs500) && first.is_some_and(|violation| violation.rule == Rule::Get3) {
                    return Err(Failure::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal error."));
                }
                if self.fault(Fault::UnknownIdIs400) && first.is_some_and(|violation| violation.named == Rule::Get2) {
                    return Err(Failure::new(StatusCode::BAD_REQUEST, "Bad request."));
                }
                Err(self.refusal(Decision::Rejected(violations), request))
            }
            decision => Err(self.refusal(decision, request)),
        }
    }

    /// UPD-*: `PUT /reports/{id}`, decided and written under one write lock (UPD-9).
    pub fn update(&self, caller: Caller, id: &str, content_type: Option<&str>, body: &[u8]) -> Result<Report, Failure> {
        let sent = Request::Update { id, content_type, body };
        let (content_type, body) = self.update_request(content_type, body);
        let request = Request::Update { id, content_type, body: &body };
        let mut reports = self.reports.write();
        self.judge_for_log(&reports, caller, sent);
        let current = id.parse().ok().and_then(|id: Id| reports.by_id.get(&id)).map(|entry| entry.report.clone());
        let negation = self.negation(&reports, caller, request);
        let op = self.observe(&reports, caller, request).op;
        if let (Some(current), Ok(put)) = (&current, rule_check::parse_update(&body))
            && let Some(violation) = self.refused_wrongly(current, &put)
        {
            return Err(self.refusal(Decision::Rejected(vec![violation]), request));
        }
        let excuse = |violation: &Violation| {
            let (Some(current), Ok(put)) = (&current, rule_check::parse_update(&body)) else { return false };
            self.update_excused(current, &put, violation)
        };
        match self.decide_excusing(&reports, caller, request, &excuse) {
            Decision::Updated { put, prediction } => {
                let Some(entry) = reports.by_id.get_mut(&prediction.report.id) else {
                    return Err(self.refusal(Decision::Updated { put, prediction }, request));
                };
                let updated = self.updated_report(&entry.report, &entry.created, &put, prediction);
                entry.updates += 1;
                entry.before = op.and_then(|op| Before::after(op, true)).unwrap_or(Before::Updated);
                let mut answer = updated.clone();
                self.negate(negation, &mut answer, Some(&entry.report));
                if self.fault(Fault::ThirdUpdateLost) && entry.updates == 3 {
                    return Ok(answer);
                }
                let before = std::mem::replace(&mut entry.report, updated);
                Ok(if self.fault(Fault::UpdateEchoesOld) { before } else { answer })
            }
            Decision::Rejected(violations) => {
                self.refused_write(&mut reports, id);
                self.apply_refused_update(&mut reports, &current, &body, &violations);
                Err(self.refusal(Decision::Rejected(violations), request))
            }
            decision => Err(self.refusal(decision, request)),
        }
    }

    /// The faults that refuse a PUT the model accepts.
    fn refused_wrongly(&self, current: &Report, put: &ReportPut) -> Option<Violation> {
        let today = self.today();
        let parameters = put.parameters.as_ref();
        if self.fault(Fault::OnceTomorrowNotScheduled)
            && current.schedule.schedule_type == ScheduleType::Once
            && current.generation_date == today + time::Duration::days(1)
        {
            return Some(Violation::business(Rule::Upd1, "only scheduled reports can be updated"));
        }
        let repeats = |fault: Fault, same: bool| self.fault(fault) && same;
        if repeats(
            Fault::SameFormatsRefused,
            parameters.and_then(|parameters| parameters.formats.as_ref()) == Some(&current.parameters.formats),
        ) || repeats(
            Fault::SamePeriodRefused,
            parameters.and_then(|parameters| parameters.period) == Some(current.parameters.period),
        ) {
            return Some(Violation::business(Rule::Upd2, "only parameters.kind and parameters.level can be changed"));
        }
        None
    }

    /// The faults that let a PUT through despite `violation`, under their condition.
    fn update_excused(&self, current: &Report, put: &ReportPut, violation: &Violation) -> bool {
        let today = self.today();
        match violation.rule {
            Rule::Upd1 => {
                self.fault(Fault::OnceTodayScheduled)
                    && current.schedule.schedule_type == ScheduleType::Once
                    && current.generation_date == today
            }
            Rule::Upd3 => {
                self.fault(Fault::RecipientsOnDisabledSave)
                    && current.result_action == reportcheck_model::ResultAction::Save
                    && !current.schedule.enabled
            }
            Rule::Upd2 => {
                let Some(parameters) = &put.parameters else { return false };
                let others = |tenant: bool, hide: bool, skus: bool| {
                    parameters.formats.as_ref().is_none_or(|formats| *formats == current.parameters.formats)
                        && parameters.period.is_none_or(|period| period == current.parameters.period)
                        && (tenant || parameters.tenant_id.is_none_or(|id| id == current.parameters.tenant_id))
                        && (hide
                            || parameters
                                .hide_zero_usage
                                .is_none_or(|flag| flag == current.parameters.hide_zero_usage.unwrap_or(false)))
                        && (skus
                            || parameters
                                .show_skus
                                .is_none_or(|flag| flag == current.parameters.show_skus.unwrap_or(false)))
                };
                (self.fault(Fault::ShowSkusChangeAccepted)
                    && parameters.show_skus.is_some()
                    && others(false, false, true))
                    || (self.fault(Fault::HideZeroUsageChangeAccepted)
                        && parameters.hide_zero_usage.is_some()
                        && others(false, true, false))
                    || (self.fault(Fault::ForeignTenantIdMovesReport)
                        && parameters.tenant_id.is_some_and(|tenant| {
                            tenant != current.parameters.tenant_id
                                && self.fixture.tenants.iter().any(|t| t.id == tenant)
                        })
                        && others(true, false, false))
            }
            _ => false,
        }
    }

    /// The faults that change a report on a refused PUT.
    fn apply_refused_update(
        &self,
        reports: &mut Reports,
        current: &Option<Report>,
        body: &[u8],
        violations: &[Violation],
    ) {
        let (Some(current), Ok(put)) = (current, rule_check::parse_update(body)) else { return };
        let first = violations.first().map(|violation| violation.rule);
        let applies = (self.fault(Fault::RefusedPutAppliesKind)
            && violations.iter().any(|violation| violation.rule == Rule::Upd2))
            || (self.fault(Fault::ForeignPutApplied) && first == Some(Rule::Sec1));
        if !applies {
            return;
        }
        if let Some(entry) = reports.by_id.get_mut(&current.id) {
            let version = entry.report.version;
            entry.report = rule_check::apply_update(&entry.report, &put);
            entry.report.version = version;
        }
    }

    /// For the value faults: an upper-case or `null` value at `pointer` read leniently.
    fn lenient_values(&self, body: Vec<u8>, pointer: &str, fault: Fault) -> Vec<u8> {
        if !self.fault(fault) {
            return body;
        }
        let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&body) else { return body };
        let Some(field) = value.pointer_mut(pointer) else { return body };
        match field {
            serde_json::Value::String(text) if text.chars().any(char::is_uppercase) => {
                *field = serde_json::Value::String(text.to_lowercase());
            }
            serde_json::Value::Null if fault == Fault::NullLevelAccepted => {
                *field = serde_json::Value::String("accounts".to_owned());
            }
            _ => return body,
        }
        serde_json::to_vec(&value).unwrap_or(body)
    }

    /// For the shape faults: an object at `pointer` sent as an array of one, or as the
    /// JSON text of itself, read as the object.
    fn lenient_shape(&self, body: Vec<u8>, pointer: &str, fault: Fault) -> Vec<u8> {
        if !self.fault(fault) {
            return body;
        }
        let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&body) else { return body };
        let Some(field) = value.pointer_mut(pointer) else { return body };
        let object = match field {
            serde_json::Value::Array(items) if items.len() == 1 && items[0].is_object() => items[0].take(),
            serde_json::Value::String(text) => match serde_json::from_str::<serde_json::Value>(text) {
                Ok(object @ serde_json::Value::Object(_)) => object,
                _ => return body,
            },
            _ => return body,
        };
        *field = object;
        serde_json::to_vec(&value).unwrap_or(body)
    }

    /// For the period faults: whether this create's period sits on their boundary.
    fn excused_period(&self, body: &[u8]) -> bool {
        let Ok(post) = rule_check::parse_create(body) else { return false };
        let Some(period) = post.parameters.period else { return false };
        let today = self.today();
        (self.fault(Fault::PeriodEndOffByOne)
            && period.end == today + time::Duration::days(1)
            && period.start <= period.end)
            || (self.fault(Fault::StartAfterEndAccepted) && period.start > period.end && period.end <= today)
    }

    /// The racy-updates fault: decides on a snapshot, yields, then writes it back, so
    /// concurrent PUTs lose each other's changes and share versions.
    pub async fn update_racy(
        &self,
        caller: Caller,
        id: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Report, Failure> {
        let sent = Request::Update { id, content_type, body };
        let (content_type, body) = self.update_request(content_type, body);
        let request = Request::Update { id, content_type, body: &body };
        let updated = {
            let reports = self.reports.read();
            self.judge_for_log(&reports, caller, sent);
            match self.decide(&reports, caller, request) {
                Decision::Updated { put, prediction } => match reports.by_id.get(&prediction.report.id) {
                    Some(entry) => self.updated_report(&entry.report, &entry.created, &put, prediction),
                    None => return Err(self.refusal(Decision::Updated { put, prediction }, request)),
                },
                decision => return Err(self.refusal(decision, request)),
            }
        };
        tokio::time::sleep(Duration::from_millis(2)).await;
        if let Some(entry) = self.reports.write().by_id.get_mut(&updated.id) {
            entry.report = updated.clone();
        }
        Ok(updated)
    }

    fn update_request<'a>(&self, content_type: Option<&'a str>, body: &[u8]) -> (Option<&'a str>, Vec<u8>) {
        let content_type = if self.fault(Fault::UpdateAnyMediaType) { Some(JSON) } else { content_type };
        let body =
            if self.fault(Fault::LaxUpdateSchema) { strip_unknown_keys(body, UPDATE_KEYS) } else { body.to_vec() };
        let body = self.lenient_values(body, "/parameters/level", Fault::UpperCaseLevelUpdateAccepted);
        let body = self.lenient_shape(body, "/schedule", Fault::StringifiedScheduleAccepted);
        (content_type, body)
    }

    /// Whether this PUT takes the racy path: always with racy-updates; with
    /// racy-under-high-overlap once eight or more PUTs arrived within 100 ms.
    pub fn racy_now(&self) -> bool {
        if self.fault(Fault::RacyUpdates) {
            return true;
        }
        if !self.fault(Fault::RacyUnderHighOverlap) {
            return false;
        }
        let now = Instant::now();
        let mut recent = self.recent_puts.lock();
        recent.push_back(now);
        while recent.front().is_some_and(|at| now.duration_since(*at) > Duration::from_millis(100)) {
            recent.pop_front();
        }
        recent.len() >= 8
    }

    /// DEL-*: `DELETE /reports/{id}?version=...`.
    pub fn delete(&self, caller: Caller, id: &str, version: Option<&str>) -> Result<(), Failure> {
        let mut reports = self.reports.write();
        self.judge_for_log(&reports, caller, Request::Delete { id, version });
        let current = id.parse().ok().and_then(|id: Id| reports.by_id.get(&id)).map(|entry| entry.report.version);
        let version = match version {
            None if self.fault(Fault::DeleteWithoutVersion) => current.map(|current| current.to_string()),
            other => other.map(str::to_owned),
        };
        let request = Request::Delete { id, version: version.as_deref() };
        let sent = version.as_deref().and_then(|version| version.parse::<i64>().ok());
        let excuse = |violation: &Violation| {
            let (Some(current), Some(sent)) = (current, sent) else { return false };
            violation.rule == Rule::Del3
                && ((self.fault(Fault::StaleByOneDeletes) && sent == current - 1)
                    || (self.fault(Fault::VersionAheadDeletes) && sent > current))
        };
        match self.decide_excusing(&reports, caller, request, &excuse) {
            Decision::Rejected(violations)
                if self.fault(Fault::ForeignDeleteWithVersion)
                    && violations.first().is_some_and(|violation| violation.rule == Rule::Sec1)
                    && current.is_some()
                    && sent == current =>
            {
                if let Ok(id) = id.parse::<Id>() {
                    reports.by_id.remove(&id);
                }
                Ok(())
            }
            Decision::Deleted { id } => {
                if !self.fault(Fault::DeleteKeeps) {
                    reports.by_id.remove(&id);
                }
                Ok(())
            }
            Decision::Rejected(violations)
                if self.fault(Fault::DeleteUnknownIs204)
                    && violations.first().is_some_and(|violation| violation.rule == Rule::Del4) =>
            {
                Ok(())
            }
            decision => {
                self.refused_write(&mut reports, id);
                Err(self.refusal(decision, request))
            }
        }
    }

    /// LST-1: `GET /tenants/{id}/reports`, oldest first.
    pub fn list(&self, caller: Caller, tenant: &str) -> Result<UuidList, Failure> {
        let reports = self.reports.read();
        let request = Request::List { tenant };
        self.judge_for_log(&reports, caller, request);
        let tenant = match self.decide(&reports, caller, request) {
            Decision::Listed { tenant } => tenant,
            Decision::Rejected(violations)
                if self.fault(Fault::ForeignListLeaks)
                    && violations.first().is_some_and(|violation| violation.rule == Rule::Sec1)
                    && let Ok(tenant) = tenant.parse::<Id>() =>
            {
                tenant
            }
            decision => return Err(self.refusal(decision, request)),
        };
        if self.fault(Fault::ListStaleUntilCreate)
            && let Some(items) = self.stale_lists.lock().get(&tenant)
        {
            return Ok(UuidList { items: items.clone() });
        }
        Ok(UuidList { items: self.listed(&reports, tenant) })
    }

    /// The ids of `tenant`'s list, oldest first (with the variations and faults on it).
    fn listed(&self, reports: &Reports, tenant: Id) -> Vec<Id> {
        let children = self.variation(Freedom::ChildTenantReports);
        let mut entries: Vec<&Entry> = reports
            .by_id
            .values()
            .filter(|entry| {
                let owner = entry.report.parameters.tenant_id;
                owner == tenant || children && self.fixture.is_within(owner, tenant)
            })
            .collect();
        entries.sort_by_key(|entry| entry.seq);
        if self.variation(Freedom::ListOrder) {
            entries.reverse();
        }
        if self.fault(Fault::ListOmitsMonthly) {
            entries.retain(|entry| entry.report.schedule.schedule_type != ScheduleType::Monthly);
        }
        if self.fault(Fault::ListOmitsDisabled) {
            entries.retain(|entry| entry.report.schedule.enabled);
        }
        entries.iter().map(|entry| entry.report.id).collect()
    }

    /// STO-1/2/4: `GET /reports/{id}/stored`, generating the stored reports once the
    /// model says they are due.
    pub fn stored(&self, caller: Caller, id: &str) -> Result<StoredReportList, Failure> {
        let mut reports = self.reports.write();
        let request = Request::Stored { id };
        self.judge_for_log(&reports, caller, request);
        let (report, stored) = match self.decide(&reports, caller, request) {
            Decision::StoredListed { report, stored } => (report, stored),
            Decision::Rejected(violations)
                if self.fault(Fault::ForeignStoredListLeaks)
                    && violations.first().is_some_and(|violation| violation.rule == Rule::Sec1)
                    && let Ok(report) = id.parse::<Id>() =>
            {
                (report, StoredExpectation::Unpinned)
            }
            decision => return Err(self.refusal(decision, request)),
        };
        let Some(entry) = reports.by_id.get_mut(&report) else { return Ok(StoredReportList::default()) };
        if let StoredExpectation::OnePerFormat(formats) = stored
            && entry.generation.is_none()
        {
            entry.generation = Some(self.generate(&entry.report, &formats));
        }
        let Some(generation) = &entry.generation else { return Ok(StoredReportList::default()) };
        let items = generation
            .files
            .iter()
            .map(|file| StoredReport {
                id: Some(file.id),
                report_format: file.format,
                size: Some(i64::try_from(file.gzip.len()).unwrap_or(i64::MAX)),
                created_at: generation.created_at,
                status: self.status(generation, file),
            })
            .collect();
        Ok(StoredReportList { items })
    }

    /// STO-3: `GET /reports/{id}/stored/{stored_id}`, the file of a saved stored report.
    pub fn download(&self, caller: Caller, id: &str, stored_id: &str) -> Result<StoredFile, Failure> {
        let reports = self.reports.read();
        let request = Request::Download { id, stored_id };
        self.judge_for_log(&reports, caller, request);
        let (report, stored_id) = match self.decide(&reports, caller, request) {
            Decision::Download { report, stored_id } => (report, stored_id),
            Decision::Rejected(violations)
                if self.fault(Fault::ForeignDownloadLeaks)
                    && violations.first().is_some_and(|violation| violation.rule == Rule::Sec1)
                    && let (Ok(report), Ok(stored)) = (id.parse::<Id>(), stored_id.parse::<Id>()) =>
            {
                (report, stored)
            }
            decision => return Err(self.refusal(decision, request)),
        };
        let unknown = || Failure::from(Violation::not_found(Rule::Sto4, "stored report"));
        let generation = reports.by_id.get(&report).and_then(|entry| entry.generation.as_ref()).ok_or_else(unknown)?;
        let Some(file) = generation.files.iter().find(|file| file.id == stored_id) else {
            if self.fault(Fault::UnknownStoredIs200) {
                return Ok(StoredFile {
                    id: stored_id,
                    format: Format::Csv,
                    plain: Bytes::new(),
                    gzip: gzip(b"").into(),
                });
            }
            return Err(unknown());
        };
        if self.status(generation, file) != StoredStatus::Saved {
            // Any 4xx is conformant here (the unsaved-download freedom).
            let status =
                if self.variation(Freedom::UnsavedDownload) { StatusCode::TOO_EARLY } else { StatusCode::CONFLICT };
            return Err(Failure::new(status, "The stored report is still being generated.").rule(Rule::Sto3));
        }
        Ok(file.clone())
    }

    /// Whether the server runs with the variation for `freedom`.
    pub fn variation(&self, freedom: Freedom) -> bool {
        self.config.variations.has(freedom)
    }

    /// For the request log: the model's judgement of `request` as it arrived (before any
    /// fault read it otherwise), over the state the server holds the lock on. Only while
    /// a request is logged; the first judgement of a request is kept.
    fn judge_for_log(&self, reports: &Reports, caller: Caller, request: Request<'_>) {
        if crate::request_log::tracing() {
            let known = Known { reports, fixture: &self.fixture, flat: false };
            let caller = decide::Caller { tenant: caller.tenant_id, today: self.today() };
            crate::request_log::decided(decide::decide(&known, caller, request));
        }
    }

    /// The model's decision on `request`, with the faults that let a rejected request
    /// through applied around it.
    fn decide(&self, reports: &Reports, caller: Caller, request: Request<'_>) -> Decision {
        self.decide_excusing(reports, caller, request, &|_| false)
    }

    /// [`Self::decide`], with `excuse` letting further violations through (the faults
    /// that are on only under a condition of this request).
    fn decide_excusing(
        &self,
        reports: &Reports,
        caller: Caller,
        request: Request<'_>,
        excuse: &dyn Fn(&Violation) -> bool,
    ) -> Decision {
        let decision = self.decide_with_faults(reports, caller, request, excuse);
        match self.config.mutant {
            Some(mutant @ Mutant { change: Change::Flip, class })
                if self.observe(reports, caller, request).classes().contains(&class) =>
            {
                self.flipped(mutant, decision, reports, caller, request)
            }
            _ => decision,
        }
    }

    /// The classes of the class map `request` falls in, with the write its report saw last.
    fn observe(&self, reports: &Reports, caller: Caller, request: Request<'_>) -> Observation {
        let before = request.report_id().and_then(|id| reports.by_id.get(&id)).map(|entry| entry.before);
        let known = Known { reports, fixture: &self.fixture, flat: false };
        classes::observe(&known, decide::Caller { tenant: caller.tenant_id, today: self.today() }, request, before)
    }

    /// The mutant's negation, when it has one and `request` falls in its class.
    fn negation(&self, reports: &Reports, caller: Caller, request: Request<'_>) -> Option<(Rule, &'static str)> {
        match self.config.mutant {
            Some(Mutant { change: Change::Negate { rule, place }, class })
                if self.observe(reports, caller, request).classes().contains(&class) =>
            {
                Some((rule, place))
            }
            _ => None,
        }
    }

    /// Applies a negation to an accepted answer.
    fn negate(&self, negation: Option<(Rule, &'static str)>, answer: &mut Report, before: Option<&Report>) {
        if let Some((rule, place)) = negation {
            mutant::negate(answer, place, before);
            self.config.mutations.record(rule);
        }
    }

    /// A refused PUT or DELETE is the report's last write (for the mutants' classes).
    fn refused_write(&self, reports: &mut Reports, id: &str) {
        if let Some(entry) = id.parse::<Id>().ok().and_then(|id| reports.by_id.get_mut(&id)) {
            entry.before = Before::Refused;
        }
    }

    /// The other answer to a request of a flip mutant's class: a refusal for what the
    /// decider accepts, acceptance (a broken field read as its valid value) for what it
    /// refuses. The decision's rule is recorded when the flip applies.
    fn flipped(
        &self,
        mutant: Mutant,
        decision: Decision,
        reports: &Reports,
        caller: Caller,
        request: Request<'_>,
    ) -> Decision {
        let rule = decision.rule();
        let flipped = match &decision {
            Decision::Rejected(_) => self.accepted_anyway(mutant, reports, caller, request),
            _ => Some(Decision::Rejected(vec![Violation::refusal(rule, format!("refused by the mutant `{mutant}`"))])),
        };
        match flipped {
            Some(flipped) => {
                self.config.mutations.record(rule);
                flipped
            }
            None => decision,
        }
    }

    fn accepted_anyway(
        &self,
        mutant: Mutant,
        reports: &Reports,
        caller: Caller,
        request: Request<'_>,
    ) -> Option<Decision> {
        let today = self.today();
        let report = |id: &str| id.parse::<Id>().ok().and_then(|id| reports.by_id.get(&id)).map(|entry| &entry.report);
        let Mutant { class, .. } = mutant;
        Some(match request {
            Request::Create { body, .. } => {
                let body = match class.form {
                    Some(_) => classes::repaired(classes::Op::Create, body, class.field, caller.tenant_id, today),
                    None => body.to_vec(),
                };
                let post = rule_check::parse_create(&body).ok()?;
                Decision::Created { prediction: Prediction::created(&post, today), post }
            }
            Request::Update { id, body, .. } => {
                let current = report(id)?;
                let body = match class.form {
                    Some(_) => {
                        classes::repaired(classes::Op::Update, body, class.field, current.parameters.tenant_id, today)
                    }
                    None => body.to_vec(),
                };
                let put = rule_check::parse_update(&body).ok()?;
                Decision::Updated { prediction: Prediction::updated(current, &put), put }
            }
            Request::Delete { id, .. } => Decision::Deleted { id: report(id)?.id },
            Request::Get { id } => Decision::Read(Prediction::read(report(id)?)),
            Request::Stored { id } => {
                Decision::StoredListed { report: report(id)?.id, stored: StoredExpectation::Unpinned }
            }
            Request::Download { id, stored_id } => {
                Decision::Download { report: report(id)?.id, stored_id: stored_id.parse().ok()? }
            }
            Request::List { tenant } => Decision::Listed { tenant: tenant.parse().ok()? },
        })
    }

    /// The decision with the faults applied around it.
    fn decide_with_faults(
        &self,
        reports: &Reports,
        caller: Caller,
        request: Request<'_>,
        excuse: &dyn Fn(&Violation) -> bool,
    ) -> Decision {
        let excused = |violation: &Violation| self.excused(violation) || excuse(violation);
        // The subtree faults: a tenant below the caller's taken for a foreign one.
        let flat = match request {
            Request::Create { .. } => self.fault(Fault::ChildCreateRefused),
            Request::List { .. } => self.fault(Fault::ChildListRefused),
            _ => false,
        };
        let known = Known { reports, fixture: &self.fixture, flat };
        let caller = decide::Caller { tenant: caller.tenant_id, today: self.today() };
        let decision = self.choose(decide::decide(&known, caller, request));
        let Decision::Rejected(violations) = &decision else { return decision };
        if !violations.iter().any(excused) {
            return decision;
        }
        let kept: Vec<Violation> = violations.iter().filter(|violation| !excused(violation)).cloned().collect();
        if !kept.is_empty() {
            return Decision::Rejected(kept);
        }
        // Every violation is excused by a fault: accept as the model would have.
        let today = caller.today;
        match request {
            Request::Create { body, .. } => match rule_check::parse_create(body) {
                Ok(post) => {
                    let left: Vec<Violation> = rule_check::create_violations(&post, today)
                        .into_iter()
                        .filter(|violation| !excused(violation))
                        .collect();
                    if left.is_empty() {
                        Decision::Created { prediction: Prediction::created(&post, today), post }
                    } else {
                        Decision::Rejected(left)
                    }
                }
                Err(_) => decision,
            },
            Request::Update { id, body, .. } => {
                let current = id.parse().ok().and_then(|id| reports.by_id.get(&id));
                match (current, rule_check::parse_update(body)) {
                    (Some(current), Ok(put)) => {
                        Decision::Updated { prediction: Prediction::updated(&current.report, &put), put }
                    }
                    _ => decision,
                }
            }
            Request::Delete { id, .. } => match id.parse() {
                Ok(id) => Decision::Deleted { id },
                Err(_) => decision,
            },
            _ => decision,
        }
    }

    /// The branch the server takes: the reference's, or in the seeded mode any of them,
    /// refusing under any of the rules a request breaks.
    fn choose(&self, admissible: decide::Admissible) -> Decision {
        let Some((branch, first)) = self.draw(|rng| {
            let branch = rng.usize(..admissible.branches().len());
            let violations = admissible.branches()[branch].decision.violations().len();
            (branch, rng.usize(..violations.max(1)))
        }) else {
            return admissible.into_reference();
        };
        match admissible.branches()[branch].decision.clone() {
            Decision::Rejected(mut violations) => {
                violations.rotate_left(first);
                Decision::Rejected(violations)
            }
            decision => decision,
        }
    }

    /// Whether a fault lets a request through despite `violation`.
    fn excused(&self, violation: &Violation) -> bool {
        let fault = match violation.rule {
            Rule::Crt2 => Fault::SendWithoutRecipients,
            Rule::Crt3 => Fault::FuturePeriod,
            Rule::Crt6 => Fault::CreateForeignTenant,
            Rule::Upd1 => Fault::UpdateAnyReport,
            Rule::Upd2 => Fault::UpdateFormats,
            Rule::Upd3 => Fault::RecipientsOnSave,
            Rule::Del3 => Fault::IgnoreStaleVersion,
            _ => return false,
        };
        self.fault(fault)
    }

    /// The answer to a decision the operation does not accept: the first violation of a
    /// rejection (with the variations for its free status), anything else a 500 that
    /// cannot happen (the model decides every request of an operation the same way).
    fn refusal(&self, decision: Decision, request: Request<'_>) -> Failure {
        let Decision::Rejected(violations) = decision else {
            return Failure::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the model decided {decision:?} for {:?}", request.operation()),
            );
        };
        let Some(mut violation) = violations.into_iter().next() else {
            return Failure::new(StatusCode::BAD_REQUEST, "The request was rejected.");
        };
        if let Some((status, code)) = self.draw(|rng| {
            // Any admitted status (a 4xx that means nothing else to a client where any is),
            // and any code where none is pinned.
            let statuses = if violation.any_client_error { vec![400, 404, 409, 422] } else { violation.statuses() };
            let status = statuses[rng.usize(..statuses.len())];
            let code = if violation.code_is_pinned() { violation.code } else { rng.i64(1..100_000) };
            (status, code)
        }) {
            if violation.freedom == Some(Freedom::ForeignReport) && status == 403 {
                return Failure::from(Violation::forbidden(Rule::Sec1));
            }
            violation.status = status;
            violation.code = code;
            return Failure::from(violation);
        }
        match violation.freedom {
            Some(Freedom::MalformedId) if self.variation(Freedom::MalformedId) => {
                violation.status = 400;
                violation.code = 400;
            }
            Some(Freedom::ForeignReport) if self.variation(Freedom::ForeignReport) => {
                return Failure::from(Violation::forbidden(Rule::Sec1));
            }
            _ => {}
        }
        if self.fault(Fault::BadJsonIs500)
            && violation.status == 400
            && matches!(violation.rule, Rule::Crt5 | Rule::Upd8)
        {
            return Failure::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal error.");
        }
        Failure::from(violation)
    }

    /// Whether the model would refuse `request` before reading its body: for a body over
    /// the limit, so that the check order (auth, id, existence, media type, body) holds.
    pub fn refuses_before_body(&self, caller: Caller, request: Request<'_>) -> Option<Failure> {
        let reports = self.reports.read();
        match self.decide(&reports, caller, request) {
            Decision::Rejected(violations)
                if violations.first().is_some_and(|violation| {
                    !(violation.status == 400 && matches!(violation.rule, Rule::Crt5 | Rule::Upd8))
                }) =>
            {
                Some(self.refusal(Decision::Rejected(violations), request))
            }
            _ => None,
        }
    }

    /// The report a create decision predicts, with a fresh id and the first version, and
    /// the variations for its free fields.
    fn new_report(&self, post: &ReportPost, prediction: Prediction) -> Report {
        let free: Vec<(&str, Freedom)> = prediction.free_fields().collect();
        let mut report = prediction.report;
        report.id = self.new_id();
        report.version = self.next_version(None);
        for (pointer, freedom) in free {
            // The seeded mode draws each free value; otherwise its variation decides.
            if !self.draw(|rng| rng.bool()).unwrap_or_else(|| self.variation(freedom)) {
                continue;
            }
            match freedom {
                Freedom::OptionalFlags if pointer == "/parameters/hide_zero_usage" => {
                    report.parameters.hide_zero_usage = Some(false);
                }
                Freedom::OptionalFlags if pointer == "/parameters/show_skus" => {
                    report.parameters.show_skus = Some(false);
                }
                Freedom::MonthlyGenerationDate => {
                    report.generation_date = match self.draw(|rng| rng.i64(1..90)) {
                        Some(days) => self.today() + time::Duration::days(days),
                        None => self.later_run(report.generation_date),
                    }
                }
                _ => {}
            }
        }
        // What no rule claims, drawn in the seeded mode: an omitted flag's value, one
        // stored report per distinct format.
        if post.schedule.enabled.is_none() && self.coin() {
            report.schedule.enabled = false;
        }
        if self.coin() {
            let mut distinct = Vec::new();
            for format in &report.parameters.formats {
                if !distinct.contains(format) {
                    distinct.push(*format);
                }
            }
            report.parameters.formats = distinct;
        }
        if self.fault(Fault::CreateDropsFlags) {
            report.parameters.hide_zero_usage = None;
            report.parameters.show_skus = None;
        }
        if self.fault(Fault::NoDefaultFormats) && post.parameters.formats.is_none() {
            report.parameters.formats.clear();
        }
        if self.fault(Fault::MonthEndPeriodShifted)
            && let Some(period) = post.parameters.period
            && (period.end + time::Duration::days(1)).day() == 1
        {
            report.parameters.period.end = period.end + time::Duration::days(1);
        }
        let today = self.today();
        let last_day_of_month = (today + time::Duration::days(1)).day() == 1;
        if self.fault(Fault::DefaultPeriodWrongOnLastDay) && last_day_of_month && post.parameters.period.is_none() {
            report.parameters.period = Period { start: today.replace_day(1).unwrap_or(today), end: today };
        }
        if self.fault(Fault::MonthlyDateTodayOnLastDay)
            && last_day_of_month
            && post.generation_date.is_none()
            && report.schedule.schedule_type == ScheduleType::Monthly
        {
            report.generation_date = today;
        }
        if self.fault(Fault::DefaultPeriodWrongInJanuary)
            && today.month() == time::Month::January
            && post.parameters.period.is_none()
            && let (Ok(start), Ok(end)) = (
                Date::from_calendar_date(today.year(), time::Month::December, 1),
                Date::from_calendar_date(today.year(), time::Month::December, 31),
            )
        {
            // December of this year instead of last year's.
            report.parameters.period = Period { start, end };
        }
        if self.fault(Fault::AllPartnersEchoedWrong) && report.parameters.level == Level::AllPartners {
            report.parameters.level = Level::AllCustomers;
        }
        if self.fault(Fault::MonthlyDisabledIgnored) && report.schedule.schedule_type == ScheduleType::Monthly {
            report.schedule.enabled = true;
        }
        report
    }

    /// Another future run than the model's `reference`: the 15th of its month.
    fn later_run(&self, reference: Date) -> Date {
        let today = self.today();
        match reference.replace_day(15) {
            Ok(day) if day > today && day != reference => day,
            _ => today + time::Duration::days(15),
        }
    }

    /// The report an update decision predicts, with the next version.
    fn updated_report(&self, current: &Report, created: &Report, put: &ReportPut, prediction: Prediction) -> Report {
        let mut updated = prediction.report;
        let parameters = put.parameters.as_ref();
        let toggle = put.parameters.is_none() && put.recipients.is_none() && put.schedule.is_some();
        if let Some(parameters) = parameters {
            if self.fault(Fault::ShowSkusChangeAccepted) && parameters.show_skus.is_some() {
                updated.parameters.show_skus = parameters.show_skus;
            }
            if self.fault(Fault::HideZeroUsageChangeAccepted) && parameters.hide_zero_usage.is_some() {
                updated.parameters.hide_zero_usage = parameters.hide_zero_usage;
            }
            if self.fault(Fault::ForeignTenantIdMovesReport)
                && let Some(tenant) = parameters.tenant_id
            {
                updated.parameters.tenant_id = tenant;
            }
            if self.fault(Fault::UsageCurrentUpdateLost) && parameters.kind == Some(Kind::UsageCurrent) {
                updated.parameters.kind = current.parameters.kind;
            }
            if self.fault(Fault::KindChangeClearsRecipients)
                && parameters.kind.is_some_and(|kind| kind != current.parameters.kind)
                && put.recipients.is_none()
            {
                updated.recipients.clear();
            }
        }
        if self.fault(Fault::RecipientsUpdateIgnored) && put.recipients.is_some() {
            updated.recipients = current.recipients.clone();
        }
        if self.fault(Fault::ToggleResetsKind) && toggle {
            updated.parameters.kind = created.parameters.kind;
        }
        if self.fault(Fault::UpdateFormats)
            && let Some(formats) = put.parameters.as_ref().and_then(|parameters| parameters.formats.clone())
        {
            updated.parameters.formats = formats;
        }
        if self.fault(Fault::IgnoreEnabled) {
            updated.schedule.enabled = current.schedule.enabled;
        }
        let keeps = self.fault(Fault::NoVersionBump) || (self.fault(Fault::ToggleKeepsVersion) && toggle);
        updated.version = if keeps { current.version } else { self.next_version(Some(current.version)) };
        updated
    }

    /// Generates the stored reports of a new report when the model says they are due.
    fn generate_if_due(&self, reports: &mut Reports, caller: Caller, id: Id) {
        let id_text = id.to_string();
        if let Decision::StoredListed { stored: StoredExpectation::OnePerFormat(formats), .. } =
            self.decide(reports, caller, Request::Stored { id: &id_text })
            && let Some(entry) = reports.by_id.get_mut(&id)
        {
            entry.generation = Some(self.generate(&entry.report, &formats));
        }
    }

    /// With the preexisting-reports variation: a monthly report of the first tenant and
    /// one of its child, made through the same create as any other.
    fn seed(&self) {
        let Some(client) = self.fixture.clients.first() else { return };
        let caller = Caller { client_id: client.client_id, tenant_id: client.tenant_id };
        let child = self.fixture.tenants.iter().find(|tenant| tenant.parent == Some(client.tenant_id));
        for tenant in std::iter::once(client.tenant_id).chain(child.map(|tenant| tenant.id)) {
            let body = serde_json::json!({"result_action": "save", "schedule": {"type": "monthly"},
                "parameters": {"tenant_id": tenant, "kind": "usage_summary", "level": "accounts"}});
            let _ = self.create(caller, Some(JSON), body.to_string().as_bytes());
        }
    }

    /// A fresh id: version 4, or a time-ordered version 7 with the report-id variation.
    fn new_id(&self) -> Id {
        let random = Id::new_v4();
        if !self.variation(Freedom::ReportId) {
            return random;
        }
        let millis = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() & 0xffff_ffff_ffff;
        let text = random.to_string();
        let stamp = format!("{millis:012x}");
        let v7 = format!("{}-{}-7{}", &stamp[..8], &stamp[8..], &text[15..]);
        v7.parse().unwrap_or(random)
    }

    fn next_version(&self, current: Option<i64>) -> i64 {
        match self.config.effective_versions() {
            VersionScheme::Sequential => {
                let step = self.draw(|rng| rng.i64(1..5)).unwrap_or(1);
                current.map_or(step, |version| version + step)
            }
            VersionScheme::UnixMillis => {
                let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
                let now = i64::try_from(now).unwrap_or(i64::MAX);
                current.map_or(now, |version| now.max(version + 1))
            }
        }
    }

    fn generate(&self, report: &Report, formats: &[Format]) -> Generation {
        let mut tenants = self.fixture.subtree(report.parameters.tenant_id);
        // The seeded mode: tenant names that a file must quote (RFC 4180 in CSV).
        let quoted: Vec<crate::fixture::Tenant> = tenants
            .iter()
            .map(|tenant| crate::fixture::Tenant {
                name: "A tenant, \"quoted\"\nacross two lines",
                ..(*tenant).clone()
            })
            .collect();
        if self.coin() {
            tenants = quoted.iter().collect();
        }
        let formats = if self.fault(Fault::OneStoredReport) { &formats[..formats.len().min(1)] } else { formats };
        let files = formats
            .iter()
            .map(|&format| {
                let plain = if self.fault(Fault::CorruptDownload) {
                    b"not a report".to_vec()
                } else if self.fault(Fault::HtmlDownloadNotHtml) && format == Format::Html {
                    content::render(report, Format::Csv, &tenants)
                } else if self.fault(Fault::CsvV2WithoutHeader) && format == Format::CsvV2 {
                    let csv = content::render(report, format, &tenants);
                    let start = csv.iter().position(|byte| *byte == b'\n').map_or(csv.len(), |at| at + 1);
                    csv[start..].to_vec()
                } else {
                    content::render(report, format, &tenants)
                };
                let gzip = gzip(&plain);
                StoredFile { id: self.new_id(), format, plain: plain.into(), gzip: gzip.into() }
            })
            .collect();
        Generation { started: Instant::now(), created_at: Timestamp::now(), files }
    }

    fn status(&self, generation: &Generation, file: &StoredFile) -> StoredStatus {
        if self.fault(Fault::JsonV2NeverSaved) && file.format == Format::JsonV2 {
            return StoredStatus::InProgress;
        }
        if generation.started.elapsed() >= self.config.effective_save_delay() {
            StoredStatus::Saved
        } else {
            StoredStatus::InProgress
        }
    }
}

/// The store's state as the model's decider sees it.
struct Known<'a> {
    reports: &'a Reports,
    fixture: &'a Fixture,
    /// Only the caller's own tenant is within (the subtree faults).
    flat: bool,
}

impl decide::Known for Known<'_> {
    fn report(&self, id: Id) -> Option<&Report> {
        self.reports.by_id.get(&id).map(|entry| &entry.report)
    }

    fn is_within(&self, tenant: Id, caller: Id) -> bool {
        if self.flat { tenant == caller } else { self.fixture.is_within(tenant, caller) }
    }
}

const JSON: &str = "application/json";
const CREATE_KEYS: &[&str] = &["recipients", "result_action", "parameters", "schedule", "generation_date"];
const UPDATE_KEYS: &[&str] = &["recipients", "parameters", "schedule"];

/// For the lax-schema faults: drops unknown top-level keys before deciding.
fn strip_unknown_keys(body: &[u8], known: &[&str]) -> Vec<u8> {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(mut object)) => {
            object.retain(|key, _| known.contains(&key.as_str()));
            serde_json::to_vec(&object).unwrap_or_else(|_| body.to_vec())
        }
        _ => body.to_vec(),
    }
}

fn seconds(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

/// An opaque access token: 256 random bits as hex.
fn random_token() -> String {
    format!("{}{}", Id::new_v4().as_uuid().simple(), Id::new_v4().as_uuid().simple())
}

/// The client an unsigned JWT (`alg: none`) names in `sub` or `client_id` (for the
/// unsigned-jwt-accepted fault).
fn unsigned_jwt_subject(token: &str) -> Option<Id> {
    use base64::Engine as _;
    let part = |index: usize| -> Option<serde_json::Value> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.split('.').nth(index)?).ok()?;
        serde_json::from_slice(&bytes).ok()
    };
    let unsigned = part(0)?["alg"].as_str().is_some_and(|alg| alg.eq_ignore_ascii_case("none"));
    let claims = part(1).filter(|_| unsigned)?;
    claims["sub"].as_str().or(claims["client_id"].as_str())?.parse().ok()
}

/// A JWT-shaped ID token (unsigned; nothing verifies it).
fn id_token(client_id: Id) -> String {
    use base64::Engine as _;
    let encode = |value: serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string());
    let header = encode(serde_json::json!({"alg": "none", "typ": "JWT"}));
    let claims = encode(serde_json::json!({"iss": "reportcheck-reference-server", "sub": client_id}));
    format!("{header}.{claims}.")
}

fn gzip(plain: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(plain);
    encoder.finish().unwrap_or_default()
}

/// Compares secrets without leaking their length of common prefix through timing.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
