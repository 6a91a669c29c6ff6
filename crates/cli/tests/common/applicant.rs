//! A savings-account applicant with distinctive values, and the whole public flow over HTTP.

use super::{TestApp, csrf_of, post_form};

/// Distinctive personal values, so that a search of a dump or a log cannot match by chance.
#[derive(Debug, Clone)]
pub struct Applicant {
    pub email: String,
    pub family_name: String,
    pub given_name: String,
    pub family_name_kana: String,
    pub given_name_kana: String,
    pub birth_date: String,
    pub postal_code: String,
    pub address_line: String,
    pub phone_mobile: String,
    pub employer_name: String,
    pub pin: String,
}

impl Applicant {
    pub fn new() -> Applicant {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let digits: String = tag
            .chars()
            .filter(char::is_ascii_digit)
            .chain("73914".chars())
            .take(4)
            .collect();
        Applicant {
            email: format!("hanako.{}@example.jp", &tag[..10]),
            family_name: "検証山".to_owned(),
            given_name: "花子".to_owned(),
            family_name_kana: "ケンショウヤマ".to_owned(),
            given_name_kana: "ハナコ".to_owned(),
            birth_date: "1987-06-14".to_owned(),
            postal_code: "900-0015".to_owned(),
            address_line: format!("那覇市久茂地九丁目{}番", &tag[..6]),
            phone_mobile: format!("090{digits}6531"),
            employer_name: format!("検証商事{}", &tag[10..16]),
            pin: "5827".to_owned(),
        }
    }

    /// Values whose plaintext must never be found at rest or in logs.
    pub fn personal_values(&self) -> Vec<String> {
        vec![
            self.email.clone(),
            format!("{}{}", self.family_name, self.given_name),
            self.family_name.clone(),
            self.family_name_kana.clone(),
            self.address_line.clone(),
            self.phone_mobile.clone(),
            self.employer_name.clone(),
            "1987-06-14".to_owned(),
        ]
    }

    pub fn personal_step(&self) -> Vec<(&'static str, String)> {
        vec![
            ("family_name", self.family_name.clone()),
            ("given_name", self.given_name.clone()),
            ("family_name_kana", self.family_name_kana.clone()),
            ("given_name_kana", self.given_name_kana.clone()),
            ("birth_date", self.birth_date.clone()),
            ("sex", "female".to_owned()),
            ("postal_code", self.postal_code.clone()),
            ("prefecture", "47".to_owned()),
            ("address_line", self.address_line.clone()),
            ("address_building", String::new()),
            ("phone_home", String::new()),
            ("phone_mobile", self.phone_mobile.clone()),
        ]
    }

    pub fn profile_step(&self) -> Vec<(&'static str, String)> {
        vec![
            ("occupation", "company-employee".to_owned()),
            ("employer_name", self.employer_name.clone()),
            ("employer_phone", "0989876543".to_owned()),
            ("purposes", "salary-pension".to_owned()),
            ("purposes", "savings".to_owned()),
            ("nationality", "JP".to_owned()),
            ("tax_residence", "japan-only".to_owned()),
            ("us_person", "no".to_owned()),
            ("foreign_pep", "no".to_owned()),
            ("anti_social_declaration", "yes".to_owned()),
            ("consent_terms", "yes".to_owned()),
            ("consent_privacy", "yes".to_owned()),
        ]
    }
}

/// Drives a browser-like client through the e-mail check; returns the session's client.
pub async fn verify_email(app: &TestApp, client: &reqwest::Client, email: &str) {
    let csrf = app.open_application(client).await;
    let response = post_form(
        client,
        &app.url("/apply/savings-account/email"),
        &[("csrf", &csrf), ("email", email)],
    )
    .await;
    assert_eq!(response.status(), 200, "e-mail step");
    let mail = app.wait_for_mail(email, "確認コード").await;
    let code = code_in(&mail);
    let response = post_form(
        client,
        &app.url("/apply/savings-account/verify"),
        &[("csrf", &csrf), ("code", &code)],
    )
    .await;
    assert_eq!(response.status(), 200, "code step");
    assert!(
        response.url().path().ends_with("/personal"),
        "after the code: {}",
        response.url()
    );
}

/// The 6-digit code in a verification e-mail.
pub fn code_in(mail: &str) -> String {
    let re = regex_lite::Regex::new(r"確認コード：(\d{6})").expect("regex");
    re.captures(mail)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| panic!("no code in e-mail:\n{mail}"))
}

/// Posts one step; returns the response.
pub async fn post_step(
    app: &TestApp,
    client: &reqwest::Client,
    step: &str,
    fields: &[(&str, String)],
) -> reqwest::Response {
    let page = client
        .get(app.url(&format!("/apply/savings-account/{step}")))
        .send()
        .await
        .expect("get step")
        .text()
        .await
        .expect("body");
    let csrf = csrf_of(&page);
    let mut all: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
    all.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
    let owned: Vec<(String, String)> = all
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let refs: Vec<(&str, &str)> = owned
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    post_form(
        client,
        &app.url(&format!("/apply/savings-account/{step}")),
        &refs,
    )
    .await
}

/// The whole application; returns the receipt number shown on the completion page.
pub async fn apply(app: &TestApp, client: &reqwest::Client, applicant: &Applicant) -> String {
    verify_email(app, client, &applicant.email).await;
    let r = post_step(app, client, "personal", &applicant.personal_step()).await;
    assert!(
        r.url().path().ends_with("/profile"),
        "personal step refused: {}",
        r.text().await.unwrap_or_default()
    );
    let r = post_step(app, client, "profile", &applicant.profile_step()).await;
    assert!(
        r.url().path().ends_with("/identity"),
        "profile step refused: {}",
        r.text().await.unwrap_or_default()
    );
    let r = super::documents::upload_all(app, client).await;
    assert!(
        r.url().path().ends_with("/branch"),
        "identity documents refused: {}",
        r.text().await.unwrap_or_default()
    );
    let branch = vec![
        ("branch_code", "101".to_owned()),
        ("cash_card_pin", applicant.pin.clone()),
        ("cash_card_pin_confirm", applicant.pin.clone()),
    ];
    let r = post_step(app, client, "branch", &branch).await;
    assert!(
        r.url().path().ends_with("/confirm"),
        "branch step refused: {}",
        r.text().await.unwrap_or_default()
    );
    let confirm = r.text().await.expect("confirm page");
    let csrf = csrf_of(&confirm);
    let done = post_form(
        client,
        &app.url("/apply/savings-account/submit"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(done.status(), 200);
    let html = done.text().await.expect("complete page");
    receipt_in(&html)
}

pub fn receipt_in(html: &str) -> String {
    let re = regex_lite::Regex::new(r#"id="receipt-number">([0-9A-Z-]+)<"#).expect("regex");
    re.captures(html)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| panic!("no receipt number in page:\n{html}"))
}
