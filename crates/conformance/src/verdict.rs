//! How an answer is judged against the decider's branch it took: one place, for the
//! property tests and the proxy alike. A refusal must come with an admitted status and,
//! where every rule its status admits pins one, the pinned error code (ERR-2); an
//! accepted request must be served with an admitted status and an answer that keeps the
//! branch's claims, the first broken claim naming the finding and the others listed
//! under it.

use reportcheck_model::decide::{Admissible, Decision};
use reportcheck_model::{Report, Rule};
use serde_json::Value;

use crate::contract::Case;

/// What one answer broke, and the rules (with their case) it exercised.
#[derive(Debug, Default)]
pub struct Judged {
    pub findings: Vec<(Rule, String)>,
    pub exercised: Vec<(Rule, Case)>,
}

/// Judges `answer` (`status`, its JSON body) against `decision`, the branch of
/// `admissible` it took. `redact` cleans an answer before it is quoted.
pub fn judge(
    admissible: &Admissible,
    decision: &Decision,
    status: u16,
    answer: Option<&Value>,
    redact: &dyn Fn(&Value) -> Value,
) -> Judged {
    let mut judged = Judged::default();
    match decision {
        Decision::Rejected(violations) => {
            judged.exercised.extend(violations.iter().map(|violation| (violation.rule, Case::Negative)));
            if !decision.admits_status(status) {
                let admitted = admissible.admitted_statuses();
                let reason = violations.first().map_or("", |violation| violation.message.as_str());
                judged
                    .findings
                    .push((decision.rule(), format!("{reason}: expected {admitted}, the server answered {status}")));
                return judged;
            }
            // Refused under any of the rules the request breaks, with that rule's code:
            // the code is pinned only if every rule the status admits pins one.
            let admitting: Vec<_> = violations.iter().filter(|violation| violation.admits_status(status)).collect();
            if admitting.iter().any(|violation| !violation.code_is_pinned()) {
                return judged;
            }
            let pinned: Vec<i64> = admitting.iter().map(|violation| violation.code).collect();
            judged.exercised.push((Rule::Err2, Case::Negative));
            let code = answer
                .and_then(|body| body.pointer("/error/code"))
                .and_then(|code| code.as_i64().or_else(|| code.as_str().and_then(|text| text.trim().parse().ok())));
            if code.is_none_or(|code| !pinned.contains(&code)) {
                judged.findings.push((
                    Rule::Err2,
                    format!("{} must answer error code {pinned:?}; the server sent {code:?}", decision.rule()),
                ));
            }
        }
        accepted => {
            judged.exercised.push((accepted.rule(), Case::Positive));
            if !accepted.admits_status(status) {
                let answer = answer.map(redact).unwrap_or_default();
                judged.findings.push((
                    accepted.rule(),
                    format!(
                        "{} claims this request is served: a conformant server answers {}; the server answered {status} {answer}",
                        accepted.rule(),
                        admissible.admitted_statuses()
                    ),
                ));
                return judged;
            }
            let prediction = match accepted {
                Decision::Created { prediction, .. }
                | Decision::Updated { prediction, .. }
                | Decision::Read(prediction) => prediction,
                _ => return judged,
            };
            judged.exercised.extend(prediction.rules().into_iter().map(|rule| (rule, Case::Positive)));
            match answer.and_then(|answer| serde_json::from_value::<Report>(answer.clone()).ok()) {
                // The first broken claim names the finding; the others are its
                // consequences, listed under it.
                Some(report) => {
                    let found = prediction.discrepancies(&report);
                    if let Some((first, rest)) = found.split_first() {
                        let mut message = format!("{first} (predicted from the model)");
                        for consequence in rest {
                            message.push_str(&format!("\n  and, in the same answer: {consequence}"));
                        }
                        judged.findings.push((first.rule, message));
                    }
                }
                None => judged.findings.push((accepted.rule(), "the answer is not a report".to_owned())),
            }
        }
    }
    judged
}
