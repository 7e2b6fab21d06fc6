//! The reference server of the usage reports API: keeps every rule of `PROFILE.md`, holds
//! its state in memory, and serves real HTTP on loopback.
//!
//! Tests and the harness embed it with [`spawn`]; `cargo xtask serve` runs it standalone.
//! Every report operation is answered with the decision of `reportcheck_model::decide`,
//! taken under the store's lock; this crate adds HTTP, authentication, body limits,
//! storage, and the deliberate [`Fault`]s and conformant [`Variations`] around the
//! decisions.

mod config;
mod content;
mod failure;
mod fault;
mod fixture;
mod http;
mod mutant;
mod request_log;
mod reshape;
mod serve;
mod store;
mod traffic;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

pub use config::{Config, Pick, VersionScheme};
pub use fault::{Fault, FaultClass, Faults, UnknownFault, Variations};
pub use fixture::{ClientCredentials, Fixture, FixtureFile, Tenant};
pub use http::router;
pub use mutant::{Change, Mutant, MutationLog};
pub use request_log::{LoggedLines, RequestLog};
pub use store::Store;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
pub use traffic::{CHAOS_RETRY_AFTER, Chaos, InvalidLatency, InvalidProbability, Latency};

/// A server running on the current tokio runtime. Dropping it stops the server.
#[derive(Debug)]
pub struct RunningServer {
    base_url: String,
    store: Arc<Store>,
    fixture: Fixture,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

/// Starts a server on `127.0.0.1` at a free port.
pub async fn spawn(config: Config) -> io::Result<RunningServer> {
    spawn_on(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
}

/// Starts a server on `addr` (port 0 picks a free one).
pub async fn spawn_on(config: Config, addr: SocketAddr) -> io::Result<RunningServer> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let fixture = Fixture::builtin();
    let limits =
        serve::Limits { max_connections: config.max_connections, header_read_timeout: config.header_read_timeout };
    let store = Arc::new(Store::new(config, fixture.clone()));
    let app = router(Arc::clone(&store));
    let (shutdown, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve::serve(listener, app, limits, stopped));
    Ok(RunningServer {
        base_url: format!("http://{addr}/api/2"),
        store,
        fixture,
        shutdown: Some(shutdown),
        task: Some(task),
    })
}

impl RunningServer {
    /// The API base, ending in `/api/2`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn fixture(&self) -> &Fixture {
        &self.fixture
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The fixture as `--fixture-out` writes it.
    pub fn fixture_file(&self) -> FixtureFile<'_> {
        FixtureFile { base_url: &self.base_url, clients: &self.fixture.clients }
    }

    /// Stops accepting connections and waits for the server task to end.
    pub async fn shutdown(mut self) -> io::Result<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        match self.task.take() {
            Some(task) => task.await.map_err(io::Error::other)?,
            None => Ok(()),
        }
    }

    /// Serves until the task ends (it ends only on an I/O error or after [`Self::shutdown`]).
    pub async fn wait(mut self) -> io::Result<()> {
        match self.task.take() {
            Some(task) => task.await.map_err(io::Error::other)?,
            None => Ok(()),
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}
