//! The connection itself, over raw TCP on both listeners: ambiguous message framing (request
//! smuggling basics: conflicting Content-Length/Transfer-Encoding) is answered 400; clients
//! that trickle a header or a body are cut off by the timeouts, while others are served
//! meanwhile.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use madoguchi_http::Timeouts;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{Db, Options, TestApp};
use crate::findings::Findings;

const SMUGGLING: &str = "ambiguous framing refused (smuggling)";
const SLOW_CLIENTS: &str = "slow clients cut off, others served";

/// Short timeouts, so that the test does not wait out production's.
const TIMEOUTS: Timeouts = Timeouts {
    header_read: Duration::from_secs(1),
    request: Duration::from_secs(2),
};

#[tokio::test]
async fn ambiguous_framing_and_slow_clients_meet_a_refusal_on_both_listeners() {
    let options = Options {
        timeouts: Some(TIMEOUTS),
        ..Options::unlimited()
    };
    let Some(app) = TestApp::spawn_with(Db::Sqlite, options).await else {
        return;
    };
    let running = app.running.as_ref().expect("running");
    let listeners = [
        (
            "public",
            running.public_addr.expect("public"),
            "/apply/savings-account/email",
        ),
        ("office", running.office_addr.expect("office"), "/sign-in"),
    ];
    let mut findings = Findings::default();
    for (name, addr, form) in listeners {
        let route = format!("{name} listener");
        for (what, request) in ambiguous(form) {
            let answer = exchange(addr, &request).await;
            let outcome = if answer.starts_with("HTTP/1.1 400") {
                Ok(())
            } else {
                Err(format!("{what}: {}", first_line(&answer)))
            };
            findings.record(&route, SMUGGLING, outcome);
        }
        findings.record(&route, SMUGGLING, cannot_smuggle(addr, form).await);
        findings.record(&route, SLOW_CLIENTS, slow_header(addr).await);
        findings.record(&route, SLOW_CLIENTS, slow_body(addr, form).await);
    }
    findings.assert_clean("transport");
    app.stop().await;
}

/// Requests whose length two parsers could read differently; each must be answered 400.
fn ambiguous(path: &str) -> Vec<(&'static str, String)> {
    let head = format!("POST {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    vec![
        (
            "two different Content-Length",
            format!("{head}Content-Length: 4\r\nContent-Length: 5\r\n\r\nabcde"),
        ),
        (
            "Content-Length with a sign",
            format!("{head}Content-Length: +5\r\n\r\nabcde"),
        ),
        (
            "Transfer-Encoding not ending in chunked",
            format!("{head}Transfer-Encoding: chunked, identity\r\n\r\n5\r\nabcde\r\n0\r\n\r\n"),
        ),
        (
            "an unknown Transfer-Encoding",
            format!("{head}Transfer-Encoding: xchunked\r\n\r\n5\r\nabcde\r\n0\r\n\r\n"),
        ),
        (
            "Transfer-Encoding in HTTP/1.0",
            format!(
                "POST {path} HTTP/1.0\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n0\r\n\r\n"
            ),
        ),
        (
            "a header folded over two lines",
            format!("{head}Content-Length: 5\r\n 5\r\n\r\nabcde"),
        ),
        (
            "a space before the colon",
            format!("{head}Content-Length : 5\r\n\r\nabcde"),
        ),
    ]
}

/// Content-Length and Transfer-Encoding together, in either order, with a second request
/// hidden where the one reading Content-Length would see body and the one reading chunks sees
/// a new request: answered 400, and the hidden request never.
async fn cannot_smuggle(addr: SocketAddr, path: &str) -> Result<(), String> {
    let hidden = "GET /hidden-smuggled-request HTTP/1.1\r\nHost: localhost\r\n\r\n";
    for order in [
        format!(
            "Content-Length: {}\r\nTransfer-Encoding: chunked\r\n",
            5 + hidden.len()
        ),
        format!(
            "transfer-encoding: chunked\r\ncontent-length: {}\r\n",
            5 + hidden.len()
        ),
    ] {
        let request =
            format!("POST {path} HTTP/1.1\r\nHost: localhost\r\n{order}\r\n0\r\n\r\n{hidden}");
        let answer = exchange(addr, &request).await;
        let answers = answer.matches("HTTP/1.1 ").count();
        if !answer.starts_with("HTTP/1.1 400") || answers != 1 || answer.contains("TIMED OUT") {
            return Err(format!(
                "both lengths: {answers} answers, the first {:?}",
                first_line(&answer)
            ));
        }
    }
    Ok(())
}

