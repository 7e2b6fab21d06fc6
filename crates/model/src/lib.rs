//! The usage reports API (Account Management API v2) as types and rules.
//!
//! This crate does no I/O. It holds:
//!
//! - the wire types of every schema the reports API uses ([`Report`], [`ReportPost`],
//!   [`ReportPut`], [`StoredReportList`], [`Token`], [`ApiClient`], [`ErrorBody`], ...);
//! - the rule catalogue of `PROFILE.md` ([`Rule`]);
//! - the decider ([`decide`]): given the known reports, a request and the server's today,
//!   what a conformant server answers. Its parts are the rule functions of [`rule_check`].
//!   The reference server answers with it; the harness predicts with it;
//! - what PROFILE.md leaves free, as one table ([`freedom`]).

pub mod auth;
pub mod claim;
pub mod classes;
pub mod date;
pub mod decide;
pub mod enums;
pub mod error_body;
pub mod freedom;
pub mod id;
pub mod report;
pub mod rule_check;
pub mod rules;
pub mod secret;
pub mod stored;
#[cfg(any(test, feature = "proptest"))]
pub mod strategies;

pub use auth::{ApiClient, Token, TokenError};
pub use claim::{Basis, Claim, Expect, Place, Reading};
pub use date::Timestamp;
pub use decide::{Admissible, Branch, Caller, Decision, Known, Method, Operation, Prediction, Request};
pub use enums::{
    ClientStatus, ClientType, Format, Kind, Level, ResultAction, ScheduleType, StoredStatus, TokenEndpointAuthMethod,
};
pub use error_body::{ApiError, ErrorBody, ErrorCode};
pub use freedom::Freedom;
pub use id::Id;
pub use report::{
    Period, PostParameters, PostSchedule, PutParameters, PutSchedule, Report, ReportParameters, ReportPost, ReportPut,
    Schedule, UuidList,
};
pub use rule_check::Violation;
pub use rules::Rule;
pub use secret::Secret;
pub use stored::{StoredReport, StoredReportList};
pub use time::Date;
