//! `reportcheck serve`: the reference server, standalone, for developing clients.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use reportcheck_model::Date;
use std::sync::Arc;

use reportcheck_server::{CHAOS_RETRY_AFTER, Chaos, Config, Fault, Latency, RequestLog, Variations, VersionScheme};

use crate::Error;

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  reportcheck serve                                        # http://127.0.0.1:8080/api/2
  reportcheck serve --port 0 --fixture-out fixture.json    # a free port; the URL and credentials in the file
  reportcheck serve --today 2017-05-07                     # replay the seed page's session exactly
  reportcheck serve --variations                           # every conformant variation, to test a client
  reportcheck serve --any-branch 7                         # any admissible outcome, values drawn from seed 7
  reportcheck serve --chaos 0.3 --chaos-seed 7 --latency 50-400 --log requests.jsonl
                           # a client's retries: 30% busy answers, slow answers, every request logged
  reportcheck serve --token-ttl 5 --log -                  # tokens that expire every 5 s; the log on stdout
  reportcheck serve --fault recipients-on-save             # a broken server: does the client notice?
  reportcheck serve --list-faults                          # the names --fault takes

Exit codes:
  0    stopped by Ctrl-C or SIGTERM
  2    the server could not start (the port is taken, a bad flag, an unknown fault, a
       --log file that cannot be created)")]
pub struct Args {
    /// Port to listen on; 0 picks a free one.
    #[arg(long, value_name = "PORT", default_value_t = 8080)]
    port: u16,
    /// Address to listen on; the default keeps the server on this machine (0.0.0.0
    /// exposes it, e.g. inside a container).
    #[arg(long, value_name = "ADDR", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    /// Also write the base URL and the fixture's credentials to this file, as JSON.
    #[arg(long, value_name = "FILE")]
    fixture_out: Option<PathBuf>,
    /// Fix the server's "today" (YYYY-MM-DD) instead of reading the UTC clock.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    today: Option<Date>,
    /// Milliseconds a stored report stays `in_progress`.
    #[arg(long, value_name = "MS", default_value_t = 50)]
    save_delay_ms: u64,
    /// Number versions as Unix milliseconds instead of 1, 2, 3.
    #[arg(long)]
    millisecond_versions: bool,
    /// Conformant variations PROFILE.md allows: `all` (alone, the flag means all), `none`,
    /// or freedom ids separated by commas (`version,key-order`).
    #[arg(long, value_name = "LIST", num_args = 0..=1, default_missing_value = "all")]
    variations: Option<Variations>,
    /// Take any outcome the rules admit for each request, and draw every value no rule
    /// claims, from this seed: a client that passes against it depends on nothing the
    /// profile leaves free.
    #[arg(long, value_name = "SEED", conflicts_with = "variations")]
    any_branch: Option<u64>,
    /// Judge the clients' traffic: the reference server behind `reportcheck proxy` on
    /// this address, each request the rules make the server refuse printed as a client
    /// finding as it happens, and the proxy's summary on exit (exit code 1 with a client
    /// finding).
    #[arg(long)]
    judge: bool,
    /// Inject a deliberate deviation (repeatable; the names of `conformance --fault`, listed
    /// by --list-faults): a broken server, to see whether a client notices.
    #[arg(long, value_name = "NAME", value_parser = fault)]
    fault: Vec<Fault>,
    /// List the fault names and stop.
    #[arg(long)]
    list_faults: bool,
    /// Answer this share of requests (0 to 1; the token endpoint included) 503 or 429
    /// with `Retry-After: 1` or `2` and an error body in the endpoint's format, without
    /// applying them: a client's retry logic at work. Not with --judge, whose proxy would
    /// count the busy answers as the server's findings (ERR-3).
    #[arg(long, value_name = "P", value_parser = probability, conflicts_with = "judge")]
    chaos: Option<f64>,
    /// Seed of --chaos and of --latency's jitter: the same seed and the same sequence of
    /// requests give the same answers (random without it, and printed at start).
    #[arg(long, value_name = "SEED")]
    chaos_seed: Option<u64>,
    /// Hold back every answer this many milliseconds (`MS`), or a delay drawn per request
    /// (`MIN-MAX`); the request is applied at once, only its answer waits.
    #[arg(long, value_name = "MS", value_parser = latency)]
    latency: Option<Latency>,
    /// Seconds an access token lives (the platform's: 7200); `expires_in` says so, and a
    /// request with an older token gets 401. 0 issues tokens that are expired at once.
    #[arg(long, value_name = "SECONDS", default_value_t = 7200, value_parser = clap::value_parser!(u64).range(0..=MAX_TOKEN_TTL))]
    token_ttl: u64,
    /// Log every request to this file (emptied first; `-` for standard output) as JSON
    /// Lines: time, method, path, status, latency_ms, the rule verdict (`ok CRT-1`,
    /// `refused UPD-3 (as the rules require)`, `chaos 503`, `fault NAME: ...`), its rule
    /// and the faults consulted. No header, body, token or secret is written.
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
}

/// A year: longer than any client test needs, and far from the clock's end.
const MAX_TOKEN_TTL: u64 = 365 * 24 * 60 * 60;

fn fault(name: &str) -> Result<Fault, String> {
    name.parse::<Fault>()
        .map_err(|_| format!("no fault is named `{name}` (`reportcheck serve --list-faults` lists them)"))
}

