//! `cargo xtask record`: replays the standard contracts against a server and writes what
//! it answered as new contracts. Free values become matchers, secrets never reach a file
//! (a scan of every written file fails the command if one did), and each file carries
//! its recording date and the SHA-256 of the `openapi.json` it was checked against.
//!
//! What is free comes from the model, never from key names: a field is free when the
//! freedoms table says so for its schema (`freedom::field_freedom`) or when the decider's
//! prediction for the exchange marks it (a create's defaulted flags and monthly date,
//! carried to later answers about the same report). A free value is written as
//! `{"$free": {"as": <freedom>, "observed": <value>}}`; an error code stays pinned only
//! where `rule_check::pinned_code` pins one for the step's rules.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use reportcheck_client::ClientOptions;
use reportcheck_model::claim::CLIENT_CLAIMS;
use reportcheck_model::decide::{self, Caller, Decision, Known, Operation, REPORT_FIELDS, decide};
use reportcheck_model::freedom::{self, Comparison, Freedom};
use reportcheck_model::rule_check::pinned_code;
use reportcheck_model::{Date, Expect, Id, Place, Report, Rule};
use serde_json::{Value, json};

use crate::contract::{self, Contract, Expectation, LoadedContract, Provenance};
use crate::error::Error;
use crate::matcher::type_name;
use crate::openapi::{OPENAPI, Spec, sha256_hex};
use crate::redact::{Redactor, SECRET_HEADERS, SECRET_KEYS};
use crate::runner::Recorded;
use crate::template::Vars;
use crate::{Target, replay_all};

#[derive(Debug, Clone)]
pub struct RecordOptions {
    pub target: Target,
    /// The scenarios to run (`contracts/`).
    pub contracts: crate::ContractSource,
    /// Where the recorded contracts go.
    pub out: PathBuf,
    pub client: ClientOptions,
    /// Stops the recording (a signal, a timeout); what it created is deleted.
    pub control: crate::RunControl,
    /// A tenant below the first client's, for the `subtree` scenario (the embedded
    /// server's fixture has one).
    pub child_tenant: Option<Id>,
}

#[derive(Debug, Clone, Default)]
pub struct RecordSummary {
    pub written: Vec<PathBuf>,
    pub exchanges: usize,
    /// Contracts not recorded, and why.
    pub skipped: Vec<String>,
}

pub async fn record(options: RecordOptions) -> Result<RecordSummary, Error> {
    let contracts = options.contracts.load()?;
    let spec = Spec::builtin();
    let mut opened = crate::open_with(&options.target, options.client, options.control.clone()).await?;
    opened.session.child_tenant = options.child_tenant.or(opened.session.child_tenant);
    let session = &opened.session;
    let runs = replay_all(session, &spec, &contracts, None).await?;
    let provenance = Provenance {
        at: reportcheck_model::Timestamp::now().to_string(),
        openapi_sha256: sha256_hex(OPENAPI),
        server: Some(opened.base_url.clone()),
    };
    // Tokens the server handed out in answers (AUTH-1 contracts) are secrets too.
    let mut seen_secrets = Redactor::default();
    for (_, run) in &runs {
        for exchange in &run.exchanges {
            if let Ok(body) = serde_json::from_slice::<Value>(&exchange.response.body) {
                collect_secrets(&body, &mut seen_secrets);
            }
        }
    }
    std::fs::create_dir_all(&options.out).map_err(|source| Error::Write { path: options.out.clone(), source })?;
    let vars = session.vars();
    let validator = contract::format_validator();
    let mut summary = RecordSummary::default();
    let mut files = Vec::new();
    for (loaded, run) in runs {
        if run.exchanges.is_empty() {
            let why = run.checks.iter().find_map(|check| match &check.outcome {
                crate::Outcome::Skipped { reason } => Some(reason.as_str()),
                _ => None,
            });
            summary.skipped.push(format!(
                "{}: no step ran ({})",
                loaded.contract.name,
                why.unwrap_or("nothing selected")
            ));
            continue;
        }
        summary.exchanges += run.exchanges.len();
        // Observed values are written into the file: no secret the run knows goes with them.
        let redact = |value: &Value| -> Value {
            let text = seen_secrets.text(&session.redact_json(value).to_string());
            serde_json::from_str(&text).unwrap_or(Value::Null)
        };
        let recorded = recorded_contract(&spec, loaded, &run.exchanges, &vars, &provenance, session.today, &redact);
        let text = serde_json::to_string_pretty(&recorded).unwrap_or_default() + "\n";
        let path = options.out.join(format!("{}.json", recorded.name));
        if session.leaks(&text) || seen_secrets.leaks(&text).is_some() {
            remove_all(&files);
            return Err(Error::SecretInRecording { path });
        }
        // A recorded contract must load like any other.
        contract::parse(&path, &text, &validator)?;
        files.push((path, text));
    }
    for (path, text) in &files {
        std::fs::write(path, text).map_err(|source| Error::Write { path: path.clone(), source })?;
        summary.written.push(path.clone());
    }
    Ok(summary)
}

