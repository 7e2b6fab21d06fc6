//! Matching a response against a contract's expectation.
//!
//! A plain JSON value matches by equality, except that objects match as subsets (a
//! server may add properties) and numbers compare by value. An object with a single
//! `$`-key is an operator for what a conformant server may choose freely:
//!
//! | operator | matches |
//! |---|---|
//! | `{"$any": true}` | any present value |
//! | `{"$client_error": true}` | any 4xx status (a refusal no rule pins further) |
//! | `{"$absent": true}` | the key is missing |
//! | `{"$type": "integer"}` | a JSON type: string, integer, number, boolean, array, object, null |
//! | `{"$uuid": true}` | a lower-case UUID |
//! | `{"$date": true}` / `{"$datetime": true}` | `YYYY-MM-DD` / an RFC 3339 timestamp |
//! | `{"$regex": "^a+$"}` | a string matching the regex |
//! | `{"$gt": n}`, `{"$ge": n}`, `{"$lt": n}`, `{"$ne": v}` | comparisons |
//! | `{"$eq": v}` | deep equality, no subset |
//! | `{"$unchanged": report}` | the same report as an earlier answer (a capture), compared on what the rules pin (`decide::REPORT_FIELDS`): free values such as extra properties may differ |
//! | `{"$exact": {...}}` | an object with exactly these keys |
//! | `{"$one_of": [m, ...]}` | any of the matchers |
//! | `{"$code": 1027}` | an error code, string or integer |
//! | `{"$contains": [m, ...]}` / `{"$contains": "text"}` | elements matching each, in any order / a substring |
//! | `{"$not_contains": v}` | no element equal to `v` / no such substring |
//! | `{"$len": n}` | an array or string of that length |
//! | `{"$each": m}` | every element matches |
//! | `{"$free": "<freedom>"}` | what PROFILE.md leaves free, compared by that freedom (`freedom::Freedom`) |
//! | `{"$free": {"as": "<freedom>", "observed": v}}` | the same; `v` is what the server answered when recorded |
//! | `{"$observed": v}` | anything, absent included: no rule claims this value; `v` is what the server answered when recorded |
//!
//! A `$free` or `$observed` value the server chose differently from its recorded one is
//! no failure: [`diff_in`] reports it as an [`Observation`], which a run turns into a note
//! (and `drift --recording` into a non-breaking drift).
//! A freedom over sibling keys (`token-expiry`: `expires_in` and/or `expires_on`) is
//! judged on the object that holds them.

use std::fmt;
use std::sync::LazyLock;

use reportcheck_model::freedom::{self, Comparison, Freedom};
use serde_json::Value;
use time::Date;

/// One difference between expected and actual.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// Where, as a JSON pointer (`""` is the whole value).
    pub path: String,
    pub expected: String,
    pub actual: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.path.is_empty() { "the body" } else { &self.path };
        write!(f, "{at}: expected {}, found {}", self.expected, self.actual)
    }
}

/// The operators, for validating contracts.
pub const OPERATORS: &[&str] = &[
    "$any",
    "$client_error",
    "$absent",
    "$type",
    "$uuid",
    "$date",
    "$datetime",
    "$regex",
    "$gt",
    "$ge",
    "$lt",
    "$ne",
    "$eq",
    "$unchanged",
    "$exact",
    "$one_of",
    "$code",
    "$contains",
    "$not_contains",
    "$len",
    "$each",
    "$free",
    "$observed",
];

/// What matching needs besides the two values.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context {
    /// The run's today, for freedoms compared against it (`monthly-generation-date`).
    pub today: Option<Date>,
}

/// A free value the server chose differently from the one it answered when recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// Where, as a JSON pointer.
    pub path: String,
    /// The freedom that lets it differ; `None` where no rule claims the value at all.
    pub freedom: Option<Freedom>,
    /// Recorded (`None`: absent).
    pub observed: Option<Value>,
    /// Answered now (`None`: absent).
    pub now: Option<Value>,
}

/// Everything one match found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Matched {
    pub mismatches: Vec<Mismatch>,
    pub observations: Vec<Observation>,
}

