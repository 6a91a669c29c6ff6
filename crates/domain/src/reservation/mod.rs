//! Visit reservations at the loan centres (SPEC §4.2): which slots exist and which of them
//! may be booked now.
//!
//! Everything is decided in Japan time ([`JST`]) and from the `now` the caller passes; this
//! module reads no clock. Capacity (how many of a slot's places are taken) is the storage
//! layer's business: [`Slot::capacity`] only says how many there are.

use time::UtcOffset;
use time::macros::offset;

pub mod booking;
mod slots;

pub use slots::{
    BookingWindow, Slot, SlotRefusal, available_slots, check_slot, open_days, slots_on,
};

/// Japan Standard Time, UTC+09:00: the offset in which the bank's days, hours and slots are
/// meant. A fixed offset is exact, not an approximation: Japan has observed no daylight
/// saving time since 1951, so no time-zone database is needed, and the `time` crate does
/// the arithmetic between UTC (as stored) and JST.
pub const JST: UtcOffset = offset!(+9);

#[cfg(test)]
mod tests;