fn remove_all(files: &[(PathBuf, String)]) {
    for (path, _) in files {
        let _ = std::fs::remove_file(path);
    }
}

fn collect_secrets(value: &Value, secrets: &mut Redactor) {
    match value {
        Value::Object(object) => {
            for (key, value) in object {
                match value.as_str() {
                    Some(text) if SECRET_KEYS.contains(&key.as_str()) => secrets.add(text),
                    _ => collect_secrets(value, secrets),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_secrets(item, secrets)),
        _ => {}
    }
}

/// Headers every HTTP answer carries (or that describe the transfer): never recorded,
/// never drift.
pub const TRANSPORT_HEADERS: &[&str] = &[
    "date",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "content-type",
    "content-encoding",
    "vary",
];

/// What the decider knows while recording: no reports, and every tenant within the
/// caller's (the recorded create was made by the harness, and the server accepted it).
struct RecordedCreate;

impl Known for RecordedCreate {
    fn report(&self, _id: Id) -> Option<&Report> {
        None
    }

    fn is_within(&self, _tenant: Id, _caller: Id) -> bool {
        true
    }
}

/// The schema of an answer's JSON body: `errorScheme` for an API error, `tokenError` for
/// a token error, else the operation's documented 2xx schema.
pub fn answer_schema<'s>(spec: &'s Spec, method: &str, path: &str, status: u16) -> Option<&'s str> {
    if status >= 400 {
        if path.starts_with("/reports") || path.starts_with("/tenants/") {
            return Some("errorScheme");
        }
        return path.starts_with("/idp/").then_some("tokenError");
    }
    spec.operation(method, path)?.success_schema(status)
}

/// What the decider claims of the report a recorded create answered, by JSON pointer.
fn created_claims(request: &reportcheck_client::RawRequest, today: Date) -> Option<Claims> {
    let content_type = request.headers.get(reqwest::header::CONTENT_TYPE).and_then(|value| value.to_str().ok());
    let body = request.body.as_deref().unwrap_or_default();
    let caller = Caller { tenant: Id::from_uuid(Default::default()), today };
    let admissible = decide(&RecordedCreate, caller, decide::Request::Create { content_type, body });
    match admissible.accepting()? {
        Decision::Created { prediction, .. } => Some(
            prediction
                .claims
                .iter()
                .map(|claim| {
                    let Place::Body(pointer) = claim.place;
                    (pointer, claim.expect.clone())
                })
                .collect(),
        ),
        _ => None,
    }
}

/// A report's claims by JSON pointer.
type Claims = BTreeMap<&'static str, Expect>;

