//! `{{name}}` placeholders in contract values. A string that is exactly one placeholder
//! becomes the variable's JSON value (an integer stays an integer); placeholders inside
//! longer strings are replaced by the value's text.

use std::collections::BTreeMap;

use serde_json::Value;

pub type Vars = BTreeMap<String, Value>;

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
