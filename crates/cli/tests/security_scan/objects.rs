//! Object-level access (IDOR/BOLA): the identifiers of one subject never open another's —
//! application, document, booking and staff ids in the back office (asked for by staff of the
//! same role outside the subject's scope, and guessed as neighbours by staff inside it), and
//! on the public site booking tokens, receipt numbers and check ids guessed as neighbours.

use std::time::{Duration, Instant};

use axum::http::Method;
use madoguchi_domain::ReceiptNumber;
use serde_json::{Value, json};

use crate::common::TestApp;
use crate::common::reservation::mails_to;
use crate::findings::Findings;
use crate::injection::api_post;
use crate::passive::Seen;
use crate::targets::{Listener, Target, neighbour};
use crate::{Seeded, Staff};

pub const OBJECTS: &str = "object-level access (IDOR)";

pub async fn check(
    findings: &mut Findings,
    app: &TestApp,
    targets: &[Target],
    seeded: &Seeded,
    staff: &Staff,
) {
    for target in targets {
        if target.listener == Listener::Office && target.has_parameter() {
            office_subject(findings, target, seeded, staff).await;
        }
    }
    out_of_scope_lists(findings, staff, seeded).await;
    booking_tokens(findings, app, seeded).await;
    receipt_numbers(findings, app, seeded).await;
    check_ids(findings, app, &seeded.receipt).await;
}

/// A back-office route with an id: refused to staff of the same role outside the subject's
/// scope (or, where the scan has none, to an operator of another branch), and a neighbour of
/// the id is not found for staff inside it. Forms carry the member's own CSRF token, so that
/// what refuses is the object check.
async fn office_subject(findings: &mut Findings, target: &Target, seeded: &Seeded, staff: &Staff) {
    let route = target.name();
    let outsider = staff
        .outside(target.access)
        .or_else(|| staff.outside(None))
        .expect("an operator of another branch");
    let seen = office_request(outsider, &target.path, &target.method).await;
    findings.record(
        &route,
        OBJECTS,
        refused(&seen, seeded).map_err(|e| format!("outside the scope, {}: {e}", target.path)),
    );
    let guessed = guess(target, seeded);
    let insider = staff.for_route(target.access);
    let seen = office_request(insider, &guessed, &target.method).await;
    findings.record(
        &route,
        OBJECTS,
        refused(&seen, seeded).map_err(|e| format!("neighbour {guessed}: {e}")),
    );
}

/// The path with its real id replaced by that id's neighbour.
fn guess(target: &Target, seeded: &Seeded) -> String {
    let s = &seeded.subjects;
    let mut path = target.path.clone();
    for id in [&s.application, &s.document, &s.booking, &s.staff] {
        path = path.replace(id.as_str(), &neighbour(id));
    }
    if target.pattern.contains("{center}") {
        path = path.replace("/naha", "/nahb");
    }
    if path == target.path {
        // A random id (batch, passkey): its neighbour is as unknown.
        let last = path.rsplit('/').find(|p| p.len() == 36).unwrap_or_default();
        path = path.replace(last, &neighbour(last));
    }
    path
}

async fn office_request(
    staff: &crate::common::office::StaffClient,
    path: &str,
    method: &Method,
) -> Seen {
    let response = if *method == Method::GET {
        staff.get(path).await
    } else {
        staff.post_form(path, &[]).await
    };
    Seen::of(response).await
}

/// Not found or forbidden, and nothing seeded in the answer.
fn refused(seen: &Seen, seeded: &Seeded) -> Result<(), String> {
    if let Some(value) = seeded.leaked_in(&seen.body) {
        return Err(format!("{} shows {value:?}", seen.status));
    }
    if matches!(seen.status, 403 | 404) {
        Ok(())
    } else {
        Err(format!("answered {} {}", seen.status, seen.location()))
    }
}

/// Lists filter by scope: the queue of another branch's operator does not list the seeded
/// application, nor another centre's consultant the seeded booking's centre.
async fn out_of_scope_lists(findings: &mut Findings, staff: &Staff, seeded: &Seeded) {
    let operator = staff.outside(None).expect("operator of another branch");
    let queue = Seen::of(operator.get("/applications").await).await;
    let listed = queue.body.contains(&seeded.receipt);
    findings.record(
        "office GET /applications",
        OBJECTS,
        if queue.status == 200 && !listed {
            Ok(())
        } else {
            Err(format!(
                "{} lists {}: {listed}",
                queue.status, seeded.receipt
            ))
        },
    );
}

/// Booking tokens: the real one opens its booking (else this check proves nothing), its
/// neighbours open nothing, on the API and on the pages.
async fn booking_tokens(findings: &mut Findings, app: &TestApp, seeded: &Seeded) {
    let token = &seeded.subjects.token;
    let mut first_changed: Vec<char> = token.chars().collect();
    first_changed[0] = if first_changed[0] == 'A' { 'B' } else { 'A' };
    let guesses = [neighbour(token), first_changed.into_iter().collect()];
    let lookup = "/api/v1/bookings/lookup";
    let real = api_post(app, lookup, &json!({ "token": token })).await;
    findings.record(
        &format!("public POST {lookup}"),
        OBJECTS,
        if real.status == 200 {
            Ok(())
        } else {
            Err(format!("the real token answered {}", real.status))
        },
    );
    for path in [lookup, "/api/v1/bookings/change", "/api/v1/bookings/cancel"] {
        for guess in &guesses {
            let body = json!({ "token": guess, "starts_at": "2099-01-05T10:00:00+09:00" });
            let seen = api_post(app, path, &body).await;
            let outcome = match seeded.leaked_in(&seen.body) {
                Some(value) => Err(format!("neighbour token shows {value:?}")),
                None if matches!(seen.status, 404 | 422) => Ok(()),
                None => Err(format!("neighbour token answered {}", seen.status)),
            };
            findings.record(&format!("public POST {path}"), OBJECTS, outcome);
        }
    }
    let route = "public GET /reservations/manage/{token}";
    let opens = |seen: &Seen| seen.body.contains("/reservations/manage/cancel");
    let real = manage_page(app, token).await;
    findings.record(
        route,
        OBJECTS,
        if opens(&real) {
            Ok(())
        } else {
            Err(format!(
                "the real token's page ({}) has no cancel form",
                real.status
            ))
        },
    );
    for guess in &guesses {
        let seen = manage_page(app, guess).await;
        let outcome = match seeded.leaked_in(&seen.body) {
            Some(value) => Err(format!("neighbour token shows {value:?}")),
            None if opens(&seen) => Err("a neighbour token opened a booking".to_owned()),
            None => Ok(()),
        };
        findings.record(route, OBJECTS, outcome);
    }
}