/// The argument of `$free`: the freedom, and the value observed when recorded.
pub fn free_argument(argument: &Value) -> Result<(Freedom, Option<&Value>), String> {
    let (id, observed) = match argument {
        Value::String(id) => (id.as_str(), None),
        Value::Object(object) => {
            if let Some(key) = object.keys().find(|key| !["as", "observed"].contains(&key.as_str())) {
                return Err(format!("`$free` takes `as` and `observed`, not `{key}`"));
            }
            let Some(id) = object.get("as").and_then(Value::as_str) else {
                return Err("`$free` needs `as`, a freedom id".to_owned());
            };
            (id, object.get("observed"))
        }
        _ => return Err("`$free` takes a freedom id or {\"as\": id, \"observed\": value}".to_owned()),
    };
    let freedom = id.parse::<Freedom>().map_err(|err| {
        let known: Vec<&str> = Freedom::ALL.iter().map(|freedom| freedom.id()).collect();
        format!("{err} (known: {})", known.join(", "))
    })?;
    Ok((freedom, observed))
}

/// Every operator in a matcher that cannot work (unknown, or a `$free` with a bad
/// freedom id): its JSON pointer within `value`, and why.
pub fn operator_problems(value: &Value) -> Vec<(String, String)> {
    match value {
        Value::Object(object) => object
            .iter()
            .flat_map(|(key, item)| {
                let at = format!("/{}", escape(key));
                if key.starts_with('$') && !OPERATORS.contains(&key.as_str()) {
                    let hint = crate::schema_error::closest(key, OPERATORS)
                        .map(|near| format!("did you mean `{near}`? "))
                        .unwrap_or_default();
                    let message = format!("`{key}` is not a matcher operator ({hint}known: {})", OPERATORS.join(", "));
                    return vec![(at, message)];
                }
                if key == "$free" {
                    return free_argument(item).err().map(|problem| (at, problem)).into_iter().collect();
                }
                operator_problems(item).into_iter().map(|(inner, problem)| (format!("{at}{inner}"), problem)).collect()
            })
            .collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .flat_map(|(index, item)| {
                operator_problems(item).into_iter().map(move |(inner, problem)| (format!("/{index}{inner}"), problem))
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// All the ways `actual` (absent when `None`) differs from `expected`.
pub fn diff(expected: &Value, actual: Option<&Value>) -> Vec<Mismatch> {
    diff_in(expected, actual, Context::default()).mismatches
}

/// All the ways `actual` differs from `expected`, and the free values that differ from
/// what was observed when recorded.
pub fn diff_in(expected: &Value, actual: Option<&Value>, context: Context) -> Matched {
    let mut walk = Walk { context, found: Matched::default() };
    check(expected, actual, "", &mut walk);
    walk.found
}

pub fn matches(expected: &Value, actual: Option<&Value>) -> bool {
    diff(expected, actual).is_empty()
}

fn matches_in(expected: &Value, actual: Option<&Value>, context: Context) -> bool {
    diff_in(expected, actual, context).mismatches.is_empty()
}

struct Walk {
    context: Context,
    found: Matched,
}

fn show(value: Option<&Value>) -> String {
    match value {
        None => "nothing".to_owned(),
        Some(value) => {
            let text = value.to_string();
            if text.chars().count() > 120 { format!("{}…", text.chars().take(120).collect::<String>()) } else { text }
        }
    }
}

fn operator(expected: &Value) -> Option<(&str, &Value)> {
    let object = expected.as_object()?;
    if object.len() != 1 {
        return None;
    }
    let (key, argument) = object.iter().next()?;
    key.starts_with('$').then_some((key.as_str(), argument))
}

fn check(expected: &Value, actual: Option<&Value>, path: &str, walk: &mut Walk) {
    let out = &mut walk.found.mismatches;
    let mut fail = |expected: String| out.push(Mismatch { path: path.to_owned(), expected, actual: show(actual) });
    if let Some((name, argument)) = operator(expected) {
        return apply(name, argument, actual, path, walk);
    }
    let Some(actual) = actual else {
        return fail(show(Some(expected)));
    };
    match (expected, actual) {
        (Value::Object(expected), Value::Object(actual_object)) => {
            let mut sibling_freedoms: Vec<Freedom> = Vec::new();
            for (key, value) in expected {
                let at = format!("{path}/{}", escape(key));
                match sibling_freedom(value, key) {
                    // Judged once, on the object that holds the keys.
                    Some((freedom, observed)) => {
                        if !sibling_freedoms.contains(&freedom) {
                            sibling_freedoms.push(freedom);
                            if !freedom.admits(None, Some(actual), freedom::Context::default()) {
                                walk.found.mismatches.push(Mismatch {
                                    path: path.to_owned(),
                                    expected: format!("{} ({freedom})", freedom.text()),
                                    actual: show(Some(actual)),
                                });
                            }
                        }
                        observe(walk, &at, freedom, observed, actual_object.get(key));
                    }
                    None => check(value, actual_object.get(key), &at, walk),
                }
            }
        }
        (Value::Array(expected), Value::Array(items)) => {
            if expected.len() != items.len() {
                return fail(format!("{} elements", expected.len()));
            }
            for (index, (expected, item)) in expected.iter().zip(items).enumerate() {
                check(expected, Some(item), &format!("{path}/{index}"), walk);
            }
        }
        (expected, actual) if equal(expected, actual) => {}
        (expected, _) => fail(show(Some(expected))),
    }
}

/// A `$free` at `key` whose freedom spans sibling keys, `key` among them.
fn sibling_freedom<'a>(value: &'a Value, key: &str) -> Option<(Freedom, Option<&'a Value>)> {
    let (name, argument) = operator(value)?;
    let (freedom, observed) = free_argument(argument).ok().filter(|_| name == "$free")?;
    match freedom.comparison() {
        Comparison::AtLeastOneIntegerOf(keys) if keys.contains(&key) => Some((freedom, observed)),
        _ => None,
    }
}

/// Notes a free value that departs from its recorded one in a way worth telling: values
/// that differ on every run (ids, versions, instants) only when their form changes.
fn observe(walk: &mut Walk, path: &str, freedom: Freedom, observed: Option<&Value>, now: Option<&Value>) {
    let Some(observed) = observed else { return };
    let changed = match (freedom.comparison(), now) {
        (Comparison::LowerCaseUuid | Comparison::IncreasingInteger, _) => false,
        (Comparison::AnyOrder | Comparison::Superset, _) => false,
        (Comparison::AtLeastOneIntegerOf(_) | Comparison::NotCompared, now) => now.is_none(),
        (_, None) => true,
        (Comparison::SameInstant, Some(now)) => offset(observed) != offset(now),
        (Comparison::AnyString | Comparison::AnyValue, Some(now)) => masked(observed) != masked(now),
        (_, Some(now)) => !deep_equal(observed, now),
    };
    if changed {
        walk.found.observations.push(Observation {
            path: path.to_owned(),
            freedom: Some(freedom),
            observed: Some(observed.clone()),
            now: now.cloned(),
        });
    }
}

/// How an RFC 3339 timestamp writes its offset (`Z`, `+00:00`, ...).
fn offset(value: &Value) -> Option<String> {
    let text = value.as_str()?;
    let time = text.split_once('T').map_or(text, |(_, time)| time);
    let at = time.rfind(['Z', 'z', '+', '-']).unwrap_or(time.len());
    Some(time[at..].to_ascii_uppercase())
}

/// A value with every UUID in its texts replaced: ids differ on every run.
fn masked(value: &Value) -> Value {
    static UUID: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new("(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
            .unwrap_or_else(|err| unreachable!("a valid regex: {err}"))
    });
    match value {
        Value::String(text) => Value::String(UUID.replace_all(text, "<uuid>").into_owned()),
        Value::Array(items) => Value::Array(items.iter().map(masked).collect()),
        Value::Object(object) => Value::Object(object.iter().map(|(key, item)| (key.clone(), masked(item))).collect()),
        other => other.clone(),
    }
}

fn apply(name: &str, argument: &Value, actual: Option<&Value>, path: &str, walk: &mut Walk) {
    let context = walk.context;
    let fail = |walk: &mut Walk, expected: String| {
        walk.found.mismatches.push(Mismatch { path: path.to_owned(), expected, actual: show(actual) })
    };
    if name == "$absent" {
        if actual.is_some() {
            fail(walk, "no value".to_owned());
        }
        return;
    }
    if name == "$observed" {
        if !actual.is_some_and(|actual| deep_equal(argument, actual)) {
            walk.found.observations.push(Observation {
                path: path.to_owned(),
                freedom: None,
                observed: Some(argument.clone()),
                now: actual.cloned(),
            });
        }
        return;
    }
    if name == "$free" {
        let (freedom, observed) = match free_argument(argument) {
            Ok(found) => found,
            Err(problem) => return fail(walk, problem),
        };
        let today = freedom::Context { today: context.today, previous: None };
        if !freedom.admits(None, actual, today) {
            fail(walk, format!("{} ({freedom})", freedom.text()));
        }
        return observe(walk, path, freedom, observed, actual);
    }
    let Some(value) = actual else {
        return fail(walk, format!("a value ({name})"));
    };
    let ok = match name {
        "$any" => true,
        "$client_error" => value.as_u64().is_some_and(|status| (400..500).contains(&status)),
        "$type" => argument
            .as_str()
            .is_some_and(|wanted| type_name(value) == wanted || (wanted == "number" && value.is_number())),
        "$uuid" => value.as_str().is_some_and(|text| text.parse::<reportcheck_model::Id>().is_ok()),
        "$date" => value.as_str().is_some_and(|text| reportcheck_model::date::parse_day(text).is_ok()),
        "$datetime" => value.as_str().is_some_and(|text| text.parse::<reportcheck_model::Timestamp>().is_ok()),
        "$regex" => match argument.as_str().map(regex::Regex::new) {
            Some(Ok(regex)) => value.as_str().is_some_and(|text| regex.is_match(text)),
            _ => return fail(walk, format!("a valid $regex, not {argument}")),
        },
        "$gt" | "$ge" | "$lt" => match (number(value), number(argument)) {
            (Some(a), Some(b)) => match name {
                "$gt" => a > b,
                "$ge" => a >= b,
                _ => a < b,
            },
            _ => false,
        },
        "$ne" => !equal(value, argument),
        "$unchanged" => {
            // "Unchanged" and "the same object" compare what the rules pin (PROFILE.md):
            // the model's GET-1 claims over the earlier answer.
            let parsed = |value: &Value| serde_json::from_value::<reportcheck_model::Report>(value.clone()).ok();
            let (Some(before), Some(now)) = (parsed(argument), parsed(value)) else {
                return fail(walk, format!("the report {argument}"));
            };
            for found in reportcheck_model::Prediction::read(&before).discrepancies(&now) {
                walk.found.mismatches.push(Mismatch {
                    path: format!("{path}{}", found.pointer),
                    expected: found.expected,
                    actual: found.actual,
                });
            }
            return;
        }
        "$eq" => {
            // Name each differing field rather than print both values whole.
            exact_diff(argument, value, path, &mut walk.found.mismatches);
            return;
        }
        "$exact" => {
            let (Some(expected), Some(object)) = (argument.as_object(), value.as_object()) else {
                return fail(walk, format!("exactly {argument}"));
            };
            let extra: Vec<&String> = object.keys().filter(|key| !expected.contains_key(*key)).collect();
            if !extra.is_empty() {
                fail(walk, format!("no keys beyond {:?}", expected.keys().collect::<Vec<_>>()));
            }
            return check(&Value::Object(expected.clone()), Some(value), path, walk);
        }
        "$one_of" => argument
            .as_array()
            .is_some_and(|options| options.iter().any(|option| matches_in(option, Some(value), context))),
        "$code" => code(value).is_some_and(|found| Some(found) == code(argument)),
        "$contains" => match (argument, value) {
            (Value::String(needle), Value::String(text)) => text.contains(needle.as_str()),
            (Value::Array(wanted), Value::Array(items)) => {
                wanted.iter().all(|wanted| items.iter().any(|item| matches_in(wanted, Some(item), context)))
            }
            (wanted, Value::Array(items)) => items.iter().any(|item| matches_in(wanted, Some(item), context)),
            _ => false,
        },
        "$not_contains" => match (argument, value) {
            (Value::String(needle), Value::String(text)) => !text.contains(needle.as_str()),
            (unwanted, Value::Array(items)) => !items.iter().any(|item| equal(unwanted, item)),
            _ => false,
        },
        "$len" => {
            let length = match value {
                Value::Array(items) => Some(items.len()),
                Value::String(text) => Some(text.chars().count()),
                _ => None,
            };
            length.is_some_and(|length| matches(argument, Some(&Value::from(length))))
        }
        "$each" => {
            let Some(items) = value.as_array() else { return fail(walk, "an array".to_owned()) };
            for (index, item) in items.iter().enumerate() {
                check(argument, Some(item), &format!("{path}/{index}"), walk);
            }
            return;
        }
        unknown => return fail(walk, format!("a known operator, not {unknown}")),
    };
    if !ok {
        let expected = match name {
            "$uuid" => "a lower-case UUID".to_owned(),
            "$date" => "a YYYY-MM-DD date".to_owned(),
            "$datetime" => "an RFC 3339 timestamp".to_owned(),
            "$any" => "a value".to_owned(),
            _ => format!("{name} {argument}"),
        };
        fail(walk, expected);
    }
}

/// Every difference between two values, with no subset leniency.
fn exact_diff(expected: &Value, actual: &Value, path: &str, out: &mut Vec<Mismatch>) {
    match (expected, actual) {
        (Value::Object(expected), Value::Object(actual)) => {
            for (key, value) in expected {
                let at = format!("{path}/{}", escape(key));
                match actual.get(key) {
                    Some(found) => exact_diff(value, found, &at, out),
                    None => out.push(Mismatch { path: at, expected: show(Some(value)), actual: "nothing".to_owned() }),
                }
            }
            for (key, value) in actual.iter().filter(|(key, _)| !expected.contains_key(*key)) {
                let at = format!("{path}/{}", escape(key));
                out.push(Mismatch { path: at, expected: "nothing".to_owned(), actual: show(Some(value)) });
            }
        }
        (Value::Array(expected_items), Value::Array(items)) if expected_items.len() == items.len() => {
            for (index, (expected, item)) in expected_items.iter().zip(items).enumerate() {
                exact_diff(expected, item, &format!("{path}/{index}"), out);
            }
        }
        (expected, actual) if deep_equal(expected, actual) => {}
        (expected, actual) => {
            out.push(Mismatch { path: path.to_owned(), expected: show(Some(expected)), actual: show(Some(actual)) })
        }
    }
}

/// A key as one JSON-pointer token (`~` and `/` escaped).
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The JSON type of a value, integers apart from other numbers.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(number) if number.is_i64() || number.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn number(value: &Value) -> Option<f64> {
    value.as_f64()
}

fn code(value: &Value) -> Option<String> {
    match value {
        Value::Number(number) => Some(number.to_string()),
        Value::String(text) => Some(text.trim().to_owned()),
        _ => None,
    }
}

/// Scalars equal by value (`1 == 1.0`); containers by deep equality.
fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => deep_equal(a, b),
    }
}

