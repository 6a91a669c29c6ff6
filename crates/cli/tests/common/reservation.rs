//! A visitor with distinctive values, and the visit reservation service over HTTP: the slots
//! list of the JSON API, the booking form of the pages, the link of the confirmation e-mail.

use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset, Weekday};

use super::{TestApp, csrf_of, decoded_mail, post_form};

/// Text of the confirmation e-mail.
pub const BOOKED_MAIL: &str = "ご来店予約を承りました";
/// Text of the change notice.
pub const CHANGED_MAIL: &str = "ご来店予約を次のとおり変更しました";
/// Text of the cancellation notice.
pub const CANCELLED_MAIL: &str = "次のご来店予約をキャンセルしました";

/// Someone booking a visit, with values distinctive enough that a search of a dump, a log or
/// an e-mail cannot match them by chance (every value is at least six bytes).
#[derive(Debug, Clone)]
pub struct Visitor {
    pub family_name: String,
    pub given_name: String,
    pub family_name_kana: String,
    pub given_name_kana: String,
    /// As typed, with hyphens.
    pub phone: String,
    pub email: String,
    pub note: String,
}

impl Visitor {
    pub fn new() -> Visitor {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let digits = format!("{:08}", uuid::Uuid::new_v4().as_u128() % 100_000_000);
        Visitor {
            family_name: "鶚嶋".to_owned(),
            given_name: "鸛乃".to_owned(),
            family_name_kana: "ミサゴジマ".to_owned(),
            given_name_kana: "コウノ".to_owned(),
            phone: format!("090-{}-{}", &digits[..4], &digits[4..]),
            email: format!("misago.{}@example.jp", &tag[..12]),
            note: format!("頭金と繰上返済の相談（整理番号{}）", &tag[12..20]),
        }
    }

    /// The phone number as stored and validated: digits only.
    pub fn phone_digits(&self) -> String {
        self.phone.chars().filter(char::is_ascii_digit).collect()
    }

    /// Values whose plaintext must never be found at rest, in logs, or echoed by a page.
    pub fn personal_values(&self) -> Vec<String> {
        vec![
            self.family_name.clone(),
            self.given_name.clone(),
            format!("{} {}", self.family_name, self.given_name),
            self.family_name_kana.clone(),
            self.given_name_kana.clone(),
            self.phone.clone(),
            self.phone_digits(),
            self.email.clone(),
            self.note.clone(),
        ]
    }

    /// The booking form's fields besides csrf, nonce and slot.
    pub fn form_fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("consultation", "housing-loan".to_owned()),
            ("family_name", self.family_name.clone()),
            ("given_name", self.given_name.clone()),
            ("family_name_kana", self.family_name_kana.clone()),
            ("given_name_kana", self.given_name_kana.clone()),
            ("phone", self.phone.clone()),
            ("email", self.email.clone()),
            ("existing_customer", "no".to_owned()),
            ("note", self.note.clone()),
        ]
    }

    /// The JSON API's booking request.
    pub fn json(&self, center_id: &str, starts_at: &str) -> Value {
        json!({
            "center_id": center_id,
            "starts_at": starts_at,
            "consultation": "car-loan",
            "family_name": self.family_name,
            "given_name": self.given_name,
            "family_name_kana": self.family_name_kana,
            "given_name_kana": self.given_name_kana,
            "phone": self.phone,
            "email": self.email,
            "existing_customer": true,
            "note": self.note,
        })
    }
}

/// One slot as the API lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiSlot {
    /// RFC 3339, Japan time.
    pub starts_at: String,
    pub ends_at: String,
    pub places: u64,
    pub free: u64,
}

const JST: UtcOffset = time::macros::offset!(+9);

fn parse_time(text: &str) -> OffsetDateTime {
    OffsetDateTime::parse(text, &Rfc3339)
        .unwrap_or_else(|e| panic!("{text:?} is not RFC 3339: {e}"))
}

impl ApiSlot {
    /// One element of a slots answer's `slots`.
    pub fn from_json(value: &Value) -> ApiSlot {
        let text = |name: &str| {
            value[name]
                .as_str()
                .unwrap_or_else(|| panic!("slot without {name}: {value}"))
                .to_owned()
        };
        let number = |name: &str| {
            value[name]
                .as_u64()
                .unwrap_or_else(|| panic!("slot without {name}: {value}"))
        };
        ApiSlot {
            starts_at: text("starts_at"),
            ends_at: text("ends_at"),
            places: number("places"),
            free: number("free"),
        }
    }

    /// The start in Japan time.
    pub fn start(&self) -> OffsetDateTime {
        parse_time(&self.starts_at).to_offset(JST)
    }

