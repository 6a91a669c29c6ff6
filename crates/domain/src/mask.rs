//! Masked forms of personal values, for pages that show that a value exists without showing
//! it: 氏名 `山田 太郎` → `山田 ＊＊`, e-mail `yamada@example.jp` → `y＊＊＊@example.jp`, phone
//! `090-1234-5678` → `090-＊＊＊＊-5678`, anything else → `＊＊＊＊`.
//!
//! A partial mask is computed from the plaintext, so showing one is a read of personal data
//! (the back office audits it); [`PLACEHOLDER`] needs nothing.

/// The mask character: full-width, so that it never looks like part of a half-width value.
pub const MASK_CHAR: char = '＊';

/// What a fully masked value shows, whatever its length (the length is not disclosed).
pub const PLACEHOLDER: &str = "＊＊＊＊";

/// How a field's value is masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskKind {
    /// A full name, family name first: the family name stays, the rest is masked.
    Name,
    /// An e-mail address: the first character of the local part and the domain stay.
    Email,
    /// A phone number: the first and last groups stay.
    Phone,
    /// Everything else (address, birth date, employer, account number...): fully masked.
    Full,
}

/// Masks `value` as `kind` says.
pub fn mask(kind: MaskKind, value: &str) -> String {
    match kind {
        MaskKind::Name => name(value),
        MaskKind::Email => email(value),
        MaskKind::Phone => phone(value),
        MaskKind::Full => PLACEHOLDER.to_owned(),
    }
}

fn masks(count: usize) -> String {
    std::iter::repeat_n(MASK_CHAR, count).collect()
}

/// `山田 太郎` → `山田 ＊＊`. Without a space (half- or full-width) between family and given
/// name, only the first character stays.
pub fn name(value: &str) -> String {
    let value = value.trim();
    match value.split_once([' ', '\u{3000}']) {
        Some((family, given)) if !family.is_empty() => {
            let given = given.trim();
            format!("{family} {}", masks(given.chars().count().clamp(1, 8)))
        }
        _ => {
            let mut chars = value.chars();
            match chars.next() {
                Some(first) => format!("{first}{}", masks(chars.count().clamp(1, 8))),
                None => PLACEHOLDER.to_owned(),
            }
        }
    }
}

/// `yamada@example.jp` → `y＊＊＊@example.jp`; not an address → [`PLACEHOLDER`].
pub fn email(value: &str) -> String {
    let value = value.trim();
    match value.rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {
            let first = local.chars().next().map(String::from).unwrap_or_default();
            format!("{first}{}@{domain}", masks(3))
        }
        _ => PLACEHOLDER.to_owned(),
    }
}

/// `090-1234-5678` → `090-＊＊＊＊-5678`; without hyphens, the first three and last four digits
/// stay when at least ten digits are given; otherwise [`PLACEHOLDER`].
pub fn phone(value: &str) -> String {
    let value = value.trim();
    let groups: Vec<&str> = value.split('-').collect();
    if groups.len() >= 3 && groups.iter().all(|g| is_digits(g)) {
        let middle: Vec<String> = groups[1..groups.len() - 1]
            .iter()
            .map(|g| masks(g.chars().count()))
            .collect();
        return format!(
            "{}-{}-{}",
            groups[0],
            middle.join("-"),
            groups[groups.len() - 1]
        );
    }
    if is_digits(value) && value.len() >= 10 {
        let (head, rest) = value.split_at(3);
        let (middle, tail) = rest.split_at(rest.len() - 4);
        return format!("{head}{}{tail}", masks(middle.len()));
    }
    PLACEHOLDER.to_owned()
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_the_family_name() {
        assert_eq!(name("山田 太郎"), "山田 ＊＊");
        assert_eq!(name("山田\u{3000}太郎"), "山田 ＊＊");
        assert_eq!(name("ヤマダ タロウ"), "ヤマダ ＊＊＊");
        assert_eq!(name("山田"), "山＊");
        assert_eq!(name(""), PLACEHOLDER);
    }

    #[test]
    fn e_mail_addresses_keep_one_letter_and_the_domain() {
        assert_eq!(email("yamada@example.jp"), "y＊＊＊@example.jp");
        assert_eq!(email("a@b.jp"), "a＊＊＊@b.jp");
        assert_eq!(email("not an address"), PLACEHOLDER);
        assert_eq!(email("@example.jp"), PLACEHOLDER);
    }

    #[test]
    fn phones_keep_the_first_and_last_groups() {
        assert_eq!(phone("090-1234-5678"), "090-＊＊＊＊-5678");
        assert_eq!(phone("098-867-1234"), "098-＊＊＊-1234");
        assert_eq!(phone("09012345678"), "090＊＊＊＊5678");
        assert_eq!(phone("12"), PLACEHOLDER);
        assert_eq!(phone("090-abcd-5678"), PLACEHOLDER);
    }

    #[test]
    fn other_values_are_fully_masked_whatever_their_length() {
        assert_eq!(mask(MaskKind::Full, "沖縄県那覇市久茂地1-2-3"), PLACEHOLDER);
        assert_eq!(mask(MaskKind::Full, "1"), PLACEHOLDER);
        assert_eq!(mask(MaskKind::Name, "山田 太郎"), "山田 ＊＊");
    }
}
