//! `cargo xtask bench`: the reference server as a separate release-built process, driven
//! over loopback with keep-alive connections; reports requests per second and its
//! resident memory with many reports stored.

use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Seconds to drive each request kind.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Reports stored before memory is read.
    #[arg(long, default_value_t = 10_000)]
    reports: usize,
    /// Seeds of the no-false-alarm runs (every variation; the any-branch server).
    #[arg(long, default_value_t = 20)]
    seeds: u64,
    /// Property-test cases per seed in that run.
    #[arg(long, default_value_t = 500)]
    seed_cases: u32,
    /// Run only one part (default: all of them).
    #[arg(long, value_enum)]
    only: Option<Part>,
    /// The fault of the latency part's failing run: one rule that a sequence of the
    /// property tests shows, so it is found and shrunk.
    #[arg(long, default_value = "toggle-keeps-version")]
    fault: reportcheck_server::Fault,
    /// Seeds (1 to N) each generated mutant runs with in the mutants part.
    #[arg(long, default_value_t = 3)]
    mutant_seeds: u64,
}

/// The parts of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Part {
    /// The server's throughput and memory, and the client's overhead.
    Server,
    /// The harness: the default run, its request rate, property cases per second.
    Harness,
    /// Time to verdict over 0, 50 and 200 ms of added latency.
    Latency,
    /// No false alarm against every variation and the any-branch server over many seeds.
    Seeds,
    /// The mutation score over the mutants generated from the decider's claims.
    Mutants,
    /// What `reportcheck proxy` adds: latency at p50 and p99, throughput at 64 connections.
    Proxy,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if cfg!(debug_assertions) {
        // Figures from a debug build mean nothing: rerun this command from a release build.
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
            .args(["run", "--quiet", "--release", "--package", "xtask", "--", "bench"])
            .args(["--seconds", &args.seconds.to_string()])
            .args(["--connections", &args.connections.to_string()])
            .args(["--reports", &args.reports.to_string()])
            .args(["--seeds", &args.seeds.to_string()])
            .args(["--seed-cases", &args.seed_cases.to_string()])
            .args(["--fault", args.fault.name()])
            .args(["--mutant-seeds", &args.mutant_seeds.to_string()])
            .args(
                args.only
                    .and_then(|part| clap::ValueEnum::to_possible_value(&part))
                    .map(|value| format!("--only={}", value.get_name())),
            )
            .status()
            .context("cannot run the release build")?;
        return Ok(if status.success() { ExitCode::SUCCESS } else { ExitCode::from(2) });
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let runs = |part: Part| args.only.is_none_or(|only| only == part);
    if runs(Part::Server) {
        let server = ServerProcess::start()?;
        let result = runtime.block_on(measure(&server, &args));
        drop(server);
        result?;
    }
    if runs(Part::Harness) {
        runtime.block_on(harness(&args))?;
    }
    if runs(Part::Latency) {
        runtime.block_on(latency(args.fault))?;
    }
    if runs(Part::Proxy) {
        runtime.block_on(proxy_overhead(args.seconds))?;
    }
    if runs(Part::Mutants) {
        let code = runtime.block_on(mutants(args.mutant_seeds))?;
        if args.only == Some(Part::Mutants) {
            return Ok(code);
        }
    }
    if runs(Part::Seeds) {
        return runtime.block_on(no_false_alarms(&args));
    }
    Ok(ExitCode::SUCCESS)
}