    /// The end in Japan time.
    pub fn end(&self) -> OffsetDateTime {
        parse_time(&self.ends_at).to_offset(JST)
    }

    /// The day of the visit in Japan.
    pub fn date(&self) -> Date {
        self.start().date()
    }

    /// The value forms and links carry: `YYYY-MM-DDTHH:MM`, Japan time.
    pub fn form_value(&self) -> String {
        form_value(self.start())
    }

    /// The visit as pages and e-mails write it: `2026年12月1日（火） 9:00〜10:00`.
    pub fn label(&self) -> String {
        visit_label(self.start(), self.end())
    }
}

/// `YYYY-MM-DDTHH:MM` in Japan time.
pub fn form_value(at: OffsetDateTime) -> String {
    let at = at.to_offset(JST);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}

/// Today's date in Japan.
pub fn today_jst() -> Date {
    OffsetDateTime::now_utc().to_offset(JST).date()
}

fn weekday_ja(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Monday => "月",
        Weekday::Tuesday => "火",
        Weekday::Wednesday => "水",
        Weekday::Thursday => "木",
        Weekday::Friday => "金",
        Weekday::Saturday => "土",
        Weekday::Sunday => "日",
    }
}

/// A visit written the Japanese way, independently of the product's own formatting.
pub fn visit_label(starts_at: OffsetDateTime, ends_at: OffsetDateTime) -> String {
    let (s, e) = (starts_at.to_offset(JST), ends_at.to_offset(JST));
    format!(
        "{}年{}月{}日（{}） {}:{:02}〜{}:{:02}",
        s.year(),
        u8::from(s.month()),
        s.day(),
        weekday_ja(s.weekday()),
        s.hour(),
        s.minute(),
        e.hour(),
        e.minute()
    )
}

/// A plain API client: no cookies, no redirects followed.
pub fn api_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// An answer of the API: status, Retry-After, and the body parsed as JSON (`Null` if the
/// body is not JSON), with its text.
#[derive(Debug)]
pub struct ApiAnswer {
    pub status: u16,
    pub content_type: String,
    pub retry_after: Option<String>,
    pub text: String,
    pub json: Value,
}

impl ApiAnswer {
    pub async fn from(response: reqwest::Response) -> ApiAnswer {
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header("content-type").unwrap_or_default();
        let retry_after = header("retry-after");
        let text = response.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        ApiAnswer {
            status,
            content_type,
            retry_after,
            text,
            json,
        }
    }

