//! Matching a response against a contract's expectation.
//!
//! A plain JSON value matches by equality, except that objects match as subsets (a
//! server may add properties) and numbers compare by value. An object with a single
//! `$`-key is an operator for what a conformant server may choose freely:
//!
//! | operator | matches |
//! |---|---|
//! | `{"$any": true}` | any present value |
//! | `{"$absent": true}` | the key is missing |
//! | `{"$type": "integer"}` | a JSON type: string, integer, number, boolean, array, object, null |
//! | `{"$uuid": true}` | a lower-case UUID |
//! | `{"$date": true}` / `{"$datetime": true}` | `YYYY-MM-DD` / an RFC 3339 timestamp |
//! | `{"$regex": "^a+$"}` | a string matching the regex |
//! | `{"$gt": n}`, `{"$ge": n}`, `{"$lt": n}`, `{"$ne": v}` | comparisons |
//! | `{"$eq": v}` | deep equality, no subset (e.g. what an earlier step returned) |
//! | `{"$exact": {...}}` | an object with exactly these keys |
//! | `{"$one_of": [m, ...]}` | any of the matchers |
//! | `{"$code": 1027}` | an error code, string or integer |
//! | `{"$contains": [m, ...]}` / `{"$contains": "text"}` | elements matching each, in any order / a substring |
//! | `{"$not_contains": v}` | no element equal to `v` / no such substring |
//! | `{"$len": n}` | an array or string of that length |
//! | `{"$each": m}` | every element matches |

use std::fmt;

use serde_json::Value;

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
    "$exact",
    "$one_of",
    "$code",
    "$contains",
    "$not_contains",
    "$len",
    "$each",
];

/// All the ways `actual` (absent when `None`) differs from `expected`.
pub fn diff(expected: &Value, actual: Option<&Value>) -> Vec<Mismatch> {
    let mut out = Vec::new();
    check(expected, actual, "", &mut out);
    out
}

pub fn matches(expected: &Value, actual: Option<&Value>) -> bool {
    diff(expected, actual).is_empty()
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

fn check(expected: &Value, actual: Option<&Value>, path: &str, out: &mut Vec<Mismatch>) {
    let mut fail = |expected: String| out.push(Mismatch { path: path.to_owned(), expected, actual: show(actual) });
    if let Some((name, argument)) = operator(expected) {
        return apply(name, argument, actual, path, out);
    }
    let Some(actual) = actual else {
        return fail(show(Some(expected)));
    };
    match (expected, actual) {
        (Value::Object(expected), Value::Object(actual_object)) => {
            for (key, value) in expected {
                check(value, actual_object.get(key), &format!("{path}/{}", escape(key)), out);
            }
        }
        (Value::Array(expected), Value::Array(items)) => {
            if expected.len() != items.len() {
                return fail(format!("{} elements", expected.len()));
            }
            for (index, (expected, item)) in expected.iter().zip(items).enumerate() {
                check(expected, Some(item), &format!("{path}/{index}"), out);
            }
        }
        (expected, actual) if equal(expected, actual) => {}
        (expected, _) => fail(show(Some(expected))),
    }
}

fn apply(name: &str, argument: &Value, actual: Option<&Value>, path: &str, out: &mut Vec<Mismatch>) {
    let fail = |out: &mut Vec<Mismatch>, expected: String| {
        out.push(Mismatch { path: path.to_owned(), expected, actual: show(actual) })
    };
    if name == "$absent" {
        if actual.is_some() {
            fail(out, "no value".to_owned());
        }
        return;
    }
    let Some(value) = actual else {
        return fail(out, format!("a value ({name})"));
    };
    let ok = match name {
        "$any" => true,
        "$type" => argument
            .as_str()
            .is_some_and(|wanted| type_name(value) == wanted || (wanted == "number" && value.is_number())),
        "$uuid" => value.as_str().is_some_and(|text| text.parse::<reportcheck_model::Id>().is_ok()),
        "$date" => value.as_str().is_some_and(|text| reportcheck_model::date::parse_day(text).is_ok()),
        "$datetime" => value.as_str().is_some_and(|text| text.parse::<reportcheck_model::Timestamp>().is_ok()),
        "$regex" => match argument.as_str().map(regex::Regex::new) {
            Some(Ok(regex)) => value.as_str().is_some_and(|text| regex.is_match(text)),
            _ => return fail(out, format!("a valid $regex, not {argument}")),
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
        "$eq" => {
            // Name each differing field rather than print both values whole.
            exact_diff(argument, value, path, out);
            return;
        }
        "$exact" => {
            let (Some(expected), Some(object)) = (argument.as_object(), value.as_object()) else {
                return fail(out, format!("exactly {argument}"));
            };
            let extra: Vec<&String> = object.keys().filter(|key| !expected.contains_key(*key)).collect();
            if !extra.is_empty() {
                fail(out, format!("no keys beyond {:?}", expected.keys().collect::<Vec<_>>()));
            }
            return check(&Value::Object(expected.clone()), Some(value), path, out);
        }
        "$one_of" => {
            argument.as_array().is_some_and(|options| options.iter().any(|option| matches(option, Some(value))))
        }
        "$code" => code(value).is_some_and(|found| Some(found) == code(argument)),
        "$contains" => match (argument, value) {
            (Value::String(needle), Value::String(text)) => text.contains(needle.as_str()),
            (Value::Array(wanted), Value::Array(items)) => {
                wanted.iter().all(|wanted| items.iter().any(|item| matches(wanted, Some(item))))
            }
            (wanted, Value::Array(items)) => items.iter().any(|item| matches(wanted, Some(item))),
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
            let Some(items) = value.as_array() else { return fail(out, "an array".to_owned()) };
            for (index, item) in items.iter().enumerate() {
                check(argument, Some(item), &format!("{path}/{index}"), out);
            }
            return;
        }
        unknown => return fail(out, format!("a known operator, not {unknown}")),
    };
    if !ok {
        let expected = match name {
            "$uuid" => "a lower-case UUID".to_owned(),
            "$date" => "a YYYY-MM-DD date".to_owned(),
            "$datetime" => "an RFC 3339 timestamp".to_owned(),
            "$any" => "a value".to_owned(),
            _ => format!("{name} {argument}"),
        };
        fail(out, expected);
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
    fn objects_are_subsets_arrays_are_exact() {
        assert!(matches(&json!({"a": 1}), Some(&json!({"a": 1, "b": 2}))));
        assert!(!matches(&json!([1]), Some(&json!([1, 2]))));
        assert!(!matches(&json!({"a": 1}), None));
        assert_eq!(diff(&json!({"a": {"b": 2}}), Some(&json!({"a": {"b": 3}})))[0].path, "/a/b");
    }
}
