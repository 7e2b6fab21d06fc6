//! Dates and timestamps as the API writes them.
//!
//! Report dates (`document_version`) are strict `YYYY-MM-DD` both ways. Timestamps
//! (`item1`) are read leniently, as real servers write them (REFERENCE.md §7.11): with
//! `Z`, with a numeric offset, or with no offset at all (then UTC); they are written with
//! a numeric offset, the one form the schema's pattern matches.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, UtcOffset};

const DAY: &[BorrowedFormatItem<'_>] = format_description!("[year]-[month]-[day]");

/// Parses a `YYYY-MM-DD` date; nothing else is accepted.
pub fn parse_day(text: &str) -> Result<Date, time::error::Parse> {
    Date::parse(text, DAY)
}

/// Writes a date as `YYYY-MM-DD`.
pub fn format_day(date: Date) -> String {
    // `DAY` formats every date whose year has four digits; others cannot be parsed by
    // the API either, so fall back to the debug form instead of panicking.
    date.format(DAY).unwrap_or_else(|_| format!("{date}"))
}

/// Serde adapter for `Date` fields written as `YYYY-MM-DD`.
pub mod day {
    use super::*;

    pub fn serialize<S: Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_day(*date))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        parse_day(&text).map_err(|err| serde::de::Error::custom(format!("`{text}` is not a YYYY-MM-DD date: {err}")))
    }

    /// For optional fields: absent means `None`; `null` is a wrong type, not `None`.
    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(date: &Option<Date>, serializer: S) -> Result<S::Ok, S::Error> {
            match date {
                Some(date) => super::serialize(date, serializer),
                None => serializer.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Date>, D::Error> {
            super::deserialize(deserializer).map(Some)
        }
    }
}

/// An RFC 3339 timestamp, read leniently and written with a numeric offset.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(OffsetDateTime);

/// A string that is no RFC 3339 timestamp, even read leniently.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an RFC 3339 timestamp")]
pub struct InvalidTimestamp(pub String);

impl Timestamp {
    /// Now, in whole seconds: the API's `item1` allows at most 32 characters, which
    /// nanoseconds and an offset would exceed.
    pub fn now() -> Timestamp {
        let now = OffsetDateTime::now_utc();
        Timestamp::from(now.replace_nanosecond(0).unwrap_or(now))
    }

    pub fn as_offset_date_time(&self) -> OffsetDateTime {
        self.0
    }
}

impl From<OffsetDateTime> for Timestamp {
    fn from(value: OffsetDateTime) -> Self {
        Timestamp(value)
    }
}

impl FromStr for Timestamp {
    type Err = InvalidTimestamp;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        use time::format_description::well_known::Rfc3339;
        const NAIVE: &[BorrowedFormatItem<'_>] =
            format_description!("[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]");
        OffsetDateTime::parse(s, &Rfc3339)
            .or_else(|_| PrimitiveDateTime::parse(s, NAIVE).map(|naive| naive.assume_utc()))
            .map(Timestamp)
            .map_err(|_| InvalidTimestamp(s.to_owned()))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        let d = t.date();
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            d.year(),
            u8::from(d.month()),
            d.day(),
            t.hour(),
            t.minute(),
            t.second()
        )?;
        if t.nanosecond() != 0 {
            let fraction = format!("{:09}", t.nanosecond());
            write!(f, ".{}", fraction.trim_end_matches('0'))?;
        }
        let offset: UtcOffset = t.offset();
        let (hours, minutes, _) = offset.as_hms();
        let sign = if offset.is_negative() { '-' } else { '+' };
        write!(f, "{sign}{:02}:{:02}", hours.unsigned_abs(), minutes.unsigned_abs())
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_read_leniently() {
        let utc = "2019-08-08T07:36:57+00:00";
        for spelling in ["2019-08-08T07:36:57Z", "2019-08-08T07:36:57+00:00", "2019-08-08T07:36:57"] {
            let parsed: Timestamp = spelling.parse().expect(spelling);
            assert_eq!(parsed.to_string(), utc, "{spelling}");
        }
        let fractional: Timestamp = "2017-01-01T12:07:53.250-05:30".parse().expect("fraction");
        assert_eq!(fractional.to_string(), "2017-01-01T12:07:53.25-05:30");
        assert!("2017-01-01".parse::<Timestamp>().is_err());
    }

    #[test]
    fn days_are_strict() {
        assert!(parse_day("2017-05-08").is_ok());
        for bad in ["2017-5-8", "2017-02-30", "2017-05-08T00:00:00", "20170508", ""] {
            assert!(parse_day(bad).is_err(), "{bad}");
        }
    }
}
