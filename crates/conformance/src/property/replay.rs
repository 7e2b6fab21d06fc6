//! A minimal failing sequence as a contract for `contracts/` and as curl commands. The
//! contract's expectations are built from the same decisions the sequence was judged by:
//! the statuses they admit, and the predicted report with its free fields as `$free`.

use std::collections::BTreeMap;

use reportcheck_model::claim::Claim;
use reportcheck_model::decide::Decision;
use reportcheck_model::{Date, Expect, Place, Rule};
use serde_json::{Value, json};

use super::world::Sent;
use crate::contract::{AuthMode, Contract, Expectation, RequestSpec, Step};
use crate::outcome::Exchange;
use crate::session::Session;
use crate::template::Vars;

/// A contract of `sent`, each step's expectations built from the decision it was judged
/// by: the statuses it admits and the claims of its prediction, each under its own rule,
/// nothing else. It ends at the first answer whose status the decision does not admit:
/// the sequence's state followed the server there, and a step after it would hold a
/// conformant server to what the departing one did.
pub fn contract(name: String, description: String, sent: &[Sent], vars: &Vars) -> Contract {
    let sent = until_departure(sent);
    let mut known = Known::default();
    let steps: Vec<Step> = sent.iter().enumerate().map(|(index, sent)| step(index, sent, vars, &mut known)).collect();
    let second = sent.iter().any(|sent| sent.party == crate::contract::Party::B);
    Contract {
        schema: None,
        name,
        description,
        requires: if second { vec![crate::contract::Requirement::SecondClient] } else { Vec::new() },
        recorded: None,
        steps,
    }
}

/// `sent` up to and with the first answer whose status its decision does not admit.
fn until_departure(sent: &[Sent]) -> &[Sent] {
    let departed = sent.iter().position(|sent| !sent.decision.admits_status(sent.status));
    &sent[..departed.map_or(sent.len(), |at| at + 1)]
}

/// The requests of `sent` the contract replays, each with the answer it got (redacted):
/// the failure's numbered steps.
pub fn steps(session: &Session, sent: &[Sent]) -> Vec<Exchange> {
    until_departure(sent)
        .iter()
        .map(|step| {
            let mut request = format!("{} {}{}", step.method, session.base_url, step.path);
            if step.party == crate::contract::Party::B {
                request.push_str("\n(as the second client)");
            }
            if let Some(body) = &step.body {
                request.push_str(&format!("\n\n{}", session.redact_json(body)));
            }
            let answer = match &step.answer {
                Some(response) => crate::runner::show_response(
                    session,
                    response,
                    serde_json::from_slice(&response.body).ok().as_ref(),
                ),
                None => step.status.to_string(),
            };
            Exchange { request: session.redact(&request), answer }
        })
        .collect()
}

pub fn render(session: &Session, sent: &[Sent], seed: u64, today: Date) -> String {
    let description = format!(
        "A minimal failing sequence found by the property tests (seed {seed}, server date {}).",
        reportcheck_model::date::format_day(today)
    );
    let contract = contract(format!("minimal-failure-seed-{seed}"), description, sent, &session.vars());
    let curls: Vec<String> = sent
        .iter()
        .take(contract.steps.len())
        .map(|step| {
            let mut curl =
                format!("curl -sS -X {} \"$BASE_URL{}\" -H \"Authorization: Bearer $TOKEN\"", step.method, step.path);
            if let Some(body) = &step.body {
                curl.push_str(&format!(" -H 'Content-Type: application/json' -d '{body}'"));
            }
            curl
        })
        .collect();
    format!(
        "replayable contract (save under contracts/):\n{}\n\ncurl commands (observed server answers: {}):\n{}",
        session.redact(&serde_json::to_string_pretty(&contract).unwrap_or_default()),
        sent.iter().take(contract.steps.len()).map(|step| step.status.to_string()).collect::<Vec<_>>().join(", "),
        session.redact(&curls.join("\n"))
    )
}

/// The reports the sequence created so far, by label with their tenant, and those it
/// deleted: what a list step holds the server to (LST-1).
#[derive(Default)]
struct Known {
    created: Vec<(String, Option<Value>)>,
    deleted: Vec<String>,
}

