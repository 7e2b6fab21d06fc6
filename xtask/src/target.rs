//! The server a command works on: `--base-url` and client credentials (or their
//! environment variables), else the embedded reference server.

use std::path::PathBuf;

use reportcheck_conformance::{Target, credentials};
use reportcheck_server::{Config, Fault, Variations};

#[derive(Debug, clap::Args)]
pub struct TargetArgs {
    /// API base of the server, ending in /api/2; without it, the embedded reference
    /// server is started.
    #[arg(long, env = "REPORTCHECK_BASE_URL")]
    pub base_url: Option<String>,
    #[arg(long, env = "REPORTCHECK_CLIENT_ID", requires = "base_url")]
    pub client_id: Option<String>,
    #[arg(long, env = "REPORTCHECK_CLIENT_SECRET", hide_env_values = true, requires = "client_id")]
    pub client_secret: Option<String>,
    /// A client of a tenant outside the first one's subtree, for the SEC checks.
    #[arg(long, env = "REPORTCHECK_SECOND_CLIENT_ID", requires = "base_url")]
    pub second_client_id: Option<String>,
    #[arg(long, env = "REPORTCHECK_SECOND_CLIENT_SECRET", hide_env_values = true, requires = "second_client_id")]
    pub second_client_secret: Option<String>,
    /// Embedded server only: inject a deliberate deviation (see `conformance --list-faults`).
    #[arg(long, conflicts_with = "base_url")]
    pub fault: Vec<Fault>,
    /// Embedded server only: run it with every conformant variation PROFILE.md allows.
    #[arg(long, conflicts_with_all = ["base_url", "fault"])]
    pub variations: bool,
}

impl TargetArgs {
    pub fn target(&self) -> anyhow::Result<Target> {
        let Some(base_url) = &self.base_url else {
            return Ok(Target::Embedded(Config {
                faults: self.fault.iter().copied().collect(),
                variations: if self.variations { Variations::all() } else { Variations::default() },
                ..Config::default()
            }));
        };
        let (Some(id), Some(secret)) = (&self.client_id, &self.client_secret) else {
            anyhow::bail!(
                "--base-url needs --client-id and --client-secret (or REPORTCHECK_CLIENT_ID/SECRET); one is missing \
                 or empty (is the CI secret or variable missing?)"
            );
        };
        // What CI passes when a secret is missing: refuse it before anything is sent.
        let present = |flag: &str, value: &str| {
            if value.trim().is_empty() {
                anyhow::bail!("{flag} is empty (is the CI secret or variable missing?)");
            }
            Ok(())
        };
        present("--client-id", id)?;
        present("--client-secret (REPORTCHECK_CLIENT_SECRET)", secret)?;
        let second = match (&self.second_client_id, &self.second_client_secret) {
            (Some(id), Some(secret)) => {
                present("--second-client-id", id)?;
                present("--second-client-secret (REPORTCHECK_SECOND_CLIENT_SECRET)", secret)?;
                Some(credentials(id, secret))
            }
            (None, None) => None,
            _ => anyhow::bail!("--second-client-id needs --second-client-secret"),
        };
        Ok(Target::Remote {
            base_url: base_url.trim_end_matches('/').to_owned(),
            client: credentials(id, secret),
            second,
        })
    }
}

/// The scenarios a command runs.
#[derive(Debug, clap::Args)]
pub struct ContractsArgs {
    /// The directory of contracts to run.
    #[arg(long, default_value_os_t = reportcheck_conformance::default_contracts_dir())]
    pub contracts: PathBuf,
}
