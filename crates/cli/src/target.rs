//! The server a command works on: `--base-url` and client credentials (or their
//! environment variables), else the embedded reference server.

use std::path::PathBuf;

use reportcheck_client::{ClientOptions, Secret};
use reportcheck_conformance::{ContractSource, Target, bearer_credentials, credentials};
use reportcheck_server::{Config, Fault, Variations};

use crate::Error;

#[derive(Debug, clap::Args)]
pub struct TargetArgs {
    /// API base of the server, ending in /api/2; without it, the embedded reference
    /// server is started.
    #[arg(long, value_name = "URL", env = "REPORTCHECK_BASE_URL")]
    pub base_url: Option<String>,
    /// The API client the checks run as (OAuth2 client credentials); its tenant is read
    /// from GET /clients/{id}.
    #[arg(long, value_name = "ID", env = "REPORTCHECK_CLIENT_ID", requires = "base_url")]
    pub client_id: Option<String>,
    /// The client's secret. Prefer the environment variable: the command line shows in
    /// `ps` and in shell history. Never printed.
    #[arg(
        long,
        value_name = "SECRET",
        env = "REPORTCHECK_CLIENT_SECRET",
        hide_env_values = true,
        requires = "client_id"
    )]
    pub client_secret: Option<String>,
    /// A ready bearer token of the client instead of its secret (the client id still
    /// names it, to learn its tenant); the token endpoint's own checks are then skipped.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "REPORTCHECK_BEARER",
        hide_env_values = true,
        requires = "client_id",
        conflicts_with = "client_secret"
    )]
    pub bearer: Option<String>,
    /// A client of a tenant outside the first one's subtree, for the SEC checks; without
    /// it they are skipped.
    #[arg(long, value_name = "ID", env = "REPORTCHECK_SECOND_CLIENT_ID", requires = "base_url")]
    pub second_client_id: Option<String>,
    /// The second client's secret (prefer the environment variable). Never printed.
    #[arg(
        long,
        value_name = "SECRET",
        env = "REPORTCHECK_SECOND_CLIENT_SECRET",
        hide_env_values = true,
        requires = "second_client_id"
    )]
    pub second_client_secret: Option<String>,
    /// A ready bearer token of the second client instead of its secret.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "REPORTCHECK_SECOND_BEARER",
        hide_env_values = true,
        requires = "second_client_id",
        conflicts_with = "second_client_secret"
    )]
    pub second_bearer: Option<String>,
    /// A header sent with every request, `Name: value` (repeatable); values are redacted
    /// like secrets in every output. REPORTCHECK_HEADER (one header per line) keeps an API
    /// key out of the command line, where `ps` shows it.
    #[arg(
        long = "header",
        value_name = "NAME: VALUE",
        requires = "base_url",
        env = "REPORTCHECK_HEADER",
        hide_env_values = true,
        value_delimiter = '\n'
    )]
    pub headers: Vec<String>,
    /// A certificate authority (PEM) to trust besides the system's, for a server behind a
    /// private CA.
    #[arg(long, value_name = "PEM", requires = "base_url")]
    pub ca_cert: Option<PathBuf>,
    /// Accept any TLS certificate. Only for test servers: anyone on the path can read the
    /// credentials.
    #[arg(long, requires = "base_url")]
    pub insecure: bool,
    /// Embedded server only: inject a deliberate deviation (repeatable; see `conformance
    /// --list-faults`).
    #[arg(long, value_name = "NAME", conflicts_with = "base_url")]
    pub fault: Vec<Fault>,
    /// Embedded server only: run it as one mutant generated from the decider's claims, by
    /// its name (see `conformance --list-mutants`).
    #[arg(long, value_name = "NAME", conflicts_with = "base_url", value_parser = mutant)]
    pub mutant: Option<reportcheck_server::Mutant>,
    /// Embedded server only: conformant variations PROFILE.md allows: `all` (alone, the
    /// flag means all), `none`, or freedom ids separated by commas (`version,key-order`).
    #[arg(
        long,
        value_name = "LIST",
        num_args = 0..=1,
        default_missing_value = "all",
        conflicts_with_all = ["base_url", "fault"]
    )]
    pub variations: Option<Variations>,
    /// Embedded server only: let it take any outcome the rules admit for each request and
    /// draw every value no rule claims, from this seed (the any-branch server).
    #[arg(long, value_name = "SEED", conflicts_with_all = ["base_url", "fault", "variations"])]
    pub any_branch: Option<u64>,
}

