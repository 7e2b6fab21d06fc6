//! `cargo xtask conformance` as a CI gate, over the real binary: the invocations of
//! `gate_cases.json` with their exit code and messages, and interruption by a real signal.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reportcheck_server::{Config, Fixture};
use serde_json::Value;

/// A reference server on its own runtime, for as long as the test holds it.
struct Server {
    base_url: String,
    _runtime: tokio::runtime::Runtime,
    _server: reportcheck_server::RunningServer,
}

fn server(config: Config) -> Server {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let server = runtime.block_on(reportcheck_server::spawn(config)).expect("server");
    Server { base_url: server.base_url().to_owned(), _runtime: runtime, _server: server }
}

fn xtask() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    for var in
        ["BASE_URL", "CLIENT_ID", "CLIENT_SECRET", "SECOND_CLIENT_ID", "SECOND_CLIENT_SECRET", "HEADER", "CHILD_TENANT"]
    {
        command.env_remove(format!("REPORTCHECK_{var}"));
    }
    command
}

fn strings(case: &Value, key: &str, vars: &BTreeMap<&str, String>) -> Vec<String> {
    case[key].as_array().into_iter().flatten().map(|item| fill(item.as_str().expect("a string"), vars)).collect()
}

fn fill(text: &str, vars: &BTreeMap<&str, String>) -> String {
    vars.iter().fold(text.to_owned(), |text, (name, value)| text.replace(&format!("{{{name}}}"), value))
}

fn has_uuid(text: &str) -> bool {
    regex::Regex::new("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").expect("regex").is_match(text)
}

/// Runs one case; returns what is wrong with it, if anything.
fn run_case(case: &Value, vars: &BTreeMap<&str, String>) -> Option<String> {
    let name = case["name"].as_str().expect("name");
    let args = strings(case, "args", vars);
    let started = Instant::now();
    // `"write": {"PATH": "text"}`: files the run reads (a baseline).
    for (path, text) in case["write"].as_object().into_iter().flatten() {
        let path = std::path::PathBuf::from(fill(path, vars));
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("a case's directory");
        std::fs::write(path, fill(text.as_str().expect("a string"), vars)).expect("write a case's file");
    }
    let mut command = xtask();
    // `"env": {"NAME": "value"}`: variables the run gets.
    for (name, value) in case["env"].as_object().into_iter().flatten() {
        command.env(name, fill(value.as_str().expect("a string"), vars));
    }
    let output = command.args(&args).output().expect("xtask runs");
    let elapsed = started.elapsed();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let mut problems = Vec::new();
    let expected = case["exit"].as_i64().expect("exit");
    if i64::from(output.status.code().unwrap_or(-1)) != expected {
        problems.push(format!("exit {:?}, expected {expected}", output.status.code()));
    }
    for wanted in strings(case, "stdout", vars) {
        if !stdout.contains(&wanted) {
            problems.push(format!("stdout lacks {wanted:?}"));
        }
    }
    for wanted in strings(case, "stderr", vars) {
        if !stderr.contains(&wanted) {
            problems.push(format!("stderr lacks {wanted:?}"));
        }
    }
    if expected == 2 && !stderr.lines().any(|line| line.starts_with("error: ")) {
        problems.push("exit 2 without an `error:` line".to_owned());
    }
    for unwanted in strings(case, "absent", vars).iter().chain(&strings(case, "stdout_absent", vars)) {
        if stdout.contains(unwanted.as_str()) || (case["absent"].is_array() && stderr.contains(unwanted.as_str())) {
            problems.push(format!("the output holds {unwanted:?}"));
        }
    }
    if case["stdout_empty"].as_bool() == Some(true) && !stdout.is_empty() {
        problems.push("the run started before the error was found".to_owned());
    }
    if let Some(limit) = case["max_seconds"].as_u64()
        && elapsed > Duration::from_secs(limit)
    {
        problems.push(format!("took {elapsed:?}, more than {limit} s"));
    }
    for (path, wanted) in case["files"].as_object().into_iter().flatten() {
        let path = fill(path, vars);
        let Ok(text) = std::fs::read_to_string(&path) else {
            problems.push(format!("{path} not written"));
            continue;
        };
        for item in strings(wanted, "contains", vars) {
            if !text.contains(&item) {
                problems.push(format!("{path} lacks {item:?}"));
            }
        }
        for item in strings(wanted, "absent", vars) {
            if text.contains(&item) {
                problems.push(format!("{path} holds {item:?}"));
            }
        }
        let names: Vec<&str> =
            text.split("<testcase name=\"").skip(1).filter_map(|rest| rest.split('"').next()).collect();
        if wanted["absent_uuid"].as_bool() == Some(true) && names.iter().any(|name| has_uuid(name)) {
            problems.push(format!("{path}: a test name holds an id"));
        }
        if wanted["unique_names"].as_bool() == Some(true) {
            let unique: std::collections::BTreeSet<&&str> = names.iter().collect();
            if unique.len() != names.len() || names.is_empty() {
                problems.push(format!("{path}: {} test names, {} unique", names.len(), unique.len()));
            }
        }
    }
    (!problems.is_empty()).then(|| format!("{name}: {}\n--- stdout\n{stdout}--- stderr\n{stderr}", problems.join("; ")))
}