/// What the proxy adds to each exchange: GETs of one report, one at a time, straight to
/// the embedded server and through the proxy in alternating rounds (latency at p50 and
/// p99), then 64 connections for `seconds` each way (throughput). Every exchange through
/// the proxy is judged, as in use.
async fn proxy_overhead(seconds: u64) -> anyhow::Result<()> {
    use reportcheck_conformance::proxy::{Proxy, ProxyOptions};

    let server = reportcheck_server::spawn(reportcheck_server::Config::default()).await?;
    let options = ProxyOptions {
        upstream: server.base_url().to_owned(),
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        probe: false,
        request_timeout: Duration::from_secs(10),
        record: false,
    };
    let proxy = Proxy::start(options, Box::new(|_| {})).await?;
    let client = &server.fixture().clients[0];
    let http = reqwest::Client::builder().http1_only().pool_max_idle_per_host(64).build()?;
    let via = proxy.base_url();
    let token: Value = http
        .post(format!("{via}/idp/token"))
        .basic_auth(client.client_id, Some(client.client_secret.expose()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?
        .json()
        .await?;
    let token = token["access_token"].as_str().context("access_token")?.to_owned();
    http.get(format!("{via}/clients/{}", client.client_id)).bearer_auth(&token).send().await?;
    let body = json!({"result_action": "save", "parameters": {"tenant_id": client.tenant_id, "kind": "usage_daily",
        "level": "accounts"}, "schedule": {"type": "monthly"}});
    let report: Value =
        http.post(format!("{via}/reports")).bearer_auth(&token).json(&body).send().await?.json().await?;
    let id = report["id"].as_str().context("id")?.to_owned();
    let direct_url = format!("{}/reports/{id}", server.base_url());
    let proxy_url = format!("{via}/reports/{id}");
    let (mut direct, mut proxied) = (Vec::new(), Vec::new());
    for _ in 0..10 {
        for (url, samples) in [(&direct_url, &mut direct), (&proxy_url, &mut proxied)] {
            for _ in 0..200 {
                let started = Instant::now();
                http.get(url.as_str()).bearer_auth(&token).send().await?.bytes().await?;
                samples.push(started.elapsed());
            }
        }
    }
    let percentile = |samples: &mut Vec<Duration>, at: f64| {
        samples.sort_unstable();
        samples[((samples.len() - 1) as f64 * at) as usize]
    };
    let micros = |duration: Duration| duration.as_secs_f64() * 1e6;
    println!("proxy overhead (release, in process, loopback; GET /reports/{{id}}, judged with state)");
    for (name, at) in [("p50", 0.5), ("p99", 0.99)] {
        let (straight, through) = (percentile(&mut direct, at), percentile(&mut proxied, at));
        println!(
            "  {name}: {:>7.0} µs straight, {:>7.0} µs through the proxy, {:>+7.0} µs added",
            micros(straight),
            micros(through),
            micros(through) - micros(straight)
        );
    }
    let duration = Duration::from_secs(seconds);
    for (name, url) in [("straight", direct_url), ("through the proxy", proxy_url)] {
        let throughput = drive(64, duration, {
            let (http, token) = (http.clone(), token.clone());
            move |_| {
                let request = http.get(&url).bearer_auth(&token);
                async move { request.send().await.map(|response| response.status().is_success()) }
            }
        })
        .await?;
        println!("  64 connections, {name}: {:>7.0} requests/s ({} failed)", throughput.rate(), throughput.failed);
    }
    let judged = proxy.stop().await.judged;
    println!("  {} exchanges judged, {} findings", judged.counts.exchanges, judged.findings.len());
    Ok(())
}

/// The mutation score over every mutant generated from the decider's claims, each run
/// at the default `--cases` with seeds 1 to `seeds`: a mutant is caught by a run that
/// fails under a rule whose claim it negated (it records them as it applies).
async fn mutants(seeds: u64) -> anyhow::Result<ExitCode> {
    use std::collections::BTreeMap;

    use futures_util::StreamExt as _;
    use reportcheck_conformance::{RunOptions, Target};
    use reportcheck_server::{Config, Mutant, MutationLog};

    let all = Mutant::all();
    println!("mutants: {} generated from the claims, seeds 1 to {seeds}, two runs at a time", all.len());
    let started = Instant::now();
    let runs = all.iter().flat_map(|mutant| (1..=seeds).map(move |seed| (*mutant, seed)));
    let mut results = futures_util::stream::iter(runs.map(|(mutant, seed)| async move {
        let mutations = MutationLog::default();
        let config = Config { mutant: Some(mutant), mutations: mutations.clone(), ..Config::default() };
        let report =
            reportcheck_conformance::run(RunOptions { seed: Some(seed), ..RunOptions::new(Target::Embedded(config)) })
                .await;
        (mutant, seed, report, mutations.rules())
    }))
    .buffer_unordered(2);
    // Per rule the mutant negated: runs caught under it, runs in all.
    let mut by_rule: BTreeMap<reportcheck_model::Rule, (usize, usize)> = BTreeMap::new();
    let (mut caught, mut total) = (0, 0);
    while let Some((mutant, seed, report, negated)) = results.next().await {
        let report = report?;
        let failed = report.failed_rules();
        let under_its_rule = negated.iter().any(|rule| failed.contains(rule));
        total += 1;
        caught += usize::from(under_its_rule);
        for rule in &negated {
            let entry = by_rule.entry(*rule).or_default();
            entry.0 += usize::from(under_its_rule);
            entry.1 += 1;
        }
        if !under_its_rule {
            let why = if negated.is_empty() { "never applied" } else { "not caught under its rule" };
            println!("  MISS seed {seed}: {mutant}: {why} (negated {negated:?}, failed {failed:?})");
        }
    }
    println!("  score by rule negated (runs caught under it / runs):");
    for (rule, (caught, runs)) in &by_rule {
        println!("    {:<7} {caught:>4} / {runs:<4}", rule.id());
    }
    println!(
        "  {caught} of {total} runs caught under the negated claim's rule ({:.1} %), {:.1} s in all",
        100.0 * caught as f64 / total.max(1) as f64,
        started.elapsed().as_secs_f64()
    );
    Ok(if caught == total { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Time to verdict of the default run when every answer comes this much later: the
/// embedded server behind an in-process proxy that holds each answer back, passing and
/// with a fault that fails one rule of the property tests (found, then shrunk).
async fn latency(fault: reportcheck_server::Fault) -> anyhow::Result<()> {
    let failing = || reportcheck_server::Config { faults: [fault].into(), ..Default::default() };
    println!(
        "time to verdict over added latency (default run, seed 1; failing: {} fails {})",
        fault.name(),
        fault.rule()
    );
    println!(
        "  {:>8}  {:>7}  {:>9}  {:>13}  {:>8}  {:>8}  {:>13}",
        "latency", "run", "verdict", "first failure", "requests", "failures", "critical path"
    );
    for delay in [0u64, 50, 200] {
        for (run, config) in [("passing", reportcheck_server::Config::default()), ("failing", failing())] {
            let timed = through_proxy(config, delay, 1).await?;
            let report = &timed.report;
            let wall = report.duration.as_secs_f64();
            // The longest chain of requests that waited for each other, in round trips.
            let path =
                if delay == 0 { "-".to_owned() } else { format!("~{:.0} round trips", wall * 1000.0 / delay as f64) };
            let first = timed.first_failure.map_or_else(|| "-".to_owned(), |at| format!("{:.2} s", at.as_secs_f64()));
            // The sources that took longest: where the critical path runs.
            let mut longest: Vec<(&String, &Duration)> = report.durations.iter().collect();
            longest.sort_by(|a, b| b.1.cmp(a.1));
            let longest: Vec<String> =
                longest.iter().take(3).map(|(source, took)| format!("{source} {:.2} s", took.as_secs_f64())).collect();
            println!(
                "  {:>5} ms  {:>7}  {:>7.2} s  {:>13}  {:>8}  {:>8}  {:>13}  (longest: {})",
                delay,
                run,
                wall,
                first,
                report.requests,
                report.checks.iter().filter(|check| check.is_failed()).count(),
                path,
                longest.join(", ")
            );
        }
    }
    // Latency must not change a verdict: the same seed against the same faulty server
    // gives the same tally per rule and the same minimal counterexamples at 0, 50 and
    // 200 ms, whatever order the answers arrive in.
    let mut differing = Vec::new();
    for seed in 1..=10u64 {
        let mut verdicts = Vec::new();
        for delay in [0u64, 50, 200] {
            let timed = through_proxy(failing(), delay, seed).await?;
            verdicts.push((timed.report.tally(), counterexamples(&timed.report)));
        }
        if verdicts.iter().any(|verdict| *verdict != verdicts[0]) {
            println!("  seed {seed}: the verdict differs between 0, 50 and 200 ms");
            differing.push(seed);
        }
    }
    println!(
        "  verdict and minimal counterexamples at 0, 50 and 200 ms, seeds 1-10, fault {}: {}",
        fault.name(),
        if differing.is_empty() {
            "identical for every seed".to_owned()
        } else {
            format!("DIFFERENT for seeds {differing:?}")
        }
    );
    if !differing.is_empty() {
        bail!("the verdict depends on latency");
    }
    Ok(())
}

/// Each failed property check's name and replayable contract, ids left out.
fn counterexamples(report: &reportcheck_conformance::RunReport) -> Vec<String> {
    use reportcheck_conformance::{Outcome, Source, outcome::stable};

    report
        .checks
        .iter()
        .filter_map(|check| match (&check.source, &check.outcome) {
            (Source::Property, Outcome::Failed(failure)) => {
                let contract = failure.replay.as_deref().and_then(|text| text.split("\n\ncurl commands").next());
                Some(stable(&format!("{} {}: {}", check.rule, check.name, contract.unwrap_or_default())))
            }
            _ => None,
        })
        .collect()
}

/// A run, and when its first failure was printed.
struct Timed {
    report: reportcheck_conformance::RunReport,
    first_failure: Option<Duration>,
}

/// The default run with `seed` against an embedded server with `config`, behind a
/// proxy that adds `delay` ms to every answer.
async fn through_proxy(config: reportcheck_server::Config, delay: u64, seed: u64) -> anyhow::Result<Timed> {
    use reportcheck_conformance::{RunControl, RunOptions, Target, credentials};

    let server = reportcheck_server::spawn(config).await?;
    let upstream = server.base_url().trim_start_matches("http://").split('/').next().unwrap_or_default().to_owned();
    let proxy = DelayingProxy::start(upstream, Duration::from_millis(delay)).await?;
    let clients = &server.fixture().clients;
    let credentials = |index: usize| {
        clients.get(index).map(|client| credentials(client.client_id.to_string(), client.client_secret.expose()))
    };
    let target = Target::Remote {
        base_url: format!("http://{}/api/2", proxy.addr),
        client: credentials(0).context("the fixture has a client")?,
        second: credentials(1),
    };
    let started = Instant::now();
    let first_failure = Arc::new(std::sync::Mutex::new(None));
    let sink = {
        let first_failure = Arc::clone(&first_failure);
        Arc::new(move |line: &str| {
            let failure = line.trim_start().starts_with("found ") || line.trim_start().starts_with("FAIL ");
            if failure {
                first_failure
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .get_or_insert(started.elapsed());
            }
        })
    };
    let control = RunControl::default().with_lines(sink);
    let report =
        reportcheck_conformance::run(RunOptions { seed: Some(seed), control, ..RunOptions::new(target) }).await;
    proxy.stop();
    let first_failure = *first_failure.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    Ok(Timed { report: report?, first_failure })
}

/// A TCP proxy on 127.0.0.1 that holds back the first bytes of every answer by `delay`:
/// one added round-trip latency per request on a keep-alive connection.
struct DelayingProxy {
    addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl DelayingProxy {
    async fn start(upstream: String, delay: Duration) -> anyhow::Result<DelayingProxy> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    if let Ok(server) = tokio::net::TcpStream::connect(&upstream).await {
                        let _ = relay(client, server, delay).await;
                    }
                });
            }
        });
        Ok(DelayingProxy { addr, task })
    }

    fn stop(self) {
        self.task.abort();
    }
}

