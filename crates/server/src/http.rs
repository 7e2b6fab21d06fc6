//! Routes and handlers: HTTP in, store operations, HTTP out. No rule of the reports is
//! decided here: handlers authenticate (AUTH-3), enforce the body limit (413) and hand
//! the request as it arrived to the store, which answers with the model's decision.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use base64::Engine as _;
use reportcheck_model::decide::Request;
use reportcheck_model::{Format, Freedom, Id, Rule};

use crate::failure::{Failure, TokenFailure, ensure_json_errors};
use crate::fault::Fault;
use crate::reshape::reshape;
use crate::store::{Caller, Store};
use crate::traffic::Traffic;

type Shared = State<Arc<Store>>;

/// The whole API under `/api/2`.
pub fn router(store: Arc<Store>) -> Router {
    // Bodies are read up to 16 times the limit before the 413, so that a client still
    // sending a moderately oversized body gets the answer instead of a reset connection.
    let drain_limit = store.config().max_body_bytes.saturating_mul(16);
    let traffic = Arc::new(Traffic::new(store.config().chaos, store.config().latency));
    Router::new()
        .route("/api/2/idp/token", post(token))
        .route("/api/2/clients", post(manage_clients))
        .route("/api/2/clients/{client_id}", get(client).put(manage_clients).delete(manage_clients))
        .route("/api/2/reports", post(create))
        .route("/api/2/reports/{report_id}", get(fetch).put(update).delete(delete))
        .route("/api/2/reports/{report_id}/stored", get(stored))
        .route("/api/2/reports/{report_id}/stored/{stored_id}", get(download))
        .route("/api/2/tenants/{tenant_id}/reports", get(list))
        .fallback(|| async { Failure::not_found("no such endpoint", Rule::Err1) })
        .layer(DefaultBodyLimit::max(drain_limit))
        .layer(middleware::map_response(ensure_json_errors))
        // Busy answers are shaped like every other answer (variations, faults).
        .layer(middleware::from_fn_with_state(Arc::clone(&traffic), crate::traffic::chaos))
        .layer(middleware::from_fn_with_state(Arc::clone(&store), reshape))
        .layer(middleware::from_fn_with_state(traffic, crate::traffic::delay))
        .layer(middleware::from_fn_with_state(Arc::clone(&store), crate::request_log::log_requests))
        .with_state(store)
}