#[test]
fn the_gate_cases() {
    let cases: Vec<Value> =
        serde_json::from_str(include_str!("gate_cases.json")).expect("gate_cases.json is a list of cases");
    let reference = server(Config::default());
    // Stored reports that never save: a run polls for them until its budget ends.
    let slow = server(Config { save_delay: Duration::from_secs(600), ..Config::default() });
    let tmp = std::env::temp_dir().join(format!("reportcheck-gate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(tmp.join("empty")).expect("dir");
    std::fs::write(tmp.join("plain-file"), "a file, not a directory").expect("file");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    // Accepts connections (the kernel does, up to the backlog) and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let vars: BTreeMap<&str, String> = [
        ("server", reference.base_url.clone()),
        ("slow", slow.base_url.clone()),
        ("server_root", reference.base_url.trim_end_matches("/api/2").to_owned()),
        ("server_https", reference.base_url.replacen("http://", "https://", 1)),
        ("closed", format!("http://127.0.0.1:{closed}/api/2")),
        ("silent", format!("http://127.0.0.1:{}/api/2", silent.local_addr().expect("addr").port())),
        ("tmp", tmp.display().to_string()),
        ("a_id", Fixture::CLIENT_A.to_owned()),
        ("a_secret", Fixture::CLIENT_A_SECRET.to_owned()),
        ("b_id", Fixture::CLIENT_B.to_owned()),
        ("b_secret", Fixture::CLIENT_B_SECRET.to_owned()),
    ]
    .into();
    // Three at a time: the slow cases (a silent server) overlap the others.
    let mut failures = Vec::new();
    for chunk in cases.chunks(3) {
        let found: Vec<Option<String>> = std::thread::scope(|scope| {
            let handles: Vec<_> = chunk.iter().map(|case| scope.spawn(|| run_case(case, &vars))).collect();
            handles.into_iter().map(|handle| handle.join().expect("case thread")).collect()
        });
        failures.extend(found.into_iter().flatten());
    }
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(failures.is_empty(), "{} of {} cases failed:\n\n{}", failures.len(), cases.len(), failures.join("\n\n"));
}

/// The reports of tenant A and its child tenant, as the server lists them.
fn tenant_reports(base_url: &str) -> Vec<String> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let client = reportcheck_client::Client::new(
            base_url,
            reportcheck_client::Credentials::client_secret(Fixture::CLIENT_A, Fixture::CLIENT_A_SECRET),
        )
        .expect("client");
        let mut ids = Vec::new();
        for tenant in [Fixture::TENANT_A, Fixture::TENANT_A_CHILD] {
            let listed = client.list_reports(tenant.parse().expect("tenant id")).await.expect("list");
            ids.extend(listed.into_iter().map(|id| id.to_string()));
        }
        ids
    })
}