fn probability(text: &str) -> Result<f64, String> {
    Chaos::parse_probability(text).map_err(|err| err.to_string())
}

fn latency(text: &str) -> Result<Latency, String> {
    text.parse::<Latency>().map_err(|err| err.to_string())
}

fn parse_date(text: &str) -> Result<Date, String> {
    reportcheck_model::date::parse_day(text).map_err(|err| format!("not a YYYY-MM-DD date: {err}"))
}

pub fn run(args: Args) -> Result<ExitCode, Error> {
    if args.list_faults {
        crate::write_stdout(crate::conformance::fault_table().as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    let base = args.any_branch.map_or_else(Config::default, Config::any_branch);
    let chaos_seed = args.chaos_seed.unwrap_or_else(clock_seed);
    let chaos = args
        .chaos
        .map(|probability| Chaos::new(probability, chaos_seed))
        .transpose()
        .map_err(|err| Error::Usage(format!("--chaos: {err}")))?;
    let log = match args.log.as_deref() {
        None => None,
        Some(path) if path.as_os_str() == "-" => Some(Arc::new(RequestLog::stdout())),
        Some(path) => {
            Some(Arc::new(RequestLog::file(path).map_err(|source| Error::file("create --log", path, source))?))
        }
    };
    let config = Config {
        faults: base.faults.iter().copied().chain(args.fault.iter().copied()).collect(),
        chaos,
        latency: args.latency,
        token_lifetime: Duration::from_secs(args.token_ttl),
        log,
        today: args.today,
        save_delay: Duration::from_millis(args.save_delay_ms),
        versions: if args.millisecond_versions { VersionScheme::UnixMillis } else { VersionScheme::Sequential },
        variations: match args.variations {
            Some(variations) if args.any_branch.is_none() => variations,
            _ => base.variations.clone(),
        },
        ..base
    };
    let config_variations = config.variations.clone();
    let faults = config.faults.clone();
    let runtime = crate::runtime()?;
    runtime.block_on(async {
        let addr = SocketAddr::new(args.host, args.port);
        // Judged, the server listens on a free loopback port behind the proxy, which
        // takes the address asked for.
        let server_addr = if args.judge { SocketAddr::from(([127, 0, 0, 1], 0)) } else { addr };
        let server = reportcheck_server::spawn_on(config, server_addr)
            .await
            .map_err(|source| Error::Listen { addr: server_addr, source })?;
        let judging = crate::proxy::JudgeArgs {
            listen: addr,
            duration: None,
            probe: false,
            fail_on: crate::proxy::FailOn::Client,
            request_timeout: 30,
            junit: None,
            json: None,
            html: None,
            record: None,
        };
        let proxy = if args.judge { Some(crate::proxy::start(server.base_url(), &judging).await?) } else { None };
        let base_url = proxy.as_ref().map_or_else(|| server.base_url().to_owned(), |proxy| proxy.base_url());
        if let Some(path) = &args.fixture_out {
            let fixture = reportcheck_server::FixtureFile { base_url: &base_url, clients: &server.fixture().clients };
            let json = serde_json::to_string_pretty(&fixture)
                .map_err(|err| Error::Json { path: path.clone(), message: err.to_string() })?;
            write_atomically(path, &json).map_err(|source| Error::file("write", path, source))?;
        }
        match &proxy {
            Some(_) => {
                println!("reference server listening at {base_url}, every request judged (client findings below)")
            }
            None => println!("reference server listening at {base_url}"),
        }
        for freedom in config_variations.iter() {
            println!("  variation {freedom}: {}", Variations::description(freedom));
        }
        for fault in &faults {
            println!("  fault {fault} (breaks {}): {}", fault.rule(), fault.description());
        }
        if let Some(chaos) = chaos {
            println!(
                "  chaos: {}% of requests answered 503 or 429 with Retry-After {}-{} s, not applied (--chaos-seed {})",
                (chaos.probability() * 1000.0).round() / 10.0,
                CHAOS_RETRY_AFTER.start(),
                CHAOS_RETRY_AFTER.end(),
                chaos.seed
            );
        }
        if let Some(latency) = args.latency {
            println!("  latency: every answer held back {latency}");
        }
        if args.token_ttl != 7200 {
            println!("  tokens live {} s", args.token_ttl);
        }
        if let Some(path) = &args.log {
            println!(
                "  request log: {}",
                if path.as_os_str() == "-" { "standard output".to_owned() } else { path.display().to_string() }
            );
        }
        for (client, name) in server.fixture().clients.iter().zip(["tenant A", "tenant B"]) {
            println!(
                "  client of {name}: client_id {} client_secret {} tenant_id {}",
                client.client_id,
                client.client_secret.expose(),
                client.tenant_id
            );
        }
        println!("press Ctrl-C to stop");
        if let Some(proxy) = proxy {
            return crate::proxy::until_stopped(proxy, &judging).await;
        }
        tokio::select! {
            result = shutdown_signal() => result.map_err(Error::Stopped)?,
            result = server.wait() => result.map_err(Error::Stopped)?,
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// A seed for --chaos when none is given (printed, so the run can be repeated).
fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| u64::from(elapsed.subsec_nanos()) ^ elapsed.as_secs())
        % 100_000
}

/// Readers polling for the file never see it half-written.
fn write_atomically(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    std::fs::write(&temporary, contents)?;
    std::fs::rename(&temporary, path)
}

pub(crate) async fn shutdown_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = terminate.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await
}
