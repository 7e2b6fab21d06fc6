//! CRT-4 and UPD-5 against structural type confusion, at every level of every body: each
//! node of a valid create and of a valid update (the body itself, every object, array
//! and value in it) wrapped in an array, and written as the JSON text of itself. The
//! model decides each; every one of them is sent, every run, whatever the seed.

use reportcheck_client::RawRequest;
use reportcheck_model::decide::{self, Caller, Request};
use reportcheck_model::{Id, Prediction, Report, Rule};
use reqwest::Method;
use serde_json::{Value, json};

use super::sweep::Swept;
use super::world::Finding;
use crate::error::Error;
use crate::known::OwnReport;
use crate::runner::show_exchange;
use crate::session::{RECIPIENT, Session};

/// A structural confusion of one node.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// `[node]`
    Wrapped,
    /// The node's JSON text, as a string.
    Stringified,
}

impl Shape {
    const ALL: [Shape; 2] = [Shape::Wrapped, Shape::Stringified];

    fn of(self, node: &Value) -> Value {
        match self {
            Shape::Wrapped => json!([node]),
            Shape::Stringified => Value::String(node.to_string()),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Shape::Wrapped => "wrapped in an array",
            Shape::Stringified => "written as a JSON string",
        }
    }
}

/// Every node's JSON pointer, the body's own (`""`) first.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match value {
        Value::Object(object) => {
            for (key, child) in object {
                pointers(child, format!("{at}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                pointers(child, format!("{at}/{index}"), out);
            }
        }
        _ => {}
    }
}

/// `body` with the node at `pointer` confused into `shape`.
fn confused(body: &Value, pointer: &str, shape: Shape) -> Value {
    let mut body = body.clone();
    if let Some(node) = body.pointer_mut(pointer) {
        *node = shape.of(node);
    }
    body
}

/// Every confusion of `body`: (pointer, shape, the confused body).
fn confusions(body: &Value) -> Vec<(String, Shape, Value)> {
    let mut at = Vec::new();
    pointers(body, String::new(), &mut at);
    at.into_iter()
        .flat_map(|pointer| Shape::ALL.map(|shape| (pointer.clone(), shape, confused(body, &pointer, shape))))
        .collect()
}