/// A live run against a slow server (stored reports take minutes), interrupted by a real
/// signal once it holds reports: it stops, deletes them, prints a partial summary and
/// exits 130 (SIGINT) or 143 (SIGTERM); the tenant is empty afterwards.
fn interrupted_by(signal: &str, code: i32) {
    let slow = server(Config { save_delay: Duration::from_secs(600), ..Config::default() });
    let child = xtask()
        .args(["conformance", "--base-url", &slow.base_url, "--client-id", Fixture::CLIENT_A])
        .args(["--client-secret", Fixture::CLIENT_A_SECRET, "--filter", "stored-reports", "--cases", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("xtask starts");
    let (rest, stderr) = interrupt(child, &slow, signal, code, true);
    assert!(rest.contains("stopped early (interrupted by"), "a partial summary:\n{rest}");
    assert!(stderr.contains("interrupted: interrupted by"), "{stderr}");
}

/// `record` and `drift` replay the contracts: a signal stops them the same way.
fn replay_interrupted_by(command: &str, signal: &str, code: i32) {
    let slow = server(Config { save_delay: Duration::from_secs(600), ..Config::default() });
    let out = std::env::temp_dir().join(format!("reportcheck-gate-{command}-{}", std::process::id()));
    let mut args = vec![command, "--base-url", &slow.base_url, "--client-id", Fixture::CLIENT_A];
    args.extend(["--client-secret", Fixture::CLIENT_A_SECRET]);
    let out_text = out.display().to_string();
    if command == "record" {
        args.extend(["--out", &out_text]);
    }
    let child = xtask().args(&args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("xtask starts");
    let (_, stderr) = interrupt(child, &slow, signal, code, false);
    assert!(stderr.contains("interrupted: the run was stopped: interrupted by"), "{stderr}");
    let _ = std::fs::remove_dir_all(out);
}

/// Waits until the run holds reports, sends `signal`, and requires exit `code` and an
/// empty tenant afterwards; returns the rest of stdout and stderr.
fn interrupt(mut child: std::process::Child, slow: &Server, signal: &str, code: i32, header: bool) -> (String, String) {
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    if header {
        let mut header = String::new();
        stdout.read_line(&mut header).expect("the header line");
        assert!(header.starts_with("reportcheck conformance of"), "{header}");
    }
    // The stored-reports contract polls for up to 30 s on a report it created: wait
    // (bounded; the bound only matters on failure) until the server lists it.
    let deadline = Instant::now() + Duration::from_secs(60);
    while tenant_reports(&slow.base_url).is_empty() {
        assert!(Instant::now() < deadline, "the run never created a report");
        std::thread::yield_now();
    }
    let status = Command::new("kill").args([signal, &child.id().to_string()]).status().expect("kill runs");
    assert!(status.success());
    let (sender, receiver) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let status = child.wait().expect("wait");
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut rest);
        let mut stderr = String::new();
        let _ = std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr);
        let _ = sender.send((status, rest, stderr));
    });
    let (status, rest, stderr) = receiver.recv_timeout(Duration::from_secs(60)).expect("the run ends after the signal");
    waiter.join().expect("waiter");
    assert_eq!(status.code(), Some(code), "stdout:\n{rest}\nstderr:\n{stderr}");
    assert_eq!(tenant_reports(&slow.base_url), Vec::<String>::new(), "every report of the run is deleted");
    (rest, stderr)
}

#[test]
fn sigint_stops_cleans_up_and_exits_130() {
    interrupted_by("-INT", 130);
}

#[test]
fn sigterm_stops_cleans_up_and_exits_143() {
    interrupted_by("-TERM", 143);
}

#[test]
fn record_stops_on_sigint_and_cleans_up() {
    replay_interrupted_by("record", "-INT", 130);
}

#[test]
fn drift_stops_on_sigterm_and_cleans_up() {
    replay_interrupted_by("drift", "-TERM", 143);
}

/// A signal while connecting (to a server that accepts and never answers) ends the run
/// like a signal mid-run: 130, not 2.
#[test]
fn a_signal_while_connecting_exits_130() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base_url = format!("http://127.0.0.1:{}/api/2", silent.local_addr().expect("addr").port());
    let mut child = xtask()
        .args(["conformance", "--base-url", &base_url, "--client-id", Fixture::CLIENT_A])
        .args(["--client-secret", Fixture::CLIENT_A_SECRET])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("xtask starts");
    // Once the process catches SIGINT (bit 2 of SigCgt), it is past parsing and connecting.
    let catches_sigint = |pid: u32| {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|status| {
                status.lines().find_map(|line| line.strip_prefix("SigCgt:").map(|mask| mask.trim().to_owned()))
            })
            .and_then(|mask| u64::from_str_radix(&mask, 16).ok())
            .is_some_and(|mask| mask & 0b10 != 0)
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !catches_sigint(child.id()) {
        assert!(Instant::now() < deadline, "the run never installed its signal handler");
        std::thread::yield_now();
    }
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill runs");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "the run did not end after SIGINT");
        std::thread::yield_now();
    };
    let mut stderr = String::new();
    let _ = std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr);
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    drop(silent);
}
