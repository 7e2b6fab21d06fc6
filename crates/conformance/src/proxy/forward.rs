//! Pass-through: every request and every answer forwarded unchanged, byte for byte. Only
//! the hop-by-hop headers (RFC 9110 §7.6.1), which belong to each connection, and `Host`
//! (the upstream's) are the proxy's own. An answer streams to the client as it arrives
//! while a copy, up to a limit, goes to the judge once the answer has ended.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Frame, Incoming};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::Shared;
use super::judge::Exchanged;
use crate::error::Error;

pub type Upstream = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Request bodies read at most (the API's bodies are a few KiB; the reference server
/// refuses over 64 KiB): a larger one is answered 413 by the proxy, never forwarded.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;

/// Answer bytes the judge gets a copy of; a longer answer still streams through whole.
pub const MAX_JUDGED_BYTES: usize = 8 * 1024 * 1024;

/// The client for the upstream: HTTP or HTTPS (the system's roots), HTTP/1.1, no
/// decompression and no headers of its own.
pub fn upstream() -> Result<Upstream, Error> {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|err| Error::Options(format!("no TLS roots for the upstream: {err}")))?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new()).build(https))
}

/// The connection's own headers, never forwarded.
fn hop_by_hop(name: &HeaderName, listed: &[String]) -> bool {
    const HOP_BY_HOP: [&str; 8] = [
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "upgrade",
    ];
    // Transfer-Encoding is hop-by-hop too: each side frames the body its own way.
    HOP_BY_HOP.contains(&name.as_str())
        || name == header::TRANSFER_ENCODING
        || listed.iter().any(|item| item == name.as_str())
}

/// The end-to-end headers of `headers`: without the hop-by-hop ones and those the
/// `Connection` header names.
fn end_to_end(headers: &HeaderMap, keep_host: bool) -> HeaderMap {
    let listed: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(',').map(|item| item.trim().to_ascii_lowercase()))
        .collect();
    let mut kept = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        if !hop_by_hop(name, &listed) && (keep_host || name != header::HOST) {
            kept.append(name.clone(), value.clone());
        }
    }
    kept
}

fn proxy_error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({"error": {"code": status.as_u16(), "message": message}});
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    response.headers_mut().insert("x-reportcheck-proxy", header::HeaderValue::from_static("refused"));
    response
}

/// The handler of every request.
pub async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_REQUEST_BYTES).await else {
        return proxy_error(StatusCode::PAYLOAD_TOO_LARGE, "the request body is larger than the proxy forwards");
    };
    let path_and_query = parts.uri.path_and_query().map_or("/", |value| value.as_str()).to_owned();
    let Ok(uri) = format!("{}{path_and_query}", shared.origin).parse::<Uri>() else {
        return proxy_error(StatusCode::BAD_REQUEST, "the request target cannot be forwarded");
    };
    if shared.probe {
        shared.judge.probe(&shared, &parts.method, &path_and_query, &parts.headers).await;
    }
    let ticket = shared.judge.sent(&parts.method, &path_and_query);
    let mut upstream_request = hyper::Request::new(Full::new(body.clone()));
    *upstream_request.method_mut() = parts.method.clone();
    *upstream_request.uri_mut() = uri;
    *upstream_request.headers_mut() = end_to_end(&parts.headers, false);
    let answered = tokio::time::timeout(shared.request_timeout, shared.client.request(upstream_request)).await;
    let response = match answered {
        Ok(Ok(response)) => response,
        Ok(Err(err)) => {
            shared.judge.unanswered(ticket, &parts.method, &path_and_query, &format!("the upstream failed: {err}"));
            return proxy_error(StatusCode::BAD_GATEWAY, "the upstream did not answer");
        }
        Err(_) => {
            let waited = shared.request_timeout.as_secs();
            shared.judge.unanswered(ticket, &parts.method, &path_and_query, &format!("no answer within {waited} s"));
            return proxy_error(StatusCode::GATEWAY_TIMEOUT, "the upstream did not answer in time");
        }
    };
    let (mut answer, incoming) = response.into_parts();
    let exchanged = Exchanged {
        ticket,
        method: parts.method,
        path_and_query,
        request_headers: parts.headers,
        request_body: body,
        status: answer.status.as_u16(),
        response_headers: answer.headers.clone(),
        response_body: Bytes::new(),
        complete: false,
    };
    answer.headers = end_to_end(&answer.headers, true);
    // Judged as the answer ends, before the client has it whole: a client that waits for
    // an answer before its next request is judged in that order.
    shared.pending.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let judge = Arc::clone(&shared);
    let on_end: OnEnd = Box::new(move |body, complete| {
        judge.judge.exchange(Exchanged { response_body: body, complete, ..exchanged });
        judge.pending.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    });
    Response::from_parts(answer, Body::new(Tee { inner: incoming, copy: BytesMut::new(), on_end: Some(on_end) }))
}

/// What happens to an answer's copy once it is over: the copy, and whether it ended (not
/// cut off).
type OnEnd = Box<dyn FnOnce(Bytes, bool) + Send>;

/// An answer's body streamed through, with a copy of its first [`MAX_JUDGED_BYTES`].
struct Tee {
    inner: Incoming,
    copy: BytesMut,
    on_end: Option<OnEnd>,
}

impl Tee {
    fn finish(&mut self, complete: bool) {
        if let Some(on_end) = self.on_end.take() {
            on_end(std::mem::take(&mut self.copy).freeze(), complete);
        }
    }
}

impl hyper::body::Body for Tee {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let room = MAX_JUDGED_BYTES.saturating_sub(this.copy.len());
                    this.copy.extend_from_slice(&data[..data.len().min(room)]);
                }
            }
            Poll::Ready(Some(Err(_))) => this.finish(false),
            Poll::Ready(None) => this.finish(true),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Tee {
    fn drop(&mut self) {
        // An empty body is never polled to its end: it ended as it started.
        let complete = hyper::body::Body::is_end_stream(&self.inner);
        self.finish(complete);
    }
}

/// A GET of `path` with the client's own credentials, for `--probe`: what the proxy
/// learns a report's state from before it judges a write to it.
pub async fn read_upstream(shared: &Shared, path: &str, headers: &HeaderMap) -> Option<(u16, Bytes)> {
    let uri: Uri = format!("{}{path}", shared.origin).parse().ok()?;
    let mut request = hyper::Request::new(Full::new(Bytes::new()));
    *request.uri_mut() = uri;
    if let Some(authorization) = headers.get(header::AUTHORIZATION) {
        request.headers_mut().insert(header::AUTHORIZATION, authorization.clone());
    }
    let response = tokio::time::timeout(shared.request_timeout, shared.client.request(request)).await.ok()?.ok()?;
    let status = response.status().as_u16();
    let body = tokio::time::timeout(Duration::from_secs(10), response.into_body().collect()).await.ok()?.ok()?;
    Some((status, body.to_bytes()))
}