fn step(index: usize, sent: &Sent, vars: &Vars, known: &mut Known) -> Step {
    let accepted = (200..300).contains(&sent.status);
    // The report this step targets (or creates), for version captures.
    let label = sent.creates.clone().or_else(|| {
        let start = sent.template.find("{{r")? + 2;
        let end = start + sent.template[start..].find("}}")?;
        Some(sent.template[start..end].to_owned())
    });
    // A delete the decider took for one at the current version names the version it
    // knew: on a server that numbers versions otherwise that is the last one captured.
    let mut path = templated_path(&sent.template, vars);
    if let (Decision::Deleted { .. }, Some(label)) = (&sent.decision, &label)
        && let Some(at) = path.find("?version=")
    {
        path = format!("{}?version={{{{v{label}}}}}", &path[..at]);
    }
    let request = RequestSpec {
        method: sent.method.to_string(),
        path,
        auth: AuthMode::Token,
        basic: None,
        headers: BTreeMap::new(),
        json: sent.body.as_ref().map(|body| templated(body, vars)),
        text: None,
        form: None,
    };
    let previous_version = label.as_ref().map(|label| format!("{{{{v{label}}}}}"));
    let mut expect = expectations(&sent.decision, vars, previous_version.as_deref());
    if let Decision::Listed { .. } = &sent.decision {
        expect.extend(listed(sent, known));
    }
    let mut capture: BTreeMap<String, String> =
        sent.creates.iter().map(|label| (label.clone(), "/id".to_owned())).collect();
    if let Some(label) = &label {
        let writes = matches!(sent.decision, Decision::Created { .. } | Decision::Updated { .. });
        if writes && accepted {
            capture.insert(format!("v{label}"), "/version".to_owned());
        }
    }
    match (&sent.decision, &sent.creates, &label) {
        (Decision::Created { .. }, Some(label), _) if accepted => {
            let tenant = sent.body.as_ref().and_then(|body| body.pointer("/parameters/tenant_id")).cloned();
            known.created.push((label.clone(), tenant));
        }
        (Decision::Deleted { .. }, _, Some(label)) if accepted => known.deleted.push(label.clone()),
        _ => {}
    }
    Step { name: format!("step {}", index + 1), party: sent.party, request, expect, capture, poll: None }
}

/// LST-1 on a list step: every report the sequence created in that tenant and did not
/// delete is listed, and no deleted one is (others are free).
fn listed(sent: &Sent, known: &Known) -> Vec<Expectation> {
    let tenant = sent.path.split('/').nth(2).map(|tenant| Value::String(tenant.to_owned()));
    let present: Vec<Value> = known
        .created
        .iter()
        .filter(|(label, of)| of.is_some() && *of == tenant && !known.deleted.contains(label))
        .map(|(label, _)| Value::String(format!("{{{{{label}}}}}")))
        .collect();
    let list = |items: Value| Expectation {
        rule: Rule::Lst1,
        body: Some(json!({"items": items})),
        ..expectation_of(Rule::Lst1)
    };
    let mut expect = Vec::new();
    if !present.is_empty() {
        expect.push(list(json!({"$contains": present})));
    }
    expect.extend(known.deleted.iter().map(|label| list(json!({"$not_contains": format!("{{{{{label}}}}}")}))));
    expect
}

fn expectation_of(rule: Rule) -> Expectation {
    Expectation {
        rule,
        case: None,
        status: None,
        content_type: None,
        headers: BTreeMap::new(),
        body: None,
        format: None,
    }
}