/// Sends every confusion of a create and of an update of a scheduled report; each answer
/// must be one the model admits, and the report must stay as it was.
pub async fn check(session: &Session, tenant: Id) -> Result<Swept, Error> {
    let mut swept = Swept::default();
    let caller = Caller { tenant, today: session.today };
    let start = session.today - time::Duration::days(40);
    let create = json!({"recipients": [RECIPIENT], "result_action": "send",
        "parameters": {"tenant_id": tenant, "kind": "usage_summary", "level": "accounts", "formats": ["csv"],
            "period": {"start": reportcheck_model::date::format_day(start),
                "end": reportcheck_model::date::format_day(start + time::Duration::days(9))},
            "hide_zero_usage": true},
        "schedule": {"type": "monthly", "enabled": true}});
    let target = match session.send(&session.a, &RawRequest::new(Method::POST, "/reports").json(&create)).await {
        Ok(answer) => serde_json::from_slice::<Report>(&answer.body).ok().filter(|_| answer.status.is_success()),
        Err(Error::Unanswered(_)) => None,
        Err(err) => return Err(err),
    };
    swept.exercised.push((Rule::Crt4, "every node of a create confused"));
    let update = json!({"recipients": [RECIPIENT], "parameters": {"kind": "usage_daily", "level": "itself"},
        "schedule": {"enabled": false}});
    let mut sends = Vec::new();
    for (pointer, shape, body) in confusions(&create) {
        sends.push((Method::POST, "/reports".to_owned(), pointer, shape, body));
    }
    if let Some(target) = &target {
        swept.exercised.push((Rule::Upd5, "every node of an update confused"));
        for (pointer, shape, body) in confusions(&update) {
            sends.push((Method::PUT, format!("/reports/{}", target.id), pointer, shape, body));
        }
    }
    let target_ref = target.as_ref();
    let judged = futures_util::future::join_all(sends.iter().map(|(method, path, pointer, shape, body)| async move {
        let bytes = body.to_string();
        let known = OwnReport(target_ref);
        let admissible = match (method, target_ref) {
            (&Method::PUT, Some(report)) => {
                let id = report.id.to_string();
                let request =
                    Request::Update { id: &id, content_type: Some("application/json"), body: bytes.as_bytes() };
                decide::decide(&known, caller, request)
            }
            _ => decide::decide(
                &known,
                caller,
                Request::Create { content_type: Some("application/json"), body: bytes.as_bytes() },
            ),
        };
        let what = if pointer.is_empty() { "the body".to_owned() } else { pointer.clone() };
        let request = RawRequest::new(method.clone(), path.clone()).json(body);
        let answer = match session.send(&session.a, &request).await {
            Ok(answer) => answer,
            Err(Error::Unanswered(lost)) => {
                let rule = admissible.reference().rule();
                let finding = Finding { rule, message: format!("{rule}: no answer to {lost}") };
                let exchange = show_exchange(session, &request, Err(&lost), None);
                return Ok((Some((finding, exchange)), None, false));
            }
            Err(err) => return Err(err),
        };
        let status = answer.status.as_u16();
        let decision = admissible.follow(status);
        let finding = (!decision.admits_status(status)).then(|| {
            let rule = decision.rule();
            let finding = Finding {
                rule,
                message: format!(
                    "{rule}: {method} {path} with {what} {} answered {status}; expected {}",
                    shape.name(),
                    admissible.admitted_statuses()
                ),
            };
            (finding, show_exchange(session, &request, Ok(&answer), None))
        });
        let created = (*method == Method::POST && answer.status.is_success())
            .then(|| serde_json::from_slice::<Value>(&answer.body).ok())
            .flatten();
        let changes = *method == Method::PUT && decision.violations().is_empty();
        Ok::<_, Error>((finding, created, changes))
    }))
    .await;
    let mut created = Vec::new();
    let mut changed_by_rule = false;
    for judged in judged {
        let (finding, report, changes) = judged?;
        if let Some((finding, exchange)) = finding {
            swept.exchanges.push((finding.rule, exchange));
            swept.findings.push(finding);
        }
        created.extend(report);
        changed_by_rule |= changes;
    }
    if let Some(target) = target.as_ref().filter(|_| !changed_by_rule) {
        // A refused update changes nothing.
        let read = RawRequest::new(Method::GET, format!("/reports/{}", target.id));
        let (after, shown) = match session.send(&session.a, &read).await {
            Ok(after) => {
                (serde_json::from_slice::<Report>(&after.body).ok(), show_exchange(session, &read, Ok(&after), None))
            }
            Err(Error::Unanswered(lost)) => (Some(target.clone()), show_exchange(session, &read, Err(&lost), None)),
            Err(err) => return Err(err),
        };
        // "Unchanged" as the model's claims have it: what no rule claims may differ.
        if after.as_ref().is_some_and(|after| !Prediction::read(target).discrepancies(after).is_empty()) {
            swept.exchanges.push((Rule::Upd5, shown));
            swept.findings.push(Finding {
                rule: Rule::Upd5,
                message: "UPD-5: after updates with confused bodies, all refused, the report changed".to_owned(),
            });
        }
    }
    created.extend(target.as_ref().map(|target| json!({"id": target.id})));
    let removals = created.iter().map(|report| session.remove(&session.a, report));
    for removed in futures_util::future::join_all(removals).await {
        removed?;
    }
    Ok(swept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_node_is_confused_both_ways() {
        let body = json!({"a": {"b": [1, "x"]}, "c": true});
        let confused = confusions(&body);
        // The body, a, a/b, a/b/0, a/b/1, c: six nodes, two shapes each.
        assert_eq!(confused.len(), 12);
        assert!(confused.iter().all(|(_, _, changed)| changed != &body));
        assert!(
            confused.iter().any(|(pointer, _, changed)| pointer == "/a/b" && changed["a"]["b"] == json!([[1, "x"]]))
        );
        assert!(confused.iter().any(|(pointer, _, changed)| pointer.is_empty() && changed.is_string()));
    }
}
