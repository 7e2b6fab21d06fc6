//! `cargo xtask serve` as a user runs it: a process that writes its fixture, answers, and
//! stops on SIGTERM.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

#[test]
fn serve_writes_its_fixture_and_answers() {
    let dir = std::env::temp_dir().join(format!("reportcheck-serve-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let fixture_path = dir.join("fixture.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["serve", "--port", "0", "--variations", "token-type-case", "--fixture-out"])
        .arg(&fixture_path)
        .stdout(Stdio::piped())
        .spawn()
        .expect("xtask serve starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    let fixture: Value = loop {
        if let Ok(text) = std::fs::read_to_string(&fixture_path) {
            break serde_json::from_str(&text).expect("fixture is JSON");
        }
        assert!(Instant::now() < deadline, "no fixture file within 30 s");
        std::thread::sleep(Duration::from_millis(20));
    };
    // Exactly the documented shape: base_url, then clients of tenant A and tenant B.
    let base_url = fixture["base_url"].as_str().expect("base_url");
    assert!(base_url.starts_with("http://127.0.0.1:") && base_url.ends_with("/api/2"), "{base_url}");
    let clients = fixture["clients"].as_array().expect("clients");
    assert_eq!(clients.len(), 2);
    for client in clients {
        let mut keys: Vec<_> = client.as_object().expect("object").keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["client_id", "client_secret", "tenant_id"]);
    }
    assert_eq!(clients[0]["tenant_id"], reportcheck_server::Fixture::TENANT_A);
    assert_eq!(clients[1]["tenant_id"], reportcheck_server::Fixture::TENANT_B);

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let (status, token) = runtime.block_on(async {
        let response = reqwest::Client::new()
            .post(format!("{base_url}/idp/token"))
            .basic_auth(clients[0]["client_id"].as_str().expect("id"), clients[0]["client_secret"].as_str())
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("answered");
        (response.status(), response.json::<Value>().await.expect("token JSON"))
    });
    assert_eq!(status, 200);
    assert_eq!(token["token_type"], "Bearer", "--variations token-type-case is on");

    let terminated = Command::new("kill").arg(child.id().to_string()).status().expect("kill runs");
    assert!(terminated.success());
    let exit = child.wait().expect("exits");
    assert!(exit.success(), "serve exits cleanly on SIGTERM: {exit:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