/// The contract with one more expectation per step that ran: the answer it got.
fn recorded_contract(
    spec: &Spec,
    loaded: &LoadedContract,
    exchanges: &[Recorded],
    vars: &Vars,
    provenance: &Provenance,
    today: Date,
    redact: &dyn Fn(&Value) -> Value,
) -> Contract {
    let mut contract = loaded.contract.clone();
    contract.schema = Some("./contract.schema.json".to_owned());
    contract.description = format!(
        "Recorded from {} on {}. {}",
        provenance.server.as_deref().unwrap_or("a server"),
        provenance.at,
        contract.description
    );
    contract.recorded = Some(provenance.clone());
    // What each created report's create claims holds in every later answer about it: a
    // field no claim covers is observed, never pinned.
    let mut claims_by_report: BTreeMap<String, Claims> = BTreeMap::new();
    for exchange in exchanges {
        let Some(step) = contract.steps.get_mut(exchange.step) else { continue };
        let template = step.expect.first();
        let rule = template.map_or(Rule::Sch1, |expectation| expectation.rule);
        // A refusal the contract admits with any 4xx is one no rule pins further: nor its code.
        let any_refusal =
            step.expect.iter().any(|e| e.status.as_ref().is_some_and(|s| s.get("$client_error").is_some()));
        let pinned_codes: Vec<i64> =
            step.expect.iter().filter_map(|e| pinned_code(e.rule)).filter(|_| !any_refusal).collect();
        let status = exchange.response.status.as_u16();
        let (method, path) = (exchange.request.method.as_str(), exchange.request.path.as_str());
        let operation = Operation::find(method, path);
        // Where the contract already allows a choice (403 or 404), the recording keeps it.
        let status_matcher = match template.and_then(|expectation| expectation.status.clone()) {
            Some(matcher @ Value::Object(_)) => matcher,
            _ => json!(status),
        };
        let body = serde_json::from_slice::<Value>(&exchange.response.body).ok();
        let mut claims = None;
        if (200..300).contains(&status) {
            match operation {
                Some(Operation::CreateReport) => {
                    claims = created_claims(&exchange.request, today);
                    if let (Some(id), Some(claims)) =
                        (body.as_ref().and_then(|body| body.get("id")).and_then(Value::as_str), &claims)
                    {
                        claims_by_report.insert(id.to_owned(), claims.clone());
                    }
                }
                Some(operation @ (Operation::FetchReport | Operation::UpdateReport)) => {
                    let id = path.split('?').next().unwrap_or_default().trim_matches('/').split('/').nth(1);
                    let known = id.and_then(|id| claims_by_report.get_mut(id));
                    // What an accepted PUT sets is claimed from then on (UPD-6, UPD-4),
                    // whatever the create claimed of it.
                    if let (Operation::UpdateReport, Some(known)) = (operation, known) {
                        let sent = exchange
                            .request
                            .body
                            .as_deref()
                            .and_then(|body| serde_json::from_slice::<Value>(body).ok());
                        for pointer in reportcheck_model::rule_check::UPDATABLE_FIELDS {
                            if let Some(value) = sent.as_ref().and_then(|sent| sent.pointer(pointer)) {
                                known.insert(pointer, Expect::Equals(value.clone()));
                            }
                        }
                    }
                    claims = id.and_then(|id| claims_by_report.get(id)).cloned();
                }
                _ => {}
            }
        }
        // Only bodies the API describes are recorded: a downloaded file is data.
        let schema = answer_schema(spec, method, path, status);
        let recording = Recording { spec, schema, claims: claims.as_ref(), pinned_codes: &pinned_codes, vars, redact };
        let body = body.filter(|_| schema.is_some()).and_then(|body| recording.matcher(&body, ""));
        let essence = exchange
            .response
            .content_type()
            .and_then(|value| value.split(';').next())
            .map(|essence| Value::String(essence.trim().to_owned()));
        // A JSON answer's type is compared by its essence (parameters are free); a
        // download's is free altogether (the bytes decide).
        let content_type = match (operation, essence) {
            (Some(Operation::DownloadStoredReport), Some(essence)) if (200..300).contains(&status) => {
                Some(free_matcher(Freedom::DownloadMediaType, &redact(&essence)))
            }
            (_, essence) => essence,
        };
        // Other headers are free: recorded as observed, for notes and drift.
        let headers = exchange
            .response
            .headers
            .iter()
            .filter(|(name, _)| !TRANSPORT_HEADERS.contains(&name.as_str()) && !SECRET_HEADERS.contains(&name.as_str()))
            .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?)))
            .map(|(name, value)| (name, free_matcher(Freedom::ExtraHeaders, &redact(&Value::from(value)))))
            .collect();
        step.expect.push(Expectation {
            rule,
            case: template.map(Expectation::case),
            status: Some(status_matcher),
            content_type,
            headers,
            body,
            format: None,
        });
    }
    contract
}

/// Fields whose values are data of a generated file, not a choice the profile pins or
/// frees (a stored report's `size` follows its content, which holds the run's ids and
/// dates). Recorded by type only.
const DATA_FIELDS: &[(&str, &str)] = &[("storedReportParams", "/items/*/size")];

/// `{"$observed": <value>}`: no rule claims it; a note on replay, a baseline for drift.
fn observed_matcher(observed: &Value) -> Value {
    json!({"$observed": observed})
}

/// `{"$free": {"as": <freedom>, "observed": <value>}}`.
fn free_matcher(freedom: Freedom, observed: &Value) -> Value {
    json!({"$free": {"as": freedom.id(), "observed": observed}})
}

/// How one answer's body is recorded.
struct Recording<'a> {
    spec: &'a Spec,
    /// The schema of the body, for [`freedom::field_freedom`] and undeclared properties.
    schema: Option<&'a str>,
    /// What the decider claims of a report answer, where the contract created it.
    claims: Option<&'a Claims>,
    /// The error codes the profile pins for the step's rules.
    pinned_codes: &'a [i64],
    vars: &'a Vars,
    /// Applied to every observed value.
    redact: &'a dyn Fn(&Value) -> Value,
}

