//! The API's closed value sets. Serialised as the documented lower-case strings (SCH-3).

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum! {
    /// Kind of report (`parameters.kind`).
    Kind {
        UsageDaily => "usage_daily",
        UsageSummary => "usage_summary",
        UsageCurrent => "usage_current",
        UsageBreakdown => "usage_breakdown",
    }
}

wire_enum! {
    /// Level of report detail (`parameters.level`).
    Level {
        Itself => "itself",
        DirectPartners => "direct_partners",
        AllPartners => "all_partners",
        AllCustomers => "all_customers",
        Accounts => "accounts",
    }
}

wire_enum! {
    /// Report and stored-report format. `json_v2_0` is accepted everywhere, as the
    /// documentation shows servers sending it (REFERENCE.md §7.1).
    Format {
        Csv => "csv",
        Html => "html",
        JsonV1 => "json_v1",
        CsvV2 => "csv_v2_0",
        JsonV2 => "json_v2_0",
    }
}

wire_enum! {
    /// `schedule.type`.
    ScheduleType {
        Once => "once",
        Monthly => "monthly",
    }
}

wire_enum! {
    /// What happens to a generated report.
    ResultAction {
        Save => "save",
        Send => "send",
    }
}

wire_enum! {
    /// Generation status of a stored report.
    StoredStatus {
        InProgress => "in_progress",
        Saved => "saved",
        Failed => "failed",
    }
}

wire_enum! {
    /// Type of an API client.
    ClientType {
        ApiClient => "api_client",
        ManagedClient => "managed_client",
    }
}

wire_enum! {
    /// How a client authenticates at the token endpoint.
    TokenEndpointAuthMethod {
        ClientSecretBasic => "client_secret_basic",
        ClientSecretPost => "client_secret_post",
        None => "none",
    }
}

wire_enum! {
    /// Whether a client may obtain tokens.
    ClientStatus {
        Enabled => "enabled",
        Disabled => "disabled",
    }
}

impl Format {
    /// The media type a download of this format is served with.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Csv | Format::CsvV2 => "text/csv; charset=utf-8",
            Format::Html => "text/html; charset=utf-8",
            Format::JsonV1 | Format::JsonV2 => "application/json",
        }
    }
}
