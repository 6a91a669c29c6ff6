//! The back office's review of applications: the queue (operational columns only, filtered by
//! the member of staff's scope in the query itself), an application's history and encrypted
//! notes, status changes under optimistic concurrency and four eyes, and the auditor's page of
//! the audit log.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::backend::{Inner, with_db, with_write_tx};
use crate::{OutboxRow, Store, StoreError, db_time};

/// Where a queue page starts: the last row of the previous page (newest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueCursor {
    pub submitted_at: OffsetDateTime,
    pub id: Uuid,
}

/// A queue query. `scope` is the member of staff's branches (`None`: the whole bank); the
/// other filters are what the page asked for.
#[derive(Debug, Clone, Default)]
pub struct QueueQuery {
    pub scope: Option<Vec<String>>,
    pub product: Option<String>,
    pub status: Option<String>,
    pub branch: Option<String>,
    /// Submitted strictly before this time (older than N days).
    pub submitted_before: Option<OffsetDateTime>,
    /// Submitted at or after this time (within N days).
    pub submitted_since: Option<OffsetDateTime>,
    pub after: Option<QueueCursor>,
    pub limit: i64,
}

/// One row of the queue: nothing personal.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct QueueRow {
    pub id: Uuid,
    pub receipt_number: String,
    pub product: String,
    pub status: String,
    pub branch_code: String,
    pub submitted_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// An application's operational values as the review page shows them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReviewRow {
    pub id: Uuid,
    pub receipt_number: String,
    pub product: String,
    pub status: String,
    pub branch_code: String,
    pub submitted_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub reviewed_by: Option<Uuid>,
    pub reviewed_at: Option<OffsetDateTime>,
}

/// One line of an application's history.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HistoryRow {
    pub at: OffsetDateTime,
    pub actor: String,
    /// `status` (a move) or `reviewed` (the review mark of four eyes).
    pub action: String,
    pub from_status: String,
    pub to_status: String,
}

/// A staff note as stored: its encrypted body and its own wrapped data key.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NoteRow {
    pub id: Uuid,
    pub author: String,
    pub created_at: OffsetDateTime,
    /// `madoguchi-seal` `EncryptedFields` bytes with the field `note`.
    pub body: Vec<u8>,
    pub key_id: String,
    pub wrapped: Vec<u8>,
}

/// A note to add (already encrypted under a fresh data key whose record id is `id`).
#[derive(Debug, Clone)]
pub struct NewNote {
    pub id: Uuid,
    pub application_id: Uuid,
    pub author: String,
    pub created_at: OffsetDateTime,
    pub body: Vec<u8>,
    pub key_id: String,
    pub wrapped: Vec<u8>,
}

/// A status move, validated by the caller against the status flow; the store applies it only
/// if the application is still in `from` (optimistic: nobody moved it meanwhile).
#[derive(Debug, Clone)]
pub struct StatusMove<'a> {
    pub application_id: Uuid,
    pub from: &'a str,
    pub to: &'a str,
    /// `staff:<uuid>`.
    pub actor: &'a str,
    pub at: OffsetDateTime,
    /// A decision (approve, reject): the member of staff deciding. The move happens only if
    /// someone marked the application reviewed and it was not this member of staff.
    pub decided_by: Option<Uuid>,
    /// Forget the review mark (the applicant sent more information: review again).
    pub clear_review: bool,
    /// An e-mail announcing the move, queued in the same transaction.
    pub message: Option<&'a OutboxRow>,
    /// The application ends here (rejected, withdrawn, expired): its sealed secrets are
    /// deleted in the same transaction, not kept until the retention purge (SPEC §6).
    pub discard_secrets: bool,
}

/// One audit event with its position in the log (for paging the auditor's page).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditPageRow {
    pub seq: i64,
    pub at: OffsetDateTime,
    pub actor: String,
    pub actor_address: Option<String>,
    pub session: Option<String>,
    pub action: String,
    pub subject_kind: Option<String>,
    pub subject_id: Option<String>,
    pub fields: String,
    pub purpose: Option<String>,
    pub detail: Option<String>,
    pub outcome: String,
}

/// Before every stored time and id: the first page of the queue starts here, so that the
/// keyset condition is always an index range.
fn queue_start() -> QueueCursor {
    QueueCursor {
        submitted_at: time::macros::datetime!(9999-12-31 23:59:59 UTC),
        id: Uuid::max(),
    }
}

