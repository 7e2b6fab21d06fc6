//! Data-driven: every case in `cases/requests.json` is one request (a body, or for a
//! delete the `version` query value in `raw`, absent for none) and the rule it must break
//! (or `null` when it is valid). Add a case there, not a test here.

use reportcheck_model::date;
use reportcheck_model::rule_check::{
    create_violations, delete_violation, parse_create, parse_update, update_violations,
};

mod support;

use support::{Operation, cases};

#[test]
fn request_cases() {
    let cases = cases();
    let mut failures = Vec::new();
    for case in &cases {
        let today = date::parse_day(case.today.as_deref().unwrap_or("2017-05-07")).expect("today is a date");
        let current = || case.current.as_ref().unwrap_or_else(|| panic!("{}: needs current", case.name));
        let body = || match (&case.body, &case.raw) {
            (Some(json), None) => serde_json::to_vec(json).expect("body"),
            (None, Some(raw)) => raw.clone().into_bytes(),
            _ => panic!("{}: give exactly one of body and raw", case.name),
        };
        let first_rule = match case.operation {
            Operation::Create => match parse_create(&body()) {
                Err(violation) => Some(violation.rule),
                Ok(post) => create_violations(&post, today).first().map(|v| v.rule),
            },
            Operation::Update => match parse_update(&body()) {
                Err(violation) => Some(violation.rule),
                Ok(put) => update_violations(current(), &put, today).first().map(|v| v.rule),
            },
            Operation::Delete => delete_violation(current().version, case.raw.as_deref()).map(|v| v.rule),
        };
        let found = first_rule.map(|rule| rule.id().to_owned());
        if found != case.expect {
            failures.push(format!("{}: expected {:?}, found {:?}", case.name, case.expect, found));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
