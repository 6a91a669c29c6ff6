//! Stored XSS and CSV injection are impossible in the back office: markup and formulas
//! planted in an application (straight into the database, sealed as the public site seals,
//! where the public validation would refuse them; and through the public site where free text
//! is accepted) come out escaped on every page that can show them, and neutralized in the CSV.

mod common;
#[path = "review_seed/mod.rs"]
mod seed;

use common::applicant::{Applicant, apply};
use common::office::{StaffClient, staff_client};
use common::{Db, TestApp};
use reqwest::StatusCode;

const SCRIPT: &str = "<script>alert(1)</script>";
const IMG: &str = "<img src=x onerror=alert(1)>";
const BREAKOUT: &str = "\"><script>alert(2)</script>";
const NOTE: &str = "<script>alert(3)</script>";
const FORMULA: &str = "=HYPERLINK(\"http://x\")";

/// No markup of ours survives as markup in `page`.
fn assert_inert(page: &str, what: &str) {
    assert!(!page.contains("<script>"), "{what}: raw <script>\n{page}");
    assert!(!page.contains("<img src=x"), "{what}: raw <img>");
}

/// Whether `page` holds `text` escaped (askama writes `&#60;` where others write `&lt;`).
fn has_escaped(page: &str, text: &str) -> bool {
    let named = page
        .replace("&#60;", "&lt;")
        .replace("&#62;", "&gt;")
        .replace("&#34;", "&quot;")
        .replace("&#39;", "&#x27;");
    let wanted = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    named.contains(&wanted)
}

async fn body(answer: reqwest::Response, what: &str) -> String {
    assert_eq!(answer.status(), StatusCode::OK, "{what}");
    answer.text().await.expect("body")
}

async fn export(staff: &StaffClient, fields: &[&str]) -> reqwest::Response {
    let mut form: Vec<(&str, &str)> = fields.iter().map(|f| ("fields", *f)).collect();
    form.push(("purpose", "review"));
    staff.post_form("/applications/export", &form).await
}

#[tokio::test]
async fn planted_markup_and_formulas_are_inert_on_every_page_and_in_the_csv() {
    for db in [Db::Sqlite, Db::Postgres] {
        let Some(app) = TestApp::spawn(db).await else {
            continue;
        };
        let planted = seed::plant(
            &app,
            "101",
            &[
                ("family_name", SCRIPT),
                ("given_name", IMG),
                ("address_line", BREAKOUT),
                ("employer_name", FORMULA),
                ("email", "xss@example.jp"),
            ],
        )
        .await;
        let operator = staff_client(&app, "operator", "branches:101").await;
        let path = format!("/applications/{}", planted.id);

        let queue = body(operator.get("/applications").await, "queue").await;
        assert!(queue.contains(&planted.receipt_number));
        assert_inert(&queue, "queue");
        let detail = body(operator.get(&path).await, "detail").await;
        assert_inert(&detail, "detail");

        let added = operator
            .post_form(&format!("{path}/notes"), &[("note", NOTE)])
            .await;
        assert_eq!(added.status(), StatusCode::SEE_OTHER);
        let revealed = operator
            .post_form(
                &format!("{path}/reveal"),
                &[
                    ("fields", "family_name"),
                    ("fields", "given_name"),
                    ("fields", "address_line"),
                    ("fields", "employer_name"),
                    ("fields", "notes"),
                    ("purpose", "review"),
                ],
            )
            .await;
        let revealed = body(revealed, "reveal").await;
        assert_inert(&revealed, "reveal");
        assert!(has_escaped(&revealed, SCRIPT));
        assert!(has_escaped(&revealed, IMG));
        assert!(has_escaped(&revealed, NOTE), "the note");
        assert!(has_escaped(&revealed, BREAKOUT));
        // Attribute values too: the breakout cannot close an attribute.
        assert!(!revealed.contains("\"><script"));

        let csv = export(
            &operator,
            &["family_name", "given_name", "address_line", "employer_name"],
        )
        .await;
        assert_eq!(csv.status(), StatusCode::OK);
        let header = |name: &str| {
            csv.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(header("content-type"), "text/csv; charset=utf-8");
        assert!(header("content-disposition").starts_with("attachment"));
        let bytes = csv.bytes().await.expect("csv");
        assert!(
            bytes.starts_with(b"\xEF\xBB\xBF"),
            "UTF-8 with BOM for Excel"
        );
        let text = String::from_utf8(bytes[3..].to_vec()).expect("utf-8");
        let line = text
            .lines()
            .find(|l| l.starts_with(&planted.receipt_number))
            .expect("the planted application's line");
        // The formula's cell starts with ' inside the csv crate's quoting.
        assert!(
            line.contains(",\"'=HYPERLINK(\"\"http://x\"\")\""),
            "neutralized formula: {line}"
        );
        assert!(!line.contains(",=") && !line.contains(",\"="), "{line}");
        let exported = app
            .store()
            .recent_audit_events(100)
            .await
            .expect("events")
            .into_iter()
            .filter(|e| e.action == "application.export")
            .collect::<Vec<_>>();
        assert_eq!(exported.len(), 1, "one event per exported application");
        assert_eq!(
            exported[0].fields,
            "family_name,given_name,address_line,employer_name"
        );

        let auditor = staff_client(&app, "auditor", "bank").await;
        let log = body(auditor.get("/audit").await, "audit log").await;
        assert_inert(&log, "audit log");
        app.stop().await;
    }
}

#[tokio::test]
async fn free_text_typed_on_the_public_site_is_inert_in_the_back_office() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let client = TestApp::client();
    let mut scripted = Applicant::new();
    scripted.employer_name = SCRIPT.to_owned();
    let scripted_receipt = apply(&app, &client, &scripted).await;
    let mut formula = Applicant::new();
    formula.employer_name = FORMULA.to_owned();
    let formula_receipt = apply(&app, &TestApp::client(), &formula).await;

    let operator = staff_client(&app, "operator", "branches:101").await;
    for receipt in [&scripted_receipt, &formula_receipt] {
        let id = app
            .store()
            .application_id_by_receipt(receipt)
            .await
            .expect("look-up")
            .expect("application");
        let page = operator
            .post_form(
                &format!("/applications/{id}/reveal"),
                &[("fields", "employer_name"), ("purpose", "review")],
            )
            .await;
        let page = body(page, "reveal").await;
        assert_inert(&page, "reveal of a public submission");
        if receipt == &scripted_receipt {
            let row = page
                .lines()
                .find(|l| l.contains("勤務先名"))
                .unwrap_or_default();
            assert!(has_escaped(&page, SCRIPT), "{row}");
        }
    }
    let csv = export(&operator, &["employer_name"]).await;
    let text = String::from_utf8(csv.bytes().await.expect("csv")[3..].to_vec()).expect("utf-8");
    let line = text
        .lines()
        .find(|l| l.starts_with(formula_receipt.as_str()))
        .expect("the formula's line");
    assert!(
        line.ends_with(",\"'=HYPERLINK(\"\"http://x\"\")\""),
        "{line}"
    );
    app.stop().await;
}
