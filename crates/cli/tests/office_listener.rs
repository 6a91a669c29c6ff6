//! The back office has its own listener: the public one serves none of its pages, and the
//! back office answers only loopback clients and those on its allowlist.

mod common;

use std::net::{IpAddr, SocketAddr};

use common::{Db, Options, TestApp, in_ci};

/// A concrete path for a route pattern (`{param}` → a value that parses).
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment {
            "{center}" => "shinjuku".to_owned(),
            s if s.starts_with('{') => "0190a0b0-0000-7000-8000-000000000000".to_owned(),
            s => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn the_public_listener_serves_no_back_office_page() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let client = TestApp::client();
    let routes = madoguchi_office::route_table();
    assert!(routes.len() > 2, "the table lists the back office's routes");
    for route in routes {
        let path = concrete(route.path);
        let url = app.url(&path);
        let response = client
            .request(route.method.clone(), &url)
            .send()
            .await
            .expect("request");
        let status = response.status();
        let staff_cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap_or("").contains("mdg_staff"));
        let body = response.text().await.expect("body");
        assert!(
            !body.contains("管理システム") && !staff_cookie,
            "{} {path} on the public listener answered {status} with a back-office page",
            route.method
        );
    }
    app.stop().await;
}

/// An address of this machine that is not loopback, so that a connection to it comes from a
/// non-loopback peer address.
fn non_loopback_address() -> Option<IpAddr> {
    let out = std::process::Command::new("hostname")
        .arg("-I")
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|a| a.parse::<IpAddr>().ok())
        .find(|ip| ip.is_ipv4() && !ip.is_loopback())
}

async fn office_status(app: &TestApp, host: IpAddr) -> u16 {
    let port = app
        .office_url
        .rsplit(':')
        .next()
        .and_then(|p| p.parse::<u16>().ok())
        .expect("office port");
    let url = format!("http://{}/sign-in", SocketAddr::new(host, port));
    TestApp::client()
        .get(url)
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

#[tokio::test]
async fn the_back_office_refuses_clients_that_are_neither_loopback_nor_allowed() {
    let Some(ip) = non_loopback_address() else {
        assert!(
            !in_ci(),
            "this machine has no non-loopback address to test with"
        );
        return;
    };
    let everywhere: SocketAddr = "0.0.0.0:0".parse().expect("addr");
    let closed = Options {
        office_addr: Some(everywhere),
        ..Options::default()
    };
    let Some(app) = TestApp::spawn_with(Db::Sqlite, closed).await else {
        return;
    };
    assert_eq!(office_status(&app, ip).await, 403, "from {ip}: refused");
    assert_eq!(
        office_status(&app, "127.0.0.1".parse().expect("ip")).await,
        200,
        "from loopback: served"
    );
    app.stop().await;

    let allowed = Options {
        office_addr: Some(everywhere),
        office_allowed_clients: vec![ip],
        ..Options::default()
    };
    let Some(app) = TestApp::spawn_with(Db::Sqlite, allowed).await else {
        return;
    };
    assert_eq!(
        office_status(&app, ip).await,
        200,
        "{ip} is on the allowlist"
    );
    app.stop().await;
}