async fn token(State(store): Shared, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> Response {
    issue_token(&store, &headers, body).map_or_else(IntoResponse::into_response, |token| {
        crate::request_log::accepted(Rule::Auth1);
        let mut response = Json(token).into_response();
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    })
}

fn issue_token(
    store: &Store,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<reportcheck_model::Token, TokenFailure> {
    let invalid = |description: &str| TokenFailure::new(StatusCode::BAD_REQUEST, "invalid_request", description);
    let body = body.map_err(|_| invalid("the request body could not be read"))?;
    let form_type = content_type(headers)
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
    if !form_type {
        return Err(invalid("the body must be application/x-www-form-urlencoded"));
    }
    let mut grant_type = None;
    let mut form_id = None;
    let mut form_secret = None;
    for (key, value) in form_urlencoded::parse(&body) {
        match key.as_ref() {
            "grant_type" => grant_type = Some(value.into_owned()),
            "client_id" => form_id = Some(value.into_owned()),
            "client_secret" => form_secret = Some(value.into_owned()),
            _ => {}
        }
    }
    match grant_type.as_deref() {
        None => return Err(invalid("grant_type is required")),
        Some("client_credentials") => {}
        Some(_) => {
            // `invalid_request`: the spec's `tokenError` enum has no `unsupported_grant_type`.
            return Err(invalid("only the client_credentials grant is supported"));
        }
    }
    let unauthorized =
        || TokenFailure::new(StatusCode::UNAUTHORIZED, store.token_error(), "invalid client credentials");
    let (client_id, secret) = match (basic_credentials(headers), form_id, form_secret) {
        (Some(credentials), _, _) => credentials.ok_or_else(unauthorized)?,
        (None, Some(id), Some(secret)) => (id, secret),
        _ => return Err(unauthorized()),
    };
    store.issue_token(&client_id, &secret)
}

async fn client(State(store): Shared, headers: HeaderMap, Path(client_id): Path<String>) -> Result<Response, Failure> {
    let caller = clients_caller(&store, &headers)?;
    let client_id = parse_client_id(&client_id)?;
    let client = store.client(caller, client_id)?;
    crate::request_log::accepted(Rule::Auth4);
    Ok(Json(client).into_response())
}

/// CreateClient, UpdateClient, DeleteClient: documented, so answered as documented; no
/// client of the fixture holds a client management role, so an authenticated one gets 403.
async fn manage_clients(State(store): Shared, headers: HeaderMap) -> Result<Response, Failure> {
    clients_caller(&store, &headers)?;
    Err(Failure::new(
        StatusCode::FORBIDDEN,
        "Current user is not authorized to manage API clients (tenant_admin, replication_manager or \
         managed_clients_admin is required).",
    ))
}

/// `/clients` accepts Basic authentication as well as a bearer token.
fn clients_caller(store: &Store, headers: &HeaderMap) -> Result<Caller, Failure> {
    match basic_credentials(headers) {
        Some(Some((id, secret))) => store.authenticate_basic(&id, &secret),
        Some(None) => Err(Failure::unauthenticated("the Basic credentials are malformed")),
        None => caller(store, headers),
    }
}

async fn create(
    State(store): Shared,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let caller = caller(&store, &headers)?;
    let content_type = content_type(&headers);
    let body = read_body(&store, body)
        .map_err(|failure| before_body(&store, caller, Request::Create { content_type, body: b"" }, failure))?;
    malformed_fault(&store, &body)?;
    Ok(Json(store.create(caller, content_type, &body)?).into_response())
}

async fn fetch(State(store): Shared, headers: HeaderMap, Path(id): Path<String>) -> Result<Response, Failure> {
    let caller = caller(&store, &headers)?;
    Ok(Json(store.get(caller, &id)?).into_response())
}

async fn update(
    State(store): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let caller = caller(&store, &headers)?;
    let content_type = content_type(&headers);
    let body = read_body(&store, body).map_err(|failure| {
        before_body(&store, caller, Request::Update { id: &id, content_type, body: b"" }, failure)
    })?;
    malformed_fault(&store, &body)?;
    let report = if store.racy_now() {
        store.update_racy(caller, &id, content_type, &body).await?
    } else {
        store.update(caller, &id, content_type, &body)?
    };
    Ok(Json(report).into_response())
}

async fn delete(
    State(store): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, Failure> {
    let caller = caller(&store, &headers)?;
    let version = uri.query().and_then(|query| {
        form_urlencoded::parse(query.as_bytes()).find(|(key, _)| key == "version").map(|(_, value)| value.into_owned())
    });
    store.delete(caller, &id, version.as_deref())?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list(State(store): Shared, headers: HeaderMap, Path(tenant_id): Path<String>) -> Result<Response, Failure> {
    let caller = caller(&store, &headers)?;
    Ok(Json(store.list(caller, &tenant_id)?).into_response())
}

async fn stored(State(store): Shared, headers: HeaderMap, Path(id): Path<String>) -> Result<Response, Failure> {
    let caller = caller(&store, &headers)?;
    Ok(Json(store.stored(caller, &id)?).into_response())
}

async fn download(
    State(store): Shared,
    headers: HeaderMap,
    Path((id, stored_id)): Path<(String, String)>,
) -> Result<Response, Failure> {
    let caller = caller(&store, &headers)?;
    let file = store.download(caller, &id, &stored_id)?;
    let gzip = accepts_gzip(&headers);
    // The download fault: a coding without its header.
    let hidden_gzip = gzip && store.fault(Fault::GzipBytesWithoutHeader) && file.format == Format::JsonV1;
    let mut response = if gzip { file.gzip } else { file.plain }.into_response();
    let gzip = gzip && !hidden_gzip;
    let media_type =
        if store.variation(Freedom::DownloadMediaType) { "application/octet-stream" } else { file.format.media_type() };
    let response_headers = response.headers_mut();
    response_headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    response_headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if gzip {
        response_headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    Ok(response)
}

/// The malformed-input faults: a 500 for one kind of body each.
fn malformed_fault(store: &Store, body: &[u8]) -> Result<(), Failure> {
    if store.config().faults.is_empty() {
        return Ok(());
    }
    // Each fault consulted only for its kind of body, so the request log names the one that acted.
    let crash = (nesting(body) > 1000 && store.fault(Fault::DeepJson500))
        || (body.starts_with(b"\xef\xbb\xbf") && store.fault(Fault::Bom500))
        || (!body.is_ascii() && store.fault(Fault::NonAscii500))
        || (longest_digit_run(body) > 19 && store.fault(Fault::HugeNumber500))
        || (body.len() == store.config().max_body_bytes && store.fault(Fault::BodyAtLimit500));
    if crash { Err(Failure::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal error.")) } else { Ok(()) }
}

/// The deepest nesting of JSON brackets in `body` (strings not considered).
fn nesting(body: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for byte in body {
        match byte {
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

fn longest_digit_run(body: &[u8]) -> usize {
    body.split(|byte| !byte.is_ascii_digit()).map(<[u8]>::len).max().unwrap_or(0)
}

/// A body over the limit is answered 413 unless the model refuses the request before
/// its body (an unknown report, a wrong media type, ...).
fn before_body(store: &Store, caller: Caller, request: Request<'_>, failure: Failure) -> Failure {
    if failure.status == StatusCode::PAYLOAD_TOO_LARGE {
        store.refuses_before_body(caller, request).unwrap_or(failure)
    } else {
        failure
    }
}

/// AUTH-3: the caller behind `Authorization: Bearer <token>`.
fn caller(store: &Store, headers: &HeaderMap) -> Result<Caller, Failure> {
    if store.fault(Fault::AnonymousAccess) && !headers.contains_key(header::AUTHORIZATION) {
        return Ok(store.first_client());
    }
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| Failure::unauthenticated("no Authorization header"))?
        .to_str()
        .map_err(|_| Failure::unauthenticated("the Authorization header is not text"))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            store.authenticate(token.trim())
        }
        _ => Err(Failure::unauthenticated("the Authorization header is not a bearer token")),
    }
}

/// `Some(Some((id, secret)))` for well-formed Basic credentials, `Some(None)` for a
/// malformed Basic header, `None` when there is none.
fn basic_credentials(headers: &HeaderMap) -> Option<Option<(String, String)>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok();
    Some(
        decoded
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|text| text.split_once(':').map(|(id, secret)| (id.to_owned(), secret.to_owned()))),
    )
}

fn content_type(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok())
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|value| value.to_str().ok()).any(|value| {
        value.split(',').any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|param| param.replace(' ', "") == "q=0" || param.replace(' ', "") == "q=0.0");
            name.eq_ignore_ascii_case("gzip") && !refused
        })
    })
}

fn read_body(store: &Store, body: Result<Bytes, BytesRejection>) -> Result<Bytes, Failure> {
    let limit = store.config().max_body_bytes;
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Failure::payload_too_large(limit)
        } else {
            Failure::new(StatusCode::BAD_REQUEST, "The request body could not be read.").rule(Rule::Err3)
        }
    })?;
    if body.len() > limit {
        return Err(Failure::payload_too_large(limit));
    }
    Ok(body)
}

/// A client id that is not a lower-case UUID names no client: 404, as the spec documents
/// for `GET /clients/{client_id}`.
fn parse_client_id(text: &str) -> Result<Id, Failure> {
    text.parse().map_err(|_| Failure::not_found("no such client", Rule::Auth4))
}
