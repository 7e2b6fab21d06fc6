//! Property tests: wire round-trips, and the rule functions against an independent,
//! direct reading of PROFILE.md written over raw JSON.

use std::collections::BTreeSet;

use proptest::prelude::*;
use reportcheck_model::rule_check::{apply_update, create_violations, is_scheduled, update_violations};
use reportcheck_model::strategies;
use reportcheck_model::{Date, ErrorBody, Report, ReportPost, ReportPut, StoredReportList};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn round_trips<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T) -> Result<(), TestCaseError> {
    let text = serde_json::to_string(value).map_err(|err| TestCaseError::fail(err.to_string()))?;
    let back: T = serde_json::from_str(&text).map_err(|err| TestCaseError::fail(format!("{err}: {text}")))?;
    prop_assert_eq!(&back, value, "{}", text);
    Ok(())
}

fn day(date: Date) -> String {
    reportcheck_model::date::format_day(date)
}

/// UPD-1..3 read straight from PROFILE.md, on JSON values.
fn expected_update_rules(current: &Value, put: &Value, today: &str) -> BTreeSet<&'static str> {
    let mut rules = BTreeSet::new();
    let scheduled = current["schedule"]["type"] == "monthly"
        || current["generation_date"].as_str().is_some_and(|date| date > today);
    if !scheduled {
        rules.insert("UPD-1");
    }
    if let Some(parameters) = put.get("parameters") {
        for key in ["tenant_id", "period"] {
            if parameters.get(key).is_some_and(|new| *new != current["parameters"][key]) {
                rules.insert("UPD-2");
            }
        }
        // Formats change when their members do; a reorder or a repeat is stated by no
        // rule (a reading, not here).
        let members = |formats: &Value| -> BTreeSet<String> {
            formats.as_array().into_iter().flatten().map(Value::to_string).collect()
        };
        if parameters.get("formats").is_some_and(|new| members(new) != members(&current["parameters"]["formats"])) {
            rules.insert("UPD-2");
        }
        for flag in ["hide_zero_usage", "show_skus"] {
            let now = current["parameters"].get(flag).cloned().unwrap_or(json!(false));
            if parameters.get(flag).is_some_and(|new| *new != now) {
                rules.insert("UPD-2");
            }
        }
    }
    if let Some(recipients) = put.get("recipients").and_then(Value::as_array) {
        // Emptying a `send` report's recipients is stated by no rule: a reading, not here.
        if current["result_action"] == "save" && !recipients.is_empty() {
            rules.insert("UPD-3");
        }
    }
    rules
}

/// CRT-2 and CRT-3 read straight from PROFILE.md, on JSON values.
fn expected_create_rules(post: &Value, today: &str) -> BTreeSet<&'static str> {
    let mut rules = BTreeSet::new();
    let recipients = post["recipients"].as_array().map_or(0, Vec::len);
    match post["result_action"].as_str() {
        Some("send") if recipients == 0 => {
            rules.insert("CRT-2");
        }
        Some("save") if recipients > 0 => {
            rules.insert("CRT-2");
        }
        _ => {}
    }
    if let Some(period) = post["parameters"].get("period") {
        let (start, end) = (period["start"].as_str().unwrap_or(""), period["end"].as_str().unwrap_or(""));
        if start > end || end > today {
            rules.insert("CRT-3");
        }
    }
    rules
}

fn report_and_put() -> impl Strategy<Value = (Report, ReportPut, Date)> {
    (strategies::report(), strategies::date()).prop_flat_map(|(report, today)| {
        let near = report.generation_date;
        (Just(report.clone()), strategies::report_put_for(&report.parameters), strategies::date_near(near, 3)).prop_map(
            move |(report, put, today_near)| {
                // Half the time put today right beside the generation date, where UPD-1 flips.
                let today = if today.ordinal() % 2 == 0 { today_near } else { today };
                (report, put, today)
            },
        )
    })
}

