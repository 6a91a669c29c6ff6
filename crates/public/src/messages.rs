//! The message catalogue: field labels and validation messages, kept out of code.

use std::collections::HashMap;

use serde::Deserialize;

const JAPANESE: &str = include_str!("../messages/ja.toml");

/// Labels and messages of one language.
#[derive(Debug, Deserialize)]
pub struct Catalog {
    fields: HashMap<String, String>,
    errors: HashMap<String, String>,
    choices: HashMap<String, String>,
}

impl Catalog {
    /// The Japanese catalogue compiled into the binary.
    pub fn japanese() -> Result<Catalog, toml::de::Error> {
        toml::from_str(JAPANESE)
    }

    /// The label of a form field, or its name when the catalogue has none.
    pub fn label<'a>(&'a self, field: &'a str) -> &'a str {
        self.fields.get(field).map(String::as_str).unwrap_or(field)
    }

    /// The label of the choice `value` of `field`, or the value itself when none is known.
    pub fn choice<'a>(&'a self, field: &str, value: &'a str) -> &'a str {
        self.choices
            .get(&format!("{field}.{value}"))
            .map(String::as_str)
            .unwrap_or(value)
    }

    /// The message for an error code on a field, saying how to fix it.
    pub fn message(&self, field: &str, code: &str) -> String {
        // A message for this field alone ("field.code") wins over the code's own.
        let template = self
            .errors
            .get(&format!("{field}.{code}"))
            .or_else(|| self.errors.get(code))
            .or_else(|| self.errors.get("other"))
            .map(String::as_str)
            .unwrap_or("{field}");
        template.replace("{field}", self.label(field))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_parses_and_names_the_field() {
        let catalog = Catalog::japanese().unwrap();
        let message = catalog.message("family_name_kana", "not-full-width-katakana");
        assert!(
            message.starts_with("フリガナ（セイ）は全角カタカナ"),
            "{message}"
        );
    }

    #[test]
    fn every_error_code_has_its_own_message() {
        let catalog = Catalog::japanese().unwrap();
        let missing: Vec<&str> = madoguchi_domain::ErrorCode::ALL
            .iter()
            .map(|code| code.as_str())
            .filter(|code| !catalog.errors.contains_key(*code))
            .collect();
        assert!(missing.is_empty(), "no message for {missing:?}");
    }

    #[test]
    fn a_field_may_have_its_own_message_for_a_code() {
        let catalog = Catalog::japanese().unwrap();
        let own = catalog.message("current_cash_card_pin", "pin-birth-date");
        assert!(own.contains("ATMまたは窓口で暗証番号を変更"), "{own}");
        let shared = catalog.message("debit_card_pin", "pin-birth-date");
        assert!(shared.starts_with("生年月日から推測できる番号"), "{shared}");
    }

    #[test]
    fn unknown_code_falls_back_to_a_message_naming_the_field() {
        let catalog = Catalog::japanese().unwrap();
        assert_eq!(
            catalog.message("email", "no-such-code"),
            "メールアドレスをご確認ください。"
        );
    }
}
