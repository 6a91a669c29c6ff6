//! Dates as the bank sees them: Japan Standard Time, whatever the server's time zone.

use time::{Date, OffsetDateTime, UtcOffset};

/// Japan has had no daylight saving time since 1951: JST is UTC+9 all year.
const JST: UtcOffset = match UtcOffset::from_hms(9, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};

/// Today's date in Japan (ages are counted on it).
pub fn today_in_japan() -> Date {
    OffsetDateTime::now_utc().to_offset(JST).date()
}
