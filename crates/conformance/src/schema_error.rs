//! A JSON Schema validation error of a contract in plain words: what is wrong with the
//! value and what would be right, read from the schema itself (its `x-expected`, a noun
//! phrase saying what a valid value is; its enum; its type; the fields an object may
//! have), never the validator's jargon ("is not valid under any of the schemas listed in
//! the 'oneOf' keyword").

use jsonschema::ValidationError;
use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

/// `error` of a document validated against `schema`, as one sentence.
pub fn describe(error: &ValidationError<'_>, schema: &Value) -> String {
    let keyword_at = error.schema_path().as_str();
    // The schema object holding the failed keyword, and the value it judged.
    let node = keyword_at.rsplit_once('/').and_then(|(parent, _)| schema.pointer(parent)).unwrap_or(&Value::Null);
    let instance = error.instance();
    let expected = node.get("x-expected").and_then(Value::as_str);
    match error.kind() {
        ValidationErrorKind::Required { property } => {
            format!("`{}` is missing: it is required here", property.as_str().unwrap_or_default())
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => unexpected
            .iter()
            .map(|key| {
                let fields: Vec<&str> = node
                    .get("properties")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                    .map(|(name, _)| name.as_str())
                    .collect();
                let hint = match closest(key, &fields) {
                    Some(near) => format!(" (did you mean `{near}`?)"),
                    None => String::new(),
                };
                format!("`{key}` is not a field here{hint}; the fields are {}", list(&fields, "and"))
            })
            .collect::<Vec<_>>()
            .join("; "),
        ValidationErrorKind::PropertyNames { error } => describe(error, schema),
        ValidationErrorKind::Not { schema: forbidden } => together(forbidden, instance),
        _ if expected.is_some() => format!("{} is not {}", shown(instance), expected.unwrap_or_default()),
        ValidationErrorKind::Enum { options } => {
            let options: Vec<String> = options.as_array().into_iter().flatten().map(ToString::to_string).collect();
            let options: Vec<&str> = options.iter().map(String::as_str).collect();
            format!("{} is not one of {}", shown(instance), list(&options, "or"))
        }
        ValidationErrorKind::Type { .. } => {
            let wanted: Vec<&str> = match node.get("type") {
                Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).map(article).collect(),
                Some(Value::String(kind)) => vec![article(kind)],
                _ => Vec::new(),
            };
            format!("expected {}, found {}", list(&wanted, "or"), shown(instance))
        }
        ValidationErrorKind::OneOfNotValid { .. } | ValidationErrorKind::AnyOf { .. } => {
            let branches = node.get(error.kind().keyword()).and_then(Value::as_array).into_iter().flatten();
            let wanted: Vec<&str> = branches.filter_map(|branch| branch.get("type")?.as_str()).map(article).collect();
            if wanted.is_empty() {
                format!("{} has none of the forms allowed here", shown(instance))
            } else {
                format!("expected {}, found {}", list(&wanted, "or"), shown(instance))
            }
        }
        ValidationErrorKind::Pattern { pattern } => {
            format!("{} does not have the form this field needs (the pattern {pattern})", shown(instance))
        }
        ValidationErrorKind::MinItems { limit } => format!("needs at least {limit} item(s), has {}", count(instance)),
        ValidationErrorKind::MinLength { limit: 1 } => "is empty: write something".to_owned(),
        ValidationErrorKind::MinLength { limit } => format!("is shorter than {limit} characters"),
        ValidationErrorKind::Minimum { limit } => format!("{instance} is below the smallest allowed value, {limit}"),
        ValidationErrorKind::Maximum { limit } => format!("{instance} is above the largest allowed value, {limit}"),
        ValidationErrorKind::UniqueItems => "lists the same item twice".to_owned(),
        _ => error.to_string(),
    }
}

/// A `not` that forbids fields together (`{"anyOf": [{"required": [a, b]}, ...]}`): the
/// fields given together.
fn together(forbidden: &Value, instance: &Value) -> String {
    let groups = forbidden.get("anyOf").and_then(Value::as_array).into_iter().flatten();
    let given = groups
        .filter_map(|group| group.get("required")?.as_array())
        .map(|names| names.iter().filter_map(Value::as_str).collect::<Vec<_>>())
        .find(|names| names.iter().all(|name| instance.get(name).is_some()));
    match given {
        Some(names) => {
            let names: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            format!("{} cannot be given together", list(&names, "and"))
        }
        None => "this combination of fields is not allowed here".to_owned(),
    }
}

/// A value as the message shows it: its kind, and itself when short.
fn shown(value: &Value) -> String {
    let kind = match value {
        Value::Null => return "null".to_owned(),
        Value::Bool(_) => "the boolean",
        Value::Number(_) => "the number",
        Value::String(_) => "the string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    };
    let text = value.to_string();
    if text.chars().count() > 60 { kind.to_owned() } else { format!("{kind} {text}") }
}

fn count(value: &Value) -> usize {
    value.as_array().map_or(0, Vec::len)
}

/// A JSON Schema type name with its article.
fn article(kind: &str) -> &'static str {
    match kind {
        "integer" => "an integer",
        "number" => "a number",
        "string" => "a string",
        "boolean" => "true or false",
        "array" => "a list",
        "object" => "an object",
        "null" => "null",
        _ => "another type",
    }
}

/// `a, b and c`.
fn list(items: &[&str], last: &str) -> String {
    match items {
        [] => "none".to_owned(),
        [one] => (*one).to_owned(),
        [rest @ .., end] => format!("{} {last} {end}", rest.join(", ")),
    }
}

/// The candidate a misspelling most likely meant: at most two edits away.
pub(crate) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|candidate| (edits(word, candidate), *candidate))
        .filter(|(distance, _)| *distance <= 2)
        .min()
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance.
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substituted = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substituted.min(previous + 1).min(row[j] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspellings_find_their_field() {
        assert_eq!(closest("expects", &["name", "request", "expect", "capture"]), Some("expect"));
        assert_eq!(closest("zzz", &["name", "request"]), None);
        assert_eq!(edits("kitten", "sitting"), 3);
    }
}