fn deep_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| deep_equal(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(key, value)| y.get(key).is_some_and(|other| deep_equal(value, other)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn operators() {
        let actual = json!({"id": "20dffb36-d77b-45c6-b2fa-39276e98d5fc", "version": 3, "extra": true,
            "items": ["a", "b"], "error": {"code": "1027"}, "date": "2017-05-08", "at": "2019-08-08T07:36:57Z"});
        let expected = json!({"id": {"$uuid": true}, "version": {"$gt": 2}, "items": {"$contains": ["b"]},
            "error": {"code": {"$code": 1027}}, "date": {"$date": true}, "at": {"$datetime": true},
            "gone": {"$absent": true}, "version2": {"$absent": true}});
        assert_eq!(diff(&expected, Some(&actual)), vec![]);
        let wrong = json!({"version": {"$lt": 3}, "items": {"$len": 3}, "extra": {"$type": "string"},
            "id": {"$one_of": ["x", "y"]}, "error": {"$exact": {}}});
        let paths: Vec<String> = diff(&wrong, Some(&actual)).into_iter().map(|m| m.path).collect();
        assert_eq!(paths, ["/error", "/extra", "/id", "/items", "/version"]);
        assert!(matches(&json!({"$each": {"$type": "string"}}), Some(&json!(["a", "b"]))));
        assert!(!matches(&json!({"$not_contains": "a"}), Some(&json!(["a", "b"]))));
        assert!(matches(&json!({"$eq": {"a": 1}}), Some(&json!({"a": 1.0}))));
        assert!(!matches(&json!({"$eq": {"a": 1}}), Some(&json!({"a": 1, "b": 2}))), "$eq is not a subset match");
        let differences =
            diff(&json!({"$eq": {"a": {"b": 1, "c": [1, 2]}}}), Some(&json!({"a": {"b": 2, "c": [1, 3], "d": 0}})));
        let paths: Vec<&str> = differences.iter().map(|m| m.path.as_str()).collect();
        assert_eq!(paths, ["/a/b", "/a/c/1", "/a/d"]);
    }

    #[test]
    fn free_values_match_by_their_freedom_and_note_what_changed() {
        let today = Some(time::macros::date!(2026 - 11 - 26));
        let context = Context { today };
        let expected = json!({
            "generation_date": {"$free": {"as": "monthly-generation-date", "observed": "2026-12-01"}},
            "id": {"$free": {"as": "report-id", "observed": "20dffb36-d77b-45c6-b2fa-39276e98d5fc"}},
            "hide_zero_usage": {"$free": "optional-flags"},
            "error": {"code": {"$free": {"as": "error-code-type", "observed": 404}}},
        });
        let actual = json!({"generation_date": "2026-11-27", "id": "8e3c1a40-0f47-4c36-9d5e-4f8d3c1f2a10",
            "error": {"code": "404"}});
        let found = diff_in(&expected, Some(&actual), context);
        assert_eq!(found.mismatches, vec![]);
        let paths: Vec<&str> = found.observations.iter().map(|o| o.path.as_str()).collect();
        assert_eq!(paths, ["/error/code", "/generation_date"], "ids differ on every run: no note");
        let wrong = json!({"generation_date": "2026-11-26", "id": "NOT", "hide_zero_usage": true, "error": {}});
        let paths: Vec<String> =
            diff_in(&expected, Some(&wrong), context).mismatches.into_iter().map(|m| m.path).collect();
        assert_eq!(paths, ["/error/code", "/generation_date", "/hide_zero_usage", "/id"]);
    }

    #[test]
    fn a_freedom_over_sibling_keys_is_judged_on_their_object() {
        let expected = json!({"token_type": {"$free": {"as": "token-type-case", "observed": "bearer"}},
            "expires_in": {"$free": {"as": "token-expiry", "observed": 3600}}});
        let found =
            diff_in(&expected, Some(&json!({"token_type": "Bearer", "expires_on": 1_800_000_000})), Context::default());
        assert_eq!(found.mismatches, vec![]);
        let paths: Vec<&str> = found.observations.iter().map(|o| o.path.as_str()).collect();
        assert_eq!(paths, ["/expires_in", "/token_type"]);
        assert!(!matches(&expected, Some(&json!({"token_type": "bearer"}))), "no expiry at all");
        assert!(!matches(&expected, Some(&json!({"token_type": "bearer", "expires_in": "3600"}))));
    }

    #[test]
    fn bad_free_ids_are_found() {
        assert_eq!(operator_problems(&json!({"a": [{"$free": "report-id"}]})), []);
        let problems = operator_problems(&json!({"a": [1, {"$free": {"as": "nope"}}]}));
        let [(at, problem)] = problems.as_slice() else { panic!("one problem: {problems:?}") };
        assert_eq!(at, "/a/1/$free");
        assert!(problem.contains("`nope` is not a freedom"), "{problem}");
        let found: Vec<String> =
            operator_problems(&json!({"$uuidish": true, "b": {"$codee": 1}})).into_iter().map(|(at, _)| at).collect();
        assert_eq!(found, ["/$uuidish", "/b/$codee"]);
    }

    #[test]
    fn objects_are_subsets_arrays_are_exact() {
        assert!(matches(&json!({"a": 1}), Some(&json!({"a": 1, "b": 2}))));
        assert!(!matches(&json!([1]), Some(&json!([1, 2]))));
        assert!(!matches(&json!({"a": 1}), None));
        assert_eq!(diff(&json!({"a": {"b": 2}}), Some(&json!({"a": {"b": 3}})))[0].path, "/a/b");
    }
}
