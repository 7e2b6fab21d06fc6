//! The usage reports API (Account Management API v2) as types and rules.
//!
//! This crate does no I/O. It holds:
//!
//! - the wire types of every schema the reports API uses ([`Report`], [`ReportPost`],
//!   [`ReportPut`], [`StoredReportList`], [`Token`], [`ApiClient`], [`ErrorBody`], ...);
//! - the rule catalogue of `PROFILE.md` ([`Rule`]);
//! - the rules themselves as pure functions ([`rule_check`]), shared by the reference
//!   server, which enforces them, and the conformance harness, which predicts with them.

pub mod auth;
pub mod date;
pub mod enums;
pub mod error_body;
pub mod id;
pub mod report;
pub mod rule_check;
pub mod rules;
pub mod secret;
pub mod stored;
#[cfg(any(test, feature = "proptest"))]
pub mod strategies;

pub use auth::{ApiClient, Token, TokenError};
pub use date::Timestamp;
pub use enums::{
    ClientStatus, ClientType, Format, Kind, Level, ResultAction, ScheduleType, StoredStatus, TokenEndpointAuthMethod,
};
pub use error_body::{ApiError, ErrorBody, ErrorCode};
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
