//! Injection: SQL, HTML/script, CSV formula, e-mail header (CR/LF) and path traversal payloads
//! in every free-text field of the booking and of the savings-account application (JSON API;
//! the forms share its validation), then rendered where staff read them — the booking page
//! and its reveal, the application's reveal, the CSV export — and in the e-mails sent. Each
//! payload is either refused at the edge or stored and shown inert. Path parameters get the
//! traversal payloads too.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::TestApp;
use crate::common::applicant::{Applicant, code_in};
use crate::common::existing_account::AccountHolder;
use crate::common::office::StaffClient;
use crate::common::reservation::{Visitor, api_client, outbox_files, slots};
use crate::findings::Findings;
use crate::passive::Seen;
use crate::targets::ids;
use crate::{Staff, bare_client};

pub const INJECTION: &str = "injected payloads inert";

const PAYLOADS: &[(&str, &str)] = &[
    ("SQL", "' OR '1'='1'; DROP TABLE applications; --"),
    (
        "HTML",
        "<script>alert(1)</script><img src=x onerror=alert(2)>",
    ),
    ("CSV formula", "=HYPERLINK(\"http://evil.example\",\"x\")"),
    ("mail header", "scan\r\nBcc: victim@evil.example"),
    ("path traversal", "../../../../etc/passwd"),
];

const BOOKING_FIELDS: &[&str] = &[
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "phone",
    "email",
    "note",
];

const SAVINGS_FIELDS: &[&str] = &[
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "address_line",
    "address_building",
    "phone_mobile",
    "employer_name",
];

const CUSTOMER_FIELDS: &[&str] = &[
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "phone",
];

const CARD_FIELDS: &[&str] = &[
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "phone",
    "embossed_name",
];

/// Every field the reveal and the export are asked for (a product ignores the others).
const APPLICATION_FIELDS: &[&str] = &[
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "address_line",
    "address_building",
    "phone_mobile",
    "phone",
    "employer_name",
    "embossed_name",
];

/// One product of the API: its slug, its free-text fields, a valid body.
struct Product {
    slug: &'static str,
    fields: &'static [&'static str],
    body: fn() -> Value,
}

const PRODUCTS: &[Product] = &[
    Product {
        slug: "savings-account",
        fields: SAVINGS_FIELDS,
        body: || savings_body(&Applicant::new()),
    },
    Product {
        slug: "internet-banking",
        fields: CUSTOMER_FIELDS,
        body: || {
            let holder = in_scope_holder();
            let steps = [
                holder.customer_step(),
                holder.account_step(),
                holder.credentials_step(),
            ];
            object(steps.concat())
        },
    },
    Product {
        slug: "debit-card",
        fields: CARD_FIELDS,
        body: || {
            let holder = in_scope_holder();
            let steps = [
                holder.customer_step(),
                holder.account_step(),
                holder.card_step(),
            ];
            object(steps.concat())
        },
    },
];

/// An account holder of the branch the scan's operator serves.
fn in_scope_holder() -> AccountHolder {
    let mut holder = AccountHolder::new();
    holder.branch_code = "101".to_owned();
    holder
}

fn object(pairs: Vec<(&'static str, String)>) -> Value {
    Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Value::String(v)))
            .collect(),
    )
}

pub async fn check(findings: &mut Findings, app: &TestApp, staff: &Staff) {
    let booked = bookings(findings, app).await;
    booking_pages(findings, app, staff, &booked).await;
    let mut applied = Vec::new();
    for product in PRODUCTS {
        applied.extend(applications(findings, app, product).await);
    }
    application_pages(findings, staff, &applied).await;
    // Payloads refused at the edge are inert by construction; the rendering checks mean
    // something only if some were stored.
    let tried = PAYLOADS.len()
        * (BOOKING_FIELDS.len() + PRODUCTS.iter().map(|p| p.fields.len()).sum::<usize>());
    println!(
        "injection: {tried} payloads sent, {} stored and shown inert ({booked:?}; {applied:?}), the rest refused",
        booked.len() + applied.len()
    );
    for (route, stored) in [
        ("public POST /api/v1/bookings", booked.len()),
        (
            "public POST /api/v1/applications/savings-account",
            applied.len(),
        ),
    ] {
        let outcome = if stored > 0 {
            Ok(())
        } else {
            Err("no payload was stored: the rendering checks prove nothing".to_owned())
        };
        findings.record(route, INJECTION, outcome);
    }
    mail_headers(findings, app);
    traversal_in_paths(findings, app).await;
}

