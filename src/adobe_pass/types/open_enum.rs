//! Adobe's restricted values "may be added in the future but never removed": each is decoded as
//! an open enum that keeps values this client does not know instead of failing.

/// Declares an open enum over Adobe's wire strings, with an `Other(String)` variant for new values.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this client does not know yet, kept as sent.
            Other(String),
        }

        impl $name {
            /// The value as Adobe writes it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Other(value) => value,
                }
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $( $wire => Self::$variant, )+
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
                Ok(Self::from(value.as_ref()))
            }
        }
    };
}

pub(crate) use open_enum;

#[cfg(test)]
mod tests {
    open_enum! {
        /// A test enum.
        Colour { Red = "red", Green = "green" }
    }

    #[test]
    fn known_values_decode_and_unknown_values_are_kept() {
        let colours: Vec<Colour> =
            serde_json::from_str(r#"["red","green","blue"]"#).expect("decodes");
        assert_eq!(
            colours,
            vec![Colour::Red, Colour::Green, Colour::Other("blue".to_owned())]
        );
        assert_eq!(
            serde_json::to_string(&colours).expect("encodes"),
            r#"["red","green","blue"]"#
        );
    }
}
