//! Validated value types: private fields, a `parse` constructor, serde through `parse`. A value
//! of one of these types is already known to satisfy the matching database CHECK, so bad input
//! is refused with a typed error before any round trip.

/// Declares a validated string newtype: private field, `parse` (the only constructor for callers),
/// serde through `parse`. Used by this module and by the repository's admin value types.
#[doc(hidden)]
#[macro_export]
macro_rules! validated {
    ($(#[$doc:meta])* $name:ident, $field:literal, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validate and normalise `raw`.
            pub fn parse(raw: &str) -> Result<Self, $crate::InvalidInput> {
                let check: fn(&str) -> Result<String, String> = $check;
                check(raw).map(Self).map_err(|reason| $crate::InvalidInput::new($field, reason))
            }

            /// The normalised text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Wrap a value read back from the database (already checked by its constraint):
            /// for the repository's row mapping, not for input.
            #[doc(hidden)]
            pub fn from_db(raw: String) -> Self {
                Self(raw)
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::InvalidInput;
            fn try_from(raw: String) -> Result<Self, $crate::InvalidInput> {
                Self::parse(&raw)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = $crate::InvalidInput;
            fn try_from(raw: &str) -> Result<Self, $crate::InvalidInput> {
                Self::parse(raw)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

pub use validated;

validated!(
    /// An e-mail address: `local@domain.tld`, at most 254 characters, stored case-insensitively.
    Email,
    "email",
    |raw| {
        let s = raw.trim();
        if crate::input::is_email(s) { Ok(s.to_string()) } else { Err(format!("{raw:?} is not an e-mail address")) }
    }
);

validated!(
    /// A US ZIP code: exactly five digits.
    Zip,
    "zip",
    |raw| {
        let s = raw.trim();
        if s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(s.to_string())
        } else {
            Err(format!("{raw:?} is not a 5-digit ZIP code"))
        }
    }
);

validated!(
    /// A two-letter USPS state code (upper-cased).
    StateCode,
    "state_code",
    |raw| {
        let s = raw.trim().to_ascii_uppercase();
        if s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(s)
        } else {
            Err(format!("{raw:?} is not a two-letter state code"))
        }
    }
);

validated!(
    /// A Vehicle Identification Number: 17 characters of A–Z and 0–9, never I, O or Q (upper-cased).
    Vin,
    "vin",
    |raw| {
        let s = raw.trim().to_ascii_uppercase();
        let ok = s.len() == 17 && s.bytes().all(|b| b.is_ascii_digit() || (b.is_ascii_uppercase() && !b"IOQ".contains(&b)));
        if ok { Ok(s) } else { Err(format!("{raw:?} is not a VIN (17 characters, no I, O or Q)")) }
    }
);

validated!(
    /// A human quote number: `Q-YYYYMMDD-XXXXXX` (6 characters of 0–9 and A–Z without I and O).
    QuoteNumber,
    "quote_number",
    |raw| {
        let s = raw.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        let date_ok = b.len() == 17
            && b.starts_with(b"Q-")
            && b[2..10].iter().all(u8::is_ascii_digit)
            && b[10] == b'-'
            && {
                let month = (b[6] - b'0') * 10 + (b[7] - b'0');
                let day = (b[8] - b'0') * 10 + (b[9] - b'0');
                (1..=12).contains(&month) && (1..=31).contains(&day)
            };
        let suffix_ok = date_ok
            && b[11..].iter().all(|c| c.is_ascii_digit() || (c.is_ascii_uppercase() && *c != b'I' && *c != b'O'));
        if suffix_ok { Ok(s) } else { Err(format!("{raw:?} is not a quote number (Q-YYYYMMDD-XXXXXX)")) }
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_values_parse_and_normalise() {
        assert_eq!(Zip::parse(" 94105 ").map(|z| z.to_string()), Ok("94105".into()));
        assert_eq!(StateCode::parse("ca").map(|s| s.to_string()), Ok("CA".into()));
        assert_eq!(
            Vin::parse("1hgcm82633a004352").map(|v| v.to_string()),
            Ok("1HGCM82633A004352".into())
        );
        assert!(QuoteNumber::parse("Q-20261125-7K3M9Z").is_ok());
        assert!(Email::parse("Ann@Example.com").is_ok());
    }

    #[test]
    fn invalid_values_get_a_typed_error_naming_the_field() {
        assert_eq!(Zip::parse("9410").map_err(|e| e.field), Err("zip"));
        assert_eq!(Vin::parse("1HGCM82633A00435I").map_err(|e| e.field), Err("vin"));
        assert_eq!(
            QuoteNumber::parse("Q-20261325-7K3M9Z").map_err(|e| e.field),
            Err("quote_number")
        );
        assert_eq!(
            QuoteNumber::parse("Q-20261125-7K3M9O").map_err(|e| e.field),
            Err("quote_number")
        );
        assert_eq!(Email::parse("no-at-sign.com").map_err(|e| e.field), Err("email"));
        assert_eq!(Email::parse("a@b").map_err(|e| e.field), Err("email"));
        assert_eq!(StateCode::parse("C4").map_err(|e| e.field), Err("state_code"));
        assert!(serde_json::from_str::<Zip>("\"abcde\"").is_err());
    }
}
