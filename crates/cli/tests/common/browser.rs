//! Real headless Chromium driven over WebDriver (Debian's `chromium` and `chromium-driver`).

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};

pub struct Browser {
    pub client: Client,
    driver: Child,
    /// chromedriver's own address (for WebDriver commands fantoccini has no method for).
    driver_url: String,
    _profile: tempfile::TempDir,
}

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

impl Browser {
    /// Starts chromedriver and a headless Chromium; `None` outside CI when they are missing.
    pub async fn start() -> Option<Browser> {
        if !std::path::Path::new(CHROMIUM).exists() || !std::path::Path::new(CHROMEDRIVER).exists()
        {
            if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                panic!(
                    "Chromium is required when CI=true: install the Debian packages chromium and chromium-driver (.ci/run does)"
                );
            }
            eprintln!("SKIPPED: {CHROMIUM} or {CHROMEDRIVER} missing");
            return None;
        }
        let port = free_port();
        // Its own process group, so that Chromium goes with it (see `Drop`).
        let driver = Command::new(CHROMEDRIVER)
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().expect("profile dir");
        let capabilities = serde_json::json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--lang=ja", "--window-size=420,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let capabilities = match capabilities {
            serde_json::Value::Object(map) => map,
            _ => unreachable!("a JSON object literal"),
        };
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            match ClientBuilder::rustls()
                .expect("tls")
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(e) => {
                    assert!(
                        Instant::now() < deadline,
                        "chromedriver did not accept a session: {e}"
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        Some(Browser {
            client,
            driver,
            driver_url: url,
            _profile: profile,
        })
    }

    /// Gives the browser a platform authenticator that holds passkeys and verifies its user
    /// (WebDriver's virtual authenticator, W3C WebAuthn §11), as a laptop's fingerprint
    /// reader would.
    pub async fn add_virtual_authenticator(&self) {
        let session = self
            .client
            .session_id()
            .await
            .expect("session id")
            .expect("a WebDriver session");
        let answer = reqwest::Client::new()
            .post(format!(
                "{}/session/{session}/webauthn/authenticator",
                self.driver_url
            ))
            .header("content-type", "application/json")
            .body(
                serde_json::json!({
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": true,
                    "hasUserVerification": true,
                    "isUserConsenting": true,
                    "isUserVerified": true,
                })
                .to_string(),
            )
            .send()
            .await
            .expect("chromedriver answers");
        assert!(
            answer.status().is_success(),
            "virtual authenticator: {}",
            answer.text().await.unwrap_or_default()
        );
    }

    pub async fn fill(&self, name: &str, value: &str) {
        let field = self
            .client
            .find(Locator::Css(&format!("[name='{name}']")))
            .await
            .unwrap_or_else(|e| panic!("field {name}: {e}"));
        field.clear().await.expect("clear");
        field.send_keys(value).await.expect("type");
    }

    pub async fn select(&self, name: &str, value: &str) {
        let field = self
            .client
            .find(Locator::Css(&format!("select[name='{name}']")))
            .await
            .expect("select");
        field.select_by_value(value).await.expect("choose");
    }

    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .expect("click");
    }

