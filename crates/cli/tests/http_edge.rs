//! Bad input at the HTTP edge gets a clear answer, and the server keeps serving.

mod common;

use common::{Db, TestApp, post_form};

#[tokio::test]
async fn bad_requests_get_clear_errors_and_the_server_keeps_serving() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let client = TestApp::client();
    let csrf = app.open_application(&client).await;
    let email_url = app.url("/apply/savings-account/email");

    let missing_csrf = post_form(&client, &email_url, &[("email", "a@example.jp")]).await;
    assert_eq!(missing_csrf.status(), 403);
    assert!(
        missing_csrf
            .text()
            .await
            .expect("body")
            .contains("ページの有効期限が切れました")
    );

    let forged = post_form(
        &client,
        &email_url,
        &[("csrf", "AAAA"), ("email", "a@example.jp")],
    )
    .await;
    assert_eq!(forged.status(), 403);

    let other_browser = TestApp::client();
    let stolen = post_form(
        &other_browser,
        &email_url,
        &[("csrf", &csrf), ("email", "a@example.jp")],
    )
    .await;
    assert_eq!(
        stolen.status(),
        403,
        "a token is bound to its browser session"
    );

    let json = client
        .post(&email_url)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("request");
    assert_eq!(json.status(), 415);

    let huge = "a".repeat(200 * 1024);
    let oversize = post_form(&client, &email_url, &[("csrf", &csrf), ("email", &huge)]).await;
    assert_eq!(oversize.status(), 413);

    let malformed = client
        .post(&email_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'%', 0xff, 0xfe, b'=', b'&', b'&', 0x00])
        .send()
        .await
        .expect("request");
    assert_eq!(
        malformed.status(),
        403,
        "undecodable form: no valid CSRF token in it"
    );

    let control = post_form(
        &client,
        &email_url,
        &[("csrf", &csrf), ("email", "a@exam\r\nBcc: x@evil.example")],
    )
    .await;
    assert_eq!(control.status(), 422, "CR/LF in an address is refused");

    let unknown = client
        .get(app.url("/no/such/page"))
        .send()
        .await
        .expect("request");
    assert_eq!(unknown.status(), 404);
    assert!(
        unknown
            .text()
            .await
            .expect("body")
            .contains("ページが見つかりません")
    );

    let still = client.get(app.url("/")).send().await.expect("request");
    assert_eq!(still.status(), 200, "the server keeps serving");
    app.stop().await;
}

