//! Small declarative helpers shared by the value types.
//!
//! `choice_enum!`: a closed list of choices with stable kebab-case names (select options,
//! radio buttons, statuses). The names are what forms send and what storage keeps; never
//! rename one.
//!
//! `string_newtype_impls!`: `TryFrom<String>` (re-parsing, so deserialized values are
//! valid too), `From<T> for String` and `Display` for a `struct T(String)` with
//! `T::parse(&str) -> Result<T, ErrorCode>`.

/// Declares a `Copy` enum whose variants each have a stable name, with `ALL`, `as_str`,
/// `parse` (blank → `required`, unknown → `invalid-choice`), `Display` and serde as the name.
macro_rules! choice_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every choice, in display order.
            pub const ALL: &'static [$name] = &[$(Self::$variant),+];

            /// The stable name sent by forms and kept in storage.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }

            /// Parses a stable name. Blank gives `required`, anything else unknown gives
            /// `invalid-choice`.
            pub fn parse(input: &str) -> Result<Self, $crate::error::ErrorCode> {
                let input = input.trim();
                if input.is_empty() {
                    return Err($crate::error::ErrorCode::Required);
                }
                Self::ALL
                    .iter()
                    .copied()
                    .find(|choice| choice.as_str() == input)
                    .ok_or($crate::error::ErrorCode::InvalidChoice)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <String as ::serde::Deserialize>::deserialize(deserializer)?;
                Self::parse(&text).map_err(|code| {
                    ::serde::de::Error::custom(format_args!("{}: {:?}", code, text))
                })
            }
        }
    };
}

/// See the module documentation.
macro_rules! string_newtype_impls {
    ($($name:ident),+) => {$(
        impl TryFrom<String> for $name {
            type Error = $crate::error::ErrorCode;
            fn try_from(value: String) -> Result<Self, $crate::error::ErrorCode> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    )+};
}

pub(crate) use choice_enum;
pub(crate) use string_newtype_impls;
