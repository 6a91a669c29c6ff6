//! Prometheus metrics (SPEC §9) on their own listener (`serve --metrics-addr`), apart from
//! both sites: counts and states only — requests by listener and status class, detection
//! alerts by rule, the outbox's length, the audit chain's length — never personal data, never
//! a path parameter (a receipt number in a label would be a leak).

use std::sync::OnceLock;

use anyhow::Context;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use madoguchi_store::Store;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

static RECORDER: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed on first use (a process has one).
pub fn recorder() -> anyhow::Result<PrometheusHandle> {
    if let Some(handle) = RECORDER.get() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .install_recorder()
        .context("cannot install the metrics recorder")?;
    Ok(RECORDER.get_or_init(|| handle).clone())
}

#[derive(Clone)]
struct Scrape {
    handle: PrometheusHandle,
    store: Store,
}

/// The metrics listener's router: `GET /metrics` in the Prometheus text format.
pub fn router(handle: PrometheusHandle, store: Store) -> Router {
    Router::new()
        .route("/metrics", get(render))
        .with_state(Scrape { handle, store })
}

async fn render(State(scrape): State<Scrape>) -> Response {
    // States read at scrape time, so that every instance reports the shared database's.
    match scrape.store.outbox_len().await {
        Ok(n) => metrics::gauge!("madoguchi_outbox_pending").set(n as f64),
        Err(e) => tracing::warn!(error = %e, "metrics: cannot count the outbox"),
    }
    match scrape.store.audit_head().await {
        Ok(head) => {
            let length = head.map_or(0, |(seq, _)| seq);
            metrics::gauge!("madoguchi_audit_chain_length").set(length as f64);
        }
        Err(e) => tracing::warn!(error = %e, "metrics: cannot count the audit log"),
    }
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        scrape.handle.render(),
    )
        .into_response()
}

/// Counts every answer of a listener by status class (`2xx`, `4xx`, …).
pub async fn count_requests(listener: &'static str, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let class = match response.status().as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    metrics::counter!("madoguchi_http_responses_total", "listener" => listener, "status" => class)
        .increment(1);
    response
}