/// The scope as a JSON array for SQLite's `json_each`. Branch codes are digits; anything else
/// is left out (it could match nothing anyway), so the text needs no escaping.
fn scope_json(branches: &[String]) -> String {
    let items: Vec<String> = branches
        .iter()
        .filter(|b| !b.is_empty() && b.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(|b| format!("\"{b}\""))
        .collect();
    format!("[{}]", items.join(","))
}

impl Store {
    /// One page of the queue, newest first, restricted to `query.scope` in the query.
    pub async fn application_queue(&self, query: &QueueQuery) -> Result<Vec<QueueRow>, StoreError> {
        let after = query.after.unwrap_or_else(queue_start);
        let before = query.submitted_before.map(db_time);
        let since = query.submitted_since.map(db_time);
        match &self.inner {
            Inner::Sqlite { read, .. } => Ok(sqlx::query_as::<sqlx::Sqlite, QueueRow>(
                "SELECT id, receipt_number, product, status, branch_code, submitted_at, updated_at \
                 FROM applications \
                 WHERE ($1 IS NULL OR branch_code IN (SELECT value FROM json_each($1))) \
                 AND ($2 IS NULL OR product = $2) AND ($3 IS NULL OR status = $3) \
                 AND ($4 IS NULL OR branch_code = $4) \
                 AND ($5 IS NULL OR submitted_at < $5) AND ($6 IS NULL OR submitted_at >= $6) \
                 AND (submitted_at, id) < ($7, $8) \
                 ORDER BY submitted_at DESC, id DESC LIMIT $9",
            )
            .bind(query.scope.as_deref().map(scope_json))
            .bind(&query.product)
            .bind(&query.status)
            .bind(&query.branch)
            .bind(before)
            .bind(since)
            .bind(db_time(after.submitted_at))
            .bind(after.id)
            .bind(query.limit)
            .fetch_all(read)
            .await?),
            Inner::Postgres(pool) => Ok(sqlx::query_as::<sqlx::Postgres, QueueRow>(
                "SELECT id, receipt_number, product, status, branch_code, submitted_at, updated_at \
                 FROM applications \
                 WHERE ($1::text[] IS NULL OR branch_code = ANY($1)) \
                 AND ($2::text IS NULL OR product = $2) AND ($3::text IS NULL OR status = $3) \
                 AND ($4::text IS NULL OR branch_code = $4) \
                 AND ($5::timestamptz IS NULL OR submitted_at < $5) \
                 AND ($6::timestamptz IS NULL OR submitted_at >= $6) \
                 AND (submitted_at, id) < ($7, $8) \
                 ORDER BY submitted_at DESC, id DESC LIMIT $9",
            )
            .bind(query.scope.clone())
            .bind(&query.product)
            .bind(&query.status)
            .bind(&query.branch)
            .bind(before)
            .bind(since)
            .bind(db_time(after.submitted_at))
            .bind(after.id)
            .bind(query.limit)
            .fetch_all(pool)
            .await?),
        }
    }

    /// An application's operational values, or `None`.
    pub async fn application_for_review(&self, id: Uuid) -> Result<Option<ReviewRow>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, ReviewRow>(
                "SELECT id, receipt_number, product, status, branch_code, submitted_at, updated_at, \
                 reviewed_by, reviewed_at FROM applications WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// An application's history, oldest first.
    pub async fn application_history(&self, id: Uuid) -> Result<Vec<HistoryRow>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, HistoryRow>(
                "SELECT at, actor, action, from_status, to_status FROM application_history \
                 WHERE application_id = $1 ORDER BY at, id",
            )
            .bind(id)
            .fetch_all(pool)
            .await?)
        })
    }

    /// An application's notes (encrypted) with their wrapped keys, oldest first.
    pub async fn application_notes(&self, id: Uuid) -> Result<Vec<NoteRow>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, NoteRow>(
                "SELECT n.id, n.author, n.created_at, n.body, k.key_id, k.wrapped \
                 FROM application_notes n JOIN data_keys k ON k.record_id = n.id \
                 WHERE n.application_id = $1 ORDER BY n.created_at, n.id",
            )
            .bind(id)
            .fetch_all(pool)
            .await?)
        })
    }

    /// How many notes an application has (shown without opening them).
    pub async fn application_note_count(&self, id: Uuid) -> Result<i64, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_scalar::<Db, i64>(
                "SELECT COUNT(*) FROM application_notes WHERE application_id = $1",
            )
            .bind(id)
            .fetch_one(pool)
            .await?)
        })
    }

    /// Stores a note and its data key in one transaction.
    pub async fn add_application_note(&self, note: &NewNote) -> Result<(), StoreError> {
        let at = db_time(note.created_at);
        with_write_tx!(self, Db, tx => {
            sqlx::query::<Db>(
                "INSERT INTO data_keys (record_id, key_id, wrapped, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(note.id)
            .bind(&note.key_id)
            .bind(&note.wrapped)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            sqlx::query::<Db>(
                "INSERT INTO application_notes (id, application_id, author, created_at, body) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(note.id)
            .bind(note.application_id)
            .bind(&note.author)
            .bind(at)
            .bind(&note.body)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Applies a status move with its history row (and its e-mail) in one transaction; false
    /// when the application was no longer in `from`, or — for a decision — was not reviewed
    /// by someone else. Nothing is written then.
    pub async fn move_application_status(
        &self,
        change: &StatusMove<'_>,
    ) -> Result<bool, StoreError> {
        let at = db_time(change.at);
        with_write_tx!(self, Db, tx => {
            let moved = match change.decided_by {
                Some(decider) => sqlx::query::<Db>(
                    "UPDATE applications SET status = $3, updated_at = $4 \
                     WHERE id = $1 AND status = $2 \
                     AND reviewed_by IS NOT NULL AND reviewed_by <> $5",
                )
                .bind(change.application_id)
                .bind(change.from)
                .bind(change.to)
                .bind(at)
                .bind(decider)
                .execute(&mut *tx)
                .await?
                .rows_affected(),
                None => sqlx::query::<Db>(
                    "UPDATE applications SET status = $3, updated_at = $4 \
                     WHERE id = $1 AND status = $2",
                )
                .bind(change.application_id)
                .bind(change.from)
                .bind(change.to)
                .bind(at)
                .execute(&mut *tx)
                .await?
                .rows_affected(),
            };
            if moved == 0 {
                return Ok(false);
            }
            if change.clear_review {
                sqlx::query::<Db>(
                    "UPDATE applications SET reviewed_by = NULL, reviewed_at = NULL WHERE id = $1",
                )
                .bind(change.application_id)
                .execute(&mut *tx)
                .await?;
            }
            if change.discard_secrets {
                sqlx::query::<Db>("DELETE FROM application_secrets WHERE application_id = $1")
                    .bind(change.application_id)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query::<Db>(
                "INSERT INTO application_history (id, application_id, at, actor, action, \
                 from_status, to_status) VALUES ($1, $2, $3, $4, 'status', $5, $6)",
            )
            .bind(Uuid::now_v7())
            .bind(change.application_id)
            .bind(at)
            .bind(change.actor)
            .bind(change.from)
            .bind(change.to)
            .execute(&mut *tx)
            .await?;
            if let Some(message) = change.message {
                crate::outbox::insert_outbox!(Db, &mut *tx, message)?;
            }
            tx.commit().await?;
            if change.message.is_some() {
                self.ring_outbox();
            }
            Ok(true)
        })
    }

    /// Marks an application in review as reviewed by `staff` (the first pair of eyes); false
    /// when it is not in review.
    pub async fn mark_application_reviewed(
        &self,
        application_id: Uuid,
        staff: Uuid,
        actor: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let at = db_time(at);
        with_write_tx!(self, Db, tx => {
            let marked = sqlx::query::<Db>(
                "UPDATE applications SET reviewed_by = $2, reviewed_at = $3 \
                 WHERE id = $1 AND status = 'in-review'",
            )
            .bind(application_id)
            .bind(staff)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if marked == 0 {
                return Ok(false);
            }
            sqlx::query::<Db>(
                "INSERT INTO application_history (id, application_id, at, actor, action, \
                 from_status, to_status) VALUES ($1, $2, $3, $4, 'reviewed', 'in-review', 'in-review')",
            )
            .bind(Uuid::now_v7())
            .bind(application_id)
            .bind(at)
            .bind(actor)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// A page of the audit log, newest first, before position `before` (`None`: the newest).
    pub async fn audit_events_page(
        &self,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditPageRow>, StoreError> {
        with_db!(self, read, Db, pool => {
            Ok(sqlx::query_as::<Db, AuditPageRow>(
                "SELECT seq, at, actor, actor_address, session, action, subject_kind, subject_id, \
                 fields, purpose, detail, outcome FROM audit_events WHERE seq < $1 \
                 ORDER BY seq DESC LIMIT $2",
            )
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(pool)
            .await?)
        })
    }

    /// For benchmarks and tests only: inserts `count` synthetic submitted applications with
    /// random bytes where ciphertext would be (no key opens them), spread over `branches` and
    /// the last 90 days before `now`, 1,000 rows per statement. Returns how many were written.
    pub async fn insert_synthetic_applications(
        &self,
        count: usize,
        branches: &[&str],
        now: OffsetDateTime,
    ) -> Result<usize, StoreError> {
        const PRODUCTS: [&str; 3] = ["savings-account", "internet-banking", "debit-card"];
        const STATUSES: [&str; 4] = [
            "submitted",
            "in-review",
            "more-information-needed",
            "approved",
        ];
        const BATCH: usize = 1000;
        let branches: Vec<&str> = if branches.is_empty() {
            vec!["101"]
        } else {
            branches.to_vec()
        };
        let mut written = 0;
        while written < count {
            let n = BATCH.min(count - written);
            let mut rows = Vec::with_capacity(n);
            for i in written..written + n {
                let id = Uuid::new_v4();
                let random = |k: usize| -> String {
                    (0..k)
                        .map(|_| Uuid::new_v4().simple().to_string())
                        .collect()
                };
                // Spread evenly over 90 days, newest first, each at its own second.
                let step = (90 * 86_400 / count.max(1) as i64).max(1);
                let age = time::Duration::seconds(i as i64 * step);
                let at = db_time(now - age)
                    .format(&Rfc3339)
                    .map_err(|e| StoreError::CommitFailed(format!("time format: {e}")))?;
                // Shaped like a wrapped key: version 01 then 88 bytes.
                let wrapped = format!("01{}", &random(6)[..176]);
                rows.push(format!(
                    "[\"{}\",\"SYN{}\",\"{}\",\"{}\",\"{}\",\"{}\",\"{}\",\"{}\",\"{}\"]",
                    id.simple(),
                    &id.simple().to_string()[..16].to_uppercase(),
                    PRODUCTS[i % PRODUCTS.len()],
                    STATUSES[(i / 3) % STATUSES.len()],
                    branches[i % branches.len()],
                    random(2),
                    at,
                    random(24),
                    wrapped,
                ));
            }
            let json = format!("[{}]", rows.join(","));
            self.insert_synthetic_batch(&json).await?;
            written += n;
        }
        // Fresh statistics, as a live database would have, so that plans are realistic.
        with_db!(self, write, Db, pool => {
            sqlx::query::<Db>("ANALYZE applications").execute(pool).await?;
        });
        Ok(written)
    }

    async fn insert_synthetic_batch(&self, json: &str) -> Result<(), StoreError> {
        match &self.inner {
            Inner::Sqlite { write, .. } => {
                let mut tx = write.begin_with("BEGIN IMMEDIATE").await?;
                sqlx::query::<sqlx::Sqlite>(
                    "INSERT INTO applications (id, receipt_number, product, status, branch_code, \
                     email_index, submitted_at, updated_at) \
                     SELECT unhex(value ->> 0), value ->> 1, value ->> 2, value ->> 3, value ->> 4, \
                     unhex(value ->> 5), value ->> 6, value ->> 6 FROM json_each($1)",
                )
                .bind(json)
                .execute(&mut *tx)
                .await?;
                sqlx::query::<sqlx::Sqlite>(
                    "INSERT INTO application_personal (application_id, fields) \
                     SELECT unhex(value ->> 0), unhex(value ->> 7) FROM json_each($1)",
                )
                .bind(json)
                .execute(&mut *tx)
                .await?;
                sqlx::query::<sqlx::Sqlite>(
                    "INSERT INTO data_keys (record_id, key_id, wrapped, created_at) \
                     SELECT unhex(value ->> 0), 'synthetic', unhex(value ->> 8), value ->> 6 \
                     FROM json_each($1)",
                )
                .bind(json)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
            }
            Inner::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query::<sqlx::Postgres>(
                    "INSERT INTO applications (id, receipt_number, product, status, branch_code, \
                     email_index, submitted_at, updated_at) \
                     SELECT CAST(r ->> 0 AS uuid), r ->> 1, r ->> 2, r ->> 3, r ->> 4, \
                     decode(r ->> 5, 'hex'), CAST(r ->> 6 AS timestamptz), \
                     CAST(r ->> 6 AS timestamptz) FROM json_array_elements(CAST($1 AS json)) AS r",
                )
                .bind(json)
                .execute(&mut *tx)
                .await?;
                sqlx::query::<sqlx::Postgres>(
                    "INSERT INTO application_personal (application_id, fields) \
                     SELECT CAST(r ->> 0 AS uuid), decode(r ->> 7, 'hex') \
                     FROM json_array_elements(CAST($1 AS json)) AS r",
                )
                .bind(json)
                .execute(&mut *tx)
                .await?;
                sqlx::query::<sqlx::Postgres>(
                    "INSERT INTO data_keys (record_id, key_id, wrapped, created_at) \
                     SELECT CAST(r ->> 0 AS uuid), 'synthetic', decode(r ->> 8, 'hex'), \
                     CAST(r ->> 6 AS timestamptz) FROM json_array_elements(CAST($1 AS json)) AS r",
                )
                .bind(json)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Connection as _;

    /// A store on a fresh SQLite file, or a fresh PostgreSQL database (dropped by the guard).
    struct TestStore {
        store: Store,
        _dir: Option<tempfile::TempDir>,
        pg: Option<(String, String)>,
    }

    impl Drop for TestStore {
        fn drop(&mut self) {
            if let Some((base, name)) = self.pg.take() {
                let _ = std::process::Command::new("psql")
                    .arg(format!("{base}/postgres"))
                    .args([
                        "-q",
                        "-c",
                        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    ])
                    .output();
            }
        }
    }

    async fn sqlite() -> TestStore {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("t.sqlite3").display());
        let store = Store::connect(&url).await.expect("connect");
        store.migrate().await.expect("migrate");
        TestStore {
            store,
            _dir: Some(dir),
            pg: None,
        }
    }

    async fn postgres() -> Option<TestStore> {
        let base = std::env::var("MADOGUCHI_TEST_PG")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned());
        let mut admin = match sqlx::PgConnection::connect(&format!("{base}/postgres")).await {
            Ok(conn) => conn,
            Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!("PostgreSQL required when CI=true: {e}")
            }
            Err(e) => {
                eprintln!("SKIPPED: PostgreSQL unreachable: {e}");
                return None;
            }
        };
        let name = format!("mdg_review_{}", Uuid::new_v4().simple());
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create db");
        let store = Store::connect(&format!("{base}/{name}"))
            .await
            .expect("connect");
        store.migrate().await.expect("migrate");
        Some(TestStore {
            store,
            _dir: None,
            pg: Some((base, name)),
        })
    }

    async fn both() -> Vec<TestStore> {
        let mut stores = vec![sqlite().await];
        stores.extend(postgres().await);
        stores
    }

    fn query(scope: Option<Vec<&str>>) -> QueueQuery {
        QueueQuery {
            scope: scope.map(|s| s.into_iter().map(str::to_owned).collect()),
            limit: 50,
            ..QueueQuery::default()
        }
    }

    #[tokio::test]
    async fn the_queue_shows_only_the_scope_and_pages_without_gaps_or_repeats() {
        for db in both().await {
            let store = &db.store;
            let now = OffsetDateTime::now_utc();
            let n = store
                .insert_synthetic_applications(230, &["101", "102", "103"], now)
                .await
                .expect("generate");
            assert_eq!(n, 230);
            let mut seen = Vec::new();
            let mut q = query(Some(vec!["101", "103"]));
            loop {
                let page = store.application_queue(&q).await.expect("page");
                assert!(page.len() <= 50);
                assert!(
                    page.iter()
                        .all(|r| r.branch_code == "101" || r.branch_code == "103")
                );
                assert!(
                    page.windows(2)
                        .all(|w| (w[0].submitted_at, w[0].id) > (w[1].submitted_at, w[1].id))
                );
                let Some(last) = page.last() else { break };
                q.after = Some(QueueCursor {
                    submitted_at: last.submitted_at,
                    id: last.id,
                });
                seen.extend(page.iter().map(|r| r.id));
            }
            let expected = (0..230).filter(|i| i % 3 != 1).count();
            assert_eq!(seen.len(), expected);
            seen.sort();
            seen.dedup();
            assert_eq!(seen.len(), expected, "no row twice");
            // An empty scope (a loan-centre scope) sees nothing; the bank sees everything.
            assert!(
                store
                    .application_queue(&query(Some(vec![])))
                    .await
                    .expect("q")
                    .is_empty()
            );
            let mut all = query(None);
            all.limit = 1000;
            assert_eq!(store.application_queue(&all).await.expect("q").len(), 230);
            // Filters narrow within the scope, never beyond it.
            let mut q = query(Some(vec!["101"]));
            q.branch = Some("102".to_owned());
            assert!(store.application_queue(&q).await.expect("q").is_empty());
            let mut q = query(None);
            q.limit = 1000;
            q.status = Some("approved".to_owned());
            q.product = Some("debit-card".to_owned());
            q.submitted_before = Some(now - time::Duration::days(30));
            let found = store.application_queue(&q).await.expect("q");
            assert!(!found.is_empty());
            assert!(found.iter().all(|r| r.status == "approved"
                && r.product == "debit-card"
                && r.submitted_at < now - time::Duration::days(30)));
        }
    }

    #[tokio::test]
    async fn decisions_need_another_reviewer_and_moves_are_optimistic() {
        for db in both().await {
            let store = &db.store;
            let now = OffsetDateTime::now_utc();
            store
                .insert_synthetic_applications(3, &["101"], now)
                .await
                .expect("generate");
            let id = store.application_queue(&query(None)).await.expect("q")[0].id;
            let reviewer = Uuid::now_v7();
            let other = Uuid::now_v7();
            let step = |from, to, decided_by| StatusMove {
                application_id: id,
                from,
                to,
                actor: "staff:test",
                at: now,
                decided_by,
                clear_review: false,
                message: None,
                discard_secrets: false,
            };
            assert!(
                store
                    .move_application_status(&step("submitted", "in-review", None))
                    .await
                    .expect("move")
            );
            // Judged from a status it is no longer in: refused.
            assert!(
                !store
                    .move_application_status(&step("submitted", "in-review", None))
                    .await
                    .expect("move")
            );
            // Not reviewed yet: no decision.
            assert!(
                !store
                    .move_application_status(&step("in-review", "approved", Some(other)))
                    .await
                    .expect("move")
            );
            assert!(
                store
                    .mark_application_reviewed(id, reviewer, "staff:r", now)
                    .await
                    .expect("mark")
            );
            assert!(
                !store
                    .move_application_status(&step("in-review", "approved", Some(reviewer)))
                    .await
                    .expect("move")
            );
            assert!(
                store
                    .move_application_status(&step("in-review", "approved", Some(other)))
                    .await
                    .expect("move")
            );
            let app = store
                .application_for_review(id)
                .await
                .expect("row")
                .expect("exists");
            assert_eq!(app.status, "approved");
            assert_eq!(app.reviewed_by, Some(reviewer));
            let history = store.application_history(id).await.expect("history");
            let actions: Vec<(&str, &str)> = history
                .iter()
                .map(|h| (h.action.as_str(), h.to_status.as_str()))
                .collect();
            assert_eq!(
                actions,
                [
                    ("status", "in-review"),
                    ("reviewed", "in-review"),
                    ("status", "approved")
                ]
            );
        }
    }

    #[tokio::test]
    async fn notes_keep_their_own_key_and_the_audit_log_pages() {
        for db in both().await {
            let store = &db.store;
            let now = OffsetDateTime::now_utc();
            store
                .insert_synthetic_applications(1, &["101"], now)
                .await
                .expect("generate");
            let id = store.application_queue(&query(None)).await.expect("q")[0].id;
            let note = NewNote {
                id: Uuid::now_v7(),
                application_id: id,
                author: "staff:x".to_owned(),
                created_at: now,
                body: vec![1, 2, 3],
                key_id: "k".to_owned(),
                wrapped: vec![9; 89],
            };
            store.add_application_note(&note).await.expect("note");
            let notes = store.application_notes(id).await.expect("notes");
            assert_eq!(notes.len(), 1);
            assert_eq!((notes[0].id, notes[0].wrapped.len()), (note.id, 89));
            assert_eq!(store.application_note_count(id).await.expect("count"), 1);
            for i in 0..5 {
                store
                    .insert_audit_event(&crate::AuditEventRow {
                        id: Uuid::now_v7(),
                        at: now,
                        actor: "staff:x".to_owned(),
                        actor_address: None,
                        session: None,
                        action: format!("test.{i}"),
                        subject_kind: None,
                        subject_id: None,
                        fields: String::new(),
                        purpose: None,
                        detail: None,
                        outcome: "ok".to_owned(),
                    })
                    .await
                    .expect("event");
            }
            let first = store.audit_events_page(None, 3).await.expect("page");
            assert_eq!(
                first.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
                ["test.4", "test.3", "test.2"]
            );
            let rest = store
                .audit_events_page(first.last().map(|e| e.seq), 3)
                .await
                .expect("page");
            assert_eq!(
                rest.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
                ["test.1", "test.0"]
            );
        }
    }

    /// What the audit write adds to a reveal: appending one event to the chain (the lock, the
    /// read of the head, the hash, the insert, the commit), 2,000 times in a row on each
    /// backend, with 100,000 events in the log already (run by hand, in release mode):
    /// `cargo test --release -p madoguchi-store --lib audit_append -- --ignored --nocapture`
    #[tokio::test]
    #[ignore = "a benchmark"]
    async fn audit_append_latency() {
        for db in both().await {
            let store = &db.store;
            let event = |i: usize| crate::AuditEventRow {
                id: Uuid::now_v7(),
                at: OffsetDateTime::now_utc(),
                actor: "staff:0190a0b0-0000-7000-8000-000000000001".to_owned(),
                actor_address: Some(format!("10.0.{}.{}", i / 256 % 256, i % 256)),
                session: Some(format!("s{}", i / 200)),
                action: "application.reveal".to_owned(),
                subject_kind: Some("application".to_owned()),
                subject_id: Some(Uuid::now_v7().to_string()),
                fields: "family_name,given_name".to_owned(),
                purpose: Some("review".to_owned()),
                detail: None,
                outcome: "ok".to_owned(),
            };
            for chunk in (0..100_000).collect::<Vec<_>>().chunks(10_000) {
                let batch: Vec<_> = chunk.iter().map(|i| event(*i)).collect();
                store
                    .append_audit_events_in_bulk(&batch)
                    .await
                    .expect("bulk");
            }
            let mut timings = Vec::new();
            for i in 0..2_000 {
                let e = event(i);
                let t = std::time::Instant::now();
                store.insert_audit_event(&e).await.expect("append");
                timings.push(t.elapsed());
            }
            timings.sort();
            let mean = timings.iter().sum::<std::time::Duration>() / timings.len() as u32;
            println!(
                "{:?}: one audit append: mean {:?}, p50 {:?}, p99 {:?}",
                store.backend(),
                mean,
                timings[timings.len() / 2],
                timings[timings.len() * 99 / 100]
            );
        }
    }

    /// What detection adds to a reveal (the screen's queries: distinct customers of the actor
    /// in the last hour, its reveals' times for the off-hours rule, the canary look-up), with
    /// 100,000 events of 20 members of staff over 30 days in the log and 59 reads of the actor in
    /// the last hour (run by hand, in release mode):
    /// `cargo test --release -p madoguchi-store --lib detection_screen -- --ignored --nocapture`
    #[tokio::test]
    #[ignore = "a benchmark"]
    async fn detection_screen_latency() {
        for db in both().await {
            let store = &db.store;
            let now = OffsetDateTime::now_utc();
            let event = |i: usize, actor: usize, at: OffsetDateTime| crate::AuditEventRow {
                id: Uuid::now_v7(),
                at,
                actor: format!("staff:0190a0b0-0000-7000-8000-{actor:012}"),
                actor_address: Some(format!("10.0.{}.{}", i / 256 % 256, i % 256)),
                session: Some(format!("s{}", i / 200)),
                action: "application.reveal".to_owned(),
                subject_kind: Some("application".to_owned()),
                subject_id: Some(Uuid::now_v7().to_string()),
                fields: "family_name,given_name".to_owned(),
                purpose: Some("review".to_owned()),
                detail: None,
                outcome: "ok".to_owned(),
            };
            let step = time::Duration::days(30) / 100_000;
            for chunk in (0..100_000).collect::<Vec<_>>().chunks(10_000) {
                let batch: Vec<_> = chunk
                    .iter()
                    .map(|i| {
                        event(
                            *i,
                            i % 20,
                            now - time::Duration::days(30) + step * (*i as u32),
                        )
                    })
                    .collect();
                store
                    .append_audit_events_in_bulk(&batch)
                    .await
                    .expect("bulk");
            }
            let recent: Vec<_> = (0..59)
                .map(|i| event(i, 99, now - time::Duration::minutes(59 - i as i64)))
                .collect();
            store
                .append_audit_events_in_bulk(&recent)
                .await
                .expect("recent");
            let actor = "staff:0190a0b0-0000-7000-8000-000000000099";
            let mut timings = Vec::new();
            let windows = crate::TallyWindows {
                actor: actor.to_owned(),
                reads_since: now - time::Duration::hours(1),
                exports_since: now - time::Duration::days(1),
            };
            for i in 0..2_000 {
                let mut reveal = event(i, 99, OffsetDateTime::now_utc());
                reveal.actor = actor.to_owned();
                let subject = reveal.subject_id.clone().expect("subject");
                let t = std::time::Instant::now();
                let canary = store
                    .is_canary("application", &subject)
                    .await
                    .expect("canary");
                // Refused each time, so that the tally stays that of the 59 reads.
                let mut seen = None;
                let verdict = store
                    .append_audit_screened(
                        &[reveal],
                        &windows,
                        |tally| {
                            seen = Some((tally.customers_read, tally.reads_at.len()));
                            Some(())
                        },
                        |row, ()| crate::AuditEventRow {
                            outcome: "denied".to_owned(),
                            ..row.clone()
                        },
                    )
                    .await
                    .expect("screened append");
                timings.push(t.elapsed());
                assert_eq!((seen, verdict, canary), (Some((60, 60)), Err(()), false));
            }
            timings.sort();
            let mean = timings.iter().sum::<std::time::Duration>() / timings.len() as u32;
            println!(
                "{:?}: detection screen of one reveal: mean {:?}, p50 {:?}, p99 {:?}",
                store.backend(),
                mean,
                timings[timings.len() / 2],
                timings[timings.len() * 99 / 100]
            );
        }
    }

    /// The queue's latency on 100,000 applications (run by hand, in release mode):
    /// `cargo test --release -p madoguchi-store --lib queue_latency -- --ignored --nocapture`
    /// (SQLite; with `MADOGUCHI_BENCH_PG=1` PostgreSQL as well).
    #[tokio::test]
    #[ignore = "a benchmark: 100,000 rows"]
    async fn queue_latency_on_100k_applications() {
        let mut stores = vec![sqlite().await];
        if std::env::var("MADOGUCHI_BENCH_PG").is_ok() {
            stores.extend(postgres().await);
        }
        for db in stores {
            let store = &db.store;
            let now = OffsetDateTime::now_utc();
            let started = std::time::Instant::now();
            let branches = ["101", "102", "103", "201", "202", "301", "302", "401"];
            store
                .insert_synthetic_applications(100_000, &branches, now)
                .await
                .expect("generate");
            println!(
                "{:?}: 100,000 applications written in {:?}",
                store.backend(),
                started.elapsed()
            );
            let mut timings = Vec::new();
            for i in 0..400usize {
                let mut q = query(match i % 3 {
                    0 => None,
                    1 => Some(vec!["101", "102"]),
                    _ => Some(vec!["201"]),
                });
                if i % 4 == 1 {
                    q.status = Some("in-review".to_owned());
                }
                if i % 5 == 2 {
                    q.product = Some("savings-account".to_owned());
                }
                if i % 7 == 3 {
                    q.submitted_before = Some(now - time::Duration::days(30));
                }
                // Every other query is a deeper page, as a reviewer paging on would ask.
                let mut cursor = None;
                for _ in 0..(i % 2) * (1 + i % 10) {
                    q.after = cursor;
                    let page = store.application_queue(&q).await.expect("page");
                    cursor = page.last().map(|r| QueueCursor {
                        submitted_at: r.submitted_at,
                        id: r.id,
                    });
                }
                q.after = cursor;
                let t = std::time::Instant::now();
                let page = store.application_queue(&q).await.expect("page");
                timings.push(t.elapsed());
                assert!(page.len() <= 50);
            }
            timings.sort();
            let at = |p: f64| timings[((timings.len() as f64 * p) as usize).min(timings.len() - 1)];
            println!(
                "{:?}: queue page (50 rows) over {} queries: p50 {:?}, p99 {:?}, max {:?}",
                store.backend(),
                timings.len(),
                at(0.50),
                at(0.99),
                timings[timings.len() - 1]
            );
        }
    }

    #[test]
    fn the_scope_becomes_a_json_list_of_codes_only() {
        let scope = vec!["101".to_owned(), "1\",\"2".to_owned(), "202".to_owned()];
        assert_eq!(scope_json(&scope), "[\"101\",\"202\"]");
        assert_eq!(scope_json(&[]), "[]");
    }
}