/// Books with each payload in each field; returns the (field, payload) pairs stored.
async fn bookings(findings: &mut Findings, app: &TestApp) -> Vec<(&'static str, &'static str)> {
    let route = "public POST /api/v1/bookings";
    let free: Vec<String> = slots(app, "naha")
        .await
        .into_iter()
        .filter(|s| s.free > 0)
        .map(|s| s.starts_at)
        .collect();
    let mut slot = free.iter().cycle().skip(1);
    let mut stored = Vec::new();
    for field in BOOKING_FIELDS {
        for (kind, payload) in PAYLOADS {
            let mut body = Visitor::new().json("naha", slot.next().expect("a free slot"));
            body[*field] = Value::String((*payload).to_owned());
            let seen = api_post(app, "/api/v1/bookings", &body).await;
            match seen.status {
                201 => stored.push((*field, *payload)),
                422 => {}
                other => findings.record(
                    route,
                    INJECTION,
                    Err(format!("{kind} in {field}: answered {other} {}", seen.body)),
                ),
            }
            findings.record(route, INJECTION, Ok(()));
        }
    }
    stored
}

/// The consultant's pages of every booking, and each one's reveal of every field: no payload
/// markup is live, and each stored payload is shown as the text it was.
async fn booking_pages(
    findings: &mut Findings,
    app: &TestApp,
    staff: &Staff,
    stored: &[(&str, &str)],
) {
    let consultant = staff.for_route(Some(madoguchi_office::authz::Access::Roles(&[
        madoguchi_domain::staff::Role::Consultant,
    ])));
    let week = Seen::of(consultant.get("/reservations/naha").await).await;
    findings.record("office GET /reservations/{center}", INJECTION, inert(&week));
    let ids = ids(app, "SELECT id FROM bookings").await;
    let mut revealed = String::new();
    for id in &ids {
        let shown = open_and_reveal(
            findings,
            consultant,
            Record::Booking,
            id,
            BOOKING_FIELDS,
            "booking-check",
        )
        .await;
        revealed.push_str(&shown);
    }
    for (field, payload) in stored {
        let shown = escaped_in(&revealed, payload);
        findings.record(
            "office POST /bookings/{booking}/reveal",
            INJECTION,
            if shown {
                Ok(())
            } else {
                Err(format!(
                    "{field} = {payload:?} is not shown as text: {:?}",
                    around(&revealed, "victim@evil")
                ))
            },
        );
    }
}

/// A record the back office opens and reveals.
#[derive(Clone, Copy)]
enum Record {
    Application,
    Booking,
}

impl Record {
    /// The path segment and the route table's name of its id.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Record::Application => ("applications", "application"),
            Record::Booking => ("bookings", "booking"),
        }
    }
}

/// Opens the record's page and reveals `fields` for `purpose`, recording both as inert (or
/// not); returns the revealed page.
async fn open_and_reveal(
    findings: &mut Findings,
    staff: &StaffClient,
    record: Record,
    id: &str,
    fields: &[&str],
    purpose: &str,
) -> String {
    let (segment, name) = record.names();
    let page = Seen::of(staff.get(&format!("/{segment}/{id}")).await).await;
    findings.record(
        &format!("office GET /{segment}/{{{name}}}"),
        INJECTION,
        inert(&page),
    );
    let mut form: Vec<(&str, &str)> = fields.iter().map(|f| ("fields", *f)).collect();
    form.push(("purpose", purpose));
    let shown = Seen::of(
        staff
            .post_form(&format!("/{segment}/{id}/reveal"), &form)
            .await,
    )
    .await;
    findings.record(
        &format!("office POST /{segment}/{{{name}}}/reveal"),
        INJECTION,
        inert(&shown),
    );
    shown.body
}

/// What `page` shows around `marker` (for a failure's message).
fn around(page: &str, marker: &str) -> String {
    page.find(marker)
        .map(|i| page[page.floor_char_boundary(i.saturating_sub(80))..i + marker.len()].to_owned())
        .unwrap_or_default()
}