fn mutant(name: &str) -> Result<reportcheck_server::Mutant, String> {
    reportcheck_server::Mutant::named(name)
        .ok_or_else(|| format!("no mutant is named `{name}` (conformance --list-mutants lists them)"))
}

impl TargetArgs {
    pub fn target(&self) -> Result<Target, Error> {
        let Some(base_url) = &self.base_url else {
            if let Some(seed) = self.any_branch {
                return Ok(Target::Embedded(Config::any_branch(seed)));
            }
            return Ok(Target::Embedded(Config {
                faults: self.fault.iter().copied().collect(),
                mutant: self.mutant,
                variations: self.variations.clone().unwrap_or_default(),
                ..Config::default()
            }));
        };
        let (Some(id), Some(secret)) = (&self.client_id, self.client_secret.as_ref().or(self.bearer.as_ref())) else {
            return Err(Error::Usage(
                "--base-url needs --client-id and --client-secret or --bearer (or REPORTCHECK_CLIENT_ID/SECRET/BEARER); \
                 one is missing or empty (is the CI secret or variable missing?)"
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
        let first = match &self.bearer {
            Some(token) => {
                present("--bearer (REPORTCHECK_BEARER)", token)?;
                bearer_credentials(id, token)
            }
            None => {
                present("--client-secret (REPORTCHECK_CLIENT_SECRET)", secret)?;
                credentials(id, secret)
            }
        };
        let second = match (&self.second_client_id, &self.second_client_secret, &self.second_bearer) {
            (Some(id), Some(secret), None) => {
                present("--second-client-id", id)?;
                present("--second-client-secret (REPORTCHECK_SECOND_CLIENT_SECRET)", secret)?;
                Some(credentials(id, secret))
            }
            (Some(id), None, Some(token)) => {
                present("--second-client-id", id)?;
                present("--second-bearer (REPORTCHECK_SECOND_BEARER)", token)?;
                Some(bearer_credentials(id, token))
            }
            (None, None, None) => None,
            _ => {
                return Err(Error::Usage(
                    "--second-client-id needs --second-client-secret or --second-bearer".to_owned(),
                ));
            }
        };
        Ok(Target::Remote { base_url: base_url.trim_end_matches('/').to_owned(), client: first, second })
    }

    /// The client options with this target's headers and TLS settings added.
    pub fn client_options(&self, mut options: ClientOptions) -> Result<ClientOptions, Error> {
        for header in &self.headers {
            let Some((name, value)) = header.split_once(':').filter(|(name, _)| !name.trim().is_empty()) else {
                return Err(Error::Usage(format!("--header `{header}` is not `Name: value`")));
            };
            options.headers.push((name.trim().to_owned(), Secret::new(value.trim().to_owned())));
        }
        if let Some(path) = &self.ca_cert {
            let pem = std::fs::read(path).map_err(|source| Error::file("read", path, source))?;
            options.root_certificates.push(pem);
        }
        if self.insecure {
            eprintln!(
                "WARNING: --insecure: TLS certificates are not checked. Anyone on the network path can read the \
                 credentials and the answers. Use it only against a test server."
            );
            options.accept_invalid_certs = true;
        }
        // Fail here, naming the flag, rather than at the first request.
        reportcheck_client::Client::with_options(
            "http://127.0.0.1/api/2",
            reportcheck_client::Credentials::Bearer(Secret::new("check".to_owned())),
            options.clone(),
        )
        .map_err(|err| Error::Usage(format!("--header/--ca-cert: {err}")))?;
        Ok(options)
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
