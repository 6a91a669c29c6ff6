//! An account holder applying for internet banking or a debit card, with distinctive values,
//! and the whole public flow of those two products over HTTP.

use std::path::Path;

use super::{TestApp, csrf_of, decoded_mail, post_form};

/// Distinctive values, so that a search of a dump, a log or the outbox cannot match by chance.
#[derive(Debug, Clone)]
pub struct AccountHolder {
    pub email: String,
    pub family_name: String,
    pub given_name: String,
    pub family_name_kana: String,
    pub given_name_kana: String,
    pub birth_date: String,
    pub phone: String,
    pub branch_code: String,
    pub account_type: String,
    pub account_number: String,
    /// The cash-card PIN in use (internet banking).
    pub cash_card_pin: String,
    /// The desired logon password (internet banking).
    pub logon_password: String,
    /// As typed: lower case, to be normalized.
    pub embossed_name_typed: String,
    /// As it must be stored.
    pub embossed_name: String,
    /// The chosen debit-card PIN.
    pub debit_card_pin: String,
}

impl AccountHolder {
    pub fn new() -> AccountHolder {
        let (tag, digits) = loop {
            let tag = uuid::Uuid::new_v4().simple().to_string();
            let digits: String = tag
                .chars()
                .filter(char::is_ascii_digit)
                .chain("3917253".chars())
                .take(7)
                .collect();
            // The account number must not hold the birth date or the phone's last four digits
            // by chance, or a password made of it would be refused for those instead.
            let clash = ["0723", "2307", "1986", "4716", "6107", "0761"]
                .iter()
                .any(|form| format!("8{}", &digits[..6]).contains(form));
            if !clash {
                break (tag, digits);
            }
        };
        let account_number = format!("8{}", &digits[..6]);
        AccountHolder {
            email: format!("shuri.{}@example.jp", &tag[..10]),
            family_name: "検証嘉".to_owned(),
            given_name: "朱里".to_owned(),
            family_name_kana: "ケンショウカ".to_owned(),
            given_name_kana: "シュリ".to_owned(),
            birth_date: "1986-07-23".to_owned(),
            phone: format!("080{}4716", &digits[..4]),
            branch_code: "102".to_owned(),
            account_type: "ordinary".to_owned(),
            account_number,
            cash_card_pin: "5938".to_owned(),
            logon_password: "Sango!Kv7wQz#Ryu".to_owned(),
            embossed_name_typed: "shuri  kenshouka".to_owned(),
            embossed_name: "SHURI KENSHOUKA".to_owned(),
            debit_card_pin: "2649".to_owned(),
        }
    }

    /// Personal values whose plaintext must never be found at rest, in logs or in the outbox.
    /// (The confirmation e-mail is addressed to the applicant by name: the name and address
    /// are searched in the database and logs only.)
    pub fn private_values(&self) -> Vec<String> {
        vec![
            self.family_name_kana.clone(),
            self.phone.clone(),
            self.account_number.clone(),
            self.birth_date.clone(),
            self.birth_date.replace('-', ""),
            self.embossed_name.clone(),
        ]
    }

    /// Every personal value, for the database and the logs.
    pub fn personal_values(&self) -> Vec<String> {
        let mut values = self.private_values();
        values.extend([
            self.email.clone(),
            self.family_name.clone(),
            format!("{}{}", self.family_name, self.given_name),
        ]);
        values
    }

    pub fn customer_step(&self) -> Vec<(&'static str, String)> {
        vec![
            ("family_name", self.family_name.clone()),
            ("given_name", self.given_name.clone()),
            ("family_name_kana", self.family_name_kana.clone()),
            ("given_name_kana", self.given_name_kana.clone()),
            ("birth_date", self.birth_date.clone()),
            ("phone", self.phone.clone()),
        ]
    }

    pub fn account_step(&self) -> Vec<(&'static str, String)> {
        vec![
            ("branch_code", self.branch_code.clone()),
            ("account_type", self.account_type.clone()),
            ("account_number", self.account_number.clone()),
        ]
    }

    pub fn credentials_step(&self) -> Vec<(&'static str, String)> {
        credentials(
            &self.cash_card_pin,
            &self.logon_password,
            &self.logon_password,
        )
    }

    pub fn card_step(&self) -> Vec<(&'static str, String)> {
        card(&self.embossed_name_typed, &self.debit_card_pin)
    }
}

/// The internet-banking secrets step with these values.
pub fn credentials(pin: &str, password: &str, again: &str) -> Vec<(&'static str, String)> {
    vec![
        ("current_cash_card_pin", pin.to_owned()),
        ("logon_password", password.to_owned()),
        ("logon_password_confirm", again.to_owned()),
    ]
}

/// The debit-card step with these values.
pub fn card(embossed_name: &str, pin: &str) -> Vec<(&'static str, String)> {
    vec![
        ("embossed_name", embossed_name.to_owned()),
        ("debit_card_pin", pin.to_owned()),
        ("debit_card_pin_confirm", pin.to_owned()),
    ]
}