/// The booking page a browser reaches from the e-mail's link with `token`.
async fn manage_page(app: &TestApp, token: &str) -> Seen {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let response = client
        .get(app.url(&format!("/reservations/manage/{token}")))
        .send()
        .await
        .expect("manage link");
    Seen::of(response).await
}

/// Receipt numbers: the status check answers the real number with another address, its
/// neighbours and a made-up one all alike, and e-mails a code only to the application's own
/// address.
async fn receipt_numbers(findings: &mut Findings, app: &TestApp, seeded: &Seeded) {
    let route = "public POST /api/v1/status-checks";
    let path = "/api/v1/status-checks";
    let attacker = format!(
        "guess.{}@example.jp",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    );
    let receipt = &seeded.receipt;
    let made_up = ReceiptNumber::generate()
        .expect("randomness")
        .as_str()
        .to_owned();
    let mut shapes = Vec::new();
    for guess in [receipt.clone(), receipt_neighbour(receipt), made_up] {
        let seen = api_post(
            app,
            path,
            &json!({ "receipt_number": guess, "email": attacker }),
        )
        .await;
        let json: Value = serde_json::from_str(&seen.body).unwrap_or(Value::Null);
        let keys: Vec<String> = json
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        shapes.push((seen.status, keys));
    }
    let alike = shapes.windows(2).all(|w| w[0] == w[1]) && shapes[0].0 == 202;
    findings.record(
        route,
        OBJECTS,
        if alike {
            Ok(())
        } else {
            Err(format!("answers differ: {shapes:?}"))
        },
    );
    // The control: the real pair gets its code; by then the guesses would have had theirs.
    let own = &seeded.applicant.email;
    let before = mails_to(app, own, "確認コード");
    let control = api_post(
        app,
        path,
        &json!({ "receipt_number": receipt, "email": own }),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while mails_to(app, own, "確認コード") == before && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let delivered = mails_to(app, own, "確認コード") > before;
    let leaked = mails_to(app, &attacker, "");
    findings.record(
        route,
        OBJECTS,
        if control.status == 202 && delivered && leaked == 0 {
            Ok(())
        } else {
            Err(format!(
                "control {} delivered {delivered}; {leaked} e-mails to the guesser",
                control.status
            ))
        },
    );
}

/// The nearest well-formed receipt number (the last symbols carry a check: a neighbour that
/// fails it is refused as malformed, which tells nothing).
fn receipt_neighbour(receipt: &str) -> String {
    let alphabet = madoguchi_domain::receipt::ALPHABET;
    let chars: Vec<char> = receipt.chars().collect();
    let last = chars.len() - 1;
    for position in (0..chars.len()).rev().filter(|&i| chars[i] != '-') {
        for &symbol in alphabet.iter() {
            for &check in alphabet.iter() {
                let mut guess = chars.clone();
                guess[position] = char::from(symbol);
                if position != last {
                    guess[last] = char::from(check);
                }
                let guess: String = guess.into_iter().collect();
                if guess != receipt && ReceiptNumber::parse(&guess).is_ok() {
                    return guess;
                }
            }
        }
    }
    panic!("no well-formed neighbour of {receipt}")
}

/// Check ids: a neighbour of a running check's id confirms nothing.
async fn check_ids(findings: &mut Findings, app: &TestApp, receipt: &str) {
    let email = format!(
        "check.{}@example.jp",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    );
    let started = api_post(
        app,
        "/api/v1/email-checks",
        &json!({ "email": email, "product": "savings-account" }),
    )
    .await;
    let status_check = api_post(
        app,
        "/api/v1/status-checks",
        &json!({ "receipt_number": receipt, "email": email }),
    )
    .await;
    for (started, kind) in [(started, "email-checks"), (status_check, "status-checks")] {
        let route = format!("public POST /api/v1/{kind}/{{check_id}}/confirm");
        let json: Value = serde_json::from_str(&started.body).unwrap_or(Value::Null);
        let Some(id) = json["check_id"].as_str() else {
            findings.record(
                &route,
                OBJECTS,
                Err(format!("no check started: {}", started.body)),
            );
            continue;
        };
        let path = format!("/api/v1/{kind}/{}/confirm", neighbour(id));
        let seen = api_post(app, &path, &json!({ "code": "000000" })).await;
        let confirmed = seen.status == 200 || seen.body.contains("verification_token");
        findings.record(
            &route,
            OBJECTS,
            if confirmed {
                Err(format!("a neighbour check id answered {}", seen.status))
            } else {
                Ok(())
            },
        );
    }
}
