//! `reportcheck proxy`: traffic judged by rule on both sides, passed through unchanged.

use std::net::SocketAddr;
use std::time::Duration;

use reportcheck_conformance::proxy::{Judged, Proxy, ProxyOptions, Side};
use reportcheck_conformance::{RunOptions, Target, credentials};
use reportcheck_model::Rule;
use reportcheck_server::{Config, Fault, RunningServer};
use serde_json::{Value, json};

use crate::support::*;

async fn proxy_to(upstream: &str) -> Proxy {
    let options = ProxyOptions {
        upstream: upstream.to_owned(),
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        probe: false,
        request_timeout: Duration::from_secs(10),
        record: true,
    };
    Proxy::start(options, Box::new(|_| {})).await.expect("the proxy starts")
}

/// A conformance run against `server`, sent through a proxy; what the proxy judged.
async fn run_through_proxy(server: &RunningServer) -> (reportcheck_conformance::RunReport, Judged) {
    let proxy = proxy_to(server.base_url()).await;
    let [a, b] = [0, 1].map(|index| {
        let client = &server.fixture().clients[index];
        credentials(client.client_id.to_string(), client.client_secret.expose())
    });
    let target = Target::Remote { base_url: proxy.base_url(), client: a, second: Some(b) };
    let report = run(RunOptions { child_tenant: None, ..options(config()) }.with_target(target)).await;
    let judged = proxy.stop().await.judged;
    (report, judged)
}

trait WithTarget {
    fn with_target(self, target: Target) -> Self;
}

impl WithTarget for RunOptions {
    fn with_target(self, target: Target) -> RunOptions {
        RunOptions { target, ..self }
    }
}

/// The whole suite through the proxy in front of the reference server: not one server
/// finding, though the harness's own invalid requests are client findings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conformance_run_through_the_proxy_finds_nothing_on_the_reference_server() {
    let server = reportcheck_server::spawn(config()).await.expect("server");
    let (report, judged) = run_through_proxy(&server).await;
    assert_eq!(report.blocking_failures(), 0, "{}", report.summary());
    let server_findings: Vec<String> = judged.of(Side::Server).map(ToString::to_string).collect();
    assert!(server_findings.is_empty(), "server findings on the reference server:\n{}", server_findings.join("\n"));
    assert!(judged.of(Side::Client).count() > 50, "{}", judged.summary());
    assert!(judged.counts.with_state > judged.counts.without_state, "{}", judged.summary());
}

/// Faults of the server show as server findings under their rules, whoever sends the
/// traffic (here the harness), and never as client findings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_show_as_server_findings_under_their_rules() {
    for fault in [
        Fault::NoVersionBump,
        Fault::IgnoreStaleVersion,
        Fault::ListOmitsMonthly,
        Fault::CreateDropsFlags,
        Fault::RecipientsOnSave,
        Fault::TokenWithoutIdToken,
        Fault::ClientWithoutTenant,
        Fault::OneStoredReport,
    ] {
        let server = reportcheck_server::spawn(Config { faults: [fault].into(), ..config() }).await.expect("server");
        let (_, judged) = run_through_proxy(&server).await;
        let rules: Vec<Rule> = judged.of(Side::Server).map(|finding| finding.rule).collect();
        assert!(rules.contains(&fault.rule()), "{} ({}) not among {rules:?}", fault.name(), fault.rule());
    }
}