/// A header sent a line every 300 ms: the connection is closed after the header timeout,
/// while ten such clients and an ordinary one share the server.
async fn slow_header(addr: SocketAddr) -> Result<(), String> {
    let trickle = |n: usize| async move {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let started = Instant::now();
        let _ = stream
            .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
            .await;
        let (mut reader, mut writer) = stream.into_split();
        let writing = tokio::spawn(async move {
            for i in 0..40 {
                tokio::time::sleep(Duration::from_millis(300)).await;
                if writer
                    .write_all(format!("X-Slow-{n}-{i}: a\r\n").as_bytes())
                    .await
                    .is_err()
                {
                    break;
                }
            }
        });
        let mut answer = Vec::new();
        let ended =
            tokio::time::timeout(Duration::from_secs(6), reader.read_to_end(&mut answer)).await;
        writing.abort();
        (
            ended.is_ok(),
            started.elapsed(),
            String::from_utf8_lossy(&answer).into_owned(),
        )
    };
    let slow: Vec<_> = (0..10).map(|n| tokio::spawn(trickle(n))).collect();
    let ordinary = served_meanwhile(addr).await;
    for client in slow {
        let (ended, took, answer) = client.await.expect("slow client");
        if !ended || took > TIMEOUTS.header_read + Duration::from_secs(2) {
            return Err(format!(
                "a header trickled for {took:?} was not cut off ({})",
                first_line(&answer)
            ));
        }
    }
    ordinary
}

/// A body sent a byte every 300 ms: answered 408 after the request timeout, while an
/// ordinary client is served.
async fn slow_body(addr: SocketAddr, path: &str) -> Result<(), String> {
    let mut stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let started = Instant::now();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
    );
    stream
        .write_all(head.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let (mut reader, mut writer) = stream.into_split();
    let writing = tokio::spawn(async move {
        for _ in 0..40 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if writer.write_all(b"a").await.is_err() {
                break;
            }
        }
    });
    let ordinary = served_meanwhile(addr).await;
    let mut answer = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(6), reader.read_to_end(&mut answer)).await;
    writing.abort();
    let took = started.elapsed();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    if ended.is_err() || !answer.starts_with("HTTP/1.1 408") {
        return Err(format!(
            "a body trickled for {took:?}: {}",
            first_line(&answer)
        ));
    }
    if took > TIMEOUTS.request + Duration::from_secs(2) {
        return Err(format!("the trickled body was cut off only after {took:?}"));
    }
    let head = answer.to_ascii_lowercase();
    if !head.contains("x-content-type-options: nosniff")
        || !head.contains("content-security-policy:")
    {
        return Err(format!("the 408 lacks the security headers:\n{answer}"));
    }
    ordinary
}

/// An ordinary request is answered promptly.
async fn served_meanwhile(addr: SocketAddr) -> Result<(), String> {
    let started = Instant::now();
    let answer = exchange(
        addr,
        "GET /static/style.css HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    let took = started.elapsed();
    // The back office has its own stylesheet path; any answer of the router will do.
    if answer.starts_with("HTTP/1.1 ")
        && !answer.contains("TIMED OUT")
        && took < Duration::from_secs(1)
    {
        Ok(())
    } else {
        Err(format!(
            "an ordinary request took {took:?}: {}",
            first_line(&answer)
        ))
    }
}

/// Sends `request` on a new connection and reads until the server closes it (at most 3 s;
/// then the answer ends with `TIMED OUT`).
async fn exchange(addr: SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut answer = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(3), stream.read_to_end(&mut answer)).await;
    let mut text = String::from_utf8_lossy(&answer).into_owned();
    if ended.is_err() {
        text.push_str("\nTIMED OUT");
    }
    text
}

fn first_line(answer: &str) -> &str {
    answer
        .lines()
        .next()
        .unwrap_or("(connection closed without an answer)")
}