/// Copies both ways; the first chunk of an answer after a request waits `delay`.
async fn relay(client: tokio::net::TcpStream, server: tokio::net::TcpStream, delay: Duration) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let awaiting = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let requests = {
        let awaiting = Arc::clone(&awaiting);
        async move {
            let mut buffer = vec![0u8; 64 * 1024];
            loop {
                let read = client_read.read(&mut buffer).await?;
                if read == 0 {
                    return server_write.shutdown().await;
                }
                awaiting.store(true, Ordering::SeqCst);
                server_write.write_all(&buffer[..read]).await?;
            }
        }
    };
    let answers = async move {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let read = server_read.read(&mut buffer).await?;
            if read == 0 {
                return client_write.shutdown().await;
            }
            if awaiting.swap(false, Ordering::SeqCst) {
                tokio::time::sleep(delay).await;
            }
            client_write.write_all(&buffer[..read]).await?;
        }
    };
    tokio::try_join!(requests, answers).map(|_| ())
}

/// No false alarm over many seeds: every freedom of PROFILE.md at once, and the
/// any-branch server (any admissible outcome, every unclaimed value drawn).
async fn no_false_alarms(args: &Args) -> anyhow::Result<ExitCode> {
    use reportcheck_server::{Config, Variations};

    type ServerOfSeed = fn(u64) -> Config;
    let kinds: [(&str, ServerOfSeed); 2] = [
        ("every variation", |_| Config { variations: Variations::all(), ..Config::default() }),
        ("the any-branch server of the seed", Config::any_branch),
    ];
    let mut failed_seeds = 0;
    let started = Instant::now();
    for (kind, config) in kinds {
        println!("no false alarms: {kind}, {} seeds at --cases {}", args.seeds, args.seed_cases);
        for seed in 1..=args.seeds {
            failed_seeds += usize::from(!no_false_alarm(args, seed, config(seed)).await?);
        }
    }
    let runs = 2 * args.seeds;
    println!("  {failed_seeds} of {runs} runs failed, {:.1} s in all", started.elapsed().as_secs_f64());
    Ok(if failed_seeds == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// One run of [`no_false_alarms`]; whether it passed.
async fn no_false_alarm(args: &Args, seed: u64, config: reportcheck_server::Config) -> anyhow::Result<bool> {
    use reportcheck_conformance::{RunOptions, Target};
    let report = reportcheck_conformance::run(RunOptions {
        cases: args.seed_cases,
        seed: Some(seed),
        ..RunOptions::new(Target::Embedded(config))
    })
    .await?;
    let failures: Vec<String> = report
        .checks
        .iter()
        .filter(|check| check.is_failed())
        .map(|check| format!("{} {}", check.rule, check.name))
        .collect();
    println!(
        "  seed {seed:>3}: {} checks, {} requests, {} failures in {:.2} s{}",
        report.checks.len(),
        report.requests,
        failures.len(),
        report.duration.as_secs_f64(),
        if failures.is_empty() { String::new() } else { format!(": {}", failures.join("; ")) }
    );
    Ok(failures.is_empty())
}

/// The harness: the default run as users start it (the debug `xtask` binary, after
/// build), its request rate, and property-test cases per second.
async fn harness(args: &Args) -> anyhow::Result<()> {
    use reportcheck_conformance::{RunOptions, Target};

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let built = Command::new(&cargo).args(["build", "--quiet", "--package", "xtask"]).status()?;
    if !built.success() {
        bail!("cannot build the debug xtask");
    }
    let debug_xtask = std::env::current_exe()?
        .parent()
        .and_then(|release| release.parent())
        .map(|target| target.join("debug").join("xtask"))
        .context("no target directory")?;
    let mut walls = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let status =
            Command::new(&debug_xtask).arg("conformance").stdout(Stdio::null()).stderr(Stdio::null()).status()?;
        walls.push(started.elapsed().as_secs_f64());
        if !status.success() {
            bail!("cargo xtask conformance failed against the reference server");
        }
    }
    walls.sort_by(f64::total_cmp);

    let default_run = reportcheck_conformance::run(RunOptions::new(Target::Embedded(Default::default()))).await?;
    let empty = std::env::temp_dir().join(format!("reportcheck-bench-contracts-{}", std::process::id()));
    std::fs::create_dir_all(&empty)?;
    let cases = 100 * args.seconds.max(1) as u32;
    let properties = reportcheck_conformance::run(RunOptions {
        contracts: empty.clone().into(),
        filter: Some("UPD-6".to_owned()),
        cases,
        ..RunOptions::new(Target::Embedded(Default::default()))
    })
    .await?;
    let _ = std::fs::remove_dir_all(&empty);
    let rate = |report: &reportcheck_conformance::RunReport| report.requests as f64 / report.duration.as_secs_f64();
    println!("harness");
    println!(
        "  cargo xtask conformance (debug build, as run)  median {:.2} s of {:?}",
        walls[1],
        walls.iter().map(|w| format!("{w:.2}")).collect::<Vec<_>>()
    );
    println!(
        "  default run in process (release)               {:.2} s, {} checks, {} requests, {:.0} requests/s",
        default_run.duration.as_secs_f64(),
        default_run.checks.len(),
        default_run.requests,
        rate(&default_run)
    );
    println!(
        "  property tests (release)                       {cases} cases in {:.2} s: {:.0} cases/s, {:.0} requests/s",
        properties.duration.as_secs_f64(),
        f64::from(cases) / properties.duration.as_secs_f64(),
        rate(&properties)
    );
    Ok(())
}

struct ServerProcess {
    child: Child,
    base_url: String,
    client_id: String,
    client_secret: String,
    tenant_id: String,
    _dir: TempDir,
}

impl ServerProcess {
    fn start() -> anyhow::Result<ServerProcess> {
        let dir = TempDir::new()?;
        let fixture_path = dir.0.join("fixture.json");
        let child = Command::new(std::env::current_exe()?)
            .args(["serve", "--port", "0", "--save-delay-ms", "0", "--fixture-out"])
            .arg(&fixture_path)
            .stdout(Stdio::null())
            .spawn()
            .context("cannot start the server process")?;
        let deadline = Instant::now() + Duration::from_secs(30);
        let fixture: Value = loop {
            if let Ok(text) = std::fs::read_to_string(&fixture_path) {
                break serde_json::from_str(&text)?;
            }
            if Instant::now() > deadline {
                bail!("the server did not write its fixture within 30 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let text = |value: &Value| value.as_str().map(str::to_owned).context("fixture field");
        Ok(ServerProcess {
            child,
            base_url: text(&fixture["base_url"])?,
            client_id: text(&fixture["clients"][0]["client_id"])?,
            client_secret: text(&fixture["clients"][0]["client_secret"])?,
            tenant_id: text(&fixture["clients"][0]["tenant_id"])?,
            _dir: dir,
        })
    }

    fn resident_kib(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmRSS in /proc")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        let path = std::env::temp_dir().join(format!("reportcheck-bench-{}", std::process::id()));
        std::fs::create_dir_all(&path)?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn measure(server: &ServerProcess, args: &Args) -> anyhow::Result<()> {
    let http = reqwest::Client::builder().http1_only().pool_max_idle_per_host(args.connections).build()?;
    let token: Value = http
        .post(format!("{}/idp/token", server.base_url))
        .basic_auth(&server.client_id, Some(&server.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = token["access_token"].as_str().context("access_token")?.to_owned();
    let rss_empty = server.resident_kib()?;
    let create = |tenant: &str| {
        json!({"result_action": "save", "parameters": {"tenant_id": tenant, "kind": "usage_daily", "level": "accounts",
            "formats": ["csv", "html"]}, "schedule": {"type": "monthly"}})
    };
    let report: Value = http
        .post(format!("{}/reports", server.base_url))
        .bearer_auth(&token)
        .json(&create(&server.tenant_id))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let report_url = format!("{}/reports/{}", server.base_url, report["id"].as_str().context("id")?);
    let duration = Duration::from_secs(args.seconds);

    let get = drive(args.connections, duration, {
        let (http, token, url) = (http.clone(), token.clone(), report_url.clone());
        move |_| {
            let request = http.get(&url).bearer_auth(&token);
            async move { request.send().await.map(|r| r.status().is_success()) }
        }
    })
    .await?;
    let kinds = ["usage_daily", "usage_summary", "usage_current", "usage_breakdown"];
    let put = drive(args.connections, duration, {
        let (http, token, url) = (http.clone(), token.clone(), report_url.clone());
        move |i| {
            let body = json!({"parameters": {"kind": kinds[i as usize % kinds.len()]}});
            let request = http.put(&url).bearer_auth(&token).json(&body);
            async move { request.send().await.map(|r| r.status().is_success()) }
        }
    })
    .await?;

    // Fill the store, then read the server's resident memory.
    let started = Instant::now();
    let remaining = args.reports.saturating_sub(1);
    let created = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for worker in 0..args.connections {
        let (http, token, base, tenant, created) =
            (http.clone(), token.clone(), server.base_url.clone(), server.tenant_id.clone(), Arc::clone(&created));
        let share = remaining / args.connections + usize::from(worker < remaining % args.connections);
        let body = create(&tenant);
        tasks.push(tokio::spawn(async move {
            for _ in 0..share {
                http.post(format!("{base}/reports"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await?
                    .error_for_status()?;
                created.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let fill_rate = created.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    let rss_full = server.resident_kib()?;

    println!(
        "reference server, release build, loopback, {} keep-alive connections, {} s each",
        args.connections, args.seconds
    );
    println!("  GET /reports/{{id}}   {:>10.0} requests/s  ({} requests, {} failed)", get.rate(), get.ok, get.failed);
    println!("  PUT /reports/{{id}}   {:>10.0} requests/s  ({} requests, {} failed)", put.rate(), put.ok, put.failed);
    println!("  POST /reports        {fill_rate:>10.0} requests/s  (filling the store)");
    println!(
        "  resident memory      {:>10.1} MiB empty, {:.1} MiB with {} reports",
        mib(rss_empty),
        mib(rss_full),
        args.reports
    );
    if get.failed + put.failed > 0 {
        bail!("{} requests failed", get.failed + put.failed);
    }
    client_overhead(server, args, &http, &token, &report_url).await
}

/// The typed client against hand-written reqwest calls doing the same work (bearer
/// header, JSON body, typed decode), alternated twice to even out drift.
async fn client_overhead(
    server: &ServerProcess,
    args: &Args,
    http: &reqwest::Client,
    token: &str,
    report_url: &str,
) -> anyhow::Result<()> {
    use reportcheck_client::{Client, Credentials};
    use reportcheck_model::{Report, ReportPut};

    let client =
        Client::new(&server.base_url, Credentials::client_secret(&server.client_id, server.client_secret.as_str()))?;
    let me = client.whoami().await?;
    let report_id: reportcheck_model::Id = report_url.rsplit('/').next().unwrap_or_default().parse()?;
    let put_body: ReportPut = serde_json::from_value(json!({"parameters": {"kind": "usage_summary"}}))?;
    const ROUNDS: u32 = 4;
    let duration = Duration::from_secs_f64((args.seconds as f64 / 2.0).max(1.0));
    let mut rates = [[0.0f64; 2]; 4];
    for _round in 0..ROUNDS {
        let raw_get = drive(args.connections, duration, {
            let (http, token, url) = (http.clone(), token.to_owned(), report_url.to_owned());
            move |_| {
                let request = http.get(&url).bearer_auth(&token);
                async move { Ok(request.send().await?.error_for_status()?.json::<Report>().await.is_ok()) }
            }
        })
        .await?;
        let client_get = drive(args.connections, duration, {
            let client = client.clone();
            move |_| {
                let client = client.clone();
                async move { Ok(client.get_report(report_id).await.is_ok()) }
            }
        })
        .await?;
        let raw_put = drive(args.connections, duration, {
            let (http, token, url, body) = (http.clone(), token.to_owned(), report_url.to_owned(), put_body.clone());
            move |_| {
                let request = http.put(&url).bearer_auth(&token).json(&body);
                async move { Ok(request.send().await?.error_for_status()?.json::<Report>().await.is_ok()) }
            }
        })
        .await?;
        let client_put = drive(args.connections, duration, {
            let (client, body) = (client.clone(), put_body.clone());
            move |_| {
                let (client, body) = (client.clone(), body.clone());
                async move { Ok(client.update_report(report_id, &body).await.is_ok()) }
            }
        })
        .await?;
        for (slot, run) in [raw_get, client_get, raw_put, client_put].iter().enumerate() {
            if run.failed > 0 {
                bail!("{} requests failed in the client comparison", run.failed);
            }
            rates[slot][0] += run.rate() / f64::from(ROUNDS);
            rates[slot][1] += 1.0e6 / run.rate() * args.connections as f64 / f64::from(ROUNDS);
        }
    }
    println!(
        "client vs raw reqwest (same work: bearer, JSON, typed decode; {ROUNDS} alternating rounds), tenant {}",
        me.tenant_id
    );
    for (name, raw, typed) in [("GET", rates[0], rates[1]), ("PUT", rates[2], rates[3])] {
        println!(
            "  {name}  raw {:>8.0}/s ({:>5.0} µs)  client {:>8.0}/s ({:>5.0} µs)  overhead {:>+5.1}%",
            raw[0],
            raw[1],
            typed[0],
            typed[1],
            (raw[0] / typed[0] - 1.0) * 100.0
        );
    }
    Ok(())
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

struct Throughput {
    ok: u64,
    failed: u64,
    elapsed: Duration,
}

impl Throughput {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }
}

/// Runs `connections` loops of `request` for `duration`; counts successes and failures.
async fn drive<F, Fut>(connections: usize, duration: Duration, request: F) -> anyhow::Result<Throughput>
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = reqwest::Result<bool>> + Send,
{
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + duration;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (request, ok, failed) = (request.clone(), Arc::clone(&ok), Arc::clone(&failed));
        tasks.push(tokio::spawn(async move {
            let mut i = 0u64;
            while tokio::time::Instant::now() < deadline {
                match request(i).await {
                    Ok(true) => ok.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
                i += 1;
            }
        }));
    }
    for task in tasks {
        task.await?;
    }
    Ok(Throughput {
        ok: ok.load(Ordering::Relaxed),
        failed: failed.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
    })
}
