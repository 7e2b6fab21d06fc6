//! A minimal failing sequence as a contract for `contracts/` and as curl commands. The
//! contract's expectations are built from the same decisions the sequence was judged by:
//! the statuses they admit, and the predicted report with its free fields as `$free`.

use std::collections::BTreeMap;

use reportcheck_model::decide::Decision;
use reportcheck_model::{Date, Expect, Place, Prediction};
use serde_json::{Value, json};

use super::world::Sent;
use crate::contract::{AuthMode, Contract, Expectation, RequestSpec, Step};
use crate::session::Session;
use crate::template::Vars;

/// A contract of `sent`, each step's expectation built from the decision it was judged
/// by: the statuses it admits and the claims of its prediction, nothing else.
pub fn contract(name: String, description: String, sent: &[Sent], vars: &Vars) -> Contract {
    let steps: Vec<Step> = sent.iter().enumerate().map(|(index, sent)| step(index, sent, vars)).collect();
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

pub fn render(session: &Session, sent: &[Sent], seed: u64, today: Date) -> String {
    let description = format!(
        "A minimal failing sequence found by the property tests (seed {seed}, server date {}).",
        reportcheck_model::date::format_day(today)
    );
    let contract = contract(format!("minimal-failure-seed-{seed}"), description, sent, &session.vars());
    let curls: Vec<String> = sent
        .iter()
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
        sent.iter().map(|step| step.status.to_string()).collect::<Vec<_>>().join(", "),
        session.redact(&curls.join("\n"))
    )
}

fn step(index: usize, sent: &Sent, vars: &Vars) -> Step {
    let request = RequestSpec {
        method: sent.method.to_string(),
        path: sent.template.clone(),
        auth: AuthMode::Token,
        basic: None,
        headers: BTreeMap::new(),
        json: sent.body.as_ref().map(|body| templated(body, vars)),
        text: None,
        form: None,
    };
    // The report this step targets (or creates), for version captures.
    let label = sent.creates.clone().or_else(|| {
        let start = sent.template.find("{{r")? + 2;
        let end = start + sent.template[start..].find("}}")?;
        Some(sent.template[start..end].to_owned())
    });
    let mut expectation = expectation(&sent.decision, vars);
    let mut capture: BTreeMap<String, String> =
        sent.creates.iter().map(|label| (label.clone(), "/id".to_owned())).collect();
    if let Some(label) = &label {
        let writes = matches!(sent.decision, Decision::Created { .. } | Decision::Updated { .. });
        if writes && (200..300).contains(&sent.status) {
            capture.insert(format!("v{label}"), "/version".to_owned());
        }
        // UPD-7: a successful PUT answers a greater version than the one before.
        if let (Decision::Updated { .. }, Some(Value::Object(body))) = (&sent.decision, expectation.body.as_mut()) {
            body.insert("version".to_owned(), json!({"$gt": format!("{{{{v{label}}}}}")}));
        }
    }
    Step {
        name: format!("step {}", index + 1),
        party: sent.party,
        request,
        expect: vec![expectation],
        capture,
        poll: None,
    }
}

fn expectation(decision: &Decision, vars: &Vars) -> Expectation {
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
    let body = match decision {
        Decision::Created { prediction, .. } | Decision::Updated { prediction, .. } | Decision::Read(prediction) => {
            Some(templated(&predicted_body(prediction), vars))
        }
        _ => None,
    };
    Expectation {
        rule: decision.rule(),
        case: None,
        status: Some(status),
        content_type: None,
        headers: BTreeMap::new(),
        body,
        format: None,
    }
}

/// The claims of a prediction as a body matcher: each claimed value pinned, a freedom as
/// `$free`; what no claim covers is left out (objects match as subsets). The id and the
/// version are captured and compared by the step's own matchers.
fn predicted_body(prediction: &Prediction) -> Value {
    let mut body = json!({});
    for claim in &prediction.claims {
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
