//! `cargo xtask record`: replays the standard contracts against a server and writes what
//! it answered as new contracts. Free values become matchers, secrets never reach a file
//! (a scan of every written file fails the command if one did), and each file carries
//! its recording date and the SHA-256 of the `openapi.json` it was checked against.

use std::path::{Path, PathBuf};

use reportcheck_client::ClientOptions;
use serde_json::{Map, Value, json};

use crate::contract::{self, Contract, Expectation, LoadedContract, Provenance};
use crate::error::Error;
use crate::matcher::type_name;
use crate::openapi::{OPENAPI, Spec, sha256_hex};
use crate::redact::{Redactor, SECRET_KEYS};
use crate::runner::Recorded;
use crate::template::Vars;
use crate::{Target, open, replay_all};

#[derive(Debug, Clone)]
pub struct RecordOptions {
    pub target: Target,
    /// The scenarios to run (`contracts/`).
    pub contracts: PathBuf,
    /// Where the recorded contracts go.
    pub out: PathBuf,
    pub client: ClientOptions,
}

#[derive(Debug, Clone, Default)]
pub struct RecordSummary {
    pub written: Vec<PathBuf>,
    pub exchanges: usize,
    /// Contracts not recorded, and why.
    pub skipped: Vec<String>,
}

pub async fn record(options: RecordOptions) -> Result<RecordSummary, Error> {
    let contracts = contract::load_dir(&options.contracts)?;
    let spec = Spec::builtin();
    let opened = open(&options.target, options.client).await?;
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
            summary.skipped.push(format!("{}: no step ran (a second client is needed)", loaded.contract.name));
            continue;
        }
        summary.exchanges += run.exchanges.len();
        let recorded = recorded_contract(&spec, loaded, &run.exchanges, &vars, &provenance);
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

/// The contract with one more expectation per step that ran: the answer it got.
fn recorded_contract(
    spec: &Spec,
    loaded: &LoadedContract,
    exchanges: &[Recorded],
    vars: &Vars,
    provenance: &Provenance,
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
    for exchange in exchanges {
        let Some(step) = contract.steps.get_mut(exchange.step) else { continue };
        let template = step.expect.first();
        let rule = template.map_or(reportcheck_model::Rule::Sch1, |expectation| expectation.rule);
        let status = exchange.response.status.as_u16();
        // Where the contract already allows a choice (403 or 404), the recording keeps it.
        let status_matcher = match template.and_then(|expectation| expectation.status.clone()) {
            Some(matcher @ Value::Object(_)) => matcher,
            _ => json!(status),
        };
        // Only bodies the API describes are recorded: a downloaded file is data.
        let described = status >= 400
            || spec
                .operation(exchange.request.method.as_str(), &exchange.request.path)
                .is_some_and(|operation| operation.schema_for(status).is_some());
        let body = serde_json::from_slice::<Value>(&exchange.response.body)
            .ok()
            .filter(|_| described)
            .map(|body| matcherize(&body, None, status, vars));
        let content_type = exchange
            .response
            .content_type()
            .and_then(|value| value.split(';').next())
            .map(|essence| Value::String(essence.trim().to_owned()));
        step.expect.push(Expectation {
            rule,
            case: template.map(Expectation::case),
            status: Some(status_matcher),
            content_type,
            headers: Default::default(),
            body,
            format: None,
        });
    }
    contract
}

/// A recorded value as a matcher: what a conformant server may choose freely (ids,
/// versions, dates, messages, tokens, unpinned error codes) becomes a matcher or a
/// built-in variable; the rest stays as recorded.
fn matcherize(value: &Value, key: Option<&str>, status: u16, vars: &Vars) -> Value {
    match (key, value) {
        (Some(key), _) if SECRET_KEYS.contains(&key) => json!({"$type": "string"}),
        (Some("version" | "size" | "expires_in" | "expires_on" | "client_secret_expires_at"), value) => {
            json!({"$type": type_name(value)})
        }
        (Some("token_type"), _) => json!({"$regex": "(?i)^bearer$"}),
        (Some("message" | "info" | "error_description"), Value::String(_)) => json!({"$type": "string"}),
        (Some("domain" | "last_access_at" | "last_access_from_ip" | "created_by"), _) => json!({"$any": true}),
        (Some("details" | "data"), _) => json!({"$type": "object"}),
        (Some("code"), code) => {
            // Only the codes the profile pins (ERR-2, DEL-3) stay; others are free.
            let pinned = matches!(
                (status, code.as_i64().or_else(|| code.as_str().and_then(|c| c.parse().ok()))),
                (400, Some(1027 | 400)) | (409, Some(1001))
            );
            if pinned { json!({"$code": code}) } else { json!({"$any": true}) }
        }
        (Some("items"), Value::Array(items)) if items.iter().all(Value::is_string) => {
            // The tenant list also holds reports made by others.
            json!({"$each": {"$uuid": true}})
        }
        (Some("items"), Value::Array(items)) => {
            // Stored reports: in any order.
            let each: Vec<Value> = items.iter().map(|item| matcherize(item, None, status, vars)).collect();
            json!({"$contains": each})
        }
        (_, Value::Object(object)) => {
            let mut out = Map::new();
            for (key, value) in object {
                // Extra context an error body may carry is free.
                if key == "context" {
                    continue;
                }
                out.insert(key.clone(), matcherize(value, Some(key), status, vars));
            }
            Value::Object(out)
        }
        (_, Value::Array(items)) => {
            Value::Array(items.iter().map(|item| matcherize(item, None, status, vars)).collect())
        }
        (_, Value::String(text)) => {
            if let Some(name) = vars
                .iter()
                .find(|(name, var)| var.as_str() == Some(text) && !name.contains("secret"))
                .map(|(name, _)| name)
            {
                return Value::String(format!("{{{{{name}}}}}"));
            }
            if text.parse::<reportcheck_model::Id>().is_ok() {
                json!({"$uuid": true})
            } else if reportcheck_model::date::parse_day(text).is_ok() {
                json!({"$date": true})
            } else if text.parse::<reportcheck_model::Timestamp>().is_ok() {
                json!({"$datetime": true})
            } else {
                value.clone()
            }
        }
        _ => value.clone(),
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
