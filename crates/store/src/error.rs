/// What can go wrong in storage. Messages never contain stored values.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error(
        "unsupported database URL (expected sqlite://PATH or postgres://…); check --database-url"
    )]
    UnsupportedUrl,
    /// The draft a submission was made from no longer exists (already submitted or expired).
    #[error("the draft no longer exists (already submitted or expired)")]
    DraftGone,
    /// The transaction that held this write could not be committed; nothing of it is stored.
    #[error("commit failed: {0}")]
    CommitFailed(String),
    /// The slot has no free place left.
    #[error("the slot is fully booked")]
    SlotFull,
    /// The e-mail address already holds the most future bookings the bank allows.
    #[error("too many future bookings for this e-mail address")]
    TooManyBookings,
    /// This booking form was already submitted.
    #[error("this booking form was already submitted")]
    DuplicateRequest,
    /// The booking was changed or cancelled meanwhile.
    #[error("the booking was changed or cancelled meanwhile")]
    BookingChanged,
    /// This role may not migrate and the database lacks migrations of this build.
    #[error(
        "the database lacks {0} migration(s) of this version, and this role may not apply them; run `madoguchi migrate` as the tables' owner first"
    )]
    SchemaBehind(usize),
    /// The store is shutting down.
    #[error("the store is closed")]
    Closed,
}

impl StoreError {
    /// Whether the database could not be reached or went away mid-request (a restart, a
    /// fail-over, a full pool): nothing of the request was stored, and the same request can
    /// succeed a moment later. The web layers answer 503 rather than 500.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Database(e) => match e {
                sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_) => true,
                // 08: connection exception; 57P01-57P05: the server is shutting down,
                // restarting or not yet accepting connections.
                sqlx::Error::Database(db) => db
                    .code()
                    .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
                _ => false,
            },
            StoreError::CommitFailed(_) => true,
            _ => false,
        }
    }

    /// Whether a unique constraint refused the write (e.g. a receipt number already taken).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(e)) => e.is_unique_violation(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::StoreError;

    #[test]
    fn a_database_that_went_away_is_unavailable_and_a_refusal_is_not() {
        let gone = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        for unavailable in [
            StoreError::Database(sqlx::Error::PoolTimedOut),
            StoreError::Database(sqlx::Error::Io(gone)),
            StoreError::CommitFailed("connection closed".to_owned()),
        ] {
            assert!(unavailable.is_unavailable(), "{unavailable}");
        }
        for refused in [
            StoreError::Database(sqlx::Error::RowNotFound),
            StoreError::DraftGone,
            StoreError::SlotFull,
            StoreError::Closed,
        ] {
            assert!(!refused.is_unavailable(), "{refused}");
        }
    }
}
