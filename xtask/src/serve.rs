//! `cargo xtask serve`: the reference server, standalone, for developing clients.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use reportcheck_model::Date;
use reportcheck_server::{Config, Variations, VersionScheme};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Also write the base URL and the fixture's credentials to this file, as JSON.
    #[arg(long)]
    fixture_out: Option<PathBuf>,
    /// Fix the server's "today" (YYYY-MM-DD) instead of reading the UTC clock.
    #[arg(long, value_parser = parse_date)]
    today: Option<Date>,
    /// Milliseconds a stored report stays `in_progress`.
    #[arg(long, default_value_t = 50)]
    save_delay_ms: u64,
    /// Number versions as Unix milliseconds instead of 1, 2, 3.
    #[arg(long)]
    millisecond_versions: bool,
    /// Conformant variations: `all`, `none`, or freedom ids separated by commas
    /// (`version,key-order`); see PROFILE.md, last section.
    #[arg(long, default_value = "none")]
    variations: Variations,
}

fn parse_date(text: &str) -> Result<Date, String> {
    reportcheck_model::date::parse_day(text).map_err(|err| format!("not a YYYY-MM-DD date: {err}"))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = Config {
        today: args.today,
        save_delay: Duration::from_millis(args.save_delay_ms),
        versions: if args.millisecond_versions { VersionScheme::UnixMillis } else { VersionScheme::Sequential },
        variations: args.variations,
        ..Config::default()
    };
    let config_variations = config.variations.clone();
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
        let server =
            reportcheck_server::spawn_on(config, addr).await.with_context(|| format!("cannot listen on {addr}"))?;
        if let Some(path) = &args.fixture_out {
            let json = serde_json::to_string_pretty(&server.fixture_file())?;
            write_atomically(path, &json).with_context(|| format!("cannot write {}", path.display()))?;
        }
        println!("reference server listening at {}", server.base_url());
        for freedom in config_variations.iter() {
            println!("  variation {freedom}: {}", Variations::description(freedom));
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
        tokio::select! {
            result = shutdown_signal() => result?,
            result = server.wait() => result.context("the server stopped")?,
        }
        anyhow::Ok(ExitCode::SUCCESS)
    })
}

/// Readers polling for the file never see it half-written.
fn write_atomically(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    std::fs::write(&temporary, contents)?;
    std::fs::rename(&temporary, path)
}

async fn shutdown_signal() -> std::io::Result<()> {
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