/// The status under the decision's rule, then each rule's claims on the body as an
/// expectation of that rule, in the order the claims come: a replay files a broken
/// claim under the rule the property tests filed it under (the first broken claim's).
/// An update's greater version is compared with `previous_version`, the capture of the
/// report's version before it.
fn expectations(decision: &Decision, vars: &Vars, previous_version: Option<&str>) -> Vec<Expectation> {
    let mut expect = vec![expectation(decision)];
    let prediction = match decision {
        Decision::Created { prediction, .. } | Decision::Updated { prediction, .. } | Decision::Read(prediction) => {
            prediction
        }
        _ => return expect,
    };
    let mut rules: Vec<Rule> = Vec::new();
    for claim in &prediction.claims {
        if !rules.contains(&claim.rule) {
            rules.push(claim.rule);
        }
    }
    for rule in rules {
        let claims: Vec<&Claim> = prediction.claims.iter().filter(|claim| claim.rule == rule).collect();
        let mut body = templated(&predicted_body(claims.iter().copied()), vars);
        let greater = claims.iter().any(|claim| matches!(claim.expect, Expect::Greater(_)));
        if let (true, Some(previous), Value::Object(object)) = (greater, previous_version, &mut body) {
            object.insert("version".to_owned(), json!({"$gt": previous}));
        }
        if body.as_object().is_some_and(|object| !object.is_empty()) {
            expect.push(Expectation { body: Some(body), ..expectation_of(rule) });
        }
    }
    expect
}

/// A path with the values of built-in variables (the tenant) as `{{name}}`.
fn templated_path(path: &str, vars: &Vars) -> String {
    let (path, query) = path.split_once('?').map_or((path, None), |(path, query)| (path, Some(query)));
    let segments: Vec<String> = path
        .split('/')
        .map(|segment| match templated(&Value::String(segment.to_owned()), vars) {
            Value::String(segment) => segment,
            _ => segment.to_owned(),
        })
        .collect();
    let path = segments.join("/");
    query.map_or_else(|| path.clone(), |query| format!("{path}?{query}"))
}

/// The status the decision admits, under its rule.
fn expectation(decision: &Decision) -> Expectation {
    let mut statuses: Vec<u16> = match decision {
        Decision::Rejected(violations) => violations.iter().flat_map(|violation| violation.statuses()).collect(),
        accepted => vec![accepted.status()],
    };
    statuses.dedup();
    let any_client_error = decision.violations().iter().any(|violation| violation.any_client_error);
    let status = match statuses.as_slice() {
        _ if any_client_error => json!({"$client_error": true}),
        [one] => json!(one),
        many => json!({"$one_of": many}),
    };
    Expectation { status: Some(status), ..expectation_of(decision.rule()) }
}

/// The claims of a prediction as a body matcher: each claimed value pinned, a freedom as
/// `$free`; what no claim covers is left out (objects match as subsets). The id and the
/// version are captured and compared by the step's own matchers.
fn predicted_body<'c>(claims: impl IntoIterator<Item = &'c Claim>) -> Value {
    let mut body = json!({});
    for claim in claims {
        let Place::Body(pointer) = claim.place;
        if matches!(pointer, "/id" | "/version") {
            continue;
        }
        let matcher = match &claim.expect {
            Expect::Equals(value) | Expect::AsBefore(Some(value)) => value.clone(),
            Expect::AsBefore(None) => json!({"$absent": true}),
            Expect::SameMembers(members) => json!({"$each": {"$one_of": members}}),
            Expect::Free(freedom) => json!({"$free": freedom.id()}),
            Expect::Greater(_) => continue,
        };
        insert(&mut body, pointer, matcher);
    }
    body
}

/// Sets `value` at `pointer`, making the objects on the way.
fn insert(body: &mut Value, pointer: &str, value: Value) {
    let mut at = body;
    let keys: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    for (index, key) in keys.iter().enumerate() {
        let Value::Object(object) = at else { return };
        if index + 1 == keys.len() {
            object.insert((*key).to_owned(), value);
            return;
        }
        at = object.entry((*key).to_owned()).or_insert_with(|| json!({}));
    }
}

fn templated(value: &Value, vars: &Vars) -> Value {
    match value {
        Value::String(text) => vars
            .iter()
            .filter(|(name, _)| {
                !matches!(
                    name.as_str(),
                    "unknown_id" | "bogus_token" | "client_secret" | "client_id" | "other_client_id"
                )
            })
            .find(|(_, var)| var.as_str() == Some(text))
            .map_or_else(|| value.clone(), |(name, _)| Value::String(format!("{{{{{name}}}}}"))),
        Value::Array(items) => Value::Array(items.iter().map(|item| templated(item, vars)).collect()),
        Value::Object(object) => {
            Value::Object(object.iter().map(|(key, item)| (key.clone(), templated(item, vars))).collect())
        }
        other => other.clone(),
    }
}
