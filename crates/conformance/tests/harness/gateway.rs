//! The harness through a misbehaving gateway in front of the reference server: whatever
//! the gateway does, every answer is judged under its rule and the run goes on; a busy
//! gateway (429, 503) changes nothing in the verdict; the run ends in bounded time and
//! leaves no report behind. Data-driven: a case is a row of `cases()`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use reportcheck_conformance::{RunOptions, Target, credentials};
use reportcheck_model::Rule;
use reportcheck_server::{Config, Fixture, RunningServer};

/// What the gateway does to the traffic it forwards.
#[derive(Debug, Clone, Copy)]
enum Misbehaviour {
    /// Answers this share of requests (in thousandths) itself with 503 or 429 and
    /// `Retry-After: 0`, without forwarding them.
    Busy { per_mille: u32 },
    /// Downloads come with `Content-Encoding: gzip` over plain bytes.
    GzipHeaderOverPlainBytes,
    /// Downloads are 9 MiB, above the harness's 8 MiB response limit.
    OversizedDownloads,
    /// Downloads never end.
    EndlessDownloads,
    /// Downloads announce more bytes than they send, then the connection closes.
    TruncatedDownloads,
    /// Forwards this many requests, then never answers again.
    SilentAfter(usize),
    /// Never answers every this-many-th report request, without forwarding it;
    /// everything else goes through.
    LosesAnswers { every: usize },
}

struct Gateway {
    forwarded: std::sync::atomic::AtomicUsize,
    upstream: String,
    http: reqwest::Client,
    misbehaviour: Misbehaviour,
    rng: std::sync::Mutex<fastrand::Rng>,
}

