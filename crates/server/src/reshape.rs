//! Rewrites answers for the response-shape faults and the conformant variations of what
//! an answer looks like (error texts and codes, key order, extra properties and headers,
//! timestamps, media type parameters, list members). Runs only when the server has a
//! fault or a variation; the reference behaviour never pays for it.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use reportcheck_model::{Freedom, Id, Operation, Timestamp};
use serde_json::{Value, json};

use crate::fault::Fault;
use crate::store::Store;

pub async fn reshape(State(store): State<Arc<Store>>, request: Request, next: Next) -> Response {
    let config = store.config();
    if config.faults.is_empty() && !config.variations.any() && config.pick == crate::config::Pick::Reference {
        return next.run(request).await;
    }
    let fault = |fault: Fault| store.fault(fault);
    let variation = |freedom: Freedom| config.variations.has(freedom);
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' ').map(|(_, token)| token.trim().to_owned()));
    let operation =
        request.uri().path().strip_prefix("/api/2").and_then(|path| Operation::find(request.method().as_str(), path));
    let mut response = next.run(request).await;
    if variation(Freedom::ExtraHeaders) {
        let headers = response.headers_mut();
        headers.insert(header::SERVER, HeaderValue::from_static("reportcheck-variant/1"));
        if let Ok(id) = HeaderValue::from_str(&Id::new_v4().to_string()) {
            headers.insert("x-request-id", id);
        }
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| reportcheck_model::rule_check::is_json_media_type(Some(value)));
    if !is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let status = parts.status;
    let original = value.clone();
    if variation(Freedom::TimestampOffset) {
        zulu(&mut value);
    }
    if let Some(object) = value.as_object_mut() {
        if fault(Fault::TokenWithoutIdToken) && object.contains_key("access_token") {
            object.remove("id_token");
        }
        if fault(Fault::ClientWithoutTenant) && object.contains_key("client_id") {
            object.remove("tenant_id");
        }
        if object.contains_key("version") && object.contains_key("parameters") {
            if fault(Fault::NoGenerationDate) {
                object.remove("generation_date");
            }
            if fault(Fault::VersionAsString) {
                let version = object["version"].to_string();
                object.insert("version".to_owned(), Value::String(version));
            }
        }
        if let Some(Value::Array(items)) = object.get_mut("items") {
            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                if fault(Fault::StoredWithoutStatus) {
                    item.remove("status");
                }
            }
        }
        if variation(Freedom::ListExtraMembers)
            && operation == Some(Operation::FetchTenantReports)
            && status.is_success()
            && let Some(count) = object.get("items").and_then(Value::as_array).map(Vec::len)
        {
            object.insert("total".to_owned(), json!(count));
        }
        if let Some(Value::Object(error)) = object.get_mut("error") {
            if fault(Fault::WrongBusinessCode)
                && error.get("code") == Some(&json!(reportcheck_model::ErrorCode::BUSINESS_RULES))
            {
                error.insert("code".to_owned(), json!(400));
            }
            if fault(Fault::EchoToken)
                && status == StatusCode::NOT_FOUND
                && let Some(token) = &token
            {
                error.insert("message".to_owned(), Value::String(format!("Not found for token {token}")));
            }
            if variation(Freedom::ErrorCodeType)
                && let Some(code) = error.get("code").and_then(Value::as_i64)
            {
                error.insert("code".to_owned(), Value::String(code.to_string()));
            }
            if variation(Freedom::ErrorMessage) {
                error.insert("message".to_owned(), json!("The request was rejected."));
            }
            if variation(Freedom::ErrorDomain) {
                error.insert("domain".to_owned(), Value::Null);
            }
            if variation(Freedom::ErrorDetails)
                && let Some(Value::Object(details)) = error.get_mut("details")
            {
                details.insert("info".to_owned(), Value::Null);
                details.insert("trace_id".to_owned(), json!("0af7651916cd43dd8448eb211c80319c"));
            }
            if variation(Freedom::ExtraProperties) {
                error.insert("context".to_owned(), json!({"trace_id": "0af7651916cd43dd8448eb211c80319c"}));
            }
        }
        // The seeded mode: a property no claim covers, new on every answer, so "unchanged"
        // and "the same object" must compare only what the rules pin.
        if let Some(stamp) = store.draw(|rng| format!("{}-{}", Timestamp::now(), rng.u32(..))) {
            object.insert("x_answered_at".to_owned(), json!(stamp));
            if let Some(Value::Object(schedule)) = object.get_mut("schedule") {
                schedule.insert("x_next_check".to_owned(), json!(stamp));
            }
        }
        if variation(Freedom::ExtraProperties) {
            object.insert("x_served_by".to_owned(), json!("reportcheck-variant"));
            if let Some(Value::Object(parameters)) = object.get_mut("parameters") {
                parameters.insert("x_currency".to_owned(), json!("EUR"));
            }
        }
    }
    if fault(Fault::PlainTextErrors) && (status.is_client_error() || status.is_server_error()) {
        parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
        let message = value.pointer("/error/message").and_then(Value::as_str).unwrap_or("error").to_owned();
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::from(message));
    }
    if fault(Fault::JsonAsText) && status.is_success() {
        parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    } else if variation(Freedom::MediaTypeParameters) {
        parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    }
    // Untouched bodies keep their bytes (and key order): a variation shows only where
    // it applies.
    let text = if variation(Freedom::KeyOrder) {
        let mut text = String::new();
        write_reversed(&value, 0, &mut text);
        text
    } else if value != original {
        value.to_string()
    } else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(text))
}

/// Every RFC 3339 timestamp written with `+00:00` rewritten with `Z`.
fn zulu(value: &mut Value) {
    match value {
        Value::String(text) if text.ends_with("+00:00") && text.parse::<Timestamp>().is_ok() => {
            text.truncate(text.len() - "+00:00".len());
            text.push('Z');
        }
        Value::Array(items) => items.iter_mut().for_each(zulu),
        Value::Object(object) => object.values_mut().for_each(zulu),
        _ => {}
    }
}

/// `value` pretty-printed with every object's keys in reverse order.
fn write_reversed(value: &Value, depth: usize, out: &mut String) {
    let pad = |depth: usize| "  ".repeat(depth);
    match value {
        Value::Object(object) if !object.is_empty() => {
            out.push_str("{\n");
            for (index, (key, item)) in object.iter().rev().enumerate() {
                let _ = write!(out, "{}{}: ", pad(depth + 1), Value::String(key.clone()));
                write_reversed(item, depth + 1, out);
                out.push_str(if index + 1 < object.len() { ",\n" } else { "\n" });
            }
            let _ = write!(out, "{}}}", pad(depth));
        }
        Value::Array(items) if !items.is_empty() => {
            out.push_str("[\n");
            for (index, item) in items.iter().enumerate() {
                out.push_str(&pad(depth + 1));
                write_reversed(item, depth + 1, out);
                out.push_str(if index + 1 < items.len() { ",\n" } else { "\n" });
            }
            let _ = write!(out, "{}]", pad(depth));
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reversed_json_reads_back_the_same() {
        let value = json!({"a": 1, "b": {"c": [1, {"d": "x\"y"}], "e": {}}, "f": []});
        let mut text = String::new();
        write_reversed(&value, 0, &mut text);
        assert_eq!(serde_json::from_str::<Value>(&text).ok(), Some(value));
        assert!(text.find("\"f\"") < text.find("\"a\""), "{text}");
    }
}
