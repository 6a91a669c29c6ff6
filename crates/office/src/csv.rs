//! CSV cells that a spreadsheet cannot run: a value starting with `=`, `+`, `-`, `@`, a tab
//! or a carriage return — or their full-width forms `＝` `＋` `－` `＠`, which a Japanese IME
//! types and Excel reads alike — is read as a formula (CSV injection), so it gets a leading
//! `'`. Quoting is the `csv` crate's job; every cell the back office writes passes
//! [`cell`] first.

use std::borrow::Cow;

/// The characters that make a spreadsheet read a cell as a formula.
const FORMULA_STARTS: [char; 10] = [
    '=', '+', '-', '@', '\t', '\r', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}',
];

/// `value`, neutralized when a spreadsheet would take it for a formula.
pub fn cell(value: &str) -> Cow<'_, str> {
    if value.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// The byte-order mark that makes Excel read the file as UTF-8 (Japanese otherwise garbles).
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_get_a_leading_quote() {
        assert_eq!(
            cell("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(cell("+81-90-1234-5678"), "'+81-90-1234-5678");
        assert_eq!(cell("-1+1"), "'-1+1");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("\t=1"), "'\t=1");
        assert_eq!(cell("\r=1"), "'\r=1");
        // Full width, as a Japanese IME types them (issue 16).
        assert_eq!(cell("＝HYPERLINK(\"x\")"), "'＝HYPERLINK(\"x\")");
        assert_eq!(cell("＋81"), "'＋81");
        assert_eq!(cell("－1"), "'－1");
        assert_eq!(cell("＠SUM(A1)"), "'＠SUM(A1)");
    }

    #[test]
    fn ordinary_values_are_untouched() {
        for value in [
            "山田",
            "090-1234-5678",
            "",
            "a=b",
            " =1",
            "'quoted",
            "１＋１",
        ] {
            assert_eq!(cell(value), value);
            assert!(matches!(cell(value), Cow::Borrowed(_)));
        }
    }
}
