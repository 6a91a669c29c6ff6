//! The CSV export of the filtered queue with the chosen personal fields. One audit event per
//! exported application, naming the fields it held, is written before anything is decrypted;
//! every cell passes `csv::cell` (formula injection) and the `csv` crate quotes it. UTF-8
//! with a byte-order mark, so that Excel reads the Japanese.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use time::OffsetDateTime;

use super::queue::QueueParams;
use super::{
    FIELDS, field_label, field_names, jst, open_fields, product_label, purpose_label, record_all,
    status_label,
};
use crate::OfficeState;
use crate::audit::Event;
use crate::csv::{UTF8_BOM, cell};
use crate::error::OfficeError;
use crate::session::Actor;

/// The most applications one export may hold: more asks for narrower filters.
pub(crate) const MAX_EXPORT_ROWS: i64 = 1000;

pub(crate) async fn export(
    State(state): State<OfficeState>,
    Actor(staff): Actor,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Result<Response, OfficeError> {
    let pairs = super::form_pairs(&body);
    let Some(purpose) = super::form_value(&pairs, "purpose").filter(|p| purpose_label(p).is_some())
    else {
        return Ok(refusal("利用目的を選んでください。"));
    };
    let chosen: Vec<&str> = FIELDS
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| pairs.iter().any(|(k, v)| k == "fields" && v == name))
        .collect();
    if chosen.is_empty() {
        return Ok(refusal("出力する項目を選んでください。"));
    }
    let filters = QueueParams::from_pairs(&pairs).filters();
    let now = OffsetDateTime::now_utc();
    let store = state.store();
    let rows = store
        .application_queue(&filters.query(&staff, now, None, MAX_EXPORT_ROWS + 1))
        .await?;
    if rows.len() as i64 > MAX_EXPORT_ROWS {
        return Ok(refusal("出力は1,000件までです。条件を絞り込んでください。"));
    }
    // Every row's event first, screened as one (the rows, not the request, count against
    // the day's limit): when they cannot be written or are refused, nothing is decrypted.
    let mut records = Vec::with_capacity(rows.len());
    for row in &rows {
        let Some(stored) = store.encrypted_personal_record(row.id).await? else {
            continue;
        };
        let held = field_names(&stored)?;
        let fields: Vec<&str> = chosen
            .iter()
            .copied()
            .filter(|name| held.iter().any(|h| h == name))
            .collect();
        records.push((row, stored, fields));
    }
    let detail = format!("rows:{}", rows.len());
    let events = records
        .iter()
        .map(|(row, _, fields)| Event {
            action: "application.export",
            subject_kind: Some("application"),
            subject_id: Some(row.id.to_string()),
            fields,
            purpose: Some(purpose),
            detail: Some(detail.clone()),
            outcome: "ok",
        })
        .collect();
    let proof = record_all(&state, &staff, client, events).await?;
    let mut writer = ::csv::Writer::from_writer(UTF8_BOM.to_vec());
    let mut header = vec!["受付番号", "商品", "ステータス", "店番", "受付日時"];
    header.extend(chosen.iter().map(|name| field_label(name)));
    writer.write_record(header.iter().map(|h| cell(h).into_owned()))?;
    for (row, stored, fields) in &records {
        let opened = open_fields(&state, &proof, row.id, stored, fields)?;
        let mut line: Vec<String> = [
            row.receipt_number.as_str(),
            product_label(&row.product),
            status_label(&row.status),
            row.branch_code.as_str(),
        ]
        .iter()
        .map(|v| cell(v).into_owned())
        .collect();
        line.push(jst(row.submitted_at));
        for name in &chosen {
            let value = opened
                .iter()
                .find(|(n, _)| n == name)
                .map_or("", |(_, v)| v.as_str());
            line.push(cell(value).into_owned());
        }
        writer.write_record(&line)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| OfficeError::Internal(format!("csv: {e}")))?;
    let name = format!(
        "attachment; filename=\"applications-{}.csv\"",
        now.unix_timestamp()
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&name)
                    .map_err(|e| OfficeError::Internal(format!("header: {e}")))?,
            ),
        ],
        bytes,
    )
        .into_response())
}

impl From<::csv::Error> for OfficeError {
    fn from(e: ::csv::Error) -> Self {
        OfficeError::Internal(format!("csv: {e}"))
    }
}

/// A refused export: said plainly, nothing decrypted.
fn refusal(text: &'static str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\"><title>CSV出力</title>\
         </head><body><main><h1>CSV出力</h1><p class=\"error\">{text}</p>\
         <p><a href=\"/applications\">申込一覧へ戻る</a></p></main></body></html>"
    );
    (StatusCode::BAD_REQUEST, Html(body)).into_response()
}
