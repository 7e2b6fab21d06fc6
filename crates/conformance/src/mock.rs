//! Mock mode, for client maintainers: the answers recorded from a server are mounted on
//! a wiremock server, and the typed client performs the same operations against it. A
//! 2xx the client refuses, or an error it misreads, is a failed check, so a client that
//! no longer accepts what servers send shows at once.

use reportcheck_client::{Client, ClientOptions, Credentials, Error as ClientError, RetryPolicy};
use reportcheck_model::{Id, Operation, ReportPost, ReportPut, Rule};
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::contract::Case;
use crate::openapi::Spec;
use crate::outcome::{Check, Failure, Outcome, Source};
use crate::runner::Recorded;

/// What the typed client made of one mounted answer.
enum Seen {
    Accepted,
    Refused(ClientError),
}

/// Checks the client against every recorded exchange it has an operation for. Failure
/// texts quote what the server sent, so they pass through `redact` (the session's).
pub async fn check_client(
    spec: &Spec,
    recorded: &[Recorded],
    name: &str,
    redact: &dyn Fn(&str) -> String,
) -> Vec<Check> {
    let server = MockServer::start().await;
    let checks = check_against(&server, spec, recorded, name, redact).await;
    // wiremock's drop blocks on an async reset; on a runtime worker whose cooperative
    // budget is spent, that spins for ever. Drop it on a blocking thread, outside it.
    let _ = tokio::task::spawn_blocking(move || drop(server)).await;
    checks
}

async fn check_against(
    server: &MockServer,
    spec: &Spec,
    recorded: &[Recorded],
    name: &str,
    redact: &dyn Fn(&str) -> String,
) -> Vec<Check> {
    let options = ClientOptions { retry: RetryPolicy::none(), ..ClientOptions::default() };
    let Ok(client) =
        Client::with_options(&format!("{}/api/2", server.uri()), Credentials::bearer("mock-token"), options)
    else {
        return Vec::new();
    };
    let mut checks = Vec::new();
    for exchange in recorded {
        let request = &exchange.request;
        let full_path = request.path.clone();
        let (route, query) = full_path.split_once('?').unwrap_or((&full_path, ""));
        let Some(operation) = spec.operation(request.method.as_str(), route) else { continue };
        let ids: Vec<Id> = route.split('/').filter_map(|segment| segment.parse().ok()).collect();
        let status = exchange.response.status.as_u16();
        let rule = operation_rule(&operation.id, status);
        let Some(rule) = rule else { continue };

        server.reset().await;
        let mut template = ResponseTemplate::new(status).set_body_bytes(exchange.response.body.to_vec());
        for (header, value) in &exchange.response.headers {
            // The recorded body is already decoded; its length and encoding no longer apply.
            if !matches!(header.as_str(), "content-length" | "content-encoding" | "transfer-encoding" | "connection")
                && let Ok(value) = value.to_str()
            {
                template = template.insert_header(header.as_str(), value);
            }
        }
        Mock::given(method(request.method.as_str()))
            .and(path(format!("/api/2{route}")))
            .respond_with(template)
            .mount(server)
            .await;

        let body: Option<Value> = request.body.as_ref().and_then(|body| serde_json::from_slice(body).ok());
        let seen = match (operation.id.as_str(), ids.as_slice()) {
            ("FetchReport", [id]) => outcome(client.get_report(*id).await),
            ("UpdateReport", [id]) => match body.and_then(|body| serde_json::from_value::<ReportPut>(body).ok()) {
                Some(put) => outcome(client.update_report(*id, &put).await),
                None => continue,
            },
            ("CreateReport", []) => match body.and_then(|body| serde_json::from_value::<ReportPost>(body).ok()) {
                Some(post) => outcome(client.create_report(&post).await),
                None => continue,
            },
            ("DeleteReport", [id]) => match query.strip_prefix("version=").and_then(|version| version.parse().ok()) {
                Some(version) => outcome(client.delete_report(*id, version).await),
                None => continue,
            },
            ("FetchTenantReports", [tenant]) => outcome(client.list_reports(*tenant).await),
            ("FetchStoredReports", [id]) => outcome(client.stored_reports(*id).await),
            ("DownloadStoredReport", [id, stored]) => {
                let mut file = Vec::new();
                match client.download_stored(*id, *stored, &mut file).await {
                    Ok(_) if file != exchange.response.body.to_vec() => {
                        checks.push(check(
                            rule,
                            name,
                            exchange,
                            Some("the downloaded bytes differ from the answer".to_owned()),
                        ));
                        continue;
                    }
                    result => outcome(result),
                }
            }
            ("FetchClient", [id]) => outcome(client.get_client(*id).await),
            _ => continue,
        };
        let problem = judge(status, &exchange.response.body, seen).map(|problem| redact(&problem));
        checks.push(check(rule, name, exchange, problem));
    }
    checks
}

fn outcome<T>(result: Result<T, ClientError>) -> Seen {
    match result {
        Ok(_) => Seen::Accepted,
        Err(err) => Seen::Refused(err),
    }
}

/// Whether the client read the answer as it should: a 2xx as a value, a 401 as an auth
/// failure, an errorScheme as an API error with its status and code.
fn judge(status: u16, body: &[u8], seen: Seen) -> Option<String> {
    match (status, seen) {
        (200..=299, Seen::Accepted) => None,
        (200..=299, Seen::Refused(err)) => Some(format!("the client refused a {status} answer: {err}")),
        (_, Seen::Accepted) => Some(format!("the client took a {status} answer for a success")),
        (401, Seen::Refused(ClientError::Auth { .. })) => None,
        (_, Seen::Refused(err)) => {
            let sent = serde_json::from_slice::<reportcheck_model::ErrorBody>(body).ok();
            match (sent, err.error_body(), err.status().map(|s| s.as_u16())) {
                (_, _, Some(found)) if found != status => {
                    Some(format!("the client reported status {found} for {status}: {err}"))
                }
                (Some(sent), Some(read), _) if sent.error.code != read.error.code => {
                    Some(format!("the client read error code {} for {}", read.error.code, sent.error.code))
                }
                (Some(_), None, _) => Some(format!("the client did not read the errorScheme body: {err}")),
                _ => None,
            }
        }
    }
}

/// The rule whose answers an operation's check covers.
fn operation_rule(operation: &str, status: u16) -> Option<Rule> {
    if status >= 400 {
        return Some(Rule::Err1);
    }
    Operation::ALL.iter().find(|known| known.id() == operation).map(|known| known.success_rule())
}

fn check(rule: Rule, name: &str, exchange: &Recorded, problem: Option<String>) -> Check {
    let label = format!(
        "the client reads {} {} -> {}",
        exchange.request.method,
        exchange.request.path.split('?').next().unwrap_or_default(),
        exchange.response.status.as_u16()
    );
    Check {
        rule,
        source: Source::Mock(name.to_owned()),
        name: label,
        case: if exchange.response.status.is_success() { Case::Positive } else { Case::Negative },
        outcome: match problem {
            None => Outcome::Passed,
            Some(message) => Outcome::Failed(Failure { message, ..Failure::default() }),
        },
        duration: std::time::Duration::ZERO,
    }
}
