//! The server a command works on: `--base-url` and client credentials (or their
//! environment variables), else the embedded reference server.

use std::path::PathBuf;

use reportcheck_conformance::{ContractSource, Target, credentials};
use reportcheck_server::{Config, Fault, Variations};

use crate::Error;

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
    pub fn target(&self) -> Result<Target, Error> {
        let Some(base_url) = &self.base_url else {
            return Ok(Target::Embedded(Config {
                faults: self.fault.iter().copied().collect(),
                variations: if self.variations { Variations::all() } else { Variations::default() },
                ..Config::default()
            }));
        };
        let (Some(id), Some(secret)) = (&self.client_id, &self.client_secret) else {
            return Err(Error::Usage(
                "--base-url needs --client-id and --client-secret (or REPORTCHECK_CLIENT_ID/SECRET); one is missing \
                 or empty (is the CI secret or variable missing?)"
                    .to_owned(),
            ));
        };
        // What CI passes when a secret is missing: refuse it before anything is sent.
        let present = |flag: &str, value: &str| {
            if value.trim().is_empty() {
                return Err(Error::Usage(format!("{flag} is empty (is the CI secret or variable missing?)")));
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
            _ => return Err(Error::Usage("--second-client-id needs --second-client-secret".to_owned())),
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
    /// A directory of contracts to run instead of the built-in standard ones.
    #[arg(long, value_name = "DIR")]
    pub contracts: Option<PathBuf>,
}

impl ContractsArgs {
    pub fn source(&self) -> ContractSource {
        self.contracts.clone().map_or(ContractSource::Builtin, ContractSource::Dir)
    }
}
