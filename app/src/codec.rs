//! How server functions travel over HTTP, chosen for a small browser bundle.
//!
//! * Arguments: [`Form`], a URL-encoded `POST` body (`sku=ferris-mug&quantity=1`), the
//!   same bytes a plain HTML `<form method="post">` sends, so forms keep working without
//!   JavaScript and tools can call `/api/*` with `curl -d`. Leptos' own `PostUrl` does
//!   the same through `serde_qs` (and `ActionForm` through its deserializer): a large
//!   share of the bundle. Arguments here are flat structs of strings, which a tiny
//!   serializer and serde's own `MapDeserializer` handle.
//! * Results and errors: [`JsonText`], JSON read with `serde_json::from_str`. Leptos'
//!   `JsonEncoding` reads with `from_slice`, a second copy of the JSON parser next to
//!   the `from_str` one islands already use for their props. Both changes together took
//!   the release WASM from 208.0 to 181.9 kB gzip.

use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::de::value::{Error as ValueError, MapDeserializer};
use serde::de::DeserializeOwned;
use serde::ser::{self, Impossible, Serialize};

/// Arguments as the URL-encoded body of a `POST`.
pub type FormPost = Post<Form>;
/// Results as JSON in the response body.
pub type JsonPost = Post<JsonText>;

/// `application/x-www-form-urlencoded` arguments (see the module docs).
pub struct Form;

impl ContentType for Form {
    const CONTENT_TYPE: &'static str = "application/x-www-form-urlencoded";
}

impl FormatType for Form {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for Form {
    type Error = FormError;

    fn encode(value: &T) -> Result<Bytes, FormError> {
        to_form(value).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for Form {
    type Error = FormError;

    fn decode(bytes: Bytes) -> Result<T, FormError> {
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| FormError("the form body is not UTF-8".into()))?;
        from_form(text)
    }
}

/// JSON, parsed from text (see the module docs).
pub struct JsonText;

impl ContentType for JsonText {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonText {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonText {
    type Error = serde_json::Error;

    fn encode(value: &T) -> Result<Bytes, serde_json::Error> {
        serde_json::to_string(value).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonText {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, serde_json::Error> {
        // Invalid UTF-8 is replaced, and then fails to parse as the value it was meant to be.
        serde_json::from_str(&String::from_utf8_lossy(&bytes))
    }
}

/// Why form arguments could not be written or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError(pub String);

impl std::fmt::Display for FormError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FormError {}

impl ser::Error for FormError {
    fn custom<M: std::fmt::Display>(msg: M) -> Self {
        FormError(msg.to_string())
    }
}

/// Reads a URL-encoded body into `T`, a struct of string fields. Unknown fields are
/// ignored; a missing or repeated field is an error naming it.
pub fn from_form<T: DeserializeOwned>(body: &str) -> Result<T, FormError> {
    let pairs = parse_pairs(body)?;
    T::deserialize(MapDeserializer::<_, ValueError>::new(pairs.into_iter()))
        .map_err(|e| FormError(e.to_string()))
}

/// Writes `T`, a struct of string fields, as a URL-encoded body.
pub fn to_form<T: Serialize>(value: &T) -> Result<String, FormError> {
    let mut out = String::new();
    value.serialize(FormWriter {
        out: &mut out,
        field: false,
    })?;
    Ok(out)
}

/// `a=1&b=x+y` → `[("a", "1"), ("b", "x y")]`, percent escapes decoded.
pub fn parse_pairs(body: &str) -> Result<Vec<(String, String)>, FormError> {
    body.split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            Ok((decode_component(key)?, decode_component(value)?))
        })
        .collect()
}

fn decode_component(text: &str) -> Result<String, FormError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                // Two hex digits exactly (`from_str_radix` alone takes `+1`).
                let hex = bytes
                    .get(i + 1..i + 3)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| FormError(format!("bad percent escape in `{text}`")))?;
                // No text argument holds a NUL (PostgreSQL text cannot store one).
                if hex == 0 {
                    return Err(FormError("a NUL character in a form field".into()));
                }
                out.push(hex);
                i += 2;
            }
            0 => return Err(FormError("a NUL character in a form field".into())),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| FormError(format!("`{text}` is not UTF-8")))
}