/// Applies for `product` with each payload in each free-text field (through the API, an
/// e-mail check per stored application); returns the (field, payload) pairs stored.
async fn applications(
    findings: &mut Findings,
    app: &TestApp,
    product: &Product,
) -> Vec<(&'static str, &'static str)> {
    let path = format!("/api/v1/applications/{}", product.slug);
    let route = format!("public POST {path}");
    let route = route.as_str();
    let mut stored = Vec::new();
    let mut token = verified_token(app, product.slug).await;
    for field in product.fields {
        for (kind, payload) in PAYLOADS {
            let mut body = (product.body)();
            body[*field] = Value::String((*payload).to_owned());
            let response = api_client()
                .post(app.url(&path))
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .expect("submission");
            let seen = Seen::of(response).await;
            match seen.status {
                201 => {
                    stored.push((*field, *payload));
                    token = verified_token(app, product.slug).await;
                }
                422 => {}
                other => findings.record(
                    route,
                    INJECTION,
                    Err(format!("{kind} in {field}: answered {other} {}", seen.body)),
                ),
            }
            findings.record(route, INJECTION, Ok(()));
        }
    }
    stored
}

/// The reveal of every stored application and the CSV export: inert.
async fn applications_reveal_and_export(operator: &StaffClient) -> (Seen, Seen) {
    let mut form: Vec<(&str, &str)> = APPLICATION_FIELDS.iter().map(|f| ("fields", *f)).collect();
    form.push(("purpose", "review"));
    let export = Seen::of(operator.post_form("/applications/export", &form).await).await;
    let queue = Seen::of(operator.get("/applications").await).await;
    (queue, export)
}

async fn application_pages(findings: &mut Findings, staff: &Staff, stored: &[(&str, &str)]) {
    let operator = staff.for_route(None);
    let (queue, export) = applications_reveal_and_export(operator).await;
    findings.record("office GET /applications", INJECTION, inert(&queue));
    let ids = application_ids(&queue.body);
    let mut revealed = String::new();
    for id in &ids {
        let shown = open_and_reveal(
            findings,
            operator,
            Record::Application,
            id,
            APPLICATION_FIELDS,
            "review",
        )
        .await;
        revealed.push_str(&shown);
    }
    for (field, payload) in stored {
        findings.record(
            "office POST /applications/{application}/reveal",
            INJECTION,
            if escaped_in(&revealed, payload) {
                Ok(())
            } else {
                Err(format!("{field} = {payload:?} is not shown as text"))
            },
        );
    }
    findings.record(
        "office POST /applications/export",
        INJECTION,
        csv_inert(&export, stored),
    );
}