/// Opens `/apply/{slug}` (starting the browser session), passes the e-mail check, and lands
/// on the customer step.
pub async fn verify_email(app: &TestApp, client: &reqwest::Client, slug: &str, email: &str) {
    let page = client
        .get(app.url(&format!("/apply/{slug}")))
        .send()
        .await
        .expect("start")
        .text()
        .await
        .expect("body");
    let csrf = csrf_of(&page);
    let response = post_form(
        client,
        &app.url(&format!("/apply/{slug}/email")),
        &[("csrf", &csrf), ("email", email)],
    )
    .await;
    assert_eq!(response.status(), 200, "e-mail step");
    let mail = app.wait_for_mail(email, "確認コード").await;
    let code = super::applicant::code_in(&mail);
    let response = post_form(
        client,
        &app.url(&format!("/apply/{slug}/verify")),
        &[("csrf", &csrf), ("code", &code)],
    )
    .await;
    assert_eq!(response.status(), 200, "code step");
    assert!(
        response.url().path().ends_with("/customer"),
        "after the code: {}",
        response.url()
    );
}

/// Posts one step of `/apply/{slug}` with the CSRF token of its page; returns the response.
pub async fn post_step(
    app: &TestApp,
    client: &reqwest::Client,
    slug: &str,
    step: &str,
    fields: &[(&str, String)],
) -> reqwest::Response {
    let url = app.url(&format!("/apply/{slug}/{step}"));
    let page = client
        .get(&url)
        .send()
        .await
        .expect("get step")
        .text()
        .await
        .expect("body");
    let csrf = csrf_of(&page);
    let mut all: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
    all.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
    post_form(client, &url, &all).await
}

/// Posts a step and checks where it led.
pub async fn expect_step(
    app: &TestApp,
    client: &reqwest::Client,
    slug: &str,
    step: &str,
    fields: &[(&str, String)],
    next: &str,
) -> String {
    let r = post_step(app, client, slug, step, fields).await;
    let landed = r.url().path().to_owned();
    let html = r.text().await.unwrap_or_default();
    assert!(
        landed.ends_with(&format!("/{next}")),
        "{step} step refused (at {landed}):\n{html}"
    );
    html
}

/// Presses 申し込む on the confirmation page; returns the receipt number.
pub async fn submit(app: &TestApp, client: &reqwest::Client, slug: &str, confirm: &str) -> String {
    let done = post_form(
        client,
        &app.url(&format!("/apply/{slug}/submit")),
        &[("csrf", &csrf_of(confirm))],
    )
    .await;
    assert_eq!(done.status(), 200);
    super::applicant::receipt_in(&done.text().await.expect("complete page"))
}

/// The whole internet-banking application; returns the receipt number.
pub async fn apply_internet_banking(
    app: &TestApp,
    client: &reqwest::Client,
    holder: &AccountHolder,
) -> String {
    let slug = "internet-banking";
    verify_email(app, client, slug, &holder.email).await;
    expect_step(
        app,
        client,
        slug,
        "customer",
        &holder.customer_step(),
        "account",
    )
    .await;
    expect_step(
        app,
        client,
        slug,
        "account",
        &holder.account_step(),
        "credentials",
    )
    .await;
    let confirm = expect_step(
        app,
        client,
        slug,
        "credentials",
        &holder.credentials_step(),
        "confirm",
    )
    .await;
    assert!(
        !confirm.contains(&holder.logon_password) && !confirm.contains(&holder.cash_card_pin),
        "the confirmation page never shows a secret"
    );
    submit(app, client, slug, &confirm).await
}

/// The whole debit-card application; returns the receipt number and the confirmation page.
pub async fn apply_debit_card(
    app: &TestApp,
    client: &reqwest::Client,
    holder: &AccountHolder,
) -> (String, String) {
    let slug = "debit-card";
    verify_email(app, client, slug, &holder.email).await;
    expect_step(
        app,
        client,
        slug,
        "customer",
        &holder.customer_step(),
        "account",
    )
    .await;
    expect_step(app, client, slug, "account", &holder.account_step(), "card").await;
    let confirm = expect_step(app, client, slug, "card", &holder.card_step(), "confirm").await;
    assert!(
        !super::contains_token(confirm.as_bytes(), &holder.debit_card_pin),
        "the confirmation page never shows the PIN"
    );
    (submit(app, client, slug, &confirm).await, confirm)
}

/// Every message in the outbox folder, decoded as its reader sees it.
pub fn outbox_text(data: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(data.join("outbox"))
        .expect("outbox folder")
        .flatten()
    {
        if let Ok(raw) = std::fs::read_to_string(entry.path()) {
            all.extend(raw.as_bytes());
            all.extend(decoded_mail(&raw).as_bytes());
        }
    }
    all
}
