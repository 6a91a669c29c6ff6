//! The queue: applications of the member of staff's branches, newest first, 50 a page, with
//! operational columns only (nothing is decrypted here). The scope is a condition of the
//! store's query, not a check of the handler.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use madoguchi_domain::{ApplicationStatus, Product};
use madoguchi_store::{QueueCursor, QueueQuery};
use serde::Deserialize;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{FIELDS, PURPOSES, branch_label, jst, product_label, status_label};
use crate::OfficeState;
use crate::error::OfficeError;
use crate::session::{Actor, StaffSession};
use crate::view::Layout;

/// Rows per page.
pub(crate) const PAGE_SIZE: i64 = 50;

/// The queue's filters as the page's form sends them (all optional; invalid values are
/// ignored, never echoed).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct QueueParams {
    pub product: Option<String>,
    pub status: Option<String>,
    pub branch: Option<String>,
    /// `older` (submitted more than `days` days ago) or `within` (in the last `days` days).
    pub age: Option<String>,
    pub days: Option<String>,
    /// The last row of the previous page: `<unix seconds>_<uuid>`.
    pub after: Option<String>,
}

/// The filters once validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Filters {
    pub product: Option<Product>,
    pub status: Option<ApplicationStatus>,
    pub branch: Option<String>,
    pub older: bool,
    pub days: Option<u16>,
}

impl QueueParams {
    /// Reads the filters from the pairs of a posted form (the export).
    pub(crate) fn from_pairs(pairs: &[(String, String)]) -> QueueParams {
        let get = |name: &str| super::form_value(pairs, name).map(str::to_owned);
        QueueParams {
            product: get("product"),
            status: get("status"),
            branch: get("branch"),
            age: get("age"),
            days: get("days"),
            after: None,
        }
    }

    pub(crate) fn filters(&self) -> Filters {
        let non_empty =
            |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
        Filters {
            product: non_empty(&self.product).and_then(|p| Product::parse(&p).ok()),
            status: non_empty(&self.status).and_then(|s| ApplicationStatus::parse(&s).ok()),
            branch: non_empty(&self.branch)
                .filter(|b| b.len() == 3 && b.chars().all(|c| c.is_ascii_digit())),
            older: self.age.as_deref() == Some("older"),
            days: non_empty(&self.days)
                .and_then(|d| d.parse::<u16>().ok())
                .filter(|d| (1..=3650).contains(d)),
        }
    }

    fn cursor(&self) -> Option<QueueCursor> {
        let (at, id) = self.after.as_deref()?.split_once('_')?;
        Some(QueueCursor {
            submitted_at: OffsetDateTime::from_unix_timestamp(at.parse().ok()?).ok()?,
            id: Uuid::parse_str(id).ok()?,
        })
    }
}

impl Filters {
    /// The store query: the staff's scope always, then the filters.
    pub(crate) fn query(
        &self,
        staff: &StaffSession,
        now: OffsetDateTime,
        after: Option<QueueCursor>,
        limit: i64,
    ) -> QueueQuery {
        let edge = self.days.map(|d| now - Duration::days(i64::from(d)));
        QueueQuery {
            scope: staff.scope.branch_filter(),
            product: self.product.map(|p| p.as_str().to_owned()),
            status: self.status.map(|s| s.as_str().to_owned()),
            branch: self.branch.clone(),
            submitted_before: edge.filter(|_| self.older),
            submitted_since: edge.filter(|_| !self.older),
            after,
            limit,
        }
    }

    /// The filters as form pairs (for the next page's link and the export form).
    pub(crate) fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(p) = self.product {
            pairs.push(("product", p.as_str().to_owned()));
        }
        if let Some(s) = self.status {
            pairs.push(("status", s.as_str().to_owned()));
        }
        if let Some(b) = &self.branch {
            pairs.push(("branch", b.clone()));
        }
        if let Some(d) = self.days {
            pairs.push((
                "age",
                if self.older { "older" } else { "within" }.to_owned(),
            ));
            pairs.push(("days", d.to_string()));
        }
        pairs
    }
}

pub(crate) struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub(crate) struct QueueLine {
    pub id: String,
    pub receipt_number: String,
    pub product: String,
    pub status: String,
    pub branch: String,
    pub submitted: String,
    pub age_days: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "queue.html")]