#[tokio::test]
async fn every_page_carries_the_security_headers() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let client = TestApp::client();
    for path in ["/", "/apply/savings-account", "/no/such/page"] {
        let response = client.get(app.url(path)).send().await.expect("request");
        let h = response.headers();
        let csp = h
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            csp.contains("default-src 'none'")
                && csp.contains("frame-ancestors 'none'")
                && !csp.contains("unsafe-inline"),
            "{path}: CSP {csp}"
        );
        assert_eq!(
            h.get("x-frame-options").map(|v| v.as_bytes()),
            Some(&b"DENY"[..]),
            "{path}"
        );
        assert_eq!(
            h.get("x-content-type-options").map(|v| v.as_bytes()),
            Some(&b"nosniff"[..]),
            "{path}"
        );
        assert!(h.get("strict-transport-security").is_some(), "{path}: HSTS");
        assert_eq!(
            h.get("cache-control").map(|v| v.as_bytes()),
            Some(&b"no-store"[..]),
            "{path}"
        );
        assert!(h.get("server").is_none(), "{path}: no version banner");
    }
    let css = TestApp::client()
        .get(app.url("/static/style.css"))
        .send()
        .await
        .expect("request");
    assert!(
        css.headers().get("set-cookie").is_none(),
        "a cacheable asset sets no cookie"
    );
    assert!(css.headers().get("x-content-type-options").is_some());
    let first = TestApp::client()
        .get(app.url("/apply/savings-account"))
        .send()
        .await
        .expect("request");
    let cookie = first
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "session cookie flags: {cookie}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_public_listener_serves_no_back_office_and_the_back_office_no_public_route() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let client = TestApp::client();
    let office_home = client
        .get(format!("{}/", app.office_url))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    assert!(office_home.contains("管理システム"));
    let public_home = client
        .get(app.url("/"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    assert!(!public_home.contains("管理システム"));
    let on_office = client
        .get(format!("{}/apply/savings-account", app.office_url))
        .send()
        .await
        .expect("request");
    assert_eq!(on_office.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn every_form_of_the_public_site_refuses_a_post_without_its_csrf_token() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let client = TestApp::client();
    client
        .get(app.url("/apply/savings-account"))
        .send()
        .await
        .expect("session");
    for step in [
        "email", "verify", "restart", "personal", "profile", "branch", "submit",
    ] {
        let url = app.url(&format!("/apply/savings-account/{step}"));
        let response = post_form(
            &client,
            &url,
            &[("email", "a@example.jp"), ("code", "123456")],
        )
        .await;
        assert_eq!(response.status(), 403, "POST {step} without a CSRF token");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_client_starting_too_many_email_checks_is_told_to_wait() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let client = TestApp::client();
    let csrf = app.open_application(&client).await;
    let quota = madoguchi_public::RateLimitSettings::default()
        .email_checks_per_minute
        .get();
    let url = app.url("/apply/savings-account/email");
    for n in 0..quota {
        let email = format!("burst{n}@example.jp");
        let ok = post_form(&client, &url, &[("csrf", &csrf), ("email", &email)]).await;
        assert_eq!(ok.status(), 200, "check {n} is within the quota");
    }
    let refused = post_form(
        &client,
        &url,
        &[("csrf", &csrf), ("email", "one-more@example.jp")],
    )
    .await;
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    assert!(
        refused
            .text()
            .await
            .expect("body")
            .contains("1分ほどおいてから"),
        "says what to do"
    );
    assert_eq!(
        client
            .get(app.url("/"))
            .send()
            .await
            .expect("request")
            .status(),
        200,
        "pages still answer"
    );
    app.stop().await;
}

/// The address a failed sign-in to the back office is audited with, when `forwarded` is sent
/// as X-Forwarded-For.
async fn audited_address(app: &TestApp, forwarded: &str) -> Option<String> {
    let client = TestApp::client();
    let answer = client
        .post(format!("{}/sign-in", app.office_url))
        .header("x-forwarded-for", forwarded)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=nobody.here&password=not+the+password")
        .send()
        .await
        .expect("sign-in");
    assert!(
        answer.status().is_success() || answer.status().is_client_error(),
        "{}",
        answer.status()
    );
    app.store()
        .recent_audit_events(50)
        .await
        .expect("audit")
        .into_iter()
        .find(|e| e.action == "staff.sign-in" && e.outcome != "ok")
        .and_then(|e| e.actor_address)
}

/// Behind a declared TLS-terminating proxy (`--tls-proxy`), the client's address is the one the
/// proxy forwards: the audit log, rate limits and detection see customers and staff, not the
/// proxy. From anyone not declared, X-Forwarded-For is ignored, so no client picks its address.
/// The back office's allowlist still applies to the connection's peer (the proxy).
#[tokio::test]
async fn only_a_declared_proxy_names_the_client() {
    let options = common::Options {
        trusted_proxies: vec!["127.0.0.1".parse().expect("ip")],
        ..common::Options::default()
    };
    let Some(behind_proxy) = TestApp::spawn_with(Db::Sqlite, options).await else {
        return;
    };
    assert_eq!(
        audited_address(&behind_proxy, "203.0.113.7")
            .await
            .as_deref(),
        Some("203.0.113.7")
    );
    behind_proxy.stop().await;

    let Some(direct) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    assert_eq!(
        audited_address(&direct, "203.0.113.7").await.as_deref(),
        Some("127.0.0.1")
    );
    direct.stop().await;
}
