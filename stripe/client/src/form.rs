//! Stripe's `application/x-www-form-urlencoded` bodies with bracket nesting, produced
//! from any `Serialize` value:
//!
//! - struct fields and map entries nest as `parent[child]` (`metadata[order_id]=42`,
//!   `payment_method_data[card][token]=tok_visa`);
//! - lists of scalars become `name[]=a&name[]=b` (`expand[]=latest_charge`), lists of
//!   objects are indexed: `items[0][price]=…`;
//! - `None` and unit values are left out, `Some(x)` is `x`; booleans are `true`/`false`;
//!   enums' unit variants use their serde name;
//! - an empty string is kept (`name=`): that is how Stripe unsets a field. An update field
//!   that can be unset is an `Option<Option<T>>` serialized with [`clearable`].
//!
//! The order of the pairs is the declaration order of struct fields and the iteration
//! order of maps: use `BTreeMap` (as [`crate::Metadata`] does) for deterministic bodies.
//! Keys keep their brackets literal after percent-encoding, as stripe-node sends them.

use serde::ser::{self, Impossible, Serialize};

/// A value that cannot be form-encoded (bytes, tuple/struct enum variants, a scalar at
/// the top level, a map key that is not a string or number).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot form-encode this value: {0}")]
pub struct FormError(String);

impl ser::Error for FormError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        FormError(msg.to_string())
    }
}

/// The ordered `(key, value)` pairs of a value, keys unencoded (`metadata[order_id]`).
pub fn to_pairs<T: Serialize + ?Sized>(value: &T) -> Result<Vec<(String, String)>, FormError> {
    let mut out = Vec::new();
    value.serialize(ValueSerializer {
        out: &mut out,
        key: Key::Top,
    })?;
    Ok(out)
}

/// Percent-encodes pairs into a body or query string: `a=1&metadata[order_id]=42`.
pub fn encode_pairs(pairs: &[(String, String)]) -> String {
    let mut s = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            s.push('&');
        }
        let key: String = url::form_urlencoded::byte_serialize(k.as_bytes()).collect();
        s.push_str(&key.replace("%5B", "[").replace("%5D", "]"));
        s.push('=');
        s.extend(url::form_urlencoded::byte_serialize(v.as_bytes()));
    }
    s
}

/// `to_pairs` followed by `encode_pairs`.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, FormError> {
    Ok(encode_pairs(&to_pairs(value)?))
}

/// `#[serde(serialize_with = "crate::form::clearable")]` for an update parameter Stripe
/// lets you unset, declared `Option<Option<T>>`: `None` sends nothing (the value stays as
/// it is), `Some(Some(v))` sends `v`, and `Some(None)` sends the empty string
/// (`setup_future_usage=`), which Stripe reads as "unset". A plain `Option<T>` cannot say
/// this: serde gives `Some(None)` to the serializer as a bare `None`, which is left out.
pub fn clearable<T: Serialize, S: ser::Serializer>(
    value: &Option<Option<T>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        None => serializer.serialize_none(),
        Some(None) => serializer.serialize_str(""),
        Some(Some(v)) => v.serialize(serializer),
    }
}

/// Where the value being serialized goes.
enum Key {
    /// The whole body: must be a struct or a map.
    Top,
    /// A named field: `name` for a scalar, `name[...]` for its children.
    Field(String),
    /// A list element: `list[]` for a scalar, `list[i][...]` for an object or list.
    Element { scalar: String, compound: String },
}

impl Key {
    fn scalar(&self) -> Result<&str, FormError> {
        match self {
            Key::Top => Err(FormError(
                "the top-level value must be a struct or a map".into(),
            )),
            Key::Field(k) => Ok(k),
            Key::Element { scalar, .. } => Ok(scalar),
        }
    }

    fn prefix(self) -> Option<String> {
        match self {
            Key::Top => None,
            Key::Field(k) => Some(k),
            Key::Element { compound, .. } => Some(compound),
        }
    }
}

fn child(prefix: &Option<String>, name: &str) -> String {
    match prefix {
        None => name.to_owned(),
        Some(p) => format!("{p}[{name}]"),
    }
}

