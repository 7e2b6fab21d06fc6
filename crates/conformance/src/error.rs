//! Why a run could not be made (exit code 2), as opposed to checks that failed.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Contract files that are not valid: every problem found, each with its file, line
    /// and field.
    #[error("{}", problem_list(problems))]
    InvalidContract { problems: Vec<crate::contract::Problem> },

    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The server cannot be reached, or keeps failing at the transport level.
    #[error("the server is unreachable: {0}")]
    Unreachable(String),

    /// One request got no answer (after the client's retries) while the server still
    /// answers others: the check that sent it turns it into a finding of its rule; it
    /// ends no run.
    #[error("no answer to {0}; the server answers other requests")]
    Unanswered(String),

    /// The credentials were refused at the token endpoint.
    #[error("the credentials were refused: {0}")]
    BadCredentials(String),

    /// The run was stopped from outside (a signal, the overall timeout).
    #[error("the run was stopped: {0}")]
    Stopped(String),

    #[error("invalid options: {0}")]
    Options(String),

    /// The embedded reference server could not start.
    #[error("cannot start the reference server: {0}")]
    Server(#[source] std::io::Error),

    /// A recorded file still held a credential; nothing was written.
    #[error("{} would hold a credential after scrubbing; nothing was written", path.display())]
    SecretInRecording { path: PathBuf },

    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// One problem on its line; several counted, then one per line (the first 50).
fn problem_list(problems: &[crate::contract::Problem]) -> String {
    const SHOWN: usize = 50;
    if let [one] = problems {
        return one.to_string();
    }
    let mut text = format!("{} problems in the contracts:", problems.len());
    for problem in problems.iter().take(SHOWN) {
        text.push_str(&format!("\n  {problem}"));
    }
    if problems.len() > SHOWN {
        text.push_str(&format!("\n  ... and {} more", problems.len() - SHOWN));
    }
    text
}

impl Error {
    /// The error, naming the reports the run created and could not delete (a run that
    /// aborts still cleans up; what it could not clean up is said, never left unnamed).
    pub fn leaving(self, left_behind: &[String]) -> Error {
        if left_behind.is_empty() {
            return self;
        }
        let left = format!("; {} report(s) left behind: {}", left_behind.len(), left_behind.join(", "));
        match self {
            Error::Unreachable(message) => Error::Unreachable(message + &left),
            Error::BadCredentials(message) => Error::BadCredentials(message + &left),
            Error::Stopped(message) => Error::Stopped(message + &left),
            Error::Options(message) => Error::Options(message + &left),
            other => other,
        }
    }
}
