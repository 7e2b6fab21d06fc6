//! `{{name}}` placeholders in contract values. A string that is exactly one placeholder
//! becomes the variable's JSON value (an integer stays an integer); placeholders inside
//! longer strings are replaced by the value's text.

use std::collections::BTreeMap;

use serde_json::Value;

pub type Vars = BTreeMap<String, Value>;

/// The variables every contract may use without capturing them (`Session::vars`; some
/// exist only with a second client or a client secret).
pub const BUILTIN: &[&str] = &[
    "today",
    "yesterday",
    "tomorrow",
    "in_a_week",
    "prev_month_start",
    "prev_month_end",
    "next_month_first",
    "unknown_id",
    "recipient",
    "bogus_token",
    "client_id",
    "client_secret",
    "tenant",
    "other_client_id",
    "other_tenant",
    "child_tenant",
];

/// Every `{{name}}` in the strings of `value`, with the JSON pointer (below `at`) of the
/// string that holds it.
pub fn placeholders(value: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::String(text) => {
            let mut rest = text.as_str();
            while let Some(start) = rest.find("{{") {
                let after = &rest[start + 2..];
                let Some(end) = after.find("}}") else { break };
                out.push((at.to_owned(), after[..end].trim().to_owned()));
                rest = &after[end + 2..];
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                placeholders(item, &format!("{at}/{index}"), out);
            }
        }
        Value::Object(object) => {
            for (key, item) in object {
                placeholders(item, &format!("{at}/{}", key.replace('~', "~0").replace('/', "~1")), out);
            }
        }
        _ => {}
    }
}

/// A placeholder naming no variable (usually one a failed step did not capture).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undefined(pub String);

pub fn render(value: &Value, vars: &Vars) -> Result<Value, Undefined> {
    Ok(match value {
        Value::String(text) => render_string(text, vars)?,
        Value::Array(items) => Value::Array(items.iter().map(|item| render(item, vars)).collect::<Result<_, _>>()?),
        Value::Object(object) => Value::Object(
            object.iter().map(|(key, value)| Ok((key.clone(), render(value, vars)?))).collect::<Result<_, _>>()?,
        ),
        other => other.clone(),
    })
}

pub fn render_text(text: &str, vars: &Vars) -> Result<String, Undefined> {
    Ok(match render_string(text, vars)? {
        Value::String(text) => text,
        other => other.to_string(),
    })
}

fn render_string(text: &str, vars: &Vars) -> Result<Value, Undefined> {
    if let Some(name) = text.strip_prefix("{{").and_then(|rest| rest.strip_suffix("}}"))
        && !name.contains("{{")
        && !name.contains("}}")
    {
        return vars.get(name.trim()).cloned().ok_or_else(|| Undefined(name.trim().to_owned()));
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return Ok(Value::String(out));
        };
        let name = after[..end].trim();
        match vars.get(name) {
            Some(Value::String(value)) => out.push_str(value),
            Some(value) => out.push_str(&value.to_string()),
            None => return Err(Undefined(name.to_owned())),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(Value::String(out))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn whole_and_inline_placeholders() {
        let vars: Vars = [("id".to_owned(), json!("abc")), ("v".to_owned(), json!(3))].into_iter().collect();
        assert_eq!(
            render(&json!({"version": "{{v}}", "path": "/r/{{id}}?version={{v}}"}), &vars),
            Ok(json!({"version": 3, "path": "/r/abc?version=3"}))
        );
        assert_eq!(render(&json!("{{missing}}"), &vars), Err(Undefined("missing".to_owned())));
        assert_eq!(render_text("no placeholders", &vars), Ok("no placeholders".to_owned()));
    }
}
