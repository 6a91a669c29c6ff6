//! The profile text being loaded: turns a value's span into a [`ProfileError`] and checks
//! the kinds of values that recur (text, kana, bounded numbers, dates).

use std::ops::{Range, RangeInclusive};

use time::{Date, Month};
use toml::Spanned;
use toml::value::Datetime;

use super::ProfileError;
use crate::error::ErrorCode;
use crate::person::KanaName;
use crate::text::{Normalization, clean};

/// The file being loaded, to turn spans into errors.
pub(super) struct Source<'a> {
    pub(super) name: &'a str,
    pub(super) text: &'a str,
}

impl Source<'_> {
    pub(super) fn error(&self, span: Range<usize>, reason: impl Into<String>) -> ProfileError {
        ProfileError::at(self.name, self.text, span, reason)
    }

    /// A required piece of text: trimmed, NFC, no control characters, 1 ..= `max` chars.
    pub(super) fn text(
        &self,
        value: &Spanned<String>,
        key: &str,
        max: usize,
    ) -> Result<String, ProfileError> {
        clean(value.get_ref(), max, Normalization::NfcKeepingIdeographs).map_err(|code| {
            let reason = match code {
                ErrorCode::Required => format!("{key} must not be empty"),
                ErrorCode::TooLong => format!("{key} must be at most {max} characters; shorten it"),
                _ => {
                    format!("{key} must not contain line breaks, tabs or other control characters")
                }
            };
            self.error(value.span(), reason)
        })
    }

    pub(super) fn kana(
        &self,
        value: &Spanned<String>,
        key: &str,
    ) -> Result<KanaName, ProfileError> {
        KanaName::parse(value.get_ref()).map_err(|_| {
            let reason = format!(
                "{key} must be 1 to {} full-width katakana (e.g. \"マドグチギンコウ\"), without ・ or latin letters",
                KanaName::MAX_CHARS
            );
            self.error(value.span(), reason)
        })
    }

    /// An optional number with a default, checked against `range`.
    pub(super) fn number(
        &self,
        value: Option<&Spanned<i64>>,
        key: &str,
        default: i64,
        range: RangeInclusive<i64>,
    ) -> Result<i64, ProfileError> {
        let Some(value) = value else {
            return Ok(default);
        };
        let number = *value.get_ref();
        if range.contains(&number) {
            Ok(number)
        } else {
            let reason = format!(
                "{key} is {number} but must be between {} and {}",
                range.start(),
                range.end()
            );
            Err(self.error(value.span(), reason))
        }
    }

    pub(super) fn date(&self, value: &Spanned<Datetime>, key: &str) -> Result<Date, ProfileError> {
        let datetime = value.get_ref();
        let date = match (datetime.date, datetime.time, datetime.offset) {
            (Some(d), None, None) => Month::try_from(d.month)
                .ok()
                .and_then(|month| Date::from_calendar_date(i32::from(d.year), month, d.day).ok()),
            _ => None,
        };
        date.ok_or_else(|| {
            let reason =
                format!("{key} must be a plain date such as 2026-12-29 (no time, no quotes)");
            self.error(value.span(), reason)
        })
    }
}
