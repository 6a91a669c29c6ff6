//! A member of staff in the back office, as a browser: the first sign-in with the one-time
//! password `madoguchi staff add` printed (TOTP enrolment with the seed read from the page, a
//! password of their own), then the application queue and single applications.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use totp_rs::{Builder, Secret};

use crate::flow::csrf_of;

/// A signed-in member of staff.
#[derive(Clone)]
pub struct Staff {
    client: reqwest::Client,
    base: String,
}

/// The TOTP seed shown on the enrolment page (base32, spaces removed).
fn totp_secret_of(page: &str) -> Option<String> {
    let (_, after) = page.split_once(r#"id="totp-secret">"#)?;
    let (seed, _) = after.split_once('<')?;
    Some(seed.replace(' ', ""))
}

fn totp_now(seed: &str) -> anyhow::Result<String> {
    let secret = Secret::try_from_base32(seed).map_err(|e| anyhow::anyhow!("TOTP seed: {e}"))?;
    let totp = Builder::new()
        .with_secret(secret)
        .build()
        .map_err(|e| anyhow::anyhow!("TOTP settings: {e}"))?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    Ok(totp.generate(now).to_string())
}

/// The ids the queue page links to (`/applications/{id}`), in page order.
pub fn application_ids(page: &str) -> Vec<String> {
    page.split(r#"href="/applications/"#)
        .skip(1)
        .filter_map(|rest| rest.split_once('"').map(|(id, _)| id))
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .filter(|id| *id != "export")
        .map(str::to_owned)
        .collect()
}

impl Staff {
    /// The first sign-in of `username` with its one-time password.
    pub async fn first_sign_in(
        base: &str,
        username: &str,
        one_time_password: &str,
    ) -> anyhow::Result<Staff> {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .build()
            .context("cannot build an HTTP client")?;
        let staff = Staff {
            client,
            base: base.trim_end_matches('/').to_owned(),
        };
        staff
            .post_form(
                "/sign-in",
                &[("username", username), ("password", one_time_password)],
                "/totp/enroll",
            )
            .await?;
        let page = staff.get("/totp/enroll").await?;
        let seed = totp_secret_of(&page).context("enrolment page without a TOTP seed")?;
        let csrf = csrf_of(&page).context("enrolment page without a CSRF token")?;
        let code = totp_now(&seed)?;
        staff
            .post_form(
                "/totp/enroll",
                &[("csrf", &csrf), ("code", &code)],
                "/password",
            )
            .await?;
        let page = staff.get("/password").await?;
        let csrf = csrf_of(&page).context("password page without a CSRF token")?;
        let password = format!("soak meadow {} lantern", uuid::Uuid::new_v4().simple());
        staff
            .post_form(
                "/password",
                &[
                    ("csrf", &csrf),
                    ("new_password", &password),
                    ("confirmation", &password),
                ],
                "/",
            )
            .await?;
        staff.get("/").await?;
        Ok(staff)
    }

    /// `GET path`, expecting 200; the body.
    pub async fn get(&self, path: &str) -> anyhow::Result<String> {
        let answer = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        let status = answer.status();
        let body = answer.text().await.with_context(|| format!("GET {path}"))?;
        if status != StatusCode::OK {
            bail!("office GET {path}: HTTP {}", status.as_u16());
        }
        Ok(body)
    }

    async fn post_form(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        next: &str,
    ) -> anyhow::Result<()> {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let answer = self
            .client
            .post(format!("{}{path}", self.base))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .with_context(|| format!("POST {path}"))?;
        let status = answer.status();
        let location = answer
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if status != StatusCode::SEE_OTHER || location != next {
            bail!(
                "office POST {path}: HTTP {} to {location:?} (expected 303 to {next})",
                status.as_u16()
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_pages() {
        let page = r#"<a href="/applications/export">x</a><a href="/applications/01HZX-a1">y</a>
            <a href="/applications?page=2">n</a><input name="csrf" value="a&#x2b;b&#61;">
            <code id="totp-secret">ABCD EFGH</code>"#;
        assert_eq!(application_ids(page), vec!["01HZX-a1".to_owned()]);
        assert_eq!(csrf_of(page).as_deref(), Some("a+b="));
        assert_eq!(totp_secret_of(page).as_deref(), Some("ABCDEFGH"));
    }
}
