//! Identifiers: UUIDs written the one way the API allows (lower-case, hyphenated).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

/// A UUID in the API's only accepted spelling: 36 characters, lower-case hex, hyphenated.
///
/// Parsing rejects upper-case, braced, URN and simple forms, which `uuid` alone would
/// accept: the schema's pattern does not, so neither do requests nor responses (SCH-3).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(Uuid);

/// A string that is not a lower-case hyphenated UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a lower-case UUID")]
pub struct InvalidId(pub String);

impl Id {
    /// A fresh random (version 4) id.
    pub fn new_v4() -> Id {
        Id(Uuid::new_v4())
    }

    pub const fn from_uuid(uuid: Uuid) -> Id {
        Id(uuid)
    }

    pub fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl FromStr for Id {
    type Err = InvalidId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let canonical = s.len() == 36
            && s.bytes().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => b == b'-',
                _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
            });
        match Uuid::try_parse(s) {
            Ok(uuid) if canonical => Ok(Id(uuid)),
            _ => Err(InvalidId(s.to_owned())),
        }
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({self})")
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_canonical_spelling_parses() {
        let ok = "20dffb36-d77b-45c6-b2fa-39276e98d5fc";
        assert_eq!(ok.parse::<Id>().map(|id| id.to_string()), Ok(ok.to_owned()));
        for bad in [
            "20DFFB36-D77B-45C6-B2FA-39276E98D5FC",
            "20dffb36d77b45c6b2fa39276e98d5fc",
            "{20dffb36-d77b-45c6-b2fa-39276e98d5fc}",
            "urn:uuid:20dffb36-d77b-45c6-b2fa-39276e98d5fc",
            "20dffb36-d77b-45c6-b2fa-39276e98d5f",
            "",
            "not-a-uuid",
        ] {
            assert!(bad.parse::<Id>().is_err(), "{bad} parsed");
        }
    }
}