/// A serde serializer for flat structs of string fields: exactly what server-function
/// arguments are here. Anything else is an error, never a silently different body.
/// At the top (`field: false`) it takes the struct; inside a field, one string.
struct FormWriter<'a> {
    out: &'a mut String,
    field: bool,
}

fn unsupported<T>(what: &str) -> Result<T, FormError> {
    Err(FormError(format!(
        "form arguments must be a struct of string fields, not {what}"
    )))
}

impl<'a> ser::Serializer for FormWriter<'a> {
    type Ok = ();
    type Error = FormError;
    type SerializeSeq = Impossible<(), FormError>;
    type SerializeTuple = Impossible<(), FormError>;
    type SerializeTupleStruct = Impossible<(), FormError>;
    type SerializeTupleVariant = Impossible<(), FormError>;
    type SerializeMap = Impossible<(), FormError>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<(), FormError>;

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, FormError> {
        if self.field {
            return unsupported("a nested struct");
        }
        Ok(self)
    }
    fn serialize_str(self, v: &str) -> Result<(), FormError> {
        if !self.field {
            return unsupported("a bare string");
        }
        self.out.push_str(v);
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), FormError> {
        if self.field {
            return unsupported("a unit field");
        }
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), FormError> {
        value.serialize(self)
    }

    fn serialize_bool(self, _: bool) -> Result<(), FormError> {
        unsupported("a bool")
    }
    fn serialize_i8(self, _: i8) -> Result<(), FormError> {
        unsupported("a number")
    }
    fn serialize_i16(self, _: i16) -> Result<(), FormError> {
        unsupported("a number")
    }
    fn serialize_i32(self, _: i32) -> Result<(), FormError> {
        unsupported("a number")
    }
    fn serialize_i64(self, _: i64) -> Result<(), FormError> {
        unsupported("a number")
    }
    fn serialize_u8(self, _: u8) -> Result<(), FormError> {
        unsupported("a number")
    }
    fn serialize_u16(self, _: u16) -> Result<(), FormError> {
        unsupported("a number")
    }
    fn serialize_u32(self, _: u32) -> Result<(), FormError> {
        unsupported("a number")
    }
    fn serialize_u64(self, _: u64) -> Result<(), FormError> {
        unsupported("a number")
    }
    fn serialize_f32(self, _: f32) -> Result<(), FormError> {
        unsupported("a number")
    }
    fn serialize_f64(self, _: f64) -> Result<(), FormError> {
        unsupported("a number")
    }
    fn serialize_char(self, _: char) -> Result<(), FormError> {
        unsupported("a char")
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), FormError> {
        unsupported("bytes")
    }
    fn serialize_none(self) -> Result<(), FormError> {
        unsupported("an option")
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), FormError> {
        unsupported("an option")
    }
    fn serialize_unit(self) -> Result<(), FormError> {
        unsupported("a unit")
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), FormError> {
        unsupported("an enum")
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), FormError> {
        unsupported("an enum")
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, FormError> {
        unsupported("a sequence")
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, FormError> {
        unsupported("a tuple")
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, FormError> {
        unsupported("a tuple")
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, FormError> {
        unsupported("an enum")
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, FormError> {
        unsupported("a map")
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, FormError> {
        unsupported("an enum")
    }
}

impl<'a> ser::SerializeStruct for FormWriter<'a> {
    type Ok = ();
    type Error = FormError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), FormError> {
        let mut text = String::new();
        value.serialize(FormWriter {
            out: &mut text,
            field: true,
        })?;
        if !self.out.is_empty() {
            self.out.push('&');
        }
        // `application/x-www-form-urlencoded`, as the Stripe client and browsers write it.
        self.out
            .extend(form_urlencoded::byte_serialize(key.as_bytes()));
        self.out.push('=');
        self.out
            .extend(form_urlencoded::byte_serialize(text.as_bytes()));
        Ok(())
    }

    fn end(self) -> Result<(), FormError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Args {
        sku: String,
        quantity: String,
    }

    fn args(sku: &str, quantity: &str) -> Args {
        Args {
            sku: sku.into(),
            quantity: quantity.into(),
        }
    }

    #[test]
    fn escapes_are_two_hex_digits_and_never_a_nul() {
        assert!(parse_pairs("a=%+1").is_err());
        assert!(parse_pairs("a=%-1").is_err());
        assert!(parse_pairs("a=x%00y").is_err());
        assert!(parse_pairs("a=x\0y").is_err());
        assert_eq!(
            parse_pairs("a=%41%62").unwrap(),
            vec![("a".to_owned(), "Ab".to_owned())]
        );
    }

    #[test]
    fn writes_fields_in_order_percent_encoded() {
        assert_eq!(
            to_form(&args("ferris-mug", "1")).unwrap(),
            "sku=ferris-mug&quantity=1"
        );
        assert_eq!(
            to_form(&args("a b&c=d/é", "+%")).unwrap(),
            "sku=a+b%26c%3Dd%2F%C3%A9&quantity=%2B%25"
        );
    }

    #[test]
    fn no_arguments_are_an_empty_body() {
        #[derive(serde::Serialize, serde::Deserialize)]
        struct NoArgs {}
        assert_eq!(to_form(&NoArgs {}).unwrap(), "");
        assert!(from_form::<NoArgs>("").is_ok());
    }

    #[test]
    fn round_trips_any_text() {
        for text in [
            "",
            " ",
            "a+b",
            "100%",
            "&=&=",
            "ünïcødé ✓",
            "line\nbreak",
            "%zz",
        ] {
            let original = args(text, text);
            assert_eq!(
                from_form::<Args>(&to_form(&original).unwrap()).unwrap(),
                original
            );
        }
    }

    #[test]
    fn reads_what_browsers_and_curl_send() {
        assert_eq!(
            from_form::<Args>("quantity=2&sku=ferris%2dmug").unwrap(),
            args("ferris-mug", "2")
        );
        assert_eq!(
            from_form::<Args>("sku=a+b&quantity=").unwrap(),
            args("a b", "")
        );
        assert_eq!(
            from_form::<Args>("sku=x&quantity=1&price=1&&").unwrap(),
            args("x", "1")
        );
        assert_eq!(from_form::<Args>("sku&quantity=1").unwrap(), args("", "1"));
    }

    #[test]
    fn bad_bodies_name_the_problem() {
        let missing = from_form::<Args>("sku=x").unwrap_err();
        assert!(missing.0.contains("missing field `quantity`"), "{missing}");
        let twice = from_form::<Args>("sku=x&sku=y&quantity=1").unwrap_err();
        assert!(twice.0.contains("duplicate field `sku`"), "{twice}");
        let escape = from_form::<Args>("sku=%4&quantity=1").unwrap_err();
        assert!(escape.0.contains("bad percent escape"), "{escape}");
        let utf8 = from_form::<Args>("sku=%FF&quantity=1").unwrap_err();
        assert!(utf8.0.contains("not UTF-8"), "{utf8}");
        let body: Result<Args, _> = <Form as Decodes<Args>>::decode(Bytes::from_static(b"\xff"));
        assert!(body.is_err());
    }

    #[test]
    fn only_flat_string_structs_are_written() {
        #[derive(serde::Serialize)]
        struct List {
            inner: Vec<String>,
        }
        #[derive(serde::Serialize)]
        struct Nested {
            inner: Args,
        }
        #[derive(serde::Serialize)]
        struct Number {
            n: i64,
        }
        assert!(to_form(&List { inner: vec![] }).is_err());
        assert!(to_form(&Nested {
            inner: args("a", "1")
        })
        .is_err());
        assert!(to_form(&Number { n: 1 }).is_err());
        assert!(to_form(&"bare").is_err());
    }

    #[test]
    fn json_text_round_trips() {
        let bytes = <JsonText as Encodes<Args>>::encode(&args("a", "1")).unwrap();
        let back: Args = <JsonText as Decodes<Args>>::decode(bytes).unwrap();
        assert_eq!(back, args("a", "1"));
        assert!(<JsonText as Decodes<Args>>::decode(Bytes::from_static(b"{")).is_err());
    }
}
