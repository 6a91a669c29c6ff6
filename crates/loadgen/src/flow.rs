//! One applicant's savings-account application over HTTP, request by request, as a browser
//! without JavaScript does it (redirects are checked, not followed, so that each step costs
//! exactly one request).

use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, LOCATION};

use crate::outbox::Outbox;

const FLOW: &str = "/apply/savings-account";
const CODE_TIMEOUT: Duration = Duration::from_secs(60);
/// The birth date every applicant gives; the PINs avoid its forms.
const BIRTH_DATE: &str = "1987-06-14";
/// The last four digits of every applicant's mobile phone; the PINs avoid them too.
const PHONE_LAST_FOUR: &str = "6531";

/// Requests of [`Session::prepare`] plus the submission.
pub const REQUESTS_PER_APPLICATION: usize = 9;

/// The identity documents every applicant uploads (front, back and selfie): a real 320 × 240
/// JPEG with EXIF GPS data, 31 KB, which the server cleans and encrypts three times.
const DOCUMENT_PHOTO: &[u8] = include_bytes!("../../documents/tests/fixtures/exif-gps.jpg");

/// The public site.
#[derive(Debug, Clone)]
pub struct Site {
    base: String,
}

impl Site {
    pub fn new(url: &str) -> Site {
        Site {
            base: url.trim_end_matches('/').to_owned(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{FLOW}{path}", self.base)
    }
}

/// A browser session that has reached the confirmation page.
pub struct Session {
    site: Site,
    client: reqwest::Client,
    csrf: String,
}

/// What came back, body read to the end.
struct Answer {
    status: StatusCode,
    location: String,
    body: String,
}

impl Answer {
    /// Refuses anything but a `303 See Other` to a path ending in `next`.
    fn expect_redirect(self, step: &str, next: &str) -> anyhow::Result<()> {
        if self.status == StatusCode::SEE_OTHER && self.location.ends_with(next) {
            return Ok(());
        }
        Err(unexpected(step, &self, &format!("303 to …{next}")))
    }

    fn expect_ok(self, step: &str) -> anyhow::Result<String> {
        if self.status == StatusCode::OK {
            return Ok(self.body);
        }
        Err(unexpected(step, &self, "200"))
    }
}

fn unexpected(step: &str, answer: &Answer, wanted: &str) -> anyhow::Error {
    let location = if answer.location.is_empty() {
        String::new()
    } else {
        format!(" to {}", answer.location)
    };
    anyhow!(
        "{step}: HTTP {}{location} (expected {wanted})",
        answer.status.as_u16()
    )
}

impl Session {
    /// Everything up to the confirmation page: the e-mail check (code read from the outbox),
    /// the form steps (identity documents uploaded as one multipart form; the PIN is sealed
    /// by the server at the branch step), the confirmation page. 8 requests.
    pub async fn prepare(
        site: &Site,
        outbox: &Outbox,
        run: &str,
        index: usize,
    ) -> anyhow::Result<Session> {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            // Keep the connection from the form steps for the submission, as a browser (or a
            // TLS-terminating proxy in front of the server) would.
            .pool_idle_timeout(Duration::from_secs(900))
            .build()
            .context("cannot build an HTTP client")?;
        let mut session = Session {
            site: site.clone(),
            client,
            csrf: String::new(),
        };
        let page = session.get("start", "").await?.expect_ok("start")?;
        session.csrf = csrf_of(&page).context("start: no CSRF token on the page")?;

        let email = format!("bench.{run}.{index}@example.jp");
        session
            .post("e-mail", "/email", &[("email", email.as_str())])
            .await?
            .expect_redirect("e-mail", "/verify")?;
        let code = outbox
            .code_for(&email, CODE_TIMEOUT)
            .await
            .context("verification code")?;
        session
            .post("code", "/verify", &[("code", code.as_str())])
            .await?
            .expect_redirect("code", "/personal")?;

        let phone = format!("090{:04}{PHONE_LAST_FOUR}", index % 10_000);
        let personal = [
            ("family_name", "負荷試験"),
            ("given_name", "花子"),
            ("family_name_kana", "フカシケン"),
            ("given_name_kana", "ハナコ"),
            ("birth_date", BIRTH_DATE),
            ("sex", "female"),
            ("postal_code", "900-0015"),
            ("prefecture", "47"),
            ("address_line", "那覇市久茂地九丁目"),
            ("address_building", ""),
            ("phone_home", ""),
            ("phone_mobile", phone.as_str()),
        ];
        session
            .post("personal", "/personal", &personal)
            .await?
            .expect_redirect("personal", "/profile")?;
        let profile = [
            ("occupation", "company-employee"),
            ("employer_name", "負荷試験商事"),
            ("employer_phone", "0989876543"),
            ("purposes", "salary-pension"),
            ("purposes", "savings"),
            ("nationality", "JP"),
            ("tax_residence", "japan-only"),
            ("us_person", "no"),
            ("foreign_pep", "no"),
            ("anti_social_declaration", "yes"),
            ("consent_terms", "yes"),
            ("consent_privacy", "yes"),
        ];
        session
            .post("profile", "/profile", &profile)
            .await?
            .expect_redirect("profile", "/identity")?;
        session
            .upload_documents()
            .await?
            .expect_redirect("identity", "/branch")?;
        let pin = pin_for(index);
        let branch = [
            ("branch_code", "101"),
            ("cash_card_pin", pin.as_str()),
            ("cash_card_pin_confirm", pin.as_str()),
        ];
        session
            .post("branch", "/branch", &branch)
            .await?
            .expect_redirect("branch", "/confirm")?;

        let page = session
            .get("confirm", "/confirm")
            .await?
            .expect_ok("confirm")?;
        let csrf = csrf_of(&page).context("confirm: no CSRF token on the page")?;
        if csrf != session.csrf {
            bail!("confirm: the CSRF token changed within the session");
        }
        Ok(session)
    }

    /// The final POST: encryption, sealing and the durable commit happen in this request.
    /// Returns the receipt number on the completion page.
    pub async fn submit(&self) -> anyhow::Result<String> {
        let page = self
            .post("submit", "/submit", &[])
            .await?
            .expect_ok("submit")?;
        receipt_in(&page).context("submit: HTTP 200 but no receipt number on the page")
    }

    /// The identity step's form: the CSRF token first, then the three files.
    async fn upload_documents(&self) -> anyhow::Result<Answer> {
        let boundary = "----madoguchi-loadgen-7f3a9c";
        let mut body = Vec::with_capacity(3 * DOCUMENT_PHOTO.len() + 1024);
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n",
                self.csrf
            )
            .as_bytes(),
        );
        for (field, file) in [
            ("document_front", "front.jpg"),
            ("document_back", "back.jpg"),
            ("selfie", "selfie.jpg"),
        ] {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; \
                     filename=\"{file}\"\r\nContent-Type: image/jpeg\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(DOCUMENT_PHOTO);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let response = self
            .client
            .post(self.site.url("/identity"))
            .header(
                CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await;
        read("identity", response).await
    }

    async fn get(&self, step: &str, path: &str) -> anyhow::Result<Answer> {
        let response = self.client.get(self.site.url(path)).send().await;
        read(step, response).await
    }

    async fn post(
        &self,
        step: &str,
        path: &str,
        fields: &[(&str, &str)],
    ) -> anyhow::Result<Answer> {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("csrf", &self.csrf)
            .extend_pairs(fields)
            .finish();
        let response = self
            .client
            .post(self.site.url(path))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await;
        read(step, response).await
    }
}

async fn read(
    step: &str,
    response: Result<reqwest::Response, reqwest::Error>,
) -> anyhow::Result<Answer> {
    let response = response.with_context(|| format!("{step}: request failed"))?;
    let status = response.status();
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response
        .text()
        .await
        .with_context(|| format!("{step}: HTTP {} but the body was cut", status.as_u16()))?;
    Ok(Answer {
        status,
        location,
        body,
    })
}

/// The hidden CSRF field of a page (askama escapes `+`, `/` and `=`).
pub(crate) fn csrf_of(html: &str) -> Option<String> {
    let (_, after) = html.split_once(r#"name="csrf" value=""#)?;
    let (value, _) = after.split_once('"')?;
    Some(
        value
            .replace("&#x2b;", "+")
            .replace("&#x2f;", "/")
            .replace("&#61;", "="),
    )
}

/// The receipt number of the completion page: `XXXX-XXXX-XXXX`, digits and capitals.
fn receipt_in(html: &str) -> Option<String> {
    let (_, after) = html.split_once(r#"id="receipt-number">"#)?;
    let (value, _) = after.split_once('<')?;
    let shape_ok = value.len() == 14
        && value.char_indices().all(|(i, c)| {
            if i == 4 || i == 9 {
                c == '-'
            } else {
                c.is_ascii_digit() || c.is_ascii_uppercase()
            }
        });
    shape_ok.then(|| value.to_owned())
}

/// A PIN for applicant `index` that the server's weak-PIN rules accept.
pub fn pin_for(index: usize) -> String {
    let mut n = (index % 10_000 * 7_919 + 2_580) % 10_000;
    loop {
        let pin = format!("{n:04}");
        if !weak(&pin) {
            return pin;
        }
        n = (n + 1) % 10_000;
    }
}

/// The server's refusals for these applicants: four equal digits, a run up or down (counting
/// round from 9 to 0), the birth date 1987-06-14 in any form (YYYY, two of YY 87, MM 06, DD 14,
/// 和暦 昭和62 side by side), the phone's last four digits, the employer phone's as well.
fn weak(pin: &str) -> bool {
    const REFUSED: [&str; 15] = [
        "1987",
        "8706",
        "8714",
        "8762",
        "0687",
        "0614",
        "0662",
        "1487",
        "1406",
        "1462",
        "6287",
        "6206",
        "6214",
        PHONE_LAST_FOUR,
        "6543",
    ];
    let d: Vec<u8> = pin.bytes().map(|b| b - b'0').collect();
    let run = |step: u8| d.windows(2).all(|w| (w[0] + step) % 10 == w[1]);
    d.iter().all(|&x| x == d[0]) || run(1) || run(9) || REFUSED.contains(&pin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pin_is_four_digits_and_not_weak() {
        for i in 0..20_000 {
            let pin = pin_for(i);
            assert_eq!(pin.len(), 4);
            assert!(!weak(&pin), "{pin}");
        }
        for pin in [
            "1111", "1234", "7890", "9012", "3210", "0987", "1987", "0614", "6531",
        ] {
            assert!(weak(pin), "{pin}");
        }
    }

    #[test]
    fn finds_tokens_and_receipts() {
        let page = r#"<input type="hidden" name="csrf" value="ab&#x2b;c&#x2f;d&#61;">"#;
        assert_eq!(csrf_of(page).unwrap(), "ab+c/d=");
        let done = r#"<p id="receipt-number">AB12-CD34-EF56</p>"#;
        assert_eq!(receipt_in(done).unwrap(), "AB12-CD34-EF56");
    }
}
