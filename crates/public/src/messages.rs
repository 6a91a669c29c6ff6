//! The message catalogues: every text a page or e-mail shows, in Japanese and English, kept
//! out of code (`messages/ja.toml`, `messages/en.toml`). Placeholders are `{name}`, filled by
//! [`fill`]; the catalogue holds plain text only (askama escapes it like any other value).

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;

const JAPANESE: &str = include_str!("../messages/ja.toml");
const ENGLISH: &str = include_str!("../messages/en.toml");

/// The language of a page or e-mail. Japanese is the default (the bank's choice): English is
/// shown only to applicants who chose it with the switch on every page, and to API clients whose
/// `Accept-Language` prefers it (`language::from_accept_language`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Ja,
    En,
}

impl Lang {
    /// The language's tag, as `<html lang>` and the `mdg_lang` cookie write it.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language the switch offers from this one.
    pub fn other(self) -> Lang {
        match self {
            Lang::Ja => Lang::En,
            Lang::En => Lang::Ja,
        }
    }
}

/// Labels, messages and texts of one language.
#[derive(Debug, Deserialize)]
pub struct Catalog {
    #[serde(skip)]
    lang: Lang,
    fields: HashMap<String, String>,
    errors: HashMap<String, String>,
    choices: HashMap<String, String>,
    pages: HashMap<String, String>,
    mail: HashMap<String, String>,
    /// The JSON API's own messages, keyed by the answer's `code`.
    api: HashMap<String, String>,
}

/// Both catalogues, compiled into the binary.
#[derive(Debug)]
pub struct Catalogs {
    japanese: Catalog,
    english: Catalog,
}

impl Catalogs {
    pub fn load() -> Result<Catalogs, toml::de::Error> {
        Ok(Catalogs {
            japanese: Catalog::japanese()?,
            english: Catalog::english()?,
        })
    }

    /// The catalogues compiled into the binary, parsed once (for the JSON API's errors, which
    /// are made where no state is at hand). The unit tests below parse both.
    pub fn compiled() -> &'static Catalogs {
        static COMPILED: std::sync::LazyLock<Catalogs> = std::sync::LazyLock::new(|| {
            Catalogs::load().expect("the compiled-in message catalogues parse")
        });
        &COMPILED
    }

    pub fn get(&self, lang: Lang) -> &Catalog {
        match lang {
            Lang::Ja => &self.japanese,
            Lang::En => &self.english,
        }
    }
}

impl Catalog {
    /// The Japanese catalogue compiled into the binary.
    pub fn japanese() -> Result<Catalog, toml::de::Error> {
        Catalog::parse(JAPANESE, Lang::Ja)
    }

    /// The English catalogue compiled into the binary.
    pub fn english() -> Result<Catalog, toml::de::Error> {
        Catalog::parse(ENGLISH, Lang::En)
    }

    fn parse(text: &str, lang: Lang) -> Result<Catalog, toml::de::Error> {
        let mut catalog: Catalog = toml::from_str(text)?;
        catalog.lang = lang;
        Ok(catalog)
    }

    pub fn lang(&self) -> Lang {
        self.lang
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
        fill(template, &[("field", self.label(field))])
    }

    /// A text of the pages (`[pages]`), or its key when the catalogue has none (a test checks
    /// that every key the templates use is in both catalogues).
    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.pages.get(key).map(String::as_str).unwrap_or(key)
    }

    /// A page text with placeholders to fill: `catalog.tr("key").arg("name", value)`.
    pub fn tr<'a>(&'a self, key: &'a str) -> Text<'a> {
        Text::new(self.t(key))
    }

    /// A message of the JSON API (`[api]`) for the answer code `code`, or the code itself.
    pub fn api<'a>(&'a self, code: &'a str) -> &'a str {
        self.api.get(code).map(String::as_str).unwrap_or(code)
    }

    /// A text of the e-mails (`[mail]`) with placeholders to fill.
    pub fn mail<'a>(&'a self, key: &'a str) -> Text<'a> {
        Text::new(self.mail.get(key).map(String::as_str).unwrap_or(key))
    }
}

/// A catalogue text and the values of its placeholders; displays the filled text.
#[derive(Debug, Clone)]
pub struct Text<'a> {
    template: &'a str,
    args: Vec<(&'a str, String)>,
}

