//! Checks every response gets, whatever the contract expects of it: SCH-1/2/3 on
//! successes, ERR-1 and SEC-2 on errors, ERR-3 on all.

use reportcheck_model::Rule;
use serde_json::Value;

use crate::openapi::Spec;
use crate::redact::Redactor;

/// One request and its answer, as the checks see them.
#[derive(Debug)]
pub struct Exchange<'a> {
    pub method: &'a str,
    /// Relative to the base URL, query included.
    pub path: &'a str,
    pub status: u16,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
    pub json: Option<&'a Value>,
}

/// `(rule, Ok | Err(problem))` for every implicit check that applies.
pub fn implicit(spec: &Spec, redactor: &Redactor, exchange: &Exchange<'_>) -> Vec<(Rule, Result<(), String>)> {
    let mut results = Vec::new();
    let is_json_type = reportcheck_model::rule_check::is_json_media_type(exchange.content_type);
    let status = exchange.status;
    results.push((
        Rule::Err3,
        if status >= 500 { Err(format!("{} {} answered {status}", exchange.method, exchange.path)) } else { Ok(()) },
    ));
    let api_path = exchange.path.starts_with("/reports") || exchange.path.starts_with("/tenants/");
    if status >= 400 && api_path {
        let problem = if !is_json_type {
            Some(format!(
                "the error is served as {:?}, not application/json",
                exchange.content_type.unwrap_or("nothing")
            ))
        } else {
            match exchange.json {
                None => Some("the error body is not JSON".to_owned()),
                Some(body) => {
                    let problems = spec.validate("errorScheme", body);
                    (!problems.is_empty()).then(|| format!("not an errorScheme: {}", problems.join("; ")))
                }
            }
        };
        results.push((Rule::Err1, problem.map_or(Ok(()), Err)));
    }
    if status >= 400 {
        let text = String::from_utf8_lossy(exchange.body);
        results.push((
            Rule::Sec2,
            match redactor.leaks(&text) {
                Some(_) => Err("the error body echoes a bearer token or client secret".to_owned()),
                None => Ok(()),
            },
        ));
    }
    let schema = spec.operation(exchange.method, exchange.path).and_then(|operation| operation.success_schema(status));
    if (200..300).contains(&status)
        && let Some(schema) = schema
    {
        results.push((
            Rule::Sch2,
            if is_json_type {
                Ok(())
            } else {
                Err(format!("a JSON body served as {:?}", exchange.content_type.unwrap_or("nothing")))
            },
        ));
        match exchange.json {
            None => results.push((Rule::Sch1, Err(format!("the {schema} body is not JSON")))),
            Some(body) => {
                let problems = spec.validate(schema, body);
                results.push((
                    Rule::Sch1,
                    if problems.is_empty() { Ok(()) } else { Err(format!("not a {schema}: {}", problems.join("; "))) },
                ));
                let problems = strict_values(schema, body);
                results.push((Rule::Sch3, if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }));
            }
        }
    }
    results
}

/// SCH-3: lower-case enum values, `YYYY-MM-DD` dates, integer versions, lower-case UUIDs,
/// checked on the fields that carry them (missing fields are SCH-1's business).
pub fn strict_values(schema: &str, body: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let mut id = |pointer: &str, value: Option<&Value>| {
        if let Some(value) = value
            && value.as_str().is_none_or(|text| text.parse::<reportcheck_model::Id>().is_err())
        {
            problems.push(format!("{pointer}: {value} is not a lower-case UUID"));
        }
    };
    match schema {
        "report" => {
            id("/id", body.get("id"));
            id("/parameters/tenant_id", body.pointer("/parameters/tenant_id"));
            for (index, recipient) in body["recipients"].as_array().into_iter().flatten().enumerate() {
                id(&format!("/recipients/{index}"), Some(recipient));
            }
            if let Some(version) = body.get("version")
                && !(version.is_i64() || version.is_u64())
            {
                problems.push(format!("/version: {version} is not an integer"));
            }
            for pointer in ["/generation_date", "/parameters/period/start", "/parameters/period/end"] {
                if let Some(date) = body.pointer(pointer)
                    && date.as_str().is_none_or(|text| reportcheck_model::date::parse_day(text).is_err())
                {
                    problems.push(format!("{pointer}: {date} is not a YYYY-MM-DD date"));
                }
            }
            enum_value(
                &mut problems,
                body,
                "/result_action",
                reportcheck_model::ResultAction::ALL.iter().map(|v| v.as_str()),
            );
            enum_value(
                &mut problems,
                body,
                "/parameters/kind",
                reportcheck_model::Kind::ALL.iter().map(|v| v.as_str()),
            );
            enum_value(
                &mut problems,
                body,
                "/parameters/level",
                reportcheck_model::Level::ALL.iter().map(|v| v.as_str()),
            );
            enum_value(
                &mut problems,
                body,
                "/schedule/type",
                reportcheck_model::ScheduleType::ALL.iter().map(|v| v.as_str()),
            );
        }
        "storedReportParams" => {
            for (index, item) in body["items"].as_array().into_iter().flatten().enumerate() {
                id(&format!("/items/{index}/id"), item.get("id"));
            }
        }
        "uuidList" => {
            for (index, item) in body["items"].as_array().into_iter().flatten().enumerate() {
                id(&format!("/items/{index}"), Some(item));
            }
        }
        "client" => {
            id("/client_id", body.get("client_id"));
            id("/tenant_id", body.get("tenant_id"));
        }
        _ => {}
    }
    problems
}

fn enum_value<'a>(problems: &mut Vec<String>, body: &Value, pointer: &str, known: impl Iterator<Item = &'a str>) {
    if let Some(value) = body.pointer(pointer) {
        let known: Vec<&str> = known.collect();
        if !value.as_str().is_some_and(|text| known.contains(&text)) {
            problems.push(format!("{pointer}: {value} is not one of the documented lower-case values {known:?}"));
        }
    }
}

/// Whether `body` is a file in `format`.
pub fn file_format(format: crate::contract::FileFormat, body: &[u8]) -> Result<(), String> {
    use crate::contract::FileFormat;
    let text = std::str::from_utf8(body).map_err(|_| "the file is not UTF-8 text".to_owned())?;
    match format {
        FileFormat::Json => serde_json::from_str::<Value>(text).map(|_| ()).map_err(|err| format!("not JSON: {err}")),
        FileFormat::Html => {
            let lower = text.to_ascii_lowercase();
            if lower.contains("<html") || lower.contains("<table") || lower.contains("<!doctype html") {
                Ok(())
            } else {
                Err("not HTML: no <html>, <table> or doctype".to_owned())
            }
        }
        FileFormat::Csv => {
            let widths: Vec<usize> = text.lines().filter(|line| !line.is_empty()).map(csv_fields).collect();
            match widths.first() {
                None => Err("an empty CSV file".to_owned()),
                Some(1) => Err("not CSV: the header has a single column".to_owned()),
                Some(first) if widths.iter().all(|width| width == first) => Ok(()),
                Some(first) => Err(format!("not CSV: rows have {widths:?} fields, the header {first}")),
            }
        }
    }
}

/// Fields in one CSV line, quotes respected.
fn csv_fields(line: &str) -> usize {
    let mut fields = 1;
    let mut quoted = false;
    for character in line.chars() {
        match character {
            '"' => quoted = !quoted,
            ',' if !quoted => fields += 1,
            _ => {}
        }
    }
    fields
}