proptest! {
    #[test]
    fn reports_round_trip(report in strategies::report()) {
        round_trips(&report)?;
    }

    #[test]
    fn create_bodies_round_trip(post in strategies::report_post()) {
        round_trips(&post)?;
    }

    #[test]
    fn update_bodies_round_trip((_, put, _) in report_and_put()) {
        round_trips(&put)?;
    }

    #[test]
    fn stored_lists_round_trip(list in strategies::stored_report_list()) {
        round_trips(&list)?;
    }

    #[test]
    fn error_bodies_round_trip(body in strategies::error_body()) {
        round_trips::<ErrorBody>(&body)?;
    }

    #[test]
    fn update_rules_agree_with_profile((report, put, today) in report_and_put()) {
        let current = serde_json::to_value(&report).expect("report serialises");
        let body = serde_json::to_value(&put).expect("body serialises");
        let expected = expected_update_rules(&current, &body, &day(today));
        let found: BTreeSet<_> = update_violations(&report, &put, today).iter().map(|v| v.rule.id()).collect();
        prop_assert_eq!(&found, &expected, "report {} body {} today {}", current, body, day(today));

        if found.is_empty() {
            let updated = serde_json::to_value(apply_update(&report, &put)).expect("serialises");
            // Only kind, level, recipients and schedule.enabled may differ (UPD-2, UPD-6).
            let mut expected = current.clone();
            if let Some(kind) = body.pointer("/parameters/kind") { expected["parameters"]["kind"] = kind.clone(); }
            if let Some(level) = body.pointer("/parameters/level") { expected["parameters"]["level"] = level.clone(); }
            if let Some(recipients) = body.get("recipients") { expected["recipients"] = recipients.clone(); }
            if let Some(enabled) = body.pointer("/schedule/enabled") { expected["schedule"]["enabled"] = enabled.clone(); }
            prop_assert_eq!(updated, expected);
            prop_assert!(is_scheduled(&report, today));
        }
    }

    #[test]
    fn create_rules_agree_with_profile(post in strategies::report_post(), today in strategies::date()) {
        let body = serde_json::to_value(&post).expect("body serialises");
        let expected = expected_create_rules(&body, &day(today));
        let found: BTreeSet<_> = create_violations(&post, today).iter().map(|v| v.rule.id()).collect();
        prop_assert_eq!(found, expected, "body {} today {}", body, day(today));
    }
}

/// The seed page's bodies and answers, as published, parse as the model's types.
#[test]
fn seed_page_payloads_parse() {
    let put: ReportPut = serde_json::from_value(json!({
        "recipients": ["ca451758-b48a-45d9-9ae6-8f1059f67619"],
        "parameters": {"kind": "usage_current", "level": "direct_partners"}
    }))
    .expect("the seed page's report_data is a reportPut");
    assert!(put.schedule.is_none());
    let report: Report = serde_json::from_value(json!({
        "generation_date": "2017-05-08", "id": "20dffb36-d77b-45c6-b2fa-39276e98d5fc",
        "parameters": {"formats": ["csv", "html"], "kind": "usage_current", "level": "direct_partners",
            "period": {"end": "2017-05-07", "start": "2017-05-01"}, "tenant_id": "ede9f834-70b3-476c-83d9-736f9f8c7dae"},
        "recipients": ["ca451758-b48a-45d9-9ae6-8f1059f67619"], "result_action": "send",
        "schedule": {"enabled": true, "type": "once"}, "version": 1
    }))
    .expect("the seed page's answer is a report");
    assert_eq!(report.version, 1);
    // Documented leniencies: json_v2_0 everywhere, no recipients, extra properties.
    let lenient: StoredReportList = serde_json::from_value(json!({"items": [
        {"report_format": "json_v2_0", "created_at": "2019-08-08T07:36:57Z", "status": "saved", "extra": 1}
    ]}))
    .expect("lenient stored list");
    assert_eq!(lenient.items.len(), 1);
    let _: ReportPost = serde_json::from_value(json!({
        "result_action": "save", "parameters": {"tenant_id": "ede9f834-70b3-476c-83d9-736f9f8c7dae",
        "kind": "usage_summary", "level": "accounts", "formats": ["csv_v2_0", "json_v2_0"]}, "schedule": {"type": "once"}
    }))
    .expect("a save create without recipients, as the billing example sends it");
}
