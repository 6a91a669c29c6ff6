//! The applicant's language: Japanese unless they chose English with the switch on every page,
//! remembered in the `mdg_lang` cookie (HttpOnly, SameSite=Lax, one year).
//!
//! `Accept-Language` is deliberately not consulted for pages: the bank wants every visitor to
//! see Japanese first, and a browser's setting is not the applicant's choice. The JSON API
//! (`/api/v1`) has no cookie, so there the app's `Accept-Language` decides: English when its
//! first language is `en` (or any `en-*`), Japanese otherwise ([`from_accept_language`]).
//!
//! [`remember`] reads the cookie once per request and runs the rest of the request inside a
//! task-local scope, so pages, error pages and the e-mails composed during the request all
//! use the same language without each handler passing it along ([`current`]).

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use madoguchi_http::{read_cookie, set_cookie};
use serde::Deserialize;

use crate::messages::Lang;
use crate::state::PublicState;

pub const LANG_COOKIE: &str = "mdg_lang";
const ONE_YEAR_SECONDS: i64 = 365 * 24 * 60 * 60;

/// The language of this request and the address it was made to (for the switch's way back).
#[derive(Debug, Clone)]
struct RequestLanguage {
    lang: Lang,
    here: String,
}

tokio::task_local! {
    static REQUEST: RequestLanguage;
}

/// The language of the request being answered (Japanese outside a request).
pub fn current() -> Lang {
    REQUEST.try_with(|r| r.lang).unwrap_or_default()
}

/// The path and query of the request being answered, for the switch to return to.
pub fn here() -> String {
    REQUEST
        .try_with(|r| r.here.clone())
        .unwrap_or_else(|_| "/".to_owned())
}

/// The language a request's cookie asks for.
pub fn from_headers(state: &PublicState, headers: &HeaderMap) -> Lang {
    read_cookie(headers, state.cookies, LANG_COOKIE)
        .and_then(|code| Lang::from_code(&code))
        .unwrap_or_default()
}

/// The language an API request asks for: English when the most preferred language of its
/// `Accept-Language` (highest `q`, first among equals; `*` and unknown tags skipped) is `en`
/// or `en-*`, Japanese when it is `ja` or the header is absent or names neither.
pub fn from_accept_language(headers: &HeaderMap) -> Lang {
    let Some(value) = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    else {
        return Lang::Ja;
    };
    let mut best: Option<(u16, Lang)> = None;
    for item in value.split(',') {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let primary = tag.split('-').next().unwrap_or_default();
        let Some(lang) = Lang::from_code(primary) else {
            continue;
        };
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if !(q > 0.0 && q <= 1.0) {
            continue;
        }
        // Thousandths, so that the comparison is exact.
        let weight = (q * 1000.0).round() as u16;
        if best.is_none_or(|(w, _)| weight > w) {
            best = Some((weight, lang));
        }
    }
    best.map(|(_, lang)| lang).unwrap_or_default()
}

/// Runs the request in its applicant's language.
pub async fn remember(State(state): State<PublicState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let lang = if path == "/api/v1" || path.starts_with("/api/v1/") {
        from_accept_language(request.headers())
    } else {
        from_headers(&state, request.headers())
    };
    let here = if request.method() == axum::http::Method::GET {
        request
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str().to_owned())
            .unwrap_or_else(|| "/".to_owned())
    } else {
        // A form's answer: going back to the form's address shows the form again.
        request.uri().path().to_owned()
    };
    REQUEST
        .scope(RequestLanguage { lang, here }, next.run(request))
        .await
}

/// The address of the switch to `lang` that comes back to `back`.
pub fn switch_href(lang: Lang, back: &str) -> String {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("to", lang.code())
        .append_pair("back", back)
        .finish();
    format!("/language?{query}")
}

#[derive(Deserialize)]
pub struct SwitchQuery {
    to: String,
    back: Option<String>,
}

/// Where the switch may send the browser back to: a path of this site only (never another
/// host: `//evil.example` and `/\evil.example` are refused).
fn safe_back(back: Option<&str>) -> &str {
    match back {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control)
                && !path.starts_with("/language") =>
        {
            path
        }
        _ => "/",
    }
}

/// `GET /language?to=en&back=/reservations`: remembers the choice and goes back.
pub async fn switch(
    State(state): State<PublicState>,
    Query(query): Query<SwitchQuery>,
) -> Response {
    let back = safe_back(query.back.as_deref()).to_owned();
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, back)]).into_response();
    if let Some(lang) = Lang::from_code(&query.to) {
        set_cookie(
            response.headers_mut(),
            state.cookies,
            LANG_COOKIE,
            lang.code(),
            Some(ONE_YEAR_SECONDS),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_switch_returns_only_to_this_site() {
        assert_eq!(safe_back(Some("/status?x=1")), "/status?x=1");
        assert_eq!(safe_back(Some("//evil.example/")), "/");
        assert_eq!(safe_back(Some("/\\evil.example")), "/");
        assert_eq!(safe_back(Some("https://evil.example")), "/");
        assert_eq!(safe_back(Some("/a\r\nSet-Cookie: x")), "/");
        assert_eq!(safe_back(None), "/");
    }

    #[test]
    fn the_switch_link_carries_the_way_back() {
        assert_eq!(
            switch_href(Lang::En, "/reservations/centers/x?week=2026-12-01"),
            "/language?to=en&back=%2Freservations%2Fcenters%2Fx%3Fweek%3D2026-12-01"
        );
    }

    #[test]
    fn the_api_reads_accept_language() {
        let lang = |value: Option<&str>| {
            let mut headers = HeaderMap::new();
            if let Some(v) = value {
                headers.insert(header::ACCEPT_LANGUAGE, v.parse().unwrap());
            }
            from_accept_language(&headers)
        };
        assert_eq!(lang(None), Lang::Ja);
        assert_eq!(lang(Some("en")), Lang::En);
        assert_eq!(lang(Some("en-GB,en;q=0.9")), Lang::En);
        assert_eq!(lang(Some("EN-us")), Lang::En);
        assert_eq!(lang(Some("ja,en;q=0.8")), Lang::Ja);
        assert_eq!(lang(Some("fr,en;q=0.5")), Lang::En);
        assert_eq!(lang(Some("en;q=0.2,ja;q=0.9")), Lang::Ja);
        assert_eq!(lang(Some("fr, de")), Lang::Ja);
        assert_eq!(lang(Some("*")), Lang::Ja);
        assert_eq!(lang(Some("en;q=0")), Lang::Ja);
    }

    #[tokio::test]
    async fn outside_a_request_the_language_is_japanese() {
        assert_eq!(current(), Lang::Ja);
        let inside = REQUEST
            .scope(
                RequestLanguage {
                    lang: Lang::En,
                    here: "/x".to_owned(),
                },
                async { (current(), here()) },
            )
            .await;
        assert_eq!(inside, (Lang::En, "/x".to_owned()));
    }
}
