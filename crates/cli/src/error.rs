//! Why a command could not be made (exit code 2).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Bad or contradictory options, said the way the user can fix them.
    #[error("{0}")]
    Usage(String),

    /// A configuration file that does not fit the command line.
    #[error("{}: {message}", path.display())]
    Config { path: PathBuf, message: String },

    /// A file that cannot be read, written or created.
    #[error("cannot {what} {}: {source}", path.display())]
    File {
        what: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A JSON file that is not what it should be.
    #[error("{}: {message}", path.display())]
    Json { path: PathBuf, message: String },

    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),

    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },

    #[error("the server stopped: {0}")]
    Stopped(#[source] std::io::Error),

    #[error(transparent)]
    Conformance(#[from] reportcheck_conformance::Error),

    /// The command line itself; printed and exited by clap.
    #[error(transparent)]
    Clap(#[from] clap::Error),
}

impl Error {
    pub(crate) fn file(what: impl Into<String>, path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::File { what: what.into(), path: path.into(), source }
    }
}