/// The scalar methods of a `Serializer` with a `scalar(self, String)` method: booleans
/// (`true`/`false`), numbers and characters by `to_string`, strings as they are.
macro_rules! scalar_methods {
    () => {
        scalar_methods! {
            serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
            serialize_i64: i64, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
            serialize_u64: u64, serialize_f32: f32, serialize_f64: f64, serialize_char: char,
            serialize_str: &str,
        }
    };
    ($($method:ident: $ty:ty),* $(,)?) => {
        $(
            fn $method(self, v: $ty) -> Result<Self::Ok, FormError> {
                self.scalar(v.to_string())
            }
        )*
    };
}

struct ValueSerializer<'a> {
    out: &'a mut Vec<(String, String)>,
    key: Key,
}

impl ValueSerializer<'_> {
    fn scalar(self, value: String) -> Result<(), FormError> {
        let key = self.key.scalar()?.to_owned();
        self.out.push((key, value));
        Ok(())
    }
}

impl<'a> ser::Serializer for ValueSerializer<'a> {
    type Ok = ();
    type Error = FormError;
    type SerializeSeq = SeqSerializer<'a>;
    type SerializeTuple = SeqSerializer<'a>;
    type SerializeTupleStruct = SeqSerializer<'a>;
    type SerializeTupleVariant = Impossible<(), FormError>;
    type SerializeMap = MapSerializer<'a>;
    type SerializeStruct = MapSerializer<'a>;
    type SerializeStructVariant = Impossible<(), FormError>;

    scalar_methods!();
    fn serialize_bytes(self, _: &[u8]) -> Result<(), FormError> {
        Err(FormError("raw bytes".into()))
    }
    fn serialize_none(self) -> Result<(), FormError> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), FormError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), FormError> {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), FormError> {
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), FormError> {
        self.scalar(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), FormError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        _: u32,
        variant: &'static str,
        _: &T,
    ) -> Result<(), FormError> {
        Err(FormError(format!(
            "enum variant {name}::{variant} with data"
        )))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<SeqSerializer<'a>, FormError> {
        match self.key.prefix() {
            Some(prefix) => Ok(SeqSerializer {
                out: self.out,
                prefix,
                index: 0,
            }),
            None => Err(FormError("a list at the top level".into())),
        }
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqSerializer<'a>, FormError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        len: usize,
    ) -> Result<SeqSerializer<'a>, FormError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, FormError> {
        Err(FormError(format!("tuple variant {name}::{variant}")))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<MapSerializer<'a>, FormError> {
        Ok(MapSerializer {
            out: self.out,
            prefix: self.key.prefix(),
            pending_key: None,
        })
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<MapSerializer<'a>, FormError> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, FormError> {
        Err(FormError(format!("struct variant {name}::{variant}")))
    }
}

struct SeqSerializer<'a> {
    out: &'a mut Vec<(String, String)>,
    prefix: String,
    index: usize,
}

impl SeqSerializer<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), FormError> {
        let key = Key::Element {
            scalar: format!("{}[]", self.prefix),
            compound: format!("{}[{}]", self.prefix, self.index),
        };
        self.index += 1;
        value.serialize(ValueSerializer { out: self.out, key })
    }
}

/// Lists, tuples and tuple structs are all written element by element.
macro_rules! seq_impls {
    ($($trait:ident::$method:ident),* $(,)?) => {
        $(
            impl ser::$trait for SeqSerializer<'_> {
                type Ok = ();
                type Error = FormError;
                fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), FormError> {
                    self.element(value)
                }
                fn end(self) -> Result<(), FormError> {
                    Ok(())
                }
            }
        )*
    };
}

seq_impls!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
);

struct MapSerializer<'a> {
    out: &'a mut Vec<(String, String)>,
    prefix: Option<String>,
    pending_key: Option<String>,
}

impl MapSerializer<'_> {
    fn entry<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> Result<(), FormError> {
        let key = Key::Field(child(&self.prefix, name));
        value.serialize(ValueSerializer { out: self.out, key })
    }
}

impl ser::SerializeStruct for MapSerializer<'_> {
    type Ok = ();
    type Error = FormError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), FormError> {
        self.entry(name, value)
    }
    fn end(self) -> Result<(), FormError> {
        Ok(())
    }
}

