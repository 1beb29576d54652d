//! Input checks shared by every module: the error they return and the validators behind the
//! database's format and bounds rules, so a bad value is refused before a round trip, with the
//! same verdict the constraint would give.

/// A value given by the caller failed validation before reaching the database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {reason}")]
pub struct InvalidInput {
    /// Which input.
    pub field: &'static str,
    /// Why it was refused.
    pub reason: String,
}

impl InvalidInput {
    /// A refusal of `field` for `reason`.
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// Trimmed, non-blank text of at most `max` characters without NUL bytes (PostgreSQL text cannot
/// hold one): the bounds of the `*_values_bounded` constraints (`quotedb_schema::base`), checked
/// before the round trip.
pub fn bounded_text(field: &'static str, raw: &str, max: usize) -> Result<String, InvalidInput> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(InvalidInput::new(field, "must not be blank"));
    }
    if text.contains('\0') {
        return Err(InvalidInput::new(field, "must not contain a NUL character"));
    }
    let chars = text.chars().count();
    if chars > max {
        return Err(InvalidInput::new(
            field,
            format!("{chars} characters, at most {max} allowed"),
        ));
    }
    Ok(text.to_owned())
}

/// A JSON document the database accepts: at most `quotedb_schema::base::MAX_JSON_BYTES` bytes as
/// text, and no NUL character in any string (jsonb refuses `\u0000`).
pub fn bounded_json(field: &'static str, value: &serde_json::Value) -> Result<(), InvalidInput> {
    let text = value.to_string();
    if text.len() > quotedb_schema::base::MAX_JSON_BYTES {
        return Err(InvalidInput::new(
            field,
            format!(
                "{} bytes of JSON, at most {} allowed",
                text.len(),
                quotedb_schema::base::MAX_JSON_BYTES
            ),
        ));
    }
    if text.contains("\\u0000") {
        return Err(InvalidInput::new(field, "must not contain a NUL character"));
    }
    Ok(())
}

/// Whether `s` is dotted snake_case of at most `max` bytes (`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`),
/// the format of event types, metric names and templates.
pub fn is_dotted_snake(s: &str, max: usize) -> bool {
    s.len() <= max
        && s.split('.').all(|part| {
            let b = part.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_lowercase()
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
        })
}

/// The e-mail rule of the database (`users_email_format`, and the e-mail channel of
/// `notification_queue_recipient_valid`): at most 254 characters, no whitespace, one `@` with text
/// before it, and a dot inside the domain (`^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$`).
pub fn is_email(a: &str) -> bool {
    let Some((local, domain)) = a.split_once('@') else {
        return false;
    };
    // A dot with at least one character on each side (`[^@\s]+\.[^@\s]+`).
    let chars: Vec<char> = domain.chars().collect();
    let dot_inside = chars.len() >= 3 && chars[1..chars.len() - 1].contains(&'.');
    a.chars().count() <= 254
        && !a.chars().any(char::is_whitespace)
        && !local.is_empty()
        && !domain.contains('@')
        && dot_inside
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_text_trims_and_refuses_blank_nul_and_overlong_text() {
        assert_eq!(bounded_text("f", "  Ada ", 3).as_deref(), Ok("Ada"));
        assert_eq!(
            bounded_text("f", "Ädä", 3).as_deref(),
            Ok("Ädä"),
            "characters, not bytes"
        );
        for bad in ["", "   ", "A\0da", "Adam"] {
            assert_eq!(bounded_text("f", bad, 3).map_err(|e| e.field), Err("f"), "{bad:?}");
        }
    }

    #[test]
    fn bounded_json_refuses_big_documents_and_nul_characters() {
        assert!(bounded_json("j", &serde_json::json!({"a": "b"})).is_ok());
        assert!(bounded_json("j", &serde_json::json!({"a": "b\u{0}"})).is_err());
        let big = "x".repeat(quotedb_schema::base::MAX_JSON_BYTES);
        assert!(bounded_json("j", &serde_json::json!({ "a": big })).is_err());
    }
}
