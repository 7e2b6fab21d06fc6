//! `cargo xtask conformance` as CI runs it: exit codes, report files, one-line errors.

use std::process::{Command, Output};

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env_remove("REPORTCHECK_BASE_URL")
        .output()
        .expect("xtask runs")
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exited")
}

#[test]
fn a_conformant_server_exits_0_and_writes_reports() {
    let dir = std::env::temp_dir().join(format!("reportcheck-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let (junit, json) = (dir.join("junit.xml"), dir.join("result.json"));
    let output = xtask(&[
        "conformance",
        "--cases",
        "8",
        "--junit",
        junit.to_str().expect("path"),
        "--json",
        json.to_str().expect("path"),
    ]);
    assert_eq!(code(&output), 0, "{}", String::from_utf8_lossy(&output.stdout));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains(" 0 failed"), "{stdout}");
    let junit = std::fs::read_to_string(junit).expect("junit written");
    assert!(junit.contains("<testcase name=\"UPD-1 "), "{junit}");
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).expect("json written")).expect("json");
    assert!(result["checks"].as_array().is_some_and(|checks| checks.len() > 300));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_broken_rule_exits_1_and_names_it() {
    let output = xtask(&["conformance", "--cases", "0", "--fault", "update-formats"]);
    assert_eq!(code(&output), 1);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("UPD-2 failed"), "{stdout}");
    assert!(stdout.contains("only parameters.kind and parameters.level can change"), "the rule's text: {stdout}");
}

#[test]
fn profile_deviations_only_warn_with_the_documented_profile() {
    // UPD-7 is a profile rule.
    let strict = xtask(&["conformance", "--cases", "0", "--fault", "no-version-bump", "--filter", "UPD-7"]);
    assert_eq!(code(&strict), 1);
    let documented = xtask(&[
        "conformance",
        "--cases",
        "0",
        "--fault",
        "no-version-bump",
        "--filter",
        "UPD-7",
        "--profile",
        "documented",
    ]);
    assert_eq!(code(&documented), 0, "{}", String::from_utf8_lossy(&documented.stdout));
    assert!(String::from_utf8_lossy(&documented.stdout).contains("WARN UPD-7"));
}

#[test]
fn runs_that_cannot_be_made_exit_2_with_one_line() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let base = format!("http://127.0.0.1:{closed}/api/2");
    let output = xtask(&["conformance", "--base-url", &base, "--client-id", "x", "--client-secret", "s3cr3t-value"]);
    assert_eq!(code(&output), 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("unreachable") && !stderr.contains("s3cr3t-value"), "{stderr}");

    let output = xtask(&["conformance", "--no-such-flag"]);
    assert_eq!(code(&output), 2);
    let output = xtask(&["conformance", "--base-url", &base]);
    assert_eq!(code(&output), 2, "a base URL without credentials");
}
