//! Stored reports: the generated files of a `save` report.

use serde::{Deserialize, Serialize};

use crate::date::Timestamp;
use crate::enums::{Format, StoredStatus};
use crate::id::Id;

/// `storedReportParams`: the body of `GET /reports/{id}/stored`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredReportList {
    #[serde(default)]
    pub items: Vec<StoredReport>,
}

/// One stored report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredReport {
    /// Not required by the schema; without it the file cannot be downloaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Id>,
    pub report_format: Format,
    /// Compressed size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    pub created_at: Timestamp,
    pub status: StoredStatus,
}