    /// Submits the page's main form by its submit button and waits for the next page: until
    /// the old document is gone and the new one has its heading.
    pub async fn submit(&self) {
        let old = self.client.find(Locator::Css("html")).await.expect("page");
        self.click("main form button[type=submit]").await;
        let deadline = Instant::now() + Duration::from_secs(10);
        while old.tag_name().await.is_ok() {
            assert!(
                Instant::now() < deadline,
                "the form submission did not load a new page"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.client
            .wait()
            .for_element(Locator::Css("main h1"))
            .await
            .expect("next page");
    }

    pub async fn path(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("url")
            .path()
            .to_owned()
    }

    pub async fn text(&self) -> String {
        self.client
            .find(Locator::Css("main"))
            .await
            .expect("main")
            .text()
            .await
            .expect("text")
    }

    /// Presses Tab, as a keyboard user does, until the focused element matches `css`, and
    /// returns it. Fails when `css` is not reached within 60 presses (not keyboard-reachable).
    pub async fn tab_to(&self, css: &str) -> Element {
        for _ in 0..60 {
            self.press(Key::Tab).await;
            let focused = self
                .client
                .execute(
                    "return document.activeElement !== null && document.activeElement.matches(arguments[0]);",
                    vec![serde_json::Value::from(css)],
                )
                .await
                .expect("script");
            if focused == serde_json::Value::Bool(true) {
                return self.client.active_element().await.expect("focused element");
            }
        }
        panic!("{css} cannot be reached with the Tab key")
    }

    /// Presses and releases `key` on whatever has the focus.
    pub async fn press(&self, key: Key) {
        let keys = KeyActions::new("keyboard".to_owned())
            .then(KeyAction::Down { value: key.into() })
            .then(KeyAction::Up { value: key.into() });
        self.client.perform_actions(keys).await.expect("key press");
    }

    /// Clicks `css` (a link or a button) and waits for the page it leads to.
    pub async fn click_and_wait(&self, css: &str) {
        let old = self.client.find(Locator::Css("html")).await.expect("page");
        self.click(css).await;
        self.wait_for_next_page(old).await;
    }

    /// Presses `key` on the focused element (Enter on a link or a button) and waits for the
    /// page it leads to.
    pub async fn press_and_wait(&self, key: Key) {
        let old = self.client.find(Locator::Css("html")).await.expect("page");
        self.press(key).await;
        self.wait_for_next_page(old).await;
    }

    /// Waits until the document `old` is gone and the new one has its heading.
    async fn wait_for_next_page(&self, old: Element) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while old.tag_name().await.is_ok() {
            assert!(Instant::now() < deadline, "no new page was loaded");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.client
            .wait()
            .for_element(Locator::Css("main h1"))
            .await
            .expect("next page");
    }

    /// The text of the first element matching `css`.
    pub async fn text_of(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .text()
            .await
            .expect("text")
    }

    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

/// A test that panicked never reached [`Browser::close`]: chromedriver and the Chromium it
/// started are killed here, as a process group, so that failed runs leave nothing running.
impl Drop for Browser {
    fn drop(&mut self) {
        let pid = self.driver.id();
        // Only a group that chromedriver leads: never this test's own.
        if pid > 1 && process_group_of(pid) == Some(pid) {
            let _ = Command::new("/usr/bin/kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stderr(Stdio::null())
                .status();
        } else {
            let _ = self.driver.kill();
        }
        let _ = self.driver.wait();
    }
}

/// The process group of `pid`, from `/proc/PID/stat` (the field after the parenthesised name).
fn process_group_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    after_name.split_whitespace().nth(2)?.parse().ok()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl Browser {
    /// Like [`Browser::start`], but with Chromium's user data (cookies included) kept in
    /// `profile`, a folder the caller owns: a second browser started on the same folder after
    /// [`Browser::close`] is the same browser reopened.
    pub async fn start_with_profile(profile: &std::path::Path) -> Option<Browser> {
        if !std::path::Path::new(CHROMIUM).exists() || !std::path::Path::new(CHROMEDRIVER).exists()
        {
            if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                panic!(
                    "Chromium is required when CI=true: install the Debian packages chromium and chromium-driver (.ci/run does)"
                );
            }
            eprintln!("SKIPPED: {CHROMIUM} or {CHROMEDRIVER} missing");
            return None;
        }
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let capabilities = serde_json::json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--lang=ja", "--window-size=420,900",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object literal")
        };
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            match ClientBuilder::rustls()
                .expect("tls")
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(e) => {
                    assert!(
                        Instant::now() < deadline,
                        "chromedriver did not accept a session: {e}"
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        Some(Browser {
            client,
            driver,
            driver_url: url,
            // Unused: the caller's folder holds the profile.
            _profile: tempfile::tempdir().expect("temp dir"),
        })
    }

    /// The current value of the form field named `name`, as the browser holds it.
    pub async fn value_of(&self, name: &str) -> String {
        self.client
            .find(Locator::Css(&format!("[name='{name}']")))
            .await
            .unwrap_or_else(|e| panic!("field {name}: {e}"))
            .prop("value")
            .await
            .expect("value")
            .unwrap_or_default()
    }

    /// Whether the radio button or checkbox matching `css` is checked.
    pub async fn is_checked(&self, css: &str) -> bool {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .is_selected()
            .await
            .expect("checked")
    }

    /// The `lang` attribute of the page's `html` element.
    pub async fn page_lang(&self) -> String {
        self.client
            .find(Locator::Css("html"))
            .await
            .expect("html")
            .attr("lang")
            .await
            .expect("lang")
            .unwrap_or_default()
    }

    /// Quits the WebDriver session (Chromium shuts down and writes its profile), then ends
    /// chromedriver, and waits until both are gone.
    pub async fn quit(self) {
        let group = self.driver.id();
        let _ = self.client.clone().close().await;
        drop(self);
        let deadline = Instant::now() + Duration::from_secs(10);
        while group_alive(group) {
            assert!(Instant::now() < deadline, "Chromium did not exit");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Whether any process (not a zombie) is left in the process group `group`.
fn group_alive(group: u32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|entry| {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            return false;
        };
        let Some((_, after_name)) = stat.rsplit_once(')') else {
            return false;
        };
        let mut fields = after_name.split_whitespace();
        let state = fields.next();
        let pgrp = fields.nth(1).and_then(|g| g.parse::<u32>().ok());
        pgrp == Some(group) && state != Some("Z")
    })
}