impl<'a> Text<'a> {
    fn new(template: &'a str) -> Text<'a> {
        Text {
            template,
            args: Vec::new(),
        }
    }

    /// Gives the placeholder `{name}` its value.
    pub fn arg(mut self, name: &'a str, value: impl fmt::Display) -> Text<'a> {
        self.args.push((name, value.to_string()));
        self
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let args: Vec<(&str, &str)> = self.args.iter().map(|(n, v)| (*n, v.as_str())).collect();
        f.write_str(&fill(self.template, &args))
    }
}

/// Replaces each `{name}` of `template` with its value, in one pass: a value is never searched
/// for placeholders itself, and an unknown `{name}` (or a lone brace) is kept as written.
pub fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let name_end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
        match name_end {
            Some(end) if end > 0 && after[end..].starts_with('}') => {
                let name = &after[..end];
                match args.iter().find(|(n, _)| *n == name) {
                    Some((_, value)) => out.push_str(value),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[end + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn keys(catalog: &Catalog) -> BTreeSet<String> {
        let sections = [
            ("fields", &catalog.fields),
            ("errors", &catalog.errors),
            ("choices", &catalog.choices),
            ("pages", &catalog.pages),
            ("mail", &catalog.mail),
            ("api", &catalog.api),
        ];
        sections
            .iter()
            .flat_map(|(section, map)| map.keys().map(move |k| format!("{section}.{k}")))
            .collect()
    }

    fn placeholders(text: &str) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            rest = &rest[open + 1..];
            if let Some(close) = rest.find('}') {
                found.insert(rest[..close].to_owned());
                rest = &rest[close + 1..];
            }
        }
        found
    }

    #[test]
    fn both_catalogues_have_the_same_keys_and_placeholders() {
        let ja = Catalog::japanese().unwrap();
        let en = Catalog::english().unwrap();
        let (ja_keys, en_keys) = (keys(&ja), keys(&en));
        let only_ja: Vec<_> = ja_keys.difference(&en_keys).collect();
        let only_en: Vec<_> = en_keys.difference(&ja_keys).collect();
        assert!(only_ja.is_empty(), "missing in en.toml: {only_ja:?}");
        assert!(only_en.is_empty(), "missing in ja.toml: {only_en:?}");
        let pairs = [
            (&ja.fields, &en.fields),
            (&ja.errors, &en.errors),
            (&ja.choices, &en.choices),
            (&ja.pages, &en.pages),
            (&ja.mail, &en.mail),
            (&ja.api, &en.api),
        ];
        for (ja_map, en_map) in pairs {
            for (key, ja_text) in ja_map {
                // Japanese counts pixels in 万 (10,000), English in megapixels.
                let units = |text: &str| {
                    let mut set = placeholders(text);
                    set.remove("man_pixels");
                    set.remove("megapixels");
                    set
                };
                assert_eq!(
                    units(ja_text),
                    units(&en_map[key]),
                    "placeholders of {key} differ"
                );
            }
        }
    }

    #[test]
    fn no_catalogue_text_holds_markup() {
        for catalog in [Catalog::japanese().unwrap(), Catalog::english().unwrap()] {
            for map in [
                &catalog.fields,
                &catalog.errors,
                &catalog.choices,
                &catalog.pages,
                &catalog.mail,
                &catalog.api,
            ] {
                for (key, text) in map {
                    assert!(!text.contains('<') && !text.contains('>'), "{key}: {text}");
                }
            }
        }
    }

    #[test]
    fn every_key_the_templates_use_is_in_both_catalogues() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut files = vec![root];
        let mut used = BTreeSet::new();
        while let Some(path) = files.pop() {
            if path.is_dir() {
                for entry in std::fs::read_dir(&path).unwrap() {
                    files.push(entry.unwrap().path());
                }
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for marker in ["t(\"", "tr(\""] {
                for (at, _) in text.match_indices(marker) {
                    let rest = &text[at + marker.len()..];
                    used.insert(rest[..rest.find('"').unwrap()].to_owned());
                }
            }
        }
        assert!(used.len() > 50, "found only {} keys", used.len());
        for catalog in [Catalog::japanese().unwrap(), Catalog::english().unwrap()] {
            let missing: Vec<_> = used
                .iter()
                .filter(|k| !catalog.pages.contains_key(*k))
                .collect();
            assert!(missing.is_empty(), "{:?} lacks {missing:?}", catalog.lang);
        }
    }

    #[test]
    fn fill_replaces_each_placeholder_once() {
        assert_eq!(
            fill("{a} and {b}", &[("a", "{b}"), ("b", "2")]),
            "{b} and 2"
        );
        assert_eq!(fill("{missing} {a}", &[("a", "1")]), "{missing} 1");
        assert_eq!(fill("a { b } {", &[("b", "x")]), "a { b } {");
        assert_eq!(fill("{a}{a}", &[("a", "x")]), "xx");
        assert_eq!(fill("日本{a}語", &[("a", "の")]), "日本の語");
        assert_eq!(fill("", &[]), "");
    }

    #[test]
    fn text_fills_its_arguments() {
        let en = Catalog::english().unwrap();
        let text = en
            .tr("apply.step")
            .arg("n", 2)
            .arg("total", 7)
            .arg("name", "X");
        assert_eq!(text.to_string(), "Step 2 of 7: X");
    }

    #[test]
    fn catalogue_parses_and_names_the_field() {
        let catalog = Catalog::japanese().unwrap();
        let message = catalog.message("family_name_kana", "not-full-width-katakana");
        assert!(
            message.starts_with("フリガナ（セイ）は全角カタカナ"),
            "{message}"
        );
        let english = Catalog::english().unwrap();
        let message = english.message("family_name_kana", "not-full-width-katakana");
        assert!(message.contains("Family name (katakana)"), "{message}");
    }

    #[test]
    fn every_error_code_has_its_own_message_in_both_languages() {
        for catalog in [Catalog::japanese().unwrap(), Catalog::english().unwrap()] {
            let missing: Vec<&str> = madoguchi_domain::ErrorCode::ALL
                .iter()
                .map(|code| code.as_str())
                .filter(|code| !catalog.errors.contains_key(*code))
                .collect();
            assert!(
                missing.is_empty(),
                "{:?}: no message for {missing:?}",
                catalog.lang
            );
        }
    }

    #[test]
    fn english_texts_are_english() {
        let en = Catalog::english().unwrap();
        for map in [&en.fields, &en.errors, &en.pages, &en.mail, &en.api] {
            for (key, text) in map {
                let japanese = text.chars().any(|c| {
                    ('\u{3040}'..='\u{30ff}').contains(&c) || ('\u{4e00}'..='\u{9fff}').contains(&c)
                });
                // The switch back to Japanese is written in Japanese, as is the katakana hint.
                assert!(
                    !japanese || key == "layout.switch" || text.contains("e.g."),
                    "{key}: {text}"
                );
            }
        }
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
        let english = Catalog::english().unwrap();
        assert_eq!(
            english.message("email", "no-such-code"),
            "Please check the E-mail address."
        );
    }
}
