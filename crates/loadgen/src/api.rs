//! `--scenario api-applications --product …`: submissions through the JSON API.
//!
//! Phase 1, *prepare*: N e-mail checks (`POST /api/v1/email-checks`), the code read from the
//! outbox, confirmed for a `verification_token` each, C at a time. Phase 2, *submit* (the
//! headline): the N submissions (`POST /api/v1/applications/{product}` with the token and
//! every field at once), C at a time; each one validates every step, seals the secrets,
//! encrypts the personal fields under a fresh data key and commits durably.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::flow::pin_for;
use crate::outbox::Outbox;

const CODE_TIMEOUT: Duration = Duration::from_secs(60);

/// One verified applicant, ready to submit.
pub struct Prepared {
    /// The applicant's e-mail address (lower case), for a later status check.
    pub email: String,
    client: reqwest::Client,
    url: String,
    token: String,
    body: Value,
}

pub(crate) fn client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_idle_timeout(Duration::from_secs(900))
        .build()
        .context("cannot build an HTTP client")
}

pub(crate) async fn post(
    client: &reqwest::Client,
    url: &str,
    body: &Value,
) -> anyhow::Result<(u16, Value)> {
    let answer = client
        .post(url)
        .json(body)
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = answer.status().as_u16();
    let body = answer.json().await.unwrap_or(Value::Null);
    Ok((status, body))
}

/// The body of applicant `index` of `product`.
fn body_of(product: &str, index: usize) -> Value {
    let pin = pin_for(index);
    let phone = format!("090{:04}6531", index % 10_000);
    match product {
        "savings-account" => json!({
            "family_name": "負荷試験", "given_name": "花子",
            "family_name_kana": "フカシケン", "given_name_kana": "ハナコ",
            "birth_date": "1987-06-14", "sex": "female", "postal_code": "900-0015",
            "prefecture": "47", "address_line": "那覇市久茂地九丁目", "phone_mobile": phone,
            "occupation": "company-employee", "employer_name": "負荷試験商事",
            "employer_phone": "0989876543", "purposes": ["salary-pension", "savings"],
            "nationality": "JP", "tax_residence": "japan-only", "us_person": false,
            "foreign_pep": false, "anti_social_declaration": true, "consent_terms": true,
            "consent_privacy": true, "branch_code": "101",
            "cash_card_pin": pin, "cash_card_pin_confirm": pin,
        }),
        _ => {
            let mut body = json!({
                "family_name": "負荷試験", "given_name": "花子",
                "family_name_kana": "フカシケン", "given_name_kana": "ハナコ",
                "birth_date": "1987-06-14", "phone": phone,
                "branch_code": "102", "account_type": "ordinary", "account_number": "8391725",
            });
            let extra = if product == "debit-card" {
                json!({"embossed_name": "HANAKO FUKASHIKEN",
                       "debit_card_pin": pin, "debit_card_pin_confirm": pin})
            } else {
                json!({"current_cash_card_pin": pin,
                       "logon_password": "Sango!Kv7wQz#Ryu", "logon_password_confirm": "Sango!Kv7wQz#Ryu"})
            };
            if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
                body.extend(extra.clone());
            }
            body
        }
    }
}

impl Prepared {
    /// The e-mail check through the API, up to the token.
    pub async fn prepare(
        site: &str,
        outbox: &Outbox,
        product: &str,
        run: &str,
        index: usize,
    ) -> anyhow::Result<Prepared> {
        let client = client()?;
        let email = format!("api.{run}.{index}@example.jp");
        let (status, started) = post(
            &client,
            &format!("{site}/api/v1/email-checks"),
            &json!({"email": email, "product": product}),
        )
        .await?;
        if status != 202 {
            bail!("email-check: HTTP {status} {started}");
        }
        let check_id = started["check_id"].as_str().context("no check_id")?;
        let code = outbox
            .code_for(&email, CODE_TIMEOUT)
            .await
            .context("verification code")?;
        let (status, confirmed) = post(
            &client,
            &format!("{site}/api/v1/email-checks/{check_id}/confirm"),
            &json!({"code": code}),
        )
        .await?;
        if status != 200 {
            bail!("confirm: HTTP {status} {confirmed}");
        }
        Ok(Prepared {
            email: email.to_ascii_lowercase(),
            client,
            url: format!("{site}/api/v1/applications/{product}"),
            token: confirmed["verification_token"]
                .as_str()
                .context("no token")?
                .to_owned(),
            body: body_of(product, index),
        })
    }

    /// The submission; returns the receipt number.
    pub async fn submit(&self) -> anyhow::Result<String> {
        let answer = self
            .client
            .post(&self.url)
            .bearer_auth(&self.token)
            .json(&self.body)
            .send()
            .await
            .context("submit")?;
        let status = answer.status().as_u16();
        let body: Value = answer.json().await.unwrap_or(Value::Null);
        if status != 201 {
            bail!("submit: HTTP {status} {body}");
        }
        body["receipt_number"]
            .as_str()
            .map(str::to_owned)
            .context("submit: no receipt number")
    }
}

/// Times `f` and returns its result with the latency.
pub async fn timed<T>(
    f: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<(Duration, T)> {
    let t = Instant::now();
    let value = f.await?;
    Ok((t.elapsed(), value))
}
