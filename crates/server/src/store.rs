//! The server's state and every operation on it. Each operation validates completely
//! before it changes anything, and every write to a report happens under one lock, so
//! concurrent writes are serialised (UPD-9) and a rejected request changes nothing.

use std::collections::HashMap;
use std::io::Write as _;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::http::StatusCode;
use parking_lot::{Mutex, RwLock};
use reportcheck_model::rule_check;
use reportcheck_model::{
    ApiClient, ClientStatus, ClientType, Date, Format, Id, Report, ReportPost, ReportPut, ResultAction, Rule,
    ScheduleType, Secret, StoredReport, StoredReportList, StoredStatus, Timestamp, Token, TokenEndpointAuthMethod,
    UuidList,
};

use crate::config::{Config, VersionScheme};
use crate::content;
use crate::failure::{Failure, TokenFailure};
use crate::fault::Fault;
use crate::fixture::Fixture;

/// Who is calling: the API client behind a valid token.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub client_id: Id,
    pub tenant_id: Id,
}

#[derive(Debug)]
struct Grant {
    caller: Caller,
    expires_at: Instant,
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
}

impl Store {
    pub fn new(config: Config, fixture: Fixture) -> Store {
        Store { config, fixture, tokens: Mutex::default(), reports: RwLock::default() }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Whether the server runs with `fault`.
    pub fn fault(&self, fault: Fault) -> bool {
        self.config.faults.contains(&fault)
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
                TokenFailure::new(status, "invalid_client", "invalid client credentials")
            })?;
        let access_token = random_token();
        let lifetime = self.config.token_lifetime;
        let now = Instant::now();
        let mut tokens = self.tokens.lock();
        tokens.retain(|_, grant| grant.expires_at > now);
        tokens.insert(
            access_token.clone(),
            Grant {
                caller: Caller { client_id: client.client_id, tenant_id: client.tenant_id },
                expires_at: now + lifetime,
            },
        );
        let unix_now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        Ok(Token {
            access_token: Secret::new(access_token),
            token_type: "bearer".to_owned(),
            id_token: Some(Secret::new(id_token(client.client_id))),
            expires_in: Some(seconds(lifetime)),
            expires_on: Some(i64::try_from(unix_now).unwrap_or(i64::MAX).saturating_add(seconds(lifetime))),
            refresh_token: None,
        })
    }

    /// AUTH-3: the caller behind a bearer token.
    pub fn authenticate(&self, token: &str) -> Result<Caller, Failure> {
        let tokens = self.tokens.lock();
        match tokens.get(token) {
            Some(grant) if grant.expires_at > Instant::now() => Ok(grant.caller),
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
            last_access_at: None,
            last_access_from_ip: None,
            status: ClientStatus::Enabled,
            data: Some(serde_json::Map::from_iter([("client_name".to_owned(), "reportcheck fixture".into())])),
            redirect_uris: None,
            origin_id: None,
        })
    }

    /// CRT-*: creates a report from a parsed body.
    pub fn create(&self, caller: Caller, post: &ReportPost) -> Result<Report, Failure> {
        if !self.fixture.is_within(post.parameters.tenant_id, caller.tenant_id)
            && !self.fault(Fault::CreateForeignTenant)
        {
            return Err(Failure::forbidden(Rule::Crt6));
        }
        let today = self.today();
        let violation = rule_check::create_violations(post, today).into_iter().find(|violation| {
            !(violation.rule == Rule::Crt2 && self.fault(Fault::SendWithoutRecipients)
                || violation.rule == Rule::Crt3 && self.fault(Fault::FuturePeriod))
        });
        if let Some(violation) = violation {
            return Err(violation.into());
        }
        let mut report = rule_check::new_report(post, Id::new_v4(), self.next_version(None), today);
        if self.fault(Fault::CreateDropsFlags) {
            report.parameters.hide_zero_usage = None;
            report.parameters.show_skus = None;
        }
        if self.fault(Fault::NoDefaultFormats) && post.parameters.formats.is_none() {
            report.parameters.formats.clear();
        }
        let generation = self.generation_due(&report, today).then(|| self.generate(&report));
        let mut reports = self.reports.write();
        let seq = reports.next_seq;
        reports.next_seq += 1;
        reports.by_id.insert(report.id, Entry { seq, report: report.clone(), created: report.clone(), generation });
        Ok(report)
    }

    /// GET-1: a report the caller may see.
    pub fn get(&self, caller: Caller, id: Id) -> Result<Report, Failure> {
        let reports = self.reports.read();
        let entry = if self.fault(Fault::CrossTenantReads) {
            reports.by_id.get(&id).ok_or_else(|| Failure::not_found("no such report", Rule::Get2))
        } else {
            self.visible(&reports, caller, id, Rule::Get2)
        };
        let entry = entry.map_err(|failure| {
            if self.fault(Fault::UnknownIdIs400) && failure.status == StatusCode::NOT_FOUND {
                Failure::new(StatusCode::BAD_REQUEST, "Bad request.")
            } else {
                failure
            }
        })?;
        Ok(if self.fault(Fault::StaleGet) { entry.created.clone() } else { entry.report.clone() })
    }

    /// Whether a report exists and the caller may see it (SEC-1 answers 404, as unknown).
    pub fn check_visible(&self, caller: Caller, id: Id, rule: Rule) -> Result<(), Failure> {
        let reports = self.reports.read();
        self.visible(&reports, caller, id, rule).map(|_| ())
    }

    /// UPD-*: applies a parsed PUT body, all checks and the write under one lock.
    pub fn update(&self, caller: Caller, id: Id, put: &ReportPut) -> Result<Report, Failure> {
        let today = self.today();
        let mut reports = self.reports.write();
        let entry = self.visible_mut(&mut reports, caller, id, Rule::Upd8)?;
        let updated = self.updated(&entry.report, put, today)?;
        let before = std::mem::replace(&mut entry.report, updated.clone());
        Ok(if self.fault(Fault::UpdateEchoesOld) { before } else { updated })
    }

    /// The racy-updates fault: validates a snapshot, yields, then writes it back, so
    /// concurrent PUTs lose each other's changes and share versions.
    pub async fn update_racy(&self, caller: Caller, id: Id, put: &ReportPut) -> Result<Report, Failure> {
        let today = self.today();
        let snapshot = self.get(caller, id)?;
        let updated = self.updated(&snapshot, put, today)?;
        tokio::time::sleep(Duration::from_millis(2)).await;
        let mut reports = self.reports.write();
        let entry = self.visible_mut(&mut reports, caller, id, Rule::Upd8)?;
        entry.report = updated.clone();
        Ok(updated)
    }

    /// `current` after an accepted `put`, with its new version.
    fn updated(&self, current: &Report, put: &ReportPut, today: Date) -> Result<Report, Failure> {
        let violation = rule_check::update_violations(current, put, today).into_iter().find(|violation| {
            !(violation.rule == Rule::Upd1 && self.fault(Fault::UpdateAnyReport)
                || violation.rule == Rule::Upd2 && self.fault(Fault::UpdateFormats)
                || violation.rule == Rule::Upd3 && self.fault(Fault::RecipientsOnSave))
        });
        if let Some(violation) = violation {
            return Err(violation.into());
        }
        let mut updated = rule_check::apply_update(current, put);
        if self.fault(Fault::UpdateFormats)
            && let Some(formats) = put.parameters.as_ref().and_then(|parameters| parameters.formats.clone())
        {
            updated.parameters.formats = formats;
        }
        if self.fault(Fault::IgnoreEnabled) {
            updated.schedule.enabled = current.schedule.enabled;
        }
        if !self.fault(Fault::NoVersionBump) {
            updated.version = self.next_version(Some(current.version));
        }
        Ok(updated)
    }

    /// DEL-*: deletes a report at its current version.
    pub fn delete(&self, caller: Caller, id: Id, version: Option<&str>) -> Result<(), Failure> {
        let mut reports = self.reports.write();
        if self.fault(Fault::DeleteUnknownIs204) && !reports.by_id.contains_key(&id) {
            return Ok(());
        }
        let entry = self.visible_mut(&mut reports, caller, id, Rule::Del4)?;
        let current = entry.report.version;
        let version = match version {
            None if self.fault(Fault::DeleteWithoutVersion) => Some(current.to_string()),
            other => other.map(str::to_owned),
        };
        if let Some(violation) = rule_check::delete_violation(current, version.as_deref())
            && !(violation.rule == Rule::Del3 && self.fault(Fault::IgnoreStaleVersion))
        {
            return Err(violation.into());
        }
        if !self.fault(Fault::DeleteKeeps) {
            reports.by_id.remove(&id);
        }
        Ok(())
    }

    /// LST-1: the ids of a tenant's reports, oldest first.
    pub fn list(&self, caller: Caller, tenant_id: Id) -> Result<UuidList, Failure> {
        if self.fixture.tenant(tenant_id).is_none() {
            return Err(Failure::not_found("no such tenant", Rule::Lst1));
        }
        if !self.fixture.is_within(tenant_id, caller.tenant_id) {
            return Err(Failure::forbidden(Rule::Sec1));
        }
        let reports = self.reports.read();
        let mut entries: Vec<&Entry> =
            reports.by_id.values().filter(|entry| entry.report.parameters.tenant_id == tenant_id).collect();
        entries.sort_by_key(|entry| entry.seq);
        if self.fault(Fault::ListOmitsMonthly) {
            entries.retain(|entry| entry.report.schedule.schedule_type != ScheduleType::Monthly);
        }
        Ok(UuidList { items: entries.iter().map(|entry| entry.report.id).collect() })
    }

    /// STO-1/2/4: a report's stored reports, generating them once their day has come.
    pub fn stored(&self, caller: Caller, id: Id) -> Result<StoredReportList, Failure> {
        let today = self.today();
        let mut reports = self.reports.write();
        let entry = self.visible_mut(&mut reports, caller, id, Rule::Sto4)?;
        if entry.generation.is_none() && self.generation_due(&entry.report, today) {
            entry.generation = Some(self.generate(&entry.report));
        }
        let Some(generation) = &entry.generation else { return Ok(StoredReportList::default()) };
        let status = self.status(generation);
        let items = generation
            .files
            .iter()
            .map(|file| StoredReport {
                id: Some(file.id),
                report_format: file.format,
                size: Some(i64::try_from(file.gzip.len()).unwrap_or(i64::MAX)),
                created_at: generation.created_at,
                status,
            })
            .collect();
        Ok(StoredReportList { items })
    }

    /// STO-3: the file of a saved stored report.
    pub fn download(&self, caller: Caller, id: Id, stored_id: Id) -> Result<StoredFile, Failure> {
        let reports = self.reports.read();
        let entry = self.visible(&reports, caller, id, Rule::Sto4)?;
        let generation =
            entry.generation.as_ref().ok_or_else(|| Failure::not_found("no such stored report", Rule::Sto4))?;
        let Some(file) = generation.files.iter().find(|file| file.id == stored_id) else {
            if self.fault(Fault::UnknownStoredIs200) {
                return Ok(StoredFile {
                    id: stored_id,
                    format: Format::Csv,
                    plain: Bytes::new(),
                    gzip: gzip(b"").into(),
                });
            }
            return Err(Failure::not_found("no such stored report", Rule::Sto4));
        };
        if self.status(generation) != StoredStatus::Saved {
            return Err(
                Failure::new(StatusCode::CONFLICT, "The stored report is still being generated.").rule(Rule::Sto3)
            );
        }
        Ok(file.clone())
    }

    fn visible<'a>(&self, reports: &'a Reports, caller: Caller, id: Id, rule: Rule) -> Result<&'a Entry, Failure> {
        let entry = reports.by_id.get(&id).ok_or_else(|| Failure::not_found("no such report", rule))?;
        self.check_tenancy(entry, caller, rule)?;
        Ok(entry)
    }

    /// SEC-1: another tenant's report answers as unknown (or 403 with that variation).
    fn check_tenancy(&self, entry: &Entry, caller: Caller, rule: Rule) -> Result<(), Failure> {
        if self.fixture.is_within(entry.report.parameters.tenant_id, caller.tenant_id) {
            Ok(())
        } else if self.config.variations.forbid_foreign {
            Err(Failure::forbidden(Rule::Sec1))
        } else {
            Err(Failure::not_found("no such report", rule))
        }
    }

    fn visible_mut<'a>(
        &self,
        reports: &'a mut Reports,
        caller: Caller,
        id: Id,
        rule: Rule,
    ) -> Result<&'a mut Entry, Failure> {
        let entry = reports.by_id.get_mut(&id).ok_or_else(|| Failure::not_found("no such report", rule))?;
        self.check_tenancy(entry, caller, rule)?;
        Ok(entry)
    }

    fn next_version(&self, current: Option<i64>) -> i64 {
        match self.config.versions {
            VersionScheme::Sequential => current.map_or(1, |version| version + 1),
            VersionScheme::UnixMillis => {
                let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
                let now = i64::try_from(now).unwrap_or(i64::MAX);
                current.map_or(now, |version| now.max(version + 1))
            }
        }
    }

    /// A one-time `save` report is generated on its generation date.
    fn generation_due(&self, report: &Report, today: Date) -> bool {
        report.result_action == ResultAction::Save
            && report.schedule.schedule_type == ScheduleType::Once
            && report.generation_date <= today
    }

    fn generate(&self, report: &Report) -> Generation {
        let tenants = self.fixture.subtree(report.parameters.tenant_id);
        let formats = &report.parameters.formats;
        let formats = if self.fault(Fault::OneStoredReport) { &formats[..formats.len().min(1)] } else { formats };
        let files = formats
            .iter()
            .map(|&format| {
                let plain = if self.fault(Fault::CorruptDownload) {
                    b"not a report".to_vec()
                } else {
                    content::render(report, format, &tenants)
                };
                let gzip = gzip(&plain);
                StoredFile { id: Id::new_v4(), format, plain: plain.into(), gzip: gzip.into() }
            })
            .collect();
        Generation { started: Instant::now(), created_at: Timestamp::now(), files }
    }

    fn status(&self, generation: &Generation) -> StoredStatus {
        if generation.started.elapsed() >= self.config.save_delay {
            StoredStatus::Saved
        } else {
            StoredStatus::InProgress
        }
    }
}

fn seconds(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

/// An opaque access token: 256 random bits as hex.
fn random_token() -> String {
    format!("{}{}", Id::new_v4().as_uuid().simple(), Id::new_v4().as_uuid().simple())
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
