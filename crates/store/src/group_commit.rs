//! Group commit for SQLite submissions.
//!
//! An acknowledged submission must be on disk (`synchronous=FULL`: one fsync per commit), and
//! SQLite has one writer. Committing each submission alone would cap the rate at one fsync
//! per submission; instead the submissions waiting at the same moment are stored in one
//! transaction — each in its own savepoint, so that one refused draft does not undo the others
//! — and committed with one fsync. Nobody is answered before the commit that holds their
//! submission has returned. (PostgreSQL does the same by itself for concurrent transactions.)

use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};

use crate::submission::insert_submission;
use crate::{NewApplication, OutboxRow, StoreError};

/// The most submissions in one transaction.
const MAX_BATCH: usize = 64;

struct Job {
    session_id: Vec<u8>,
    application: NewApplication,
    confirmation: OutboxRow,
    reply: oneshot::Sender<Result<(), StoreError>>,
}

/// Hands submissions to the committing task.
#[derive(Clone, Debug)]
pub(crate) struct GroupCommit {
    jobs: mpsc::Sender<Job>,
}

impl GroupCommit {
    /// Starts the committing task on the writer pool.
    pub(crate) fn start(write: SqlitePool) -> GroupCommit {
        let (jobs, queue) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(commit_loop(write, queue));
        GroupCommit { jobs }
    }

    /// Stores one submission; returns once it is committed (or refused).
    pub(crate) async fn submit(
        &self,
        session_id: Vec<u8>,
        application: NewApplication,
        confirmation: OutboxRow,
    ) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            session_id,
            application,
            confirmation,
            reply,
        };
        self.jobs.send(job).await.map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

async fn commit_loop(write: SqlitePool, mut queue: mpsc::Receiver<Job>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let outcomes = commit_batch(&write, &batch).await;
        for (job, outcome) in batch.into_iter().zip(outcomes) {
            // The caller may have gone (client disconnected); its submission stands.
            let _ = job.reply.send(outcome);
        }
    }
}

/// One transaction for the whole batch: every job's outcome, or the commit's error for all.
async fn commit_batch(write: &SqlitePool, batch: &[Job]) -> Vec<Result<(), StoreError>> {
    match try_commit_batch(write, batch).await {
        Ok(outcomes) => outcomes,
        Err(e) => {
            let reason = e.to_string();
            batch
                .iter()
                .map(|_| Err(StoreError::CommitFailed(reason.clone())))
                .collect()
        }
    }
}

async fn try_commit_batch(
    write: &SqlitePool,
    batch: &[Job],
) -> Result<Vec<Result<(), StoreError>>, StoreError> {
    let mut tx = write.begin_with("BEGIN IMMEDIATE").await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for job in batch {
        sqlx::query("SAVEPOINT submission")
            .execute(&mut *tx)
            .await?;
        let outcome = insert_submission!(
            sqlx::Sqlite,
            tx,
            &job.session_id,
            &job.application,
            &job.confirmation
        );
        if outcome.is_err() {
            sqlx::query("ROLLBACK TO submission")
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("RELEASE submission").execute(&mut *tx).await?;
        outcomes.push(outcome);
    }
    tx.commit().await?;
    Ok(outcomes)
}