impl ser::SerializeMap for MapSerializer<'_> {
    type Ok = ();
    type Error = FormError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), FormError> {
        self.pending_key = Some(key.serialize(MapKeySerializer)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), FormError> {
        let key = self
            .pending_key
            .take()
            .ok_or_else(|| FormError("map value without a key".into()))?;
        self.entry(&key, value)
    }
    fn end(self) -> Result<(), FormError> {
        Ok(())
    }
}

/// Turns a map key into the string between the brackets.
struct MapKeySerializer;

impl MapKeySerializer {
    fn scalar(self, key: String) -> Result<String, FormError> {
        Ok(key)
    }
}

impl ser::Serializer for MapKeySerializer {
    type Ok = String;
    type Error = FormError;
    type SerializeSeq = Impossible<String, FormError>;
    type SerializeTuple = Impossible<String, FormError>;
    type SerializeTupleStruct = Impossible<String, FormError>;
    type SerializeTupleVariant = Impossible<String, FormError>;
    type SerializeMap = Impossible<String, FormError>;
    type SerializeStruct = Impossible<String, FormError>;
    type SerializeStructVariant = Impossible<String, FormError>;

    scalar_methods!();
    fn serialize_bytes(self, _: &[u8]) -> Result<String, FormError> {
        Err(FormError("a map key made of bytes".into()))
    }
    fn serialize_none(self) -> Result<String, FormError> {
        Err(FormError("a missing map key".into()))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<String, FormError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<String, FormError> {
        Err(FormError("a unit map key".into()))
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<String, FormError> {
        Err(FormError(format!("a map key of type {name}")))
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<String, FormError> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<String, FormError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, FormError> {
        Err(FormError("an enum map key with data".into()))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, FormError> {
        Err(FormError("a list as a map key".into()))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, FormError> {
        Err(FormError("a tuple as a map key".into()))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, FormError> {
        Err(FormError("a tuple as a map key".into()))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, FormError> {
        Err(FormError("an enum map key with data".into()))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, FormError> {
        Err(FormError("a map as a map key".into()))
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, FormError> {
        Err(FormError("a struct as a map key".into()))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, FormError> {
        Err(FormError("an enum map key with data".into()))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Serialize;

    use super::*;

    #[derive(Serialize)]
    struct Card {
        token: String,
    }

    #[derive(Serialize)]
    struct PaymentMethodData {
        #[serde(rename = "type")]
        kind: &'static str,
        card: Card,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "snake_case")]
    #[allow(dead_code)]
    enum Usage {
        OffSession,
        OnSession,
    }

    #[derive(Serialize)]
    struct Item {
        price: &'static str,
        quantity: u32,
    }

    #[derive(Serialize)]
    struct Params {
        amount: i64,
        currency: &'static str,
        confirm: Option<bool>,
        description: Option<String>,
        setup_future_usage: Option<Usage>,
        metadata: BTreeMap<String, String>,
        expand: Vec<&'static str>,
        payment_method_data: Option<PaymentMethodData>,
        items: Vec<Item>,
    }

    fn params() -> Params {
        let mut metadata = BTreeMap::new();
        metadata.insert("order_id".to_owned(), "42".to_owned());
        metadata.insert("cart".to_owned(), "c 1&2".to_owned());
        Params {
            amount: 1999,
            currency: "usd",
            confirm: Some(true),
            description: None,
            setup_future_usage: Some(Usage::OffSession),
            metadata,
            expand: vec!["latest_charge", "customer"],
            payment_method_data: Some(PaymentMethodData {
                kind: "card",
                card: Card {
                    token: "tok_visa".into(),
                },
            }),
            items: vec![
                Item {
                    price: "price_a",
                    quantity: 1,
                },
                Item {
                    price: "price_b",
                    quantity: 3,
                },
            ],
        }
    }

    #[test]
    fn nests_with_brackets_in_declaration_and_key_order() {
        let pairs = to_pairs(&params()).unwrap();
        let expected: Vec<(String, String)> = [
            ("amount", "1999"),
            ("currency", "usd"),
            ("confirm", "true"),
            ("setup_future_usage", "off_session"),
            ("metadata[cart]", "c 1&2"),
            ("metadata[order_id]", "42"),
            ("expand[]", "latest_charge"),
            ("expand[]", "customer"),
            ("payment_method_data[type]", "card"),
            ("payment_method_data[card][token]", "tok_visa"),
            ("items[0][price]", "price_a"),
            ("items[0][quantity]", "1"),
            ("items[1][price]", "price_b"),
            ("items[1][quantity]", "3"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(pairs, expected);
    }

    #[test]
    fn encodes_values_but_keeps_key_brackets() {
        let body = to_string(&params()).unwrap();
        assert_eq!(
            body,
            "amount=1999&currency=usd&confirm=true&setup_future_usage=off_session\
             &metadata[cart]=c+1%262&metadata[order_id]=42\
             &expand[]=latest_charge&expand[]=customer\
             &payment_method_data[type]=card&payment_method_data[card][token]=tok_visa\
             &items[0][price]=price_a&items[0][quantity]=1\
             &items[1][price]=price_b&items[1][quantity]=3"
        );
        // Deterministic: the same value always gives the same body.
        assert_eq!(body, to_string(&params()).unwrap());
    }

    #[test]
    fn special_characters_in_values_and_keys_are_escaped() {
        let mut m = BTreeMap::new();
        m.insert("a=b", "x&y=z é/?#");
        let mut outer = BTreeMap::new();
        outer.insert("metadata", m);
        assert_eq!(
            to_string(&outer).unwrap(),
            "metadata[a%3Db]=x%26y%3Dz+%C3%A9%2F%3F%23"
        );
    }

    #[test]
    fn empty_strings_are_kept_and_none_is_dropped() {
        // `metadata[key]=` is how Stripe unsets a metadata key.
        let mut m: BTreeMap<&str, Option<&str>> = BTreeMap::new();
        m.insert("keep", Some(""));
        m.insert("skip", None);
        assert_eq!(to_string(&m).unwrap(), "keep=");
    }

    #[test]
    fn clearable_fields_are_left_out_set_or_unset() {
        #[derive(Serialize)]
        struct Update {
            #[serde(serialize_with = "clearable")]
            usage: Option<Option<Usage>>,
            #[serde(serialize_with = "clearable")]
            note: Option<Option<&'static str>>,
        }
        let body = |usage, note| to_string(&Update { usage, note }).unwrap();
        assert_eq!(body(None, None), "");
        assert_eq!(
            body(Some(Some(Usage::OffSession)), Some(Some("a b"))),
            "usage=off_session&note=a+b"
        );
        assert_eq!(body(Some(None), None), "usage=");
        assert_eq!(body(None, Some(None)), "note=");
        // Without the helper a nested None is dropped: nothing would be unset.
        #[derive(Serialize)]
        struct Plain {
            usage: Option<Option<Usage>>,
        }
        assert_eq!(to_string(&Plain { usage: Some(None) }).unwrap(), "");
    }

    #[test]
    fn nested_scalar_lists_and_lists_of_lists() {
        #[derive(Serialize)]
        struct P {
            types: Vec<&'static str>,
            grid: Vec<Vec<u8>>,
        }
        let p = P {
            types: vec!["payment_intent.succeeded", "charge.refunded"],
            grid: vec![vec![1, 2], vec![3]],
        };
        assert_eq!(
            to_pairs(&p).unwrap(),
            vec![
                ("types[]".into(), "payment_intent.succeeded".into()),
                ("types[]".into(), "charge.refunded".into()),
                ("grid[0][]".into(), "1".into()),
                ("grid[0][]".into(), "2".into()),
                ("grid[1][]".into(), "3".into()),
            ]
        );
    }

    #[test]
    fn unsupported_shapes_are_errors() {
        assert!(to_pairs(&5).is_err());
        assert!(to_pairs(&vec![1, 2]).is_err());
        #[derive(Serialize)]
        enum E {
            Data(u8),
        }
        #[derive(Serialize)]
        struct S {
            e: E,
        }
        assert!(to_pairs(&S { e: E::Data(1) }).is_err());
        let mut m = BTreeMap::new();
        m.insert(vec![1u8], 1);
        assert!(to_pairs(&m).is_err());
    }

    #[test]
    fn empty_struct_gives_empty_body() {
        #[derive(Serialize)]
        struct Empty {
            a: Option<u8>,
            b: Vec<String>,
            c: BTreeMap<String, String>,
        }
        let e = Empty {
            a: None,
            b: vec![],
            c: BTreeMap::new(),
        };
        assert_eq!(to_string(&e).unwrap(), "");
    }
}
