//! `reportcheck proxy`: between any client and any server, every exchange forwarded
//! unchanged and judged by rule on both sides; a line per finding as it happens, a
//! summary on exit (SIGINT, SIGTERM or `--duration`), the same `--junit`, `--json` and
//! `--html` files as `conformance`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use reportcheck_conformance::proxy::{Judged, Proxy, ProxyOptions, Side};

use crate::Error;

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  reportcheck proxy --upstream http://127.0.0.1:8080/api/2 --fail-on client --junit client.xml
                           # then point the client at http://127.0.0.1:8081/api/2; Ctrl-C ends it
  reportcheck proxy --upstream https://staging.example.com/api/2 --fail-on server --duration 600 --json traffic.json
  reportcheck proxy --upstream http://127.0.0.1:8080/api/2 --record recorded
                           # the traffic as a contract: reportcheck conformance --contracts recorded

Exit codes:
  0    no finding on the side --fail-on names
  1    a finding there
  2    the proxy could not run: bad flags, an address in use, an upstream that is no URL
  130  interrupted by SIGINT (143: SIGTERM) before it could report")]
pub struct Args {
    /// The server's API base URL, ending in `/api/2`; the client uses the proxy's address
    /// with the same path.
    #[arg(long, value_name = "URL")]
    pub upstream: String,
    #[command(flatten)]
    pub judging: JudgeArgs,
}

/// What `proxy` and `serve --judge` share.
#[derive(Debug, Clone, clap::Args)]
pub struct JudgeArgs {
    /// The address the proxy listens on (port 0 picks a free one).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8081")]
    pub listen: SocketAddr,
    /// Stop after this many seconds (else at SIGINT or SIGTERM), print the summary and
    /// write the files.
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<u64>,
    /// Before judging a write to a report the proxy has not seen, read it with the
    /// client's own credentials (the only request the proxy ever sends itself).
    #[arg(long)]
    pub probe: bool,
    /// Which side's findings make the exit code 1.
    #[arg(long, value_name = "SIDE", value_enum, default_value = "any")]
    pub fail_on: FailOn,
    /// Seconds the upstream may take to start answering a request.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout: u64,
    /// Also write JUnit XML: one failed test case per finding, named by side and rule.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write the whole result as JSON: every finding with its side, rule, request
    /// and answer (secrets redacted), the counts and the rules exercised.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write a self-contained HTML report.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Write the traffic judged with the known state as a contract into this directory
    /// (`proxied-traffic-DATE.json`), its expectations pinned by the rules' claims, so a
    /// real client's traffic becomes a regression suite (`conformance --contracts DIR`).
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Client,
    Server,
    Any,
}

pub fn run(args: Args) -> Result<ExitCode, Error> {
    let runtime = crate::runtime()?;
    runtime.block_on(async {
        let proxy = start(&args.upstream, &args.judging).await?;
        println!("proxy listening at {} → {}", proxy.base_url(), args.upstream);
        println!("point the client at {}; Ctrl-C prints the summary", proxy.base_url());
        until_stopped(proxy, &args.judging).await
    })
}

/// Starts the proxy, printing each finding as it happens.
pub(crate) async fn start(upstream: &str, judging: &JudgeArgs) -> Result<Proxy, Error> {
    let options = ProxyOptions {
        upstream: upstream.trim_end_matches('/').to_owned(),
        listen: judging.listen,
        probe: judging.probe,
        request_timeout: Duration::from_secs(judging.request_timeout),
        record: judging.record.is_some(),
    };
    if let Some(dir) = &judging.record {
        std::fs::create_dir_all(dir).map_err(|source| Error::file("create", dir, source))?;
    }
    for path in [&judging.junit, &judging.json, &judging.html].into_iter().flatten() {
        std::fs::write(path, "").map_err(|source| Error::file("write", path, source))?;
    }
    Ok(Proxy::start(options, Box::new(|finding| println!("{finding}"))).await?)
}

/// Judges until a signal or `--duration`, then prints the summary, writes the files and
/// returns the exit code `--fail-on` gives.
pub(crate) async fn until_stopped(proxy: Proxy, judging: &JudgeArgs) -> Result<ExitCode, Error> {
    let duration = async {
        match judging.duration {
            Some(seconds) => tokio::time::sleep(Duration::from_secs(seconds)).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        result = crate::serve::shutdown_signal() => result.map_err(Error::Stopped)?,
        () = duration => {}
    }
    let stopped = proxy.stop().await;
    let (judged, report) = (&stopped.judged, &stopped.report);
    print!("{}", judged.summary());
    write_outputs(judging, report, judged);
    if let (Some(dir), Some(contract)) = (&judging.record, &stopped.recorded) {
        let path = dir.join(format!("{}.json", contract.name));
        let text = serde_json::to_string_pretty(contract).unwrap_or_default();
        match std::fs::write(&path, text + "\n") {
            Ok(()) => println!("recorded {} steps as {}", contract.steps.len(), path.display()),
            Err(err) => eprintln!("error: cannot write {}: {err}", path.display()),
        }
    }
    let failing = |side: Side| judged.of(side).next().is_some();
    let fails = match judging.fail_on {
        FailOn::Client => failing(Side::Client),
        FailOn::Server => failing(Side::Server),
        FailOn::Any => failing(Side::Client) || failing(Side::Server),
    };
    Ok(if fails { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn write_outputs(judging: &JudgeArgs, report: &reportcheck_conformance::RunReport, judged: &Judged) {
    #[derive(serde::Serialize)]
    struct Result<'a> {
        #[serde(flatten)]
        report: &'a reportcheck_conformance::RunReport,
        proxy: &'a Judged,
    }
    let json = serde_json::to_string_pretty(&Result { report, proxy: judged }).unwrap_or_default();
    let html = reportcheck_conformance::html::render(report, &Default::default());
    for (path, text) in [(&judging.junit, report.junit()), (&judging.json, json), (&judging.html, html)] {
        if let Some(path) = path
            && let Err(err) = std::fs::write(path, text)
        {
            eprintln!("error: cannot write {}: {err}", path.display());
        }
    }
}
