//! Building blocks of the wire types: values Stripe may extend (`Tolerant`; open enums come
//! from `stripe_types::wire_enum!(open …)`), expandable references, list pages and metadata.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{DeserializeOwned, IntoDeserializer};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `metadata`: string keys to string values, sorted so form bodies are deterministic.
pub type Metadata = BTreeMap<String, String>;

/// A closed enum from `stripe-types` (a status, a reason…) made tolerant of values Stripe
/// adds later: known values parse to `Known`, anything else is kept as `Unknown(raw)`
/// instead of failing the whole response.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Tolerant<T> {
    Known(T),
    Unknown(String),
}

impl<T> Tolerant<T> {
    pub fn known(&self) -> Option<&T> {
        match self {
            Tolerant::Known(t) => Some(t),
            Tolerant::Unknown(_) => None,
        }
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Tolerant::Unknown(_))
    }
}

impl<T: Copy> Tolerant<T> {
    pub fn get(&self) -> Option<T> {
        self.known().copied()
    }
}

impl<T: PartialEq> PartialEq<T> for Tolerant<T> {
    fn eq(&self, other: &T) -> bool {
        self.known() == Some(other)
    }
}

impl<T> From<T> for Tolerant<T> {
    fn from(t: T) -> Self {
        Tolerant::Known(t)
    }
}

impl<T: Serialize> Tolerant<T> {
    /// The wire string (`"succeeded"`), known or not.
    pub fn as_wire(&self) -> String {
        match self {
            Tolerant::Known(t) => match serde_json::to_value(t) {
                Ok(serde_json::Value::String(s)) => s,
                Ok(other) => other.to_string(),
                Err(_) => String::new(),
            },
            Tolerant::Unknown(s) => s.clone(),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Tolerant<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tolerant::Known(t) => t.fmt(f),
            Tolerant::Unknown(s) => write!(f, "Unknown({s:?})"),
        }
    }
}

impl<T: Serialize> fmt::Display for Tolerant<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_wire())
    }
}

impl<T: Serialize> Serialize for Tolerant<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Tolerant::Known(t) => t.serialize(serializer),
            Tolerant::Unknown(s) => serializer.serialize_str(s),
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Tolerant<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        let parsed: Result<T, serde::de::value::Error> =
            T::deserialize(raw.as_str().into_deserializer());
        Ok(match parsed {
            Ok(t) => Tolerant::Known(t),
            Err(_) => Tolerant::Unknown(raw),
        })
    }
}

/// A Stripe object with an `id`.
pub trait HasId {
    fn id(&self) -> &str;
}

/// A reference that is an id string unless it was expanded (`expand[]=latest_charge`),
/// in which case it is the whole object.
#[derive(Clone, PartialEq)]
pub enum Expandable<T> {
    Id(String),
    Object(Box<T>),
}

impl<T: HasId> Expandable<T> {
    /// The id, whether expanded or not.
    pub fn id(&self) -> &str {
        match self {
            Expandable::Id(id) => id,
            Expandable::Object(o) => o.id(),
        }
    }
}

impl<T> Expandable<T> {
    pub fn as_object(&self) -> Option<&T> {
        match self {
            Expandable::Id(_) => None,
            Expandable::Object(o) => Some(o),
        }
    }

    pub fn into_object(self) -> Option<T> {
        match self {
            Expandable::Id(_) => None,
            Expandable::Object(o) => Some(*o),
        }
    }

    pub fn is_expanded(&self) -> bool {
        matches!(self, Expandable::Object(_))
    }
}

impl<T: fmt::Debug> fmt::Debug for Expandable<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expandable::Id(id) => write!(f, "Id({id:?})"),
            Expandable::Object(o) => o.fmt(f),
        }
    }
}

impl<T: Serialize> Serialize for Expandable<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Expandable::Id(id) => serializer.serialize_str(id),
            Expandable::Object(o) => o.serialize(serializer),
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Expandable<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::String(id) => Ok(Expandable::Id(id)),
            value @ serde_json::Value::Object(_) => T::deserialize(value)
                .map(|o| Expandable::Object(Box::new(o)))
                .map_err(serde::de::Error::custom),
            other => Err(serde::de::Error::custom(format!(
                "expected an id or an expanded object, got {other}"
            ))),
        }
    }
}

/// One page of a list endpoint (`{"object": "list", "data": [...], "has_more": …}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct List<T> {
    pub data: Vec<T>,
    #[serde(default)]
    pub has_more: bool,
    pub url: Option<String>,
}

impl<T: HasId> List<T> {
    /// The cursor for the next page (`starting_after`), when there is one.
    pub fn next_cursor(&self) -> Option<&str> {
        if self.has_more {
            self.data.last().map(|o| o.id())
        } else {
            None
        }
    }
}

/// The answer to a DELETE: `{"id": …, "object": …, "deleted": true}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deleted {
    pub id: String,
    pub object: Option<String>,
    pub deleted: bool,
}

#[cfg(test)]
mod tests {
    use stripe_types::PaymentIntentStatus;

    use super::*;

    #[test]
    fn tolerant_parses_known_and_keeps_unknown() {
        let s: Tolerant<PaymentIntentStatus> = serde_json::from_str("\"succeeded\"").unwrap();
        assert_eq!(s, Tolerant::Known(PaymentIntentStatus::Succeeded));
        assert!(s == PaymentIntentStatus::Succeeded);
        assert_eq!(s.get(), Some(PaymentIntentStatus::Succeeded));
        let u: Tolerant<PaymentIntentStatus> = serde_json::from_str("\"teleported\"").unwrap();
        assert_eq!(u, Tolerant::Unknown("teleported".into()));
        assert!(u != PaymentIntentStatus::Succeeded);
        assert_eq!(u.as_wire(), "teleported");
        assert_eq!(serde_json::to_string(&u).unwrap(), "\"teleported\"");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"succeeded\"");
        assert_eq!(s.to_string(), "succeeded");
        assert!(serde_json::from_str::<Tolerant<PaymentIntentStatus>>("3").is_err());
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Thing {
        id: String,
        n: u8,
    }
    impl HasId for Thing {
        fn id(&self) -> &str {
            &self.id
        }
    }

    #[test]
    fn expandable_accepts_id_or_object() {
        let id: Expandable<Thing> = serde_json::from_str("\"th_1\"").unwrap();
        assert_eq!(id.id(), "th_1");
        assert!(!id.is_expanded());
        let obj: Expandable<Thing> = serde_json::from_str(r#"{"id":"th_2","n":3}"#).unwrap();
        assert_eq!(obj.id(), "th_2");
        assert_eq!(obj.as_object().unwrap().n, 3);
        let err = serde_json::from_str::<Expandable<Thing>>(r#"{"id":"th_2"}"#).unwrap_err();
        assert!(err.to_string().contains("n"), "{err}");
        assert!(serde_json::from_str::<Expandable<Thing>>("7").is_err());
    }

    #[test]
    fn list_cursor() {
        let page: List<Thing> = serde_json::from_str(
            r#"{"object":"list","data":[{"id":"a","n":1},{"id":"b","n":2}],"has_more":true,"url":"/v1/things"}"#,
        )
        .unwrap();
        assert_eq!(page.next_cursor(), Some("b"));
        let last: List<Thing> =
            serde_json::from_str(r#"{"object":"list","data":[{"id":"c","n":1}],"has_more":false}"#)
                .unwrap();
        assert_eq!(last.next_cursor(), None);
    }
}
