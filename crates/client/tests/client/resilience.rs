//! One scenario per behaviour: retries, Retry-After, budgets, tokens, decoding, timeouts,
//! connection errors, gzip, and secrets.

use std::io::Write as _;
use std::time::Duration;

use reportcheck_client::{ClientOptions, Error, RetryPolicy};
use reportcheck_model::{ReportPost, Rule};
use serde_json::json;
use tokio::time::Instant;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

#[tokio::test(start_paused = true)]
async fn a_503_then_200_is_retried() {
    let server = MockServer::start().await;
    mount_tokens(&server, 3600).await;
    get_report().respond_with(ResponseTemplate::new(503)).up_to_n_times(1).with_priority(1).mount(&server).await;
    get_report().respond_with(ok_report()).mount(&server).await;
    let report = client(&server, paused_options()).get_report(id(REPORT_ID)).await.expect("retried to success");
    assert_eq!(report.version, 2);
    assert_eq!(hits(&server, &report_path()).await, 2);
}

#[tokio::test(start_paused = true)]
async fn a_429_waits_for_retry_after() {
    let server = MockServer::start().await;
    mount_tokens(&server, 3600).await;
    get_report()
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "7"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    get_report().respond_with(ok_report()).mount(&server).await;
    let started = Instant::now();
    client(&server, paused_options()).get_report(id(REPORT_ID)).await.expect("retried after the wait");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(7), "waited only {waited:?}");
    assert!(waited < Duration::from_secs(60), "waited {waited:?}");
}

#[tokio::test(start_paused = true)]
async fn the_retry_budget_runs_out() {
    let server = MockServer::start().await;
    mount_tokens(&server, 3600).await;
    get_report().respond_with(ResponseTemplate::new(503)).mount(&server).await;
    let options = ClientOptions {
        retry: RetryPolicy { max_attempts: 3, busy_attempts: 3, ..RetryPolicy::default() },
        ..paused_options()
    };
    let err = client(&server, options).get_report(id(REPORT_ID)).await.expect_err("always 503");
    assert!(matches!(err, Error::RetriesExhausted { attempts: 3, .. }), "{err:?}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert!(err.is_retryable());
    assert_eq!(hits(&server, &report_path()).await, 3);

    // A Retry-After beyond the time budget ends the retries at once.
    let server = MockServer::start().await;
    mount_tokens(&server, 3600).await;
    get_report().respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "3600")).mount(&server).await;
    let err = client(&server, paused_options()).get_report(id(REPORT_ID)).await.expect_err("always 503");
    assert!(matches!(err, Error::RetriesExhausted { attempts: 1, .. }), "{err:?}");
}