/// A scripted client: the seed page's steps, as a correct client takes them, give no
/// finding; then six distinct mistakes give six client findings under their rules, and
/// the reference server none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripted_client_gets_a_client_finding_for_each_mistake_and_none_for_the_seed_pages_steps() {
    let server = reportcheck_server::spawn(config()).await.expect("server");
    let proxy = proxy_to(server.base_url()).await;
    let base = proxy.base_url();
    let client = &server.fixture().clients[0];
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{base}/idp/token"))
        .basic_auth(client.client_id, Some(client.client_secret.expose()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token json");
    let bearer = token["access_token"].as_str().expect("access_token").to_owned();
    let call = |method: reqwest::Method, path: &str| http.request(method, format!("{base}{path}")).bearer_auth(&bearer);
    let me: Value = call(reqwest::Method::GET, &format!("/clients/{}", client.client_id))
        .send()
        .await
        .expect("client")
        .json()
        .await
        .expect("client json");
    let tenant = me["tenant_id"].as_str().expect("tenant").to_owned();
    let tomorrow =
        reportcheck_model::date::format_day(time::OffsetDateTime::now_utc().date() + time::Duration::days(1));
    let create = |action: &str| {
        json!({"result_action": action, "recipients": if action == "send" { json!(["ca451758-b48a-45d9-9ae6-8f1059f67619"]) } else { json!([]) },
               "parameters": {"tenant_id": tenant, "kind": "usage_daily", "level": "accounts"},
               "schedule": {"type": "once"}, "generation_date": tomorrow})
    };
    // The seed page's steps: a scheduled report, its kind and level updated, read back.
    let created: Value = call(reqwest::Method::POST, "/reports")
        .json(&create("save"))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let id = created["id"].as_str().expect("id").to_owned();
    let updated = call(reqwest::Method::PUT, &format!("/reports/{id}"))
        .json(&json!({"parameters": {"kind": "usage_current", "level": "all_customers"}}))
        .send()
        .await
        .expect("update");
    assert_eq!(updated.status(), 200);
    call(reqwest::Method::GET, &format!("/reports/{id}")).send().await.expect("read");
    let clean = proxy.judged();
    assert_eq!(clean.findings.len(), 0, "the seed page's steps: {:#?}", clean.findings);
    // Six mistakes.
    let put = |body: Value| call(reqwest::Method::PUT, &format!("/reports/{id}")).json(&body);
    put(json!({"result_action": "send"})).send().await.expect("1");
    call(reqwest::Method::DELETE, &format!("/reports/{id}")).send().await.expect("2");
    put(json!({"recipients": ["ca451758-b48a-45d9-9ae6-8f1059f67619"]})).send().await.expect("3");
    call(reqwest::Method::POST, "/reports")
        .header("content-type", "text/plain")
        .body(create("save").to_string())
        .send()
        .await
        .expect("4");
    http.get(format!("{base}/reports/{id}")).send().await.expect("5");
    put(json!({"parameters": {"formats": ["html"]}})).send().await.expect("6");
    let version = call(reqwest::Method::GET, &format!("/reports/{id}")).send().await.expect("read");
    let version = version.json::<Value>().await.expect("json")["version"].clone();
    call(reqwest::Method::DELETE, &format!("/reports/{id}?version={version}")).send().await.expect("cleanup");
    let stopped = proxy.stop().await;
    let (judged, report) = (stopped.judged, stopped.report);
    let client_rules: Vec<Rule> = judged.of(Side::Client).map(|finding| finding.rule).collect();
    assert_eq!(
        client_rules,
        [Rule::Upd5, Rule::Del2, Rule::Upd3, Rule::Crt5, Rule::Auth3, Rule::Upd2],
        "{:#?}",
        judged.findings
    );
    assert!(judged.of(Side::Client).all(|finding| finding.instead.is_some()), "each says what to send instead");
    assert_eq!(judged.of(Side::Server).count(), 0, "{:#?}", judged.findings);
    // `--record`: the traffic as a contract, which the reference server passes.
    let contract = stopped.recorded.expect("the traffic was recorded");
    assert!(contract.steps.len() >= 9, "{} steps", contract.steps.len());
    let dir = std::env::temp_dir().join(format!("reportcheck-proxy-record-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let text = serde_json::to_string_pretty(&contract).expect("json");
    std::fs::write(dir.join("recorded.json"), &text).expect("write");
    let replayed = run(RunOptions { contracts: dir.clone().into(), cases: 0, ..options(config()) }).await;
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(replayed.blocking_failures(), 0, "{}\n{text}", replayed.summary());
    assert!(
        replayed
            .checks
            .iter()
            .filter(|check| matches!(check.source, reportcheck_conformance::Source::Contract(_)))
            .count()
            >= 9
    );
    // Nothing secret in any output.
    let outputs =
        [serde_json::to_string(&judged).expect("json"), report.junit(), report.summary(), judged.summary(), text];
    for text in outputs {
        assert!(!text.contains(&bearer), "the bearer token leaked");
        assert!(!text.contains(client.client_secret.expose()), "the client secret leaked");
    }
}

/// Pass-through is exact: for every operation, what the client sent is what the server
/// got and what the server sent is what the client got, byte for byte (headers but the
/// hop-by-hop ones and `Host`), gzip downloads included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_passes_every_request_and_answer_through_unchanged() {
    use wiremock::matchers::any;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let upstream = MockServer::start().await;
    let gzip_file = {
        use std::io::Write as _;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(b"a,b\n1,2\n").expect("gzip");
        encoder.finish().expect("gzip")
    };
    let answers: Vec<(&str, &str, u16, &str, Vec<u8>)> = vec![
        (
            "POST",
            "/api/2/idp/token",
            200,
            "application/json",
            br#"{"access_token":"t0k3n-abcdef","token_type":"bearer"}"#.to_vec(),
        ),
        (
            "GET",
            "/api/2/clients/0a6f3c1e-58b2-4d97-a3e0-6c9d2b4f7e18",
            200,
            "application/json",
            br#"{"client_id": "x" ,"tenant_id":"y"}"#.to_vec(),
        ),
        ("POST", "/api/2/reports", 200, "application/json; charset=utf-8", b"{ \"id\" : 1 }\n".to_vec()),
        ("GET", "/api/2/reports/r1", 404, "application/json", br#"{"error":{"code":404}}"#.to_vec()),
        ("PUT", "/api/2/reports/r1", 400, "application/json", b"not json at all".to_vec()),
        ("DELETE", "/api/2/reports/r1?version=3", 204, "", Vec::new()),
        ("GET", "/api/2/tenants/t1/reports", 200, "application/json", br#"{"items":[]}"#.to_vec()),
        ("GET", "/api/2/reports/r1/stored", 200, "application/json", br#"{"items":[{"id":"s1"}]}"#.to_vec()),
        ("GET", "/api/2/reports/r1/stored/s1", 200, "text/csv", gzip_file),
    ];
    let proxy = proxy_to(&format!("{}/api/2", upstream.uri())).await;
    for (index, (method, path, status, content_type, body)) in answers.iter().enumerate() {
        upstream.reset().await;
        let mut template = ResponseTemplate::new(*status)
            .set_body_raw(body.clone(), content_type)
            .insert_header("x-trace", format!("t{index}"));
        if path.contains("/stored/") {
            template = template.insert_header("content-encoding", "gzip");
        }
        Mock::given(any()).respond_with(template).mount(&upstream).await;
        // Written by hand, so every header the client sends is known.
        let sent_body = format!("{{\"step\": {index}, \"bytes\": \"  spaced  \"}}");
        let (answer_head, answer_body) = raw_exchange(
            proxy.addr,
            &format!(
                "{method} {path} HTTP/1.1\r\nHost: example.test\r\nAuthorization: Bearer t0k3n-abcdef\r\n\
                 Accept-Encoding: gzip\r\nX-Client: exact\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{sent_body}",
                sent_body.len()
            ),
        )
        .await;
        assert!(answer_head.starts_with(&format!("HTTP/1.1 {status}")), "{method} {path}: {answer_head}");
        assert!(answer_head.contains(&format!("x-trace: t{index}")), "{answer_head}");
        if !content_type.is_empty() {
            assert!(answer_head.contains(&format!("content-type: {content_type}")), "{answer_head}");
        }
        assert_eq!(answer_body, *body, "{method} {path}: the answer's bytes");
        let received = upstream.received_requests().await.expect("recorded");
        let request = received.first().expect("forwarded");
        assert_eq!(request.method.as_str(), *method);
        let target = match request.url.query() {
            Some(query) => format!("{}?{query}", request.url.path()),
            None => request.url.path().to_owned(),
        };
        assert_eq!(target, *path, "the request target");
        assert_eq!(request.body, sent_body.as_bytes(), "{method} {path}: the request's bytes");
        let mut names: Vec<&str> = request.headers.keys().map(|name| name.as_str()).collect();
        names.sort_unstable();
        // Host is the upstream's; Connection belongs to the client's connection.
        assert_eq!(names, ["accept-encoding", "authorization", "content-length", "content-type", "host", "x-client"]);
        for (name, value) in
            [("authorization", "Bearer t0k3n-abcdef"), ("accept-encoding", "gzip"), ("x-client", "exact")]
        {
            assert_eq!(request.headers.get(name).and_then(|value| value.to_str().ok()), Some(value), "{name}");
        }
    }
    proxy.stop().await;
}

/// Sends `request` as written and reads the answer to its end (the connection closes):
/// its head (lower-case header names) and its body's bytes as they came.
async fn raw_exchange(addr: SocketAddr, request: &str) -> (String, Vec<u8>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("in time")
        .expect("read");
    let split = answer.windows(4).position(|window| window == b"\r\n\r\n").expect("a head") + 4;
    let head = String::from_utf8_lossy(&answer[..split]).to_lowercase().replace("http/1.1", "HTTP/1.1");
    (head, answer[split..].to_vec())
}

/// The project's own typed client, every operation (a save report generated, polled and
/// downloaded included), through the proxy: no finding on either side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typed_client_through_the_proxy_gets_no_finding() {
    use reportcheck_client::{Client, Credentials};
    let server = reportcheck_server::spawn(config()).await.expect("server");
    let proxy = proxy_to(server.base_url()).await;
    let fixture = &server.fixture().clients[0];
    let credentials = Credentials::client_secret(fixture.client_id.to_string(), fixture.client_secret.expose());
    let client = Client::new(&proxy.base_url(), credentials).expect("client");
    let me = client.whoami().await.expect("whoami");
    let post = |value: Value| serde_json::from_value::<reportcheck_model::ReportPost>(value).expect("a reportPost");
    let monthly = client
        .create_report(&post(json!({"recipients": ["ca451758-b48a-45d9-9ae6-8f1059f67619"], "result_action": "send",
            "parameters": {"tenant_id": me.tenant_id, "kind": "usage_summary", "level": "accounts"},
            "schedule": {"type": "monthly"}})))
        .await
        .expect("create");
    client.get_report(monthly.id).await.expect("get");
    assert!(client.list_reports(me.tenant_id).await.expect("list").contains(&monthly.id));
    let put: reportcheck_model::ReportPut =
        serde_json::from_value(json!({"parameters": {"kind": "usage_daily"}, "schedule": {"enabled": false}}))
            .expect("body");
    let updated = client.update_report(monthly.id, &put).await.expect("update");
    client.delete_report(monthly.id, updated.version).await.expect("delete");
    // A one-time save report generated today: its stored reports, polled and downloaded.
    let once = client
        .create_report(&post(json!({"result_action": "save", "parameters": {"tenant_id": me.tenant_id,
            "kind": "usage_daily", "level": "accounts", "formats": ["csv", "json_v2_0"]}, "schedule": {"type": "once"}})))
        .await
        .expect("create");
    let stored =
        client.wait_for_stored(once.id, Duration::from_millis(20), Duration::from_secs(5)).await.expect("stored");
    for item in &stored.items {
        let mut file = Vec::new();
        client.download_stored(once.id, item.id.expect("an id"), &mut file).await.expect("download");
        assert!(!file.is_empty());
    }
    let current = client.get_report(once.id).await.expect("get");
    client.delete_report(once.id, current.version).await.expect("delete");
    let judged = proxy.stop().await.judged;
    assert!(judged.findings.is_empty(), "{:#?}", judged.findings);
    assert!(judged.counts.with_state >= 10, "{}", judged.summary());
}