pub(crate) struct QueuePage {
    layout: Layout,
    products: Vec<Choice>,
    statuses: Vec<Choice>,
    branches: Vec<Choice>,
    older: bool,
    days: String,
    rows: Vec<QueueLine>,
    /// The query string of the next page, if there is one.
    next: Option<String>,
    hidden: Vec<(&'static str, String)>,
    fields: Vec<Choice>,
    purposes: Vec<Choice>,
}

pub(crate) async fn page(
    State(state): State<OfficeState>,
    Actor(staff): Actor,
    Query(params): Query<QueueParams>,
) -> Result<QueuePage, OfficeError> {
    let filters = params.filters();
    let now = OffsetDateTime::now_utc();
    // One row more than a page says whether there is a next one.
    let query = filters.query(&staff, now, params.cursor(), PAGE_SIZE + 1);
    let mut found = state.store().application_queue(&query).await?;
    let next = if found.len() > PAGE_SIZE as usize {
        found.truncate(PAGE_SIZE as usize);
        found.last().map(|last| {
            let mut pairs = filters.pairs();
            pairs.push((
                "after",
                format!("{}_{}", last.submitted_at.unix_timestamp(), last.id),
            ));
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish()
        })
    } else {
        None
    };
    let rows = found
        .into_iter()
        .map(|r| QueueLine {
            id: r.id.to_string(),
            receipt_number: r.receipt_number,
            product: product_label(&r.product).to_owned(),
            status: status_label(&r.status).to_owned(),
            branch: branch_label(&state, &r.branch_code),
            submitted: jst(r.submitted_at),
            age_days: (now - r.submitted_at).whole_days(),
        })
        .collect();
    let branches = state
        .profile()
        .branches()
        .iter()
        .filter(|b| staff.scope.covers_branch(b.code().as_str()))
        .map(|b| Choice {
            value: b.code().as_str().to_owned(),
            label: format!("{} {}", b.code().as_str(), b.name()),
            selected: filters.branch.as_deref() == Some(b.code().as_str()),
        })
        .collect();
    Ok(QueuePage {
        layout: Layout::new(&state, Some(&staff), "申込一覧"),
        products: Product::ALL
            .iter()
            .map(|p| Choice {
                value: p.as_str().to_owned(),
                label: product_label(p.as_str()).to_owned(),
                selected: filters.product == Some(*p),
            })
            .collect(),
        statuses: ApplicationStatus::ALL
            .iter()
            .map(|s| Choice {
                value: s.as_str().to_owned(),
                label: status_label(s.as_str()).to_owned(),
                selected: filters.status == Some(*s),
            })
            .collect(),
        branches,
        older: filters.older,
        days: filters.days.map(|d| d.to_string()).unwrap_or_default(),
        rows,
        next,
        hidden: filters.pairs(),
        fields: FIELDS
            .iter()
            .map(|(value, label)| Choice {
                value: (*value).to_owned(),
                label: (*label).to_owned(),
                selected: false,
            })
            .collect(),
        purposes: purpose_choices(),
    })
}

pub(crate) fn purpose_choices() -> Vec<Choice> {
    PURPOSES
        .iter()
        .map(|(value, label)| Choice {
            value: (*value).to_owned(),
            label: (*label).to_owned(),
            selected: false,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_filters_are_dropped_not_echoed() {
        let params = QueueParams {
            product: Some("<script>".to_owned()),
            status: Some("in-review".to_owned()),
            branch: Some("10'1".to_owned()),
            age: Some("older".to_owned()),
            days: Some("99999".to_owned()),
            after: Some("x_y".to_owned()),
        };
        let filters = params.filters();
        assert_eq!(filters.product, None);
        assert_eq!(filters.status, Some(ApplicationStatus::InReview));
        assert_eq!(filters.branch, None);
        assert_eq!(filters.days, None);
        assert_eq!(params.cursor(), None);
        assert_eq!(filters.pairs(), vec![("status", "in-review".to_owned())]);
    }

    #[test]
    fn a_cursor_round_trips() {
        let id = Uuid::now_v7();
        let params = QueueParams {
            after: Some(format!("1764000000_{id}")),
            ..QueueParams::default()
        };
        let cursor = params.cursor().expect("cursor");
        assert_eq!(cursor.id, id);
        assert_eq!(cursor.submitted_at.unix_timestamp(), 1_764_000_000);
    }
}