/// A POST is sent again only where the answer says it was not processed (429, a 503 with
/// `Retry-After`) or nothing was sent; after a 502 or 504 the upstream may have created the report, so it
/// is retried only when the caller opts in.
#[tokio::test(start_paused = true)]
async fn post_is_retried_only_where_it_was_not_processed() {
    let body: ReportPost = serde_json::from_value(json!({"recipients": ["ca451758-b48a-45d9-9ae6-8f1059f67619"],
        "result_action": "send", "parameters": {"tenant_id": "ede9f834-70b3-476c-83d9-736f9f8c7dae",
        "kind": "usage_summary", "level": "accounts"}, "schedule": {"type": "once"}}))
    .expect("body");
    let twice = || ClientOptions {
        retry: RetryPolicy { max_attempts: 2, busy_attempts: 2, ..RetryPolicy::default() },
        ..paused_options()
    };
    // (status, with `Retry-After`, sent again): a 503 without one may come from a proxy
    // after the upstream got the request.
    let answers =
        [(503, true, true), (429, false, true), (503, false, false), (502, false, false), (504, false, false)];
    for (status, retry_after, retried) in answers {
        let server = MockServer::start().await;
        mount_tokens(&server, 3600).await;
        Mock::given(method("POST"))
            .and(path("/api/2/reports"))
            .respond_with(if retry_after {
                ResponseTemplate::new(status).insert_header("Retry-After", "0")
            } else {
                ResponseTemplate::new(status)
            })
            .mount(&server)
            .await;
        let err = client(&server, twice()).create_report(&body).await.expect_err("refused");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        let sent = if retried { 2 } else { 1 };
        assert_eq!(hits(&server, "/api/2/reports").await, sent, "POST answered {status}");
        if !retried {
            let options = ClientOptions {
                retry: RetryPolicy { retry_post: true, max_attempts: 2, busy_attempts: 2, ..RetryPolicy::default() },
                ..paused_options()
            };
            let err = client(&server, options).create_report(&body).await.expect_err("refused");
            assert!(matches!(err, Error::RetriesExhausted { attempts: 2, .. }), "{err:?}");
            assert_eq!(hits(&server, "/api/2/reports").await, 3, "opted in: {status} retried once more");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn an_expiring_token_is_refreshed_mid_sequence() {
    let server = MockServer::start().await;
    mount_tokens(&server, 600).await;
    get_report()
        .and(header("authorization", "Bearer token-1"))
        .respond_with(ok_report())
        .expect(1)
        .mount(&server)
        .await;
    get_report()
        .and(header("authorization", "Bearer token-2"))
        .respond_with(ok_report())
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server, paused_options());
    client.get_report(id(REPORT_ID)).await.expect("first call");
    // The default margin refreshes 60 s before expiry.
    tokio::time::advance(Duration::from_secs(545)).await;
    client.get_report(id(REPORT_ID)).await.expect("second call with a new token");
    assert_eq!(client.token_fetches(), 2);
    assert_eq!(hits(&server, "/api/2/idp/token").await, 2);
}

#[tokio::test(start_paused = true)]
async fn a_401_refreshes_once_then_gives_up() {
    let server = MockServer::start().await;
    mount_tokens(&server, 3600).await;
    get_report().respond_with(ResponseTemplate::new(401)).mount(&server).await;
    let err = client(&server, paused_options()).get_report(id(REPORT_ID)).await.expect_err("always 401");
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    assert!(err.to_string().contains("freshly issued token"), "{err}");
    assert_eq!(hits(&server, "/api/2/idp/token").await, 2, "one refresh");
    assert_eq!(hits(&server, &report_path()).await, 2);

    // A revoked token that a refresh fixes is invisible to the caller.
    let server = MockServer::start().await;
    mount_tokens(&server, 3600).await;
    get_report()
        .and(header("authorization", "Bearer token-1"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    get_report().and(header("authorization", "Bearer token-2")).respond_with(ok_report()).mount(&server).await;
    client(&server, paused_options()).get_report(id(REPORT_ID)).await.expect("refreshed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_share_one_token_fetch() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/2/idp/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(
                    json!({"access_token": "shared", "token_type": "Bearer", "id_token": "i", "expires_in": 3600}),
                )
                // Long enough that every call below arrives while the fetch is in flight.
                .set_delay(Duration::from_millis(200)),
        )
        .expect(1)
        .mount(&server)
        .await;
    get_report()
        .and(header("authorization", "Bearer shared"))
        .respond_with(ok_report())
        .expect(20)
        .mount(&server)
        .await;
    let client = client(&server, ClientOptions::default());
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.get_report(id(REPORT_ID)).await })
        })
        .collect();
    for call in calls {
        call.await.expect("task").expect("call");
    }
    assert_eq!(client.token_fetches(), 1);
}

