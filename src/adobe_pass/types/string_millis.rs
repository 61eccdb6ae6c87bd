//! Session timestamps (`notBefore`, `notAfter`) are epoch milliseconds sent as JSON strings.

use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

/// Decodes an optional string of epoch milliseconds, such as `"1733735289035"`.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    Option::<String>::deserialize(deserializer)?
        .map(|text| {
            text.parse::<i64>()
                .map_err(|_| D::Error::custom(format!("{text:?} is not epoch milliseconds")))
        })
        .transpose()
}

/// Encodes epoch milliseconds as a string, as Adobe does.
pub fn serialize<S: Serializer>(value: &Option<i64>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(millis) => serializer.serialize_str(&millis.to_string()),
        None => serializer.serialize_none(),
    }
}
