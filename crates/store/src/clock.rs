use time::{OffsetDateTime, UtcOffset};

/// Normalizes a timestamp for storage: UTC, whole seconds.
///
/// SQLite stores timestamps as RFC 3339 text and compares them as strings; a fixed offset
/// and no fractional part keep that comparison equal to time order.
pub fn db_time(t: OffsetDateTime) -> OffsetDateTime {
    let utc = t.to_offset(UtcOffset::UTC);
    utc.replace_nanosecond(0).unwrap_or(utc)
}