#[tokio::test(start_paused = true)]
async fn malformed_and_mistyped_bodies_are_decode_errors() {
    let server = MockServer::start().await;
    mount_tokens(&server, 3600).await;
    get_report()
        .respond_with(ResponseTemplate::new(200).set_body_raw(r#"{"id": "20dffb36-d77b"#, "application/json"))
        .mount(&server)
        .await;
    let mut wrong = report_json();
    wrong["parameters"]["kind"] = json!(5);
    Mock::given(method("GET"))
        .and(path("/api/2/reports/00000000-0000-4000-8000-000000000001"))
        .respond_with(ResponseTemplate::new(200).set_body_json(wrong))
        .mount(&server)
        .await;
    let client = client(&server, paused_options());

    let err = client.get_report(id(REPORT_ID)).await.expect_err("truncated JSON");
    assert!(matches!(&err, Error::Decode { snippet, .. } if snippet.contains("20dffb36")), "{err:?}");
    let err = client.get_report(id("00000000-0000-4000-8000-000000000001")).await.expect_err("kind is a number");
    assert!(matches!(&err, Error::Decode { path, .. } if path == "parameters.kind"), "{err:?}");
    assert!(!err.is_retryable());
}

#[tokio::test(start_paused = true)]
async fn a_wrong_content_type_is_reported() {
    let server = MockServer::start().await;
    mount_tokens(&server, 3600).await;
    get_report()
        .respond_with(ResponseTemplate::new(200).set_body_raw(report_json().to_string(), "text/html"))
        .mount(&server)
        .await;
    let err = client(&server, paused_options()).get_report(id(REPORT_ID)).await.expect_err("text/html");
    assert!(matches!(&err, Error::UnexpectedContentType { found: Some(found), .. } if found == "text/html"), "{err:?}");
}

/// Real time: a reqwest timeout needs a clock that is not paused. The server's delay is
/// 50 times the timeout, so the outcome does not hang on scheduling.
#[tokio::test]
async fn a_slow_answer_times_out() {
    let server = MockServer::start().await;
    mount_tokens(&server, 3600).await;
    get_report().respond_with(ok_report().set_delay(Duration::from_secs(5))).mount(&server).await;
    let options = ClientOptions {
        request_timeout: Some(Duration::from_millis(100)),
        retry: RetryPolicy::none(),
        ..ClientOptions::default()
    };
    let err = client(&server, options).get_report(id(REPORT_ID)).await.expect_err("times out");
    assert!(matches!(err, Error::Transport { timeout: true, .. }), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test(start_paused = true)]
async fn a_refused_connection_is_retried_then_reported() {
    let client = client_of_a_closed_port(RetryPolicy { max_attempts: 3, ..RetryPolicy::default() });
    let err = client.get_report(id(REPORT_ID)).await.expect_err("nobody listens");
    match &err {
        Error::RetriesExhausted { attempts: 3, last, .. } => {
            assert!(matches!(**last, Error::Transport { connect: true, .. }), "{last:?}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.status(), None);
}

#[tokio::test(start_paused = true)]
async fn a_gzip_download_is_streamed_decompressed() {
    let server = MockServer::start().await;
    mount_tokens(&server, 3600).await;
    let csv = "tenant_id,metric,usage\n".to_owned() + &"ede9f834-70b3-476c-83d9-736f9f8c7dae,storage,42\n".repeat(5000);
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(csv.as_bytes()).expect("gzip");
    let gzipped = encoder.finish().expect("gzip");
    let stored = "d6bc3e2e-2378-4099-bb33-6a2603aca94d";
    Mock::given(method("GET"))
        .and(path(format!("{}/stored/{stored}", report_path())))
        .respond_with(
            ResponseTemplate::new(200).insert_header("content-encoding", "gzip").set_body_raw(gzipped, "text/csv"),
        )
        .mount(&server)
        .await;
    let mut out = Vec::new();
    let written =
        client(&server, paused_options()).download_stored(id(REPORT_ID), id(stored), &mut out).await.expect("download");
    assert_eq!(written as usize, csv.len());
    assert_eq!(String::from_utf8(out).expect("utf-8"), csv);
}

#[tokio::test(start_paused = true)]
async fn error_bodies_are_parsed_with_their_rule() {
    let server = MockServer::start().await;
    mount_tokens(&server, 3600).await;
    Mock::given(method("PUT"))
        .and(path(report_path()))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {"code": "1027", "domain": null,
            "message": "UPD-2: only kind and level", "details": {"rule": "UPD-2"}}})))
        .mount(&server)
        .await;
    let err = client(&server, paused_options())
        .update_report(
            id(REPORT_ID),
            &serde_json::from_value(json!({"parameters": {"formats": ["csv"]}})).expect("body"),
        )
        .await
        .expect_err("400");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(err.rule(), Some(Rule::Upd2));
    assert_eq!(err.error_body().and_then(|b| b.error.code.as_number()), Some(1027));
    assert!(!err.is_retryable());
    assert_eq!(hits(&server, &report_path()).await, 1, "a 400 is not retried");
}

#[tokio::test(start_paused = true)]
async fn local_validation_names_the_rule_without_sending() {
    let server = MockServer::start().await;
    mount_tokens(&server, 3600).await;
    let options = ClientOptions { validate_requests: true, ..paused_options() };
    let body: ReportPost = serde_json::from_value(json!({"result_action": "send", "parameters": {
        "tenant_id": "ede9f834-70b3-476c-83d9-736f9f8c7dae", "kind": "usage_summary", "level": "accounts"},
        "schedule": {"type": "once"}}))
    .expect("body");
    let err = client(&server, options).create_report(&body).await.expect_err("CRT-2");
    assert_eq!(err.rule(), Some(Rule::Crt2));
    assert_eq!(hits(&server, "/api/2/reports").await, 0);
}

/// Neither `Debug` of the client nor any error shows the client secret or the token, even
/// when a misbehaving server echoes them.
#[tokio::test(start_paused = true)]
async fn secrets_never_show() {
    let server = MockServer::start().await;
    mount_tokens(&server, 3600).await;
    let echo = format!("you sent token-1 with secret {SECRET}");
    get_report()
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {"code": 400, "domain": "x",
            "message": echo, "details": {"info": echo}}})))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(report_path()))
        .respond_with(ResponseTemplate::new(500).set_body_string(echo.clone()))
        .mount(&server)
        .await;
    let client = client(&server, ClientOptions { retry: RetryPolicy::none(), ..paused_options() });
    let mut shown = vec![format!("{client:?}"), format!("{:?}", client.options())];
    for err in [
        client.get_report(id(REPORT_ID)).await.expect_err("400"),
        client.delete_report(id(REPORT_ID), 1).await.expect_err("500"),
    ] {
        shown.push(err.to_string());
        shown.push(format!("{err:?}"));
    }
    // A token endpoint that echoes the secret it refused.
    let refusing = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/2/idp/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": "invalid_client",
            "error_description": format!("bad secret {SECRET}")})))
        .mount(&refusing)
        .await;
    let err = crate::support::client(&refusing, paused_options()).get_report(id(REPORT_ID)).await.expect_err("401");
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    shown.push(err.to_string());
    shown.push(format!("{err:?}"));
    for text in &shown {
        assert!(!text.contains(SECRET), "secret shown: {text}");
        assert!(!text.contains("token-1"), "token shown: {text}");
    }
    assert!(shown.iter().any(|text| text.contains("[redacted]")), "the echo was redacted, not dropped");
}

