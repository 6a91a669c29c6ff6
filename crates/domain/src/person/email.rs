//! E-mail address (メールアドレス).

use std::fmt;

use crate::error::ErrorCode;
use crate::text::{Normalization, clean};

/// An e-mail address this service can send to. A deliberate subset of RFC 5321/5322:
///
/// - NFKC-normalized (full-width ａ＠ｂ becomes a@b) and trimmed; at most 254 characters;
/// - exactly one `@`;
/// - local part of 1–64 ASCII characters from `A-Z a-z 0-9 . ! # $ % & * + - / = ? ^ _ `
///   { | } ~`, not starting or ending with `.` and without `..` (no quoted local parts, so
///   no spaces, quotes or `<>()[]\,;:`). Old Japanese carrier addresses such as
///   `taro..yamada.@docomo.ne.jp` are refused: the mail transport cannot send to them;
/// - a domain of at least two dot-separated labels of 1–63 characters from `A-Z a-z 0-9 -`,
///   not starting or ending with `-`, the last label not all digits (no IP addresses);
///   internationalized domains must be entered in their `xn--` form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Maximum characters of a whole address.
    pub const MAX_CHARS: usize = 254;

    /// Parses an address; `invalid-email` outside the accepted subset.
    pub fn parse(input: &str) -> Result<Self, ErrorCode> {
        let text =
            clean(input, Self::MAX_CHARS, Normalization::Nfkc).map_err(|code| match code {
                ErrorCode::TooLong => ErrorCode::InvalidEmail,
                other => other,
            })?;
        let (local, domain) = text.split_once('@').ok_or(ErrorCode::InvalidEmail)?;
        if valid_local_part(local) && valid_domain(domain) {
            Ok(Self(text))
        } else {
            Err(ErrorCode::InvalidEmail)
        }
    }

    /// The address as entered (after normalization and trimming).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The whole address in lower case: the form used for the blind index, so that
    /// `Taro@Example.JP` and `taro@example.jp` are found as the same applicant.
    pub fn normalized(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

fn valid_local_part(local: &str) -> bool {
    const SPECIALS: &str = "!#$%&*+-/=?^_`{|}~.";
    (1..=64).contains(&local.len())
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || SPECIALS.contains(c))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let valid_label = |label: &&str| {
        (1..=63).contains(&label.len())
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(valid_label)
        && labels
            .last()
            .is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()))
}

impl TryFrom<String> for EmailAddress {
    type Error = ErrorCode;
    fn try_from(value: String) -> Result<Self, ErrorCode> {
        Self::parse(&value)
    }
}

impl From<EmailAddress> for String {
    fn from(value: EmailAddress) -> Self {
        value.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses_and_full_width_input() {
        for (input, stored) in [
            ("taro@example.jp", "taro@example.jp"),
            (
                " Taro.Yamada+bank@Mail.Example.CO.JP ",
                "Taro.Yamada+bank@Mail.Example.CO.JP",
            ),
            ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "taro@example.jp"),
            (
                "a_b-c@xn--eckwd4c7c.xn--zckzah",
                "a_b-c@xn--eckwd4c7c.xn--zckzah",
            ),
        ] {
            assert_eq!(
                EmailAddress::parse(input).map(|e| e.to_string()),
                Ok(stored.into()),
                "{input}"
            );
        }
    }

    #[test]
    fn refuses_outside_the_subset() {
        for bad in [
            "taro",
            "taro@",
            "@example.jp",
            "taro@example",
            "ta ro@example.jp",
            "taro@@example.jp",
            "a@b@example.jp",
            "\"taro\"@example.jp",
            "o'brien@example.jp",
            "taro<x>@example.jp",
            "taro(x)@example.jp",
            "taro[x]@example.jp",
            "ta\\ro@example.jp",
            "ta,ro@example.jp",
            "ta;ro@example.jp",
            "ta:ro@example.jp",
            "taro..yamada@docomo.ne.jp",
            "taro.@docomo.ne.jp",
            ".taro@example.jp",
            "taro@-example.jp",
            "taro@example-.jp",
            "taro@exa_mple.jp",
            "taro@example..jp",
            "taro@192.168.0.1",
            "taro@[192.168.0.1]",
            "太郎@example.jp",
            "taro@例え.jp",
        ] {
            assert_eq!(
                EmailAddress::parse(bad),
                Err(ErrorCode::InvalidEmail),
                "{bad}"
            );
        }
        assert_eq!(EmailAddress::parse(""), Err(ErrorCode::Required));
        assert_eq!(
            EmailAddress::parse("taro@example.jp\r\nBcc: x@y.jp"),
            Err(ErrorCode::ControlCharacter)
        );
    }

    #[test]
    fn length_limits() {
        let local64 = "a".repeat(64);
        assert!(EmailAddress::parse(&format!("{local64}@example.jp")).is_ok());
        assert_eq!(
            EmailAddress::parse(&format!("a{local64}@example.jp")),
            Err(ErrorCode::InvalidEmail)
        );
        let label = "b".repeat(63);
        let long = format!("a@{label}.{label}.{label}.{}.jp", "c".repeat(57));
        assert_eq!(long.len(), 254);
        assert!(EmailAddress::parse(&long).is_ok());
        assert_eq!(
            EmailAddress::parse(&format!("a{long}")),
            Err(ErrorCode::InvalidEmail)
        );
        assert_eq!(
            EmailAddress::parse(&format!("a@{}.jp", "b".repeat(64))),
            Err(ErrorCode::InvalidEmail)
        );
    }

    #[test]
    fn normalized_is_lower_case() {
        let email = EmailAddress::parse("Taro@Example.JP").expect("valid");
        assert_eq!(email.normalized(), "taro@example.jp");
        assert_eq!(email.as_str(), "Taro@Example.JP");
    }
}
