//! The e-mail check that starts every application (SPEC §4.1): a 6-digit code, and the
//! plain message handed to the mail outbox.

use std::fmt;

use zeroize::Zeroizing;

use crate::receipt::RandomnessUnavailable;

/// A 6-digit e-mail verification code. Secret until used: `Debug` hides it, and the
/// digits are wiped on drop. The caller stores only a MAC of it and compares MACs.
pub struct VerificationCode(Zeroizing<String>);

impl VerificationCode {
    /// A uniformly random code 000000 ..= 999999 from the operating system's generator.
    /// 32-bit draws at or above the largest multiple of 10^6 are redrawn, so there is no
    /// modulo bias.
    pub fn generate() -> Result<Self, RandomnessUnavailable> {
        const LIMIT: u32 = u32::MAX - (u32::MAX % 1_000_000);
        loop {
            let mut bytes = Zeroizing::new([0u8; 4]);
            getrandom::fill(&mut bytes[..]).map_err(RandomnessUnavailable::from)?;
            let draw = u32::from_le_bytes(*bytes);
            if draw < LIMIT {
                return Ok(Self::from_number(draw % 1_000_000));
            }
        }
    }

    fn from_number(n: u32) -> Self {
        Self(Zeroizing::new(format!("{n:06}")))
    }

    /// The six ASCII digits, to put in the e-mail and to MAC.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for VerificationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerificationCode(******)")
    }
}

/// A plain-text e-mail to one recipient, as queued (sealed) in the outbox and sent by the
/// mail worker. `Debug` shows only the subject, since the body may carry a code or
/// personal data and the address is personal data.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OutgoingMail {
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub body: String,
}

impl fmt::Debug for OutgoingMail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutgoingMail")
            .field("to", &"<redacted>")
            .field("subject", &self.subject)
            .field(
                "body",
                &format_args!("<{} characters>", self.body.chars().count()),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_vary() {
        let codes: Vec<String> = (0..50)
            .map(|_| {
                VerificationCode::generate()
                    .expect("OS randomness")
                    .as_str()
                    .to_owned()
            })
            .collect();
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()))
        );
        let distinct: std::collections::HashSet<&String> = codes.iter().collect();
        assert!(distinct.len() > 40);
        assert_eq!(VerificationCode::from_number(42).as_str(), "000042");
    }

    #[test]
    fn debug_hides_secrets() {
        let code = VerificationCode::from_number(123_456);
        assert_eq!(format!("{code:?}"), "VerificationCode(******)");
        let mail = OutgoingMail {
            to: "taro@example.jp".into(),
            subject: "件名".into(),
            body: "code 123456".into(),
        };
        let shown = format!("{mail:?}");
        assert!(
            !shown.contains("taro") && !shown.contains("123456"),
            "{shown}"
        );
        assert!(shown.contains("件名"));
    }
}