/// A server that accepts the connection and never answers: the token request ends at
/// the request timeout (on the paused clock, so at once), as a timed-out transport error.
#[tokio::test(start_paused = true)]
async fn a_server_that_never_answers_times_out_at_the_token_request() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let client = reportcheck_client::Client::with_options(
        &format!("http://127.0.0.1:{port}/api/2"),
        reportcheck_client::Credentials::client_secret(CLIENT_ID, SECRET),
        ClientOptions { request_timeout: Some(Duration::from_secs(10)), ..paused_options() },
    )
    .expect("client");
    let started = Instant::now();
    let err = client.whoami().await.expect_err("no answer");
    assert!(matches!(err, Error::Transport { timeout: true, .. }), "{err:?}");
    assert_eq!(started.elapsed().as_secs(), 10, "the request timeout, not more");
    assert!(err.to_string().contains("timed out"), "{err}");
    held.abort();
}

/// An empty secret redacts nothing: the token endpoint's message reads as sent.
#[tokio::test(start_paused = true)]
async fn an_empty_secret_does_not_garble_messages() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/2/idp/token"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": "invalid_client", "error_description": "unknown client"})),
        )
        .mount(&server)
        .await;
    let client = reportcheck_client::Client::with_options(
        &format!("{}/api/2", server.uri()),
        reportcheck_client::Credentials::client_secret(CLIENT_ID, ""),
        paused_options(),
    )
    .expect("client");
    let err = client.whoami().await.expect_err("refused");
    assert_eq!(err.to_string(), "authentication failed (401 Unauthorized): invalid_client: unknown client");
}

/// A base URL without `/api/2` answers 404 at the token endpoint: the message says so.
#[tokio::test(start_paused = true)]
async fn a_404_at_the_token_endpoint_hints_at_the_api_base() {
    let server = MockServer::start().await;
    let client = reportcheck_client::Client::with_options(
        &server.uri(),
        reportcheck_client::Credentials::client_secret(CLIENT_ID, SECRET),
        paused_options(),
    )
    .expect("client");
    let err = client.whoami().await.expect_err("404");
    assert!(err.to_string().contains("ending in /api/2"), "{err}");
}

/// A refused connection says so: the cause chain, not just "error sending request".
#[tokio::test(start_paused = true)]
async fn a_refused_connection_names_its_cause() {
    let client = client_of_a_closed_port(RetryPolicy::none());
    let err = client.get_report(id(REPORT_ID)).await.expect_err("nobody listens");
    let text = err.to_string().to_ascii_lowercase();
    assert!(text.contains("connection refused") || text.contains("connect"), "{err}");
    assert!(text.contains("tcp connect error"), "the cause chain: {err}");
}

/// A client of a port on 127.0.0.1 that nobody listens on (bound, then released).
fn client_of_a_closed_port(retry: RetryPolicy) -> reportcheck_client::Client {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    reportcheck_client::Client::with_options(
        &format!("http://127.0.0.1:{port}/api/2"),
        reportcheck_client::Credentials::bearer("a-ready-token"),
        ClientOptions { retry, ..paused_options() },
    )
    .expect("client")
}

/// A token endpoint that answers a huge body is refused before the body costs memory.
#[tokio::test(start_paused = true)]
async fn a_huge_token_answer_is_refused() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/2/idp/token"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b' '; 1024 * 1024]))
        .mount(&server)
        .await;
    let err = client(&server, paused_options()).get_report(id(REPORT_ID)).await.expect_err("no token");
    assert!(matches!(&err, Error::Auth { .. }) && err.to_string().contains("larger than"), "{err:?}");
}
