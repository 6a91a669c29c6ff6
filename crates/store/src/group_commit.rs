//! Group commit for SQLite submissions and bookings.
//!
//! An acknowledged submission or booking must be on disk (`synchronous=FULL`: one fsync per
//! commit), and SQLite has one writer. Committing each alone would cap the rate at one fsync
//! each; instead the ones waiting at the same moment are stored in one transaction — each in
//! its own savepoint, so that one refused draft or full slot does not undo the others — and
//! committed with one fsync. Nobody is answered before the commit that holds their write has
//! returned. (PostgreSQL does the same by itself for concurrent transactions.) Jobs run in
//! arrival order inside the transaction, so a booking sees the places its predecessors took.

use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};

use crate::booking::insert_booking;
use crate::submission::insert_submission;
use crate::{NewApplication, NewBooking, OutboxRow, StoreError};

/// The most submissions in one transaction.
const MAX_BATCH: usize = 64;

/// One write to commit, and where to send its outcome.
struct Job {
    write: Write,
    reply: oneshot::Sender<Result<(), StoreError>>,
}

enum Write {
    Submission {
        session_id: Vec<u8>,
        application: Box<NewApplication>,
        confirmation: OutboxRow,
    },
    Booking {
        booking: Box<NewBooking>,
        confirmation: OutboxRow,
        reminder: Option<OutboxRow>,
    },
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
        self.run(Write::Submission {
            session_id,
            application: Box::new(application),
            confirmation,
        })
        .await
    }

    /// Stores one booking; returns once it is committed (or refused).
    pub(crate) async fn book(
        &self,
        booking: NewBooking,
        confirmation: OutboxRow,
        reminder: Option<OutboxRow>,
    ) -> Result<(), StoreError> {
        self.run(Write::Booking {
            booking: Box::new(booking),
            confirmation,
            reminder,
        })
        .await
    }

    async fn run(&self, write: Write) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = Job { write, reply };
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
        sqlx::query("SAVEPOINT job").execute(&mut *tx).await?;
        let outcome = match &job.write {
            Write::Submission {
                session_id,
                application,
                confirmation,
            } => insert_submission!(sqlx::Sqlite, tx, session_id, application, confirmation),
            Write::Booking {
                booking,
                confirmation,
                reminder,
            } => insert_booking!(sqlx::Sqlite, tx, booking, confirmation, reminder.as_ref()),
        };
        if outcome.is_err() {
            sqlx::query("ROLLBACK TO job").execute(&mut *tx).await?;
        }
        sqlx::query("RELEASE job").execute(&mut *tx).await?;
        outcomes.push(outcome);
    }
    tx.commit().await?;
    Ok(outcomes)
}
