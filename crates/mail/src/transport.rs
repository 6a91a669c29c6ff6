use std::io::Write;
use std::path::{Path, PathBuf};

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use madoguchi_domain::OutgoingMail;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The message can never be sent as it is (a malformed address): retrying will not help.
    #[error("message refused: {0}")]
    Permanent(String),
    /// The transport failed this time; try again later.
    #[error("delivery failed: {0}")]
    Temporary(String),
    #[error("invalid SMTP URL (expected smtp://HOST:PORT?tls=required or smtps://HOST): {0}")]
    SmtpUrl(String),
}

/// Where messages go.
#[derive(Clone)]
pub enum Transport {
    /// Writes each message as `<id>.eml` into a folder (the embedded default).
    Folder(PathBuf),
    /// Hands messages to an SMTP server.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Folder(dir) => write!(f, "Folder({})", dir.display()),
            Transport::Smtp(_) => write!(f, "Smtp"),
        }
    }
}

impl Transport {
    /// An SMTP transport from a URL such as `smtp://user:pass@mail.example.jp:587?tls=required`.
    pub fn smtp(url: &str) -> Result<Transport, MailError> {
        Transport::smtp_trusting(url, None)
    }

    /// [`Transport::smtp`] that also trusts `ca_pem` (PEM), the bank's own certificate
    /// authority of an internal mail relay, besides the public roots. TLS stays as the URL
    /// asks (`tls=required` for STARTTLS, `smtps://` for TLS from the first byte).
    pub fn smtp_trusting(url: &str, ca_pem: Option<&[u8]>) -> Result<Transport, MailError> {
        let bad = |e: lettre::transport::smtp::Error| MailError::SmtpUrl(e.to_string());
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(bad)?;
        if let Some(pem) = ca_pem {
            let (wrapper, host) = tls_of(url).ok_or_else(|| {
                MailError::SmtpUrl(
                    "a CA is given but the URL asks for no TLS (use tls=required or smtps://)"
                        .to_owned(),
                )
            })?;
            let ca = Certificate::from_pem(pem).map_err(bad)?;
            let parameters = TlsParameters::builder(host)
                .add_root_certificate(ca)
                .build_rustls()
                .map_err(bad)?;
            builder = builder.tls(if wrapper {
                Tls::Wrapper(parameters)
            } else {
                Tls::Required(parameters)
            });
        }
        Ok(Transport::Smtp(builder.build()))
    }

    /// Builds the message and sends it.
    pub async fn send(
        &self,
        id: &str,
        from: &Mailbox,
        mail: &OutgoingMail,
    ) -> Result<(), MailError> {
        let message = build(from, mail, id)?;
        match self {
            Transport::Folder(dir) => write_eml(dir, id, &message.formatted()),
            Transport::Smtp(smtp) => smtp
                .send(message)
                .await
                .map(drop)
                .map_err(|e| MailError::Temporary(e.to_string())),
        }
    }
}

/// For a URL that asks for TLS: whether from the first byte (`smtps://`), and the host name
/// the certificate must carry. `None`: no TLS asked.
fn tls_of(url: &str) -> Option<(bool, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let wrapper = scheme == "smtps";
    if !wrapper && !url.contains("tls=required") {
        return None;
    }
    let authority = rest.split(['/', '?']).next()?;
    let host_port = authority.rsplit('@').next()?;
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => host_port.split(':').next()?,
    };
    Some((wrapper, host.to_owned()))
}

/// The `Message-ID` of the outbox message `id`: derived from the row's id, so the same on
/// every attempt. Delivery is at least once — a crash between handing a message to the relay
/// and recording it as sent sends it again after its lease — and the receiving side can
/// recognise the second copy by this header and drop it. It names nothing personal.
pub fn message_id(id: &str, from: &Mailbox) -> String {
    format!("<{id}.outbox@{}>", from.email.domain())
}

fn build(from: &Mailbox, mail: &OutgoingMail, id: &str) -> Result<Message, MailError> {
    let to: Mailbox = mail
        .to
        .parse()
        .map_err(|_| MailError::Permanent("recipient address does not parse".to_owned()))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .message_id(Some(message_id(id, from)))
        .date_now()
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body.clone())
        .map_err(|e| MailError::Permanent(e.to_string()))
}

/// Writes atomically: a reader of the folder never sees half a message.
fn write_eml(dir: &Path, id: &str, bytes: &[u8]) -> Result<(), MailError> {
    let temporary =
        |e: std::io::Error| MailError::Temporary(format!("outbox folder {}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(temporary)?;
    let partial = dir.join(format!(".{id}.eml.partial"));
    let mut file = std::fs::File::create(&partial).map_err(temporary)?;
    file.write_all(bytes).map_err(temporary)?;
    file.sync_all().map_err(temporary)?;
    std::fs::rename(&partial, dir.join(format!("{id}.eml"))).map_err(temporary)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from() -> Mailbox {
        "no-reply@bank.example".parse().expect("mailbox")
    }

    fn mail(to: &str, subject: &str) -> OutgoingMail {
        OutgoingMail {
            to: to.to_owned(),
            subject: subject.to_owned(),
            body: "本文".to_owned(),
        }
    }

    #[test]
    fn a_recipient_with_a_line_break_is_refused_not_sent() {
        let result = build(
            &from(),
            &mail("taro@example.jp\r\nBcc: evil@example.com", "件名"),
            "m1",
        );
        assert!(matches!(result, Err(MailError::Permanent(_))));
    }

    #[test]
    fn a_line_break_in_the_subject_cannot_add_a_header() {
        let message = build(
            &from(),
            &mail("taro@example.jp", "受付\r\nBcc: evil@example.com"),
            "m1",
        )
        .expect("built");
        let text = String::from_utf8(message.formatted()).expect("utf-8");
        assert!(
            !text
                .lines()
                .any(|line| line.to_ascii_lowercase().starts_with("bcc:")),
            "{text}"
        );
        assert!(text.contains("To: taro@example.jp"));
    }

    #[test]
    fn a_message_sent_again_carries_the_same_message_id() {
        let id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
        let header = |message: Message| {
            String::from_utf8(message.formatted())
                .expect("utf-8")
                .lines()
                .find(|l| l.starts_with("Message-ID: "))
                .map(str::to_owned)
        };
        let first = build(&from(), &mail("taro@example.jp", "件名"), id).expect("built");
        let again = build(&from(), &mail("taro@example.jp", "件名"), id).expect("built");
        let expected = format!("Message-ID: <{id}.outbox@bank.example>");
        assert_eq!(header(first).as_deref(), Some(expected.as_str()));
        assert_eq!(header(again).as_deref(), Some(expected.as_str()));
        let other = build(&from(), &mail("taro@example.jp", "件名"), "m2").expect("built");
        assert_ne!(header(other).as_deref(), Some(expected.as_str()));
    }

    #[test]
    fn the_folder_transport_writes_whole_files_only() {
        let dir = tempfile::tempdir().expect("dir");
        let message = build(&from(), &mail("taro@example.jp", "件名"), "m1").expect("built");
        write_eml(dir.path(), "m1", &message.formatted()).expect("written");
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("read")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            vec!["m1.eml".to_owned()],
            "no partial file left behind"
        );
    }
}
