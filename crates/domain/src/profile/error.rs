//! Errors of a broken bank profile, pointing at the file, line and column.

use std::fmt;
use std::ops::Range;

/// Why the bank profile was refused, as `FILE:LINE:COL: reason and how to fix it`.
///
/// Unlike field errors this is an English sentence: it is read by the operator starting the
/// service, not by an applicant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ProfileError {
    source_name: String,
    line: usize,
    column: usize,
    reason: String,
}

impl ProfileError {
    /// An error at byte offset `span.start` of `text`.
    pub(super) fn at(
        source_name: &str,
        text: &str,
        span: Range<usize>,
        reason: impl Into<String>,
    ) -> Self {
        let (line, column) = line_and_column(text, span.start);
        Self {
            source_name: source_name.to_owned(),
            line,
            column,
            reason: reason.into(),
        }
    }

    /// The file (or other source) name given to the loader.
    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// 1-based line of the offending value or key.
    pub fn line(&self) -> usize {
        self.line
    }

    /// 1-based column, in characters.
    pub fn column(&self) -> usize {
        self.column
    }

    /// What is wrong and how to fix it.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.source_name, self.line, self.column, self.reason
        )
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = text.get(..offset).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .unwrap_or_default()
        .chars()
        .count()
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let text = "a = 1\nあい = 2\n";
        assert_eq!(line_and_column(text, 0), (1, 1));
        assert_eq!(line_and_column(text, 6), (2, 1));
        // Byte 12 is after あい (6 bytes) and a space: column 4.
        assert_eq!(line_and_column(text, 13), (2, 4));
        assert_eq!(line_and_column(text, 1_000), (3, 1));
        // Inside a multi-byte character: rounded down to its start.
        assert_eq!(line_and_column(text, 7), (2, 1));
        let error = ProfileError::at("bank.toml", text, 6..7, "bad");
        assert_eq!(error.to_string(), "bank.toml:2:1: bad");
    }
}