/// The application ids the queue links to.
fn application_ids(queue: &str) -> Vec<String> {
    let re = regex_lite::Regex::new(r#"href="/applications/([0-9a-f-]{36})""#).expect("regex");
    let mut ids: Vec<String> = re
        .captures_iter(queue)
        .filter_map(|c| c.get(1).map(|m| m.as_str().to_owned()))
        .collect();
    ids.dedup();
    ids
}

/// No cell of the CSV starts a formula, and each stored formula is there, neutralized.
fn csv_inert(export: &Seen, stored: &[(&str, &str)]) -> Result<(), String> {
    if export.status != 200 {
        return Err(format!("export answered {}", export.status));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(export.body.trim_start_matches('\u{feff}').as_bytes());
    for record in reader.records() {
        let record = record.map_err(|e| format!("not CSV: {e}"))?;
        if let Some(cell) = record
            .iter()
            .find(|c| c.starts_with(['=', '+', '-', '@', '\t', '\r']) && !c.starts_with("-0"))
        {
            return Err(format!("a live formula cell: {cell:?}"));
        }
    }
    for (field, payload) in stored.iter().filter(|(_, p)| p.starts_with('=')) {
        let neutral = format!("'{}", payload.replace('"', "\"\""));
        if !export.body.contains(&neutral) {
            return Err(format!("{field}: the formula is not in the export as text"));
        }
    }
    Ok(())
}

/// No markup of a payload is live in `seen`.
fn inert(seen: &Seen) -> Result<(), String> {
    let body = seen.body.to_ascii_lowercase();
    // Escaped, the payload's text stays ("onerror=alert" included) but no tag opens.
    for live in ["<script>alert", "<img src=x"] {
        if body.contains(live) {
            return Err(format!("{} holds live {live:?}", seen.status));
        }
    }
    if body.contains("root:x:0:0") {
        return Err("a file of the host in the answer".to_owned());
    }
    Ok(())
}

/// Whether `page` shows `text` HTML-escaped (askama writes `&#60;` where others write `&lt;`).
fn escaped_in(page: &str, text: &str) -> bool {
    // Line breaks may come back as LF or as a space (free text is kept on one line).
    let spaced = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let (page, text) = (spaced(page), spaced(text));
    let named = page
        .replace("&#60;", "&lt;")
        .replace("&#62;", "&gt;")
        .replace("&#34;", "&quot;")
        .replace("&#39;", "&#x27;")
        .replace("&#38;", "&amp;");
    let wanted = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;");
    named.contains(&wanted) || page.contains(&text) && !text.contains(['<', '>', '"', '\''])
}

/// No e-mail the server sent has a header line a payload put there.
fn mail_headers(findings: &mut Findings, app: &TestApp) {
    for (raw, _) in outbox_files(app) {
        let head = raw.split("\r\n\r\n").next().unwrap_or_default();
        let injected = head
            .lines()
            .any(|l| l.to_ascii_lowercase().starts_with("bcc:"));
        findings.record(
            "public POST /api/v1/bookings",
            INJECTION,
            if injected {
                Err(format!("an injected Bcc header:\n{head}"))
            } else {
                Ok(())
            },
        );
    }
}

/// Traversal payloads in path parameters find no file.
async fn traversal_in_paths(findings: &mut Findings, app: &TestApp) {
    let client = bare_client();
    for (base, route) in [
        (
            app.public_url.as_str(),
            "public GET /apply/savings-account/{step}",
        ),
        (
            app.public_url.as_str(),
            "public GET /reservations/centers/{center}",
        ),
        (app.public_url.as_str(), "public GET /static/style.css"),
        (app.office_url.as_str(), "office GET /static/office.css"),
    ] {
        let prefix = route
            .split(' ')
            .nth(2)
            .and_then(|p| p.rsplit_once('/'))
            .map(|(dir, _)| dir)
            .unwrap_or_default();
        for payload in [
            "..%2f..%2f..%2f..%2fetc%2fpasswd",
            "../../../../etc/passwd",
            "..%5c..%5cCargo.toml",
        ] {
            let response = client
                .get(format!("{base}{prefix}/{payload}"))
                .send()
                .await
                .expect("request");
            let seen = Seen::of(response).await;
            let outcome = inert(&seen).and_then(|()| {
                if seen.body.contains("[workspace]")
                    || seen.status == 200 && seen.body.contains("root:")
                {
                    Err(format!("{} serves a file of the host", seen.status))
                } else {
                    Ok(())
                }
            });
            findings.record(route, INJECTION, outcome);
        }
    }
}

/// A fresh e-mail check through the API, confirmed: its verification token.
async fn verified_token(app: &TestApp, product: &str) -> String {
    let email = format!(
        "inject.{}@example.jp",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let started = api_post(
        app,
        "/api/v1/email-checks",
        &json!({ "email": email, "product": product }),
    )
    .await;
    assert_eq!(started.status, 202, "check started: {}", started.body);
    let json: Value = serde_json::from_str(&started.body).expect("JSON");
    let check_id = json["check_id"].as_str().expect("check_id").to_owned();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mail = loop {
        if let Some((_, text)) = outbox_files(app)
            .into_iter()
            .find(|(_, text)| text.contains(&email) && text.contains("確認コード"))
        {
            break text;
        }
        assert!(Instant::now() < deadline, "no code e-mail to {email}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let confirmed = api_post(
        app,
        &format!("/api/v1/email-checks/{check_id}/confirm"),
        &json!({ "code": code_in(&mail) }),
    )
    .await;
    let json: Value = serde_json::from_str(&confirmed.body).expect("JSON");
    json["verification_token"]
        .as_str()
        .expect("verification token")
        .to_owned()
}

/// The savings-account body of the API for `applicant` (as `api_applications.rs` sends it).
fn savings_body(applicant: &Applicant) -> Value {
    let mut body: serde_json::Map<String, Value> = applicant
        .personal_step()
        .into_iter()
        .chain(
            applicant
                .profile_step()
                .into_iter()
                .filter(|(k, _)| *k != "purposes"),
        )
        .map(|(k, v)| (k.to_owned(), Value::String(v)))
        .collect();
    body.insert("purposes".into(), json!(["salary-pension", "savings"]));
    for no in ["us_person", "foreign_pep"] {
        body.insert(no.into(), json!(false));
    }
    for yes in [
        "anti_social_declaration",
        "consent_terms",
        "consent_privacy",
    ] {
        body.insert(yes.into(), json!(true));
    }
    body.insert("branch_code".into(), json!("101"));
    body.insert("cash_card_pin".into(), json!(applicant.pin));
    body.insert("cash_card_pin_confirm".into(), json!(applicant.pin));
    Value::Object(body)
}

/// POSTs a JSON body to an API path (also the IDOR checks').
pub(crate) async fn api_post(app: &TestApp, path: &str, body: &Value) -> Seen {
    let response = api_client()
        .post(app.url(path))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("request");
    Seen::of(response).await
}
