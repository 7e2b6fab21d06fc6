//! Rewrites JSON answers for the response-shape faults and the conformant variations.
//! Runs only when the server has one of them; the reference behaviour never pays for it.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::{Value, json};

use crate::fault::Fault;
use crate::store::Store;

pub async fn reshape(State(store): State<Arc<Store>>, request: Request, next: Next) -> Response {
    let config = store.config();
    if config.faults.is_empty() && !config.variations.any() {
        return next.run(request).await;
    }
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' ').map(|(_, token)| token.trim().to_owned()));
    let response = next.run(request).await;
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
    let fault = |fault: Fault| config.faults.contains(&fault);
    let status = parts.status;
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
                if config.variations.zulu_timestamps
                    && let Some(Value::String(created)) = item.get_mut("created_at")
                {
                    *created = created.replace("+00:00", "Z");
                }
            }
        }
        if let Some(Value::Object(error)) = object.get_mut("error") {
            if fault(Fault::WrongBusinessCode) && error.get("code") == Some(&json!(1027)) {
                error.insert("code".to_owned(), json!(400));
            }
            if fault(Fault::EchoToken)
                && status == StatusCode::NOT_FOUND
                && let Some(token) = &token
            {
                error.insert("message".to_owned(), Value::String(format!("Not found for token {token}")));
            }
            if config.variations.string_error_codes
                && let Some(code) = error.get("code").and_then(Value::as_i64)
            {
                error.insert("code".to_owned(), Value::String(code.to_string()));
            }
            if config.variations.other_messages {
                error.insert("message".to_owned(), json!("The request was rejected."));
                error.insert("details".to_owned(), json!({"info": null}));
                error.insert("domain".to_owned(), Value::Null);
            }
            if config.variations.extra_properties {
                error.insert("context".to_owned(), json!({"trace_id": "0af7651916cd43dd8448eb211c80319c"}));
            }
        }
        if config.variations.extra_properties {
            object.insert("x_served_by".to_owned(), json!("reportcheck-variant"));
            if let Some(Value::Object(parameters)) = object.get_mut("parameters") {
                parameters.insert("x_currency".to_owned(), json!("EUR"));
            }
        }
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    if fault(Fault::PlainTextErrors) && (status.is_client_error() || status.is_server_error()) {
        parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
        let message = value.pointer("/error/message").and_then(Value::as_str).unwrap_or("error").to_owned();
        return Response::from_parts(parts, Body::from(message));
    }
    if fault(Fault::JsonAsText) && status.is_success() {
        parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    }
    Response::from_parts(parts, Body::from(value.to_string()))
}