impl Recording<'_> {
    /// A recorded value as a matcher: what PROFILE.md leaves free (by the freedoms table
    /// and the decider's prediction) becomes `$free` with the value observed, an extra
    /// property is left out, a secret becomes a type, the rest is pinned (built-in
    /// variables as `{{name}}`). `None`: not recorded at all.
    fn matcher(&self, value: &Value, pointer: &str) -> Option<Value> {
        let key = pointer.rsplit('/').next().unwrap_or_default();
        if !pointer.is_empty() && SECRET_KEYS.contains(&key) {
            return Some(json!({"$type": "string"}));
        }
        if let Some(observed) = self.unclaimed(value, pointer) {
            return Some(observed_matcher(&(self.redact)(observed)));
        }
        let claim = self.claims.and_then(|claims| claims.get(pointer));
        if let Some(Expect::SameMembers(members)) = claim {
            // A format listed twice: one per entry or one per distinct format.
            return Some(json!({"$each": {"$one_of": members}}));
        }
        let claimed_freedom = match claim {
            Some(Expect::Free(freedom)) => Some(*freedom),
            _ => None,
        };
        let schema_freedom = self.schema.and_then(|schema| freedom::field_freedom(schema, pointer));
        if let Some(freedom) = claimed_freedom.or(schema_freedom) {
            return match freedom.comparison() {
                // More is free: nothing to expect.
                Comparison::Superset => None,
                Comparison::CodeAsStringOrInteger => Some(self.code(value)),
                // The tenant list also holds reports made by others, in any order.
                Comparison::AnyOrder => Some(json!({"$each": {"$uuid": true}})),
                _ => Some(free_matcher(freedom, &(self.redact)(value))),
            };
        }
        if let Some(schema) = self.schema
            && DATA_FIELDS.contains(&(schema, freedom::pattern(pointer).as_str()))
        {
            return Some(json!({"$type": type_name(value)}));
        }
        if let Some(schema) = self.schema
            && !pointer.is_empty()
            && !self.spec.declares(schema, pointer)
        {
            // An extra response property (PROFILE.md: free).
            return None;
        }
        Some(match value {
            Value::Object(object) => Value::Object(
                object
                    .iter()
                    .filter_map(|(key, item)| {
                        let at = format!("{pointer}/{}", crate::matcher::escape(key));
                        self.matcher(item, &at).map(|matcher| (key.clone(), matcher))
                    })
                    .collect(),
            ),
            // Stored reports: in any order.
            Value::Array(items) if self.schema == Some("storedReportParams") && pointer == "/items" => {
                let each: Vec<Value> = items
                    .iter()
                    .enumerate()
                    .filter_map(|(index, item)| self.matcher(item, &format!("{pointer}/{index}")))
                    .collect();
                json!({"$contains": each})
            }
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(index, item)| self.matcher(item, &format!("{pointer}/{index}")).unwrap_or(item.clone()))
                    .collect(),
            ),
            Value::String(text) => {
                match self.vars.iter().find(|(name, var)| var.as_str() == Some(text) && !name.contains("secret")) {
                    Some((name, _)) => Value::String(format!("{{{{{name}}}}}")),
                    None => value.clone(),
                }
            }
            _ => value.clone(),
        })
    }

    /// `value` when no rule claims it: a field of a report the decider's claims leave out
    /// (an omitted `schedule.enabled`), anything of a `client` beyond what AUTH-4 pins.
    fn unclaimed<'v>(&self, value: &'v Value, pointer: &str) -> Option<&'v Value> {
        if pointer.is_empty() {
            return None;
        }
        let covers = |claimed: &str| claimed == pointer || claimed.starts_with(&format!("{pointer}/"));
        let unclaimed = match self.schema {
            Some("report") => self.claims.is_some_and(|claims| {
                REPORT_FIELDS.contains(&pointer) && !claims.keys().any(|claimed| covers(claimed))
            }),
            Some("client") => !CLIENT_CLAIMS.iter().any(|(_, claimed)| covers(claimed)),
            _ => false,
        };
        unclaimed.then_some(value)
    }

    /// `error.code`: pinned where the profile pins one for the step's rules (ERR-2,
    /// DEL-3), free otherwise.
    fn code(&self, value: &Value) -> Value {
        let number = value.as_i64().or_else(|| value.as_str().and_then(|text| text.trim().parse().ok()));
        match (number, self.pinned_codes.first()) {
            (Some(code), _) if self.pinned_codes.contains(&code) => json!({"$code": code}),
            (_, Some(pinned)) => json!({"$code": pinned}),
            (_, None) => free_matcher(Freedom::ErrorCodeType, &(self.redact)(value)),
        }
    }
}

/// Recorded contracts whose `openapi.json` differs from this build's (stale recordings).
pub fn stale(contracts: &[LoadedContract]) -> Vec<String> {
    let current = sha256_hex(OPENAPI);
    contracts
        .iter()
        .filter_map(|loaded| {
            let recorded = loaded.contract.recorded.as_ref()?;
            (recorded.openapi_sha256 != current).then(|| {
                format!(
                    "{} was recorded on {} against another openapi.json ({}…); record it again",
                    display(&loaded.path),
                    recorded.at,
                    &recorded.openapi_sha256[..12.min(recorded.openapi_sha256.len())]
                )
            })
        })
        .collect()
}

fn display(path: &Path) -> String {
    path.display().to_string()
}