async fn forward(State(gateway): State<Arc<Gateway>>, request: Request) -> Response {
    let path = request.uri().path_and_query().map(ToString::to_string).unwrap_or_default();
    // The request is read whole first, as a gateway that answers busy still does (one
    // that hangs up mid-request is a reset before any answer, which ends a run).
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    if let Misbehaviour::Busy { per_mille } = gateway.misbehaviour {
        let draw = gateway.rng.lock().map(|mut rng| (rng.u32(..1000), rng.bool())).unwrap_or((1000, false));
        if draw.0 < per_mille {
            let status = if draw.1 { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::TOO_MANY_REQUESTS };
            let mut response = Response::new(Body::from(r#"{"error":{"code":503,"message":"busy","details":{}}}"#));
            *response.status_mut() = status;
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("0"));
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            return response;
        }
    }
    if let Misbehaviour::LosesAnswers { every } = gateway.misbehaviour
        && path.starts_with("/api/2/reports")
        && (gateway.forwarded.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1).is_multiple_of(every)
    {
        return std::future::pending().await;
    }
    if let Misbehaviour::SilentAfter(answered) = gateway.misbehaviour
        && gateway.forwarded.fetch_add(1, std::sync::atomic::Ordering::SeqCst) >= answered
    {
        return std::future::pending().await;
    }
    // Which answers are downloads, the model's operation table says.
    let download =
        reportcheck_model::Operation::find(parts.method.as_str(), path.strip_prefix("/api/2").unwrap_or(&path))
            == Some(reportcheck_model::Operation::DownloadStoredReport);
    let mut upstream = gateway.http.request(parts.method, format!("{}{path}", gateway.upstream)).body(body);
    for (name, value) in &parts.headers {
        // The gateway asks for plain bytes, whatever the client asked.
        if name != header::HOST && name != header::ACCEPT_ENCODING {
            upstream = upstream.header(name, value);
        }
    }
    let Ok(answer) = upstream.send().await else {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::BAD_GATEWAY;
        return response;
    };
    let status = answer.status();
    let headers = answer.headers().clone();
    let bytes = answer.bytes().await.unwrap_or_default();
    let misbehaves = download && status == StatusCode::OK;
    let mut response = match gateway.misbehaviour {
        Misbehaviour::OversizedDownloads if misbehaves => Response::new(Body::from(vec![b'a'; 9 * 1024 * 1024])),
        Misbehaviour::EndlessDownloads if misbehaves => {
            let chunk = Bytes::from(vec![b'a'; 64 * 1024]);
            let endless = futures_util::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
            Response::new(Body::from_stream(endless))
        }
        Misbehaviour::TruncatedDownloads if misbehaves => {
            // Half the file, then the connection ends mid-answer. The pause lets the head
            // and the first half reach the client before the hang-up (hyper flushes what
            // it has while the body is pending).
            let first = bytes.slice(..bytes.len() / 2);
            let hang_up = futures_util::stream::once(async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Err::<Bytes, _>(std::io::Error::other("the gateway hung up"))
            });
            Response::new(Body::from_stream(futures_util::StreamExt::chain(
                futures_util::stream::iter([Ok(first)]),
                hang_up,
            )))
        }
        _ => Response::new(Body::from(bytes.clone())),
    };
    *response.status_mut() = status;
    for (name, value) in &headers {
        if ![header::CONTENT_LENGTH, header::TRANSFER_ENCODING, header::CONNECTION].contains(name) {
            response.headers_mut().insert(name, value.clone());
        }
    }
    if let Misbehaviour::GzipHeaderOverPlainBytes = gateway.misbehaviour
        && misbehaves
    {
        response.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    if misbehaves && matches!(gateway.misbehaviour, Misbehaviour::TruncatedDownloads) {
        // Announce the whole file: the client sees the answer end short of it.
        response.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    }
    response
}

/// A gateway at `/api/2` on loopback in front of `upstream`.
async fn gateway(
    upstream: &RunningServer,
    misbehaviour: Misbehaviour,
    seed: u64,
) -> (String, tokio::task::JoinHandle<()>) {
    let upstream = upstream.base_url().trim_end_matches("/api/2").to_owned();
    let http = reqwest::Client::builder().no_gzip().build().expect("a client");
    let state = Arc::new(Gateway {
        forwarded: std::sync::atomic::AtomicUsize::new(0),
        upstream,
        http,
        misbehaviour,
        rng: std::sync::Mutex::new(fastrand::Rng::with_seed(seed)),
    });
    let app = axum::Router::new().fallback(forward).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/api/2"), task)
}

/// The reference server behind the gateway.
fn upstream() -> Config {
    Config { save_delay: Duration::from_millis(10), ..Config::default() }
}

/// The same, with tokens that live two seconds (refreshed mid-run).
fn short_tokens() -> Config {
    Config { token_lifetime: Duration::from_secs(2), ..upstream() }
}

/// What a case's run finds.
#[derive(Debug, Clone, Copy)]
enum Verdict {
    /// What the plain server gets: no failure.
    Clean,
    /// Failures under this rule only.
    Only(Rule),
    /// Failures, each a request that got no answer (under the rule of its check).
    Unanswered,
}

/// One case: the misbehaviour, the server behind it, and what the run finds.
type Case = (&'static str, Misbehaviour, fn() -> Config, Verdict);

fn cases() -> Vec<Case> {
    use Verdict::{Clean, Only};
    vec![
        ("15% answered 429 or 503 by the gateway", Misbehaviour::Busy { per_mille: 150 }, upstream, Clean),
        ("the same, with tokens that expire", Misbehaviour::Busy { per_mille: 150 }, short_tokens, Clean),
        ("a gzip header over plain bytes", Misbehaviour::GzipHeaderOverPlainBytes, upstream, Only(Rule::Sto3)),
        ("a download above the response limit", Misbehaviour::OversizedDownloads, upstream, Only(Rule::Sto3)),
        ("a download that never ends", Misbehaviour::EndlessDownloads, upstream, Only(Rule::Sto3)),
        ("a download that breaks off", Misbehaviour::TruncatedDownloads, upstream, Only(Rule::Sto3)),
        (
            "every 50th report request never answered",
            Misbehaviour::LosesAnswers { every: 50 },
            upstream,
            Verdict::Unanswered,
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_is_a_finding_and_every_run_ends_clean() {
    let mut problems = Vec::new();
    for (name, misbehaviour, config, verdict) in cases() {
        let seeds: Vec<u64> = match verdict {
            Verdict::Clean => (1..=10).collect(),
            Verdict::Only(_) => vec![1],
            Verdict::Unanswered => (1..=3).collect(),
        };
        for seed in seeds {
            let server = reportcheck_server::spawn(config()).await.expect("server");
            let (base_url, task) = gateway(&server, misbehaviour, seed).await;
            let target = Target::Remote {
                base_url,
                client: credentials(Fixture::CLIENT_A, Fixture::CLIENT_A_SECRET),
                second: Some(credentials(Fixture::CLIENT_B, Fixture::CLIENT_B_SECRET)),
            };
            let started = Instant::now();
            // A request the gateway never answers waits out this timeout (and a read, its
            // retries) before it is a finding.
            let client = reportcheck_client::ClientOptions {
                request_timeout: Some(Duration::from_secs(2)),
                ..reportcheck_client::ClientOptions::default()
            };
            let run = reportcheck_conformance::run(RunOptions {
                cases: 24,
                seed: Some(seed),
                client,
                ..RunOptions::new(target)
            })
            .await;
            let elapsed = started.elapsed();
            task.abort();
            let report = match run {
                Ok(report) => report,
                Err(err) => {
                    problems.push(format!("{name}, seed {seed}: the run aborted (exit 2): {err}"));
                    continue;
                }
            };
            let failed: Vec<String> = report
                .checks
                .iter()
                .filter(|check| check.is_failed())
                .map(|check| format!("{} {}", check.rule, check.name))
                .collect();
            let exit = if matches!(verdict, Verdict::Clean) { 0 } else { 1 };
            if report.exit_code() != exit {
                problems.push(format!("{name}, seed {seed}: exit {}, expected {exit}", report.exit_code()));
            }
            let messages: Vec<&str> = report
                .checks
                .iter()
                .filter_map(|check| match &check.outcome {
                    reportcheck_conformance::Outcome::Failed(failure) => Some(failure.message.as_str()),
                    _ => None,
                })
                .collect();
            match verdict {
                Verdict::Clean if !failed.is_empty() => {
                    problems.push(format!("{name}, seed {seed}: failed {failed:?}"));
                }
                // The broken answers are findings under their rule, and nothing else failed.
                Verdict::Only(rule)
                    if failed.is_empty()
                        || report.checks.iter().any(|check| check.is_failed() && check.rule != rule) =>
                {
                    problems.push(format!("{name}: findings beyond {rule}, or none: {failed:?}"));
                }
                // Each failure is a request without an answer, named as such.
                Verdict::Unanswered
                    if messages.is_empty() || messages.iter().any(|message| !message.contains("no answer to")) =>
                {
                    problems
                        .push(format!("{name}, seed {seed}: failures other than lost answers, or none: {messages:#?}"));
                }
                _ => {}
            }
            if !report.left_behind.is_empty() {
                problems.push(format!("{name}, seed {seed}: left behind {:?}", report.left_behind));
            }
            // A bound, not a measurement: a run that hangs on an answer fails here.
            if elapsed > Duration::from_secs(120) {
                problems.push(format!("{name}, seed {seed}: took {elapsed:?}"));
            }
            // The process's peak memory so far (cases run in order): a figure for the
            // closing note, never asserted.
            let peak = std::fs::read_to_string("/proc/self/status")
                .ok()
                .and_then(|status| status.lines().find(|line| line.starts_with("VmHWM:")).map(str::to_owned))
                .unwrap_or_default();
            println!("{peak}");
            println!(
                "gateway case {name:<45} seed {seed}: exit {}, {:.1} s, {} failed, {} left behind",
                report.exit_code(),
                elapsed.as_secs_f64(),
                failed.len(),
                report.left_behind.len()
            );
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn remote(base_url: String) -> Target {
    Target::Remote {
        base_url,
        client: credentials(Fixture::CLIENT_A, Fixture::CLIENT_A_SECRET),
        second: Some(credentials(Fixture::CLIENT_B, Fixture::CLIENT_B_SECRET)),
    }
}

/// The reports of both tenants (and tenant A's child) the server holds.
async fn reports_on(server: &RunningServer) -> Vec<String> {
    let mut ids = Vec::new();
    for (client, secret, tenants) in [
        (Fixture::CLIENT_A, Fixture::CLIENT_A_SECRET, vec![Fixture::TENANT_A, Fixture::TENANT_A_CHILD]),
        (Fixture::CLIENT_B, Fixture::CLIENT_B_SECRET, vec![Fixture::TENANT_B]),
    ] {
        let client = reportcheck_client::Client::new(
            server.base_url(),
            reportcheck_client::Credentials::client_secret(client, secret),
        )
        .expect("client");
        for tenant in tenants {
            let listed = client.list_reports(tenant.parse().expect("tenant id")).await.expect("list");
            ids.extend(listed.into_iter().map(|id| id.to_string()));
        }
    }
    ids
}

/// A server that goes silent mid-run: the run ends (exit 2, the server no longer
/// answers), in bounded time, and its error names every report left behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_goes_silent_ends_the_run_naming_what_it_left() {
    let server = reportcheck_server::spawn(upstream()).await.expect("server");
    let (base_url, task) = gateway(&server, Misbehaviour::SilentAfter(120), 1).await;
    let client = reportcheck_client::ClientOptions {
        request_timeout: Some(Duration::from_secs(2)),
        ..reportcheck_client::ClientOptions::default()
    };
    let started = Instant::now();
    let run = reportcheck_conformance::run(RunOptions {
        cases: 24,
        seed: Some(1),
        client,
        ..RunOptions::new(remote(base_url))
    })
    .await;
    let elapsed = started.elapsed();
    task.abort();
    let message = match run {
        Err(err @ reportcheck_conformance::Error::Unreachable(_)) => err.to_string(),
        other => panic!("expected the run to end as unreachable, got {other:?}"),
    };
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");
    let left = reports_on(&server).await;
    assert!(!left.is_empty(), "the silent gateway kept the cleanup from the server");
    for id in &left {
        assert!(message.contains(id.as_str()), "{id} left behind, unnamed: {message}");
    }
}

/// A stop is a stop: at 2 requests a second, a run stopped after three seconds sends
/// nothing it had queued, cleans up, and leaves the server as it found it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_drops_queued_work_and_cleans_up() {
    let server = reportcheck_server::spawn(upstream()).await.expect("server");
    let control = reportcheck_conformance::RunControl::default();
    let stopper = control.clone();
    let timer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(3)).await;
        stopper.stop("the test's own --timeout");
    });
    let started = Instant::now();
    let options = RunOptions {
        cases: 48,
        seed: Some(1),
        rps: Some(2.0),
        control,
        ..RunOptions::new(remote(server.base_url().to_owned()))
    };
    let report = reportcheck_conformance::run(options).await.expect("a stopped run still reports");
    let elapsed = started.elapsed();
    timer.abort();
    println!(
        "stop: {elapsed:?}, {} requests, durations {:?}, stopped {:?}",
        report.requests, report.durations, report.stopped
    );
    assert!(report.stopped.is_some(), "the run was stopped");
    // Three seconds at two a second, then the cleanup of the few reports made by then.
    assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}: queued requests went out after the stop");
    assert!(report.requests < 40, "{} requests: queued ones went out after the stop", report.requests);
    assert!(report.left_behind.is_empty(), "{:?}", report.left_behind);
    assert_eq!(reports_on(&server).await, Vec::<String>::new());
}