    /// The `code` of an error body.
    pub fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or("")
    }

    /// The (field, code) pairs of an error body.
    pub fn fields(&self) -> Vec<(String, String)> {
        self.json["fields"]
            .as_array()
            .map(|fields| {
                fields
                    .iter()
                    .map(|f| {
                        (
                            f["field"].as_str().unwrap_or("").to_owned(),
                            f["code"].as_str().unwrap_or("").to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// GETs an API path.
pub async fn api_get(app: &TestApp, path: &str) -> ApiAnswer {
    let response = api_client()
        .get(app.url(path))
        .send()
        .await
        .expect("request");
    ApiAnswer::from(response).await
}

/// POSTs a JSON body to an API path.
pub async fn api_post(app: &TestApp, path: &str, body: &Value) -> ApiAnswer {
    api_post_raw(app, path, "application/json", body.to_string().into_bytes()).await
}

/// POSTs any body with any content type to an API path.
pub async fn api_post_raw(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> ApiAnswer {
    let response = api_client()
        .post(app.url(path))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("request");
    ApiAnswer::from(response).await
}

/// Every slot the API offers at `center` in the whole booking window.
pub async fn slots(app: &TestApp, center: &str) -> Vec<ApiSlot> {
    let answer = api_get(app, &format!("/api/v1/loan-centers/{center}/slots")).await;
    assert_eq!(answer.status, 200, "slots of {center}: {}", answer.text);
    answer.json["slots"]
        .as_array()
        .expect("slots array")
        .iter()
        .map(ApiSlot::from_json)
        .collect()
}

/// The free places of the slot of `center` starting at `form_value` (`YYYY-MM-DDTHH:MM`).
pub async fn free_of(app: &TestApp, center: &str, form_value: &str) -> u64 {
    slots(app, center)
        .await
        .into_iter()
        .find(|s| s.form_value() == form_value)
        .unwrap_or_else(|| panic!("{center} offers no slot at {form_value}"))
        .free
}

/// Books through the API and asserts 201.
pub async fn book_by_api(app: &TestApp, center: &str, slot: &ApiSlot, visitor: &Visitor) {
    let answer = api_post(
        app,
        "/api/v1/bookings",
        &visitor.json(center, &slot.starts_at),
    )
    .await;
    assert_eq!(answer.status, 201, "API booking: {}", answer.text);
}

/// The booking form as a page shows it.
#[derive(Debug, Clone)]
pub struct BookForm {
    pub csrf: String,
    pub nonce: String,
    pub html: String,
}

/// The one-time value of a booking form.
pub fn nonce_of(html: &str) -> String {
    let re = regex_lite::Regex::new(r#"name="nonce" value="([0-9a-f]+)""#).expect("regex");
    re.captures(html)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| panic!("no nonce in page:\n{html}"))
}

/// Follows the link of a free slot to its booking form.
pub async fn open_form(
    app: &TestApp,
    client: &reqwest::Client,
    center: &str,
    slot: &str,
) -> BookForm {
    let response = client
        .get(app.url(&format!("/reservations/centers/{center}/book?slot={slot}")))
        .send()
        .await
        .expect("form");
    assert_eq!(response.status(), 200, "booking form of {slot}");
    let html = response.text().await.expect("body");
    BookForm {
        csrf: csrf_of(&html),
        nonce: nonce_of(&html),
        html,
    }
}

/// Submits a booking form with `fields` (the visitor's, or altered ones) for `slot`.
pub async fn submit_form(
    app: &TestApp,
    client: &reqwest::Client,
    center: &str,
    form: &BookForm,
    slot: &str,
    fields: &[(&'static str, String)],
) -> reqwest::Response {
    let mut all: Vec<(&str, &str)> = vec![
        ("csrf", form.csrf.as_str()),
        ("nonce", form.nonce.as_str()),
        ("slot", slot),
    ];
    all.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
    post_form(
        client,
        &app.url(&format!("/reservations/centers/{center}/book")),
        &all,
    )
    .await
}

/// Opens the form of `slot` and books it for `visitor`; returns the answer.
pub async fn book_by_form(
    app: &TestApp,
    client: &reqwest::Client,
    center: &str,
    slot: &str,
    visitor: &Visitor,
) -> reqwest::Response {
    let form = open_form(app, client, center, slot).await;
    submit_form(app, client, center, &form, slot, &visitor.form_fields()).await
}

/// The slots a week page offers to book (links), as form values.
pub fn slot_links(html: &str, center: &str) -> Vec<String> {
    let re = regex_lite::Regex::new(&format!(
        r#"href="/reservations/centers/{center}/book\?slot=([0-9T:-]+)""#
    ))
    .expect("regex");
    re.captures_iter(html)
        .filter_map(|c| c.get(1))
        .map(|m| m.as_str().to_owned())
        .collect()
}

/// The slots a change page offers (buttons), as form values.
pub fn change_buttons(html: &str) -> Vec<String> {
    let re = regex_lite::Regex::new(r#"<button type="submit" name="slot" value="([0-9T:-]+)">"#)
        .expect("regex");
    re.captures_iter(html)
        .filter_map(|c| c.get(1))
        .map(|m| m.as_str().to_owned())
        .collect()
}

/// The "next week" link of a week page.
pub fn next_week(html: &str) -> Option<String> {
    let re = regex_lite::Regex::new(r#"href="([^"]+\?week=[0-9-]+)">次の週"#).expect("regex");
    re.captures(html)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_owned())
}

/// The change/cancel token of the link in an e-mail.
pub fn manage_token(mail: &str) -> String {
    let re = regex_lite::Regex::new(r"https?://[^\s/]+/reservations/manage/([A-Za-z0-9_-]{43})")
        .expect("regex");
    re.captures(mail)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| panic!("no change/cancel link in the e-mail:\n{mail}"))
}

/// Every e-mail in the outbox folder, raw (as written) and decoded.
pub fn outbox_files(app: &TestApp) -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(app.data.join("outbox")) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .map(|raw| {
            let decoded = decoded_mail(&raw);
            (raw, decoded)
        })
        .collect()
}

/// How many e-mails to `to` containing `marker` the outbox folder holds.
pub fn mails_to(app: &TestApp, to: &str, marker: &str) -> usize {
    outbox_files(app)
        .iter()
        .filter(|(_, text)| text.contains(to) && text.contains(marker))
        .count()
}

/// How many reminders wait in the database's outbox, not yet due.
pub async fn queued_reminders(app: &TestApp) -> i64 {
    super::count_of(
        app,
        "SELECT COUNT(*) FROM outbox WHERE reminder_for IS NOT NULL",
    )
    .await
}
