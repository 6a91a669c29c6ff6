//! `[[loan_centers]]`: where visits are booked, and when they are open.

use time::{Date, Duration, Time, Weekday};

/// `[[loan_centers]]`: a loan centre taking visit reservations.
#[derive(Debug, Clone)]
pub struct LoanCenter {
    /// Stable identifier used in URLs and storage: lower-case letters, digits and `-`.
    pub(super) id: String,
    /// Name.
    pub(super) name: String,
    /// Name in English, if the profile gives one.
    pub(super) name_en: Option<String>,
    /// Address as shown to visitors.
    pub(super) address: String,
    /// Address in English, if the profile gives one.
    pub(super) address_en: Option<String>,
    /// Length of one consultation slot, 15 ..= 180 minutes.
    pub(super) slot_minutes: u16,
    /// Consultants available per slot, 1 ..= 50: the slot's capacity.
    pub(super) consultants_per_slot: u16,
    /// Extra days the centre is closed, besides its weekly hours and public holidays.
    pub(super) closed_days: Vec<Date>,
    /// Weekly opening hours.
    pub(super) hours: WeeklyHours,
}

impl LoanCenter {
    /// Stable identifier used in URLs and storage: lower-case letters, digits and `-`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Name in English: `name_en`, or the Japanese name when the profile gives none.
    pub fn name_en(&self) -> &str {
        self.name_en.as_deref().unwrap_or(&self.name)
    }

    /// Address as shown to visitors.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Address in English: `address_en`, or the Japanese address when the profile gives none.
    pub fn address_en(&self) -> &str {
        self.address_en.as_deref().unwrap_or(&self.address)
    }

    /// Length of one consultation slot, 15 ..= 180 minutes.
    pub fn slot_minutes(&self) -> u16 {
        self.slot_minutes
    }

    /// Consultants available per slot, 1 ..= 50: the slot's capacity.
    pub fn consultants_per_slot(&self) -> u16 {
        self.consultants_per_slot
    }

    /// Extra days the centre is closed, besides its weekly hours and public holidays.
    pub fn closed_days(&self) -> &[Date] {
        &self.closed_days
    }

    /// Weekly opening hours.
    pub fn hours(&self) -> &WeeklyHours {
        &self.hours
    }
}

impl LoanCenter {
    /// The slot length.
    pub fn slot_length(&self) -> Duration {
        Duration::minutes(i64::from(self.slot_minutes))
    }
}

/// Opening hours on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpeningHours {
    /// Opening time.
    pub(super) opens: Time,
    /// Closing time, after `opens`.
    pub(super) closes: Time,
}

impl OpeningHours {
    /// Opening time.
    pub fn opens(&self) -> Time {
        self.opens
    }

    /// Closing time, after `opens`.
    pub fn closes(&self) -> Time {
        self.closes
    }
}

/// Opening hours for each day of the week; `None` when closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeeklyHours(pub(super) [Option<OpeningHours>; 7]);

impl WeeklyHours {
    /// The hours on `weekday`, or `None` if the centre is closed that day.
    pub fn on(&self, weekday: Weekday) -> Option<OpeningHours> {
        self.0
            .get(usize::from(weekday.number_days_from_monday()))
            .copied()
            .flatten()
    }
}
