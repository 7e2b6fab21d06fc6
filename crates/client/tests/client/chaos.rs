//! The client against the reference server as a client maintainer runs it (`serve
//! --chaos`, `--token-ttl`): its retries get every operation through busy answers without
//! doing anything twice, and it refreshes tokens that expire. On tokio's paused clock, so
//! `Retry-After` and token lifetimes pass without waiting.

use std::sync::Arc;
use std::time::Duration;

use reportcheck_client::{Client, ClientOptions, Credentials, RetryPolicy};
use reportcheck_model::{Kind, ReportPost, ReportPut};
use reportcheck_server::{Chaos, Config, Fixture, LoggedLines, RequestLog, RunningServer};
use serde_json::json;

/// The verdict of each logged request.
fn verdicts(log: &LoggedLines) -> Vec<String> {
    log.lines().iter().map(|line| line["verdict"].as_str().expect("verdict").to_owned()).collect()
}

async fn server(config: Config) -> (RunningServer, LoggedLines) {
    let (log, lines) = RequestLog::in_memory();
    let config = Config {
        log: Some(Arc::new(log)),
        // No keep-alive connection closes while the paused clock jumps over retries.
        header_read_timeout: Duration::from_secs(24 * 60 * 60),
        ..config
    };
    (reportcheck_server::spawn(config).await.expect("server"), lines)
}

/// The client's default retries, without timers of its own (the paused clock would jump
/// to them while a request waits on the socket).
fn client(server: &RunningServer, refresh_margin: Duration) -> Client {
    let options = ClientOptions {
        connect_timeout: None,
        request_timeout: None,
        pool_idle_timeout: None,
        refresh_margin,
        retry: RetryPolicy::default(),
        ..ClientOptions::default()
    };
    let credentials = Credentials::client_secret(Fixture::CLIENT_A, Fixture::CLIENT_A_SECRET);
    Client::with_options(server.base_url(), credentials, options).expect("client")
}

fn post() -> ReportPost {
    serde_json::from_value(json!({"recipients": ["ca451758-b48a-45d9-9ae6-8f1059f67619"], "result_action": "send",
        "parameters": {"tenant_id": Fixture::TENANT_A, "kind": "usage_summary", "level": "accounts"},
        "schedule": {"type": "monthly"}}))
    .expect("a reportPost")
}

#[tokio::test(start_paused = true)]
async fn retries_get_every_operation_through_chaos_and_nothing_happens_twice() {
    for seed in [1, 2, 3] {
        let (server, log) =
            server(Config { chaos: Some(Chaos::new(0.5, seed).expect("chaos")), ..Config::default() }).await;
        let client = client(&server, Duration::from_secs(60));
        let me = client.whoami().await.expect("whoami");
        let mut created = Vec::new();
        for _ in 0..4 {
            created.push(client.create_report(&post()).await.expect("create"));
        }
        let put: ReportPut = serde_json::from_value(json!({"parameters": {"kind": "usage_daily"}})).expect("body");
        let updated = client.update_report(created[0].id, &put).await.expect("update");
        assert_eq!(updated.parameters.kind, Kind::UsageDaily);
        assert_eq!(client.get_report(created[0].id).await.expect("get"), updated);
        let listed = client.list_reports(me.tenant_id).await.expect("list");
        // A busy create was not applied, so its retry made no second report.
        assert_eq!(listed.len(), created.len(), "seed {seed}: {listed:?}");
        client.delete_report(created[1].id, created[1].version).await.expect("delete");
        assert!(!client.list_reports(me.tenant_id).await.expect("list").contains(&created[1].id));

        let verdicts = verdicts(&log);
        let busy = verdicts.iter().filter(|verdict| verdict.starts_with("chaos ")).count();
        assert!(busy >= 3, "seed {seed}: only {busy} busy answers: {verdicts:#?}");
        let others: Vec<&String> =
            verdicts.iter().filter(|verdict| !verdict.starts_with("chaos ") && !verdict.starts_with("ok ")).collect();
        assert!(others.is_empty(), "seed {seed}: {others:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn tokens_that_expire_are_refreshed() {
    let lifetime = Duration::from_secs(120);
    let (server, log) = server(Config { token_lifetime: lifetime, ..Config::default() }).await;
    // Ahead of expiry: the client refreshes within its margin.
    let ahead = client(&server, Duration::from_secs(60));
    let me = ahead.whoami().await.expect("whoami");
    tokio::time::advance(Duration::from_secs(70)).await;
    ahead.list_reports(me.tenant_id).await.expect("list");
    assert_eq!(ahead.token_fetches(), 2);
    // Without a margin: past `expires_in` the client fetches a new token before it sends,
    // so the server never refuses an expired one (AUTH-3).
    let late = client(&server, Duration::ZERO);
    late.whoami().await.expect("whoami");
    tokio::time::advance(lifetime + Duration::from_secs(1)).await;
    late.list_reports(me.tenant_id).await.expect("list after expiry");
    assert_eq!(late.token_fetches(), 2);
    let verdicts = verdicts(&log);
    assert!(verdicts.iter().all(|verdict| verdict.starts_with("ok ")), "{verdicts:#?}");
    assert_eq!(verdicts.iter().filter(|verdict| *verdict == "ok AUTH-1").count(), 4);
}
