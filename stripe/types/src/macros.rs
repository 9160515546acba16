//! [`wire_enum!`](crate::wire_enum): the one macro that writes a Stripe wire-string type,
//! used by this crate, `stripe-client`, `stripe-sandbox` and the app.

/// Declares a type whose values are Stripe wire strings. Three forms, each optionally
/// preceded by attributes (doc comments):
///
/// - **closed** `Name { A = "a", B = "b" }`: a `Copy` enum of exactly these values, with
///   `ALL`, `as_str() -> &'static str`, `parse(&str) -> Option<Self>`, `Display`, and serde
///   to and from the wire string (any other string is an error). Derives `Debug`, `Clone`,
///   `Copy`, `PartialEq`, `Eq`, `Hash`.
/// - **open** `open Name { A = "a", B = "b" }`: the listed values plus `Other(String)` for
///   any other string (values Stripe adds later), with `as_str() -> &str`,
///   `parse(&str) -> Self`, `From<&str>`, `Display`, and serde to and from the wire string
///   (never fails on a string). Derives `Debug`, `Clone`, `PartialEq`, `Eq`, `Hash`.
/// - **tag** `tag Name = "payment_intent"`: a zero-sized struct that serializes as that
///   constant string (an object's `object` field) and deserializes from any value.
///   Derives `Debug`, `Clone`, `Copy`, `Default`, `PartialEq`, `Eq`.
///
/// Variants of the closed and open forms may carry attributes (doc comments). The caller
/// needs no `serde` import: the generated code reaches serde through this crate.
///
/// ```
/// stripe_types::wire_enum!(
///     /// A closed enum.
///     Shade { Light = "light", Dark = "dark_blue" }
/// );
/// stripe_types::wire_enum!(open Brand { Visa = "visa" });
/// stripe_types::wire_enum!(tag ChargeTag = "charge");
///
/// assert_eq!(Shade::parse("dark_blue"), Some(Shade::Dark));
/// assert_eq!(Shade::ALL, &[Shade::Light, Shade::Dark]);
/// assert_eq!(Brand::parse("elo"), Brand::Other("elo".into()));
/// assert_eq!(serde_json::to_string(&ChargeTag).unwrap(), "\"charge\"");
/// ```
#[macro_export]
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        open $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $wire:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this client does not know (yet).
            Other(::std::string::String),
        }

        impl $name {
            /// The string Stripe uses for this value.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)+
                    $name::Other(s) => s,
                }
            }

            pub fn parse(s: &str) -> $name {
                match s {
                    $($wire => $name::$variant,)+
                    other => $name::Other(::std::borrow::ToOwned::to_owned(other)),
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::core::convert::From<&str> for $name {
            fn from(s: &str) -> Self {
                $name::parse(s)
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as $crate::__private::serde::Deserialize>::deserialize(deserializer)?;
                ::core::result::Result::Ok($name::parse(&s))
            }
        }
    };

    ($(#[$meta:meta])* tag $name:ident = $wire:literal $(;)?) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct $name;

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(
                &self,
                s: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                s.serialize_str($wire)
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(
                d: D,
            ) -> ::core::result::Result<Self, D::Error> {
                <$crate::__private::serde::de::IgnoredAny as $crate::__private::serde::Deserialize>::deserialize(d)?;
                ::core::result::Result::Ok($name)
            }
        }
    };

    (
        $(#[$meta:meta])*
        $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $wire:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            Hash,
            $crate::__private::serde::Serialize,
            $crate::__private::serde::Deserialize
        )]
        // A path the caller's crate can resolve (this crate names itself `stripe_types`
        // too, see lib.rs), so callers need no `serde` dependency of their own.
        #[serde(crate = "stripe_types::__private::serde")]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $wire)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The string Stripe uses for this value.
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $wire,)+ }
            }

            pub fn parse(s: &str) -> ::core::option::Option<$name> {
                match s {
                    $($wire => ::core::option::Option::Some($name::$variant),)+
                    _ => ::core::option::Option::None,
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    crate::wire_enum!(
        /// Closed.
        Shade {
            Light = "light",
            /// A variant with a doc comment.
            Dark = "dark_blue",
        }
    );

    crate::wire_enum!(
        /// Open.
        open Colour {
            Red = "red",
            /// A variant with a doc comment.
            Dark = "dark_blue",
        }
    );

    crate::wire_enum!(
        /// Tag.
        tag ThingTag = "radar.thing"
    );

    #[test]
    fn closed_enum_round_trips_and_refuses_unknown_values() {
        assert_eq!(Shade::ALL, &[Shade::Light, Shade::Dark]);
        for s in Shade::ALL {
            assert_eq!(Shade::parse(s.as_str()), Some(*s));
            assert_eq!(s.to_string(), s.as_str());
            let json = serde_json::to_string(s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(serde_json::from_str::<Shade>(&json).unwrap(), *s);
        }
        assert_eq!(Shade::Dark.as_str(), "dark_blue");
        assert_eq!(Shade::parse("Dark"), None);
        assert!(serde_json::from_str::<Shade>("\"mauve\"").is_err());
        assert!(serde_json::from_str::<Shade>("3").is_err());
        // Copy + Hash + Eq.
        let copy = Shade::Light;
        let set: HashSet<Shade> = [copy, Shade::Light, Shade::Dark].into_iter().collect();
        assert_eq!(set.len(), 2);
        assert_eq!(format!("{copy:?}"), "Light");
    }

    #[test]
    fn open_enum_keeps_unknown_values() {
        let c: Colour = serde_json::from_str("\"dark_blue\"").unwrap();
        assert_eq!(c, Colour::Dark);
        let o: Colour = serde_json::from_str("\"mauve\"").unwrap();
        assert_eq!(o, Colour::Other("mauve".into()));
        assert_eq!(o.as_str(), "mauve");
        assert_eq!(o.to_string(), "mauve");
        assert_eq!(serde_json::to_string(&o).unwrap(), "\"mauve\"");
        assert_eq!(serde_json::to_string(&Colour::Red).unwrap(), "\"red\"");
        assert_eq!(Colour::parse("red"), Colour::Red);
        assert_eq!(Colour::from("dark_blue"), Colour::Dark);
        // From a borrowed and an owned (escaped) JSON string alike.
        let escaped: Colour = serde_json::from_str("\"dark\\u005fblue\"").unwrap();
        assert_eq!(escaped, Colour::Dark);
        let from_value: Colour = serde_json::from_value(serde_json::json!("red")).unwrap();
        assert_eq!(from_value, Colour::Red);
        assert!(serde_json::from_str::<Colour>("3").is_err());
        let set: HashSet<Colour> = [Colour::Red, Colour::Red, o.clone()].into_iter().collect();
        assert_eq!(set.len(), 2);
    }

    #[test]
    fn tag_serializes_its_constant_and_accepts_anything() {
        assert_eq!(serde_json::to_string(&ThingTag).unwrap(), "\"radar.thing\"");
        for json in [
            "\"radar.thing\"",
            "\"something else\"",
            "null",
            "{\"a\":[1]}",
            "7",
        ] {
            assert_eq!(serde_json::from_str::<ThingTag>(json).unwrap(), ThingTag);
        }
        fn default_of<T: Default>() -> T {
            T::default()
        }
        assert_eq!(default_of::<ThingTag>(), ThingTag);
        assert_eq!(std::mem::size_of::<ThingTag>(), 0);
    }
}
