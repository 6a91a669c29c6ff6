//! `[support]`, `[products]`, `[applications]`, `[reservations]` and `[retention]`: the
//! bank's contact, offer and limits.

use time::{Date, Duration};

use crate::person::{EmailAddress, PhoneNumber};
use crate::product::Product;

/// `[support]`: how applicants reach the bank.
#[derive(Debug, Clone)]
pub struct Support {
    /// Support phone number.
    pub(super) phone: PhoneNumber,
    /// Opening hours, in Japanese.
    pub(super) hours_ja: String,
    /// Opening hours, in English.
    pub(super) hours_en: String,
    /// Support e-mail address, if any.
    pub(super) email: Option<EmailAddress>,
}

impl Support {
    /// Support phone number.
    pub fn phone(&self) -> &PhoneNumber {
        &self.phone
    }

    /// Opening hours, in Japanese.
    pub fn hours_ja(&self) -> &str {
        &self.hours_ja
    }

    /// Opening hours, in English.
    pub fn hours_en(&self) -> &str {
        &self.hours_en
    }

    /// Support e-mail address, if any.
    pub fn email(&self) -> Option<&EmailAddress> {
        self.email.as_ref()
    }
}

/// `[products]`: which products the site offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Products {
    /// 普通預金口座開設.
    pub(super) savings_account: bool,
    /// インターネットバンキング.
    pub(super) internet_banking: bool,
    /// Visaデビットカード.
    pub(super) debit_card: bool,
}

impl Products {
    /// 普通預金口座開設.
    pub fn savings_account(&self) -> bool {
        self.savings_account
    }

    /// インターネットバンキング.
    pub fn internet_banking(&self) -> bool {
        self.internet_banking
    }

    /// Visaデビットカード.
    pub fn debit_card(&self) -> bool {
        self.debit_card
    }
}

impl Products {
    /// Whether `product` is offered.
    pub fn offers(&self, product: Product) -> bool {
        match product {
            Product::SavingsAccount => self.savings_account,
            Product::InternetBanking => self.internet_banking,
            Product::DebitCard => self.debit_card,
        }
    }
}

/// `[applications]`: limits of the application forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApplicationRules {
    /// Minimum age to open a savings account online (default 18).
    pub(super) savings_min_age: u16,
    /// Maximum plausible age for every product (default 120); above it is a typo.
    pub(super) max_age: u16,
    /// Minimum age for a debit card (default 15).
    pub(super) debit_card_min_age: u16,
    /// Lifetime of an e-mail check code (default 10 minutes).
    pub(super) email_code_ttl_minutes: u16,
    /// Wrong codes allowed before the check must be restarted (default 5).
    pub(super) email_code_max_tries: u16,
    /// E-mails with a code (applications' checks, status checks) one address receives in an
    /// hour, whoever asks and through whichever instance (default 10): no e-mail bombing.
    pub(super) email_codes_per_address_per_hour: u16,
    /// Lifetime of a half-finished application (default 24 hours).
    pub(super) draft_ttl_hours: u16,
    /// The image-based identity check (ホ method) is offered strictly before this date
    /// (default 2027-04-01, when the amended ordinance abolishes it).
    pub(super) identity_image_method_until: Date,
}

impl ApplicationRules {
    /// Minimum age to open a savings account online (default 18).
    pub fn savings_min_age(&self) -> u16 {
        self.savings_min_age
    }

    /// Maximum plausible age for every product (default 120); above it is a typo.
    pub fn max_age(&self) -> u16 {
        self.max_age
    }

    /// Minimum age for a debit card (default 15).
    pub fn debit_card_min_age(&self) -> u16 {
        self.debit_card_min_age
    }

    /// Lifetime of an e-mail check code (default 10 minutes).
    pub fn email_code_ttl_minutes(&self) -> u16 {
        self.email_code_ttl_minutes
    }

    /// Wrong codes allowed before the check must be restarted (default 5).
    pub fn email_code_max_tries(&self) -> u16 {
        self.email_code_max_tries
    }

    /// E-mails with a code one address receives in an hour (default 10).
    pub fn email_codes_per_address_per_hour(&self) -> u16 {
        self.email_codes_per_address_per_hour
    }

    /// Lifetime of a half-finished application (default 24 hours).
    pub fn draft_ttl_hours(&self) -> u16 {
        self.draft_ttl_hours
    }

    /// The image-based identity check (ホ method) is offered strictly before this date
    /// (default 2027-04-01, when the amended ordinance abolishes it).
    pub fn identity_image_method_until(&self) -> Date {
        self.identity_image_method_until
    }
}

impl ApplicationRules {
    /// Lifetime of an e-mail check code.
    pub fn email_code_ttl(&self) -> Duration {
        Duration::minutes(i64::from(self.email_code_ttl_minutes))
    }

    /// Lifetime of a draft.
    pub fn draft_ttl(&self) -> Duration {
        Duration::hours(i64::from(self.draft_ttl_hours))
    }

    /// Whether the image-based identity check may still be offered on `today`.
    pub fn identity_image_method_offered(&self, today: Date) -> bool {
        today < self.identity_image_method_until
    }
}

/// `[reservations]`: how far ahead visits can be booked, until when they can be changed,
/// and how long a booking's personal data is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReservationWindow {
    /// First bookable day, counted from today (default 2).
    pub(super) earliest_days_ahead: u16,
    /// Last bookable day, counted from today (default 60).
    pub(super) latest_days_ahead: u16,
    /// A booking can be changed or cancelled through its link until this many hours before
    /// the visit (default 24, 0 ..= 720).
    pub(super) change_cutoff_hours: u16,
    /// Bookings one e-mail address may hold for visits still to come (default 3, 1 ..= 20).
    pub(super) max_future_bookings_per_email: u16,
    /// Days after the cancellation or the visit when a booking's personal data is deleted
    /// (default 90, 1 ..= 3650).
    pub(super) retention_days: u16,
    /// Hour (JST, 0 ..= 23) on the day before the visit when the reminder goes out
    /// (default 10).
    pub(super) reminder_hour: u8,
}

impl ReservationWindow {
    /// First bookable day, counted from today (default 2).
    pub fn earliest_days_ahead(&self) -> u16 {
        self.earliest_days_ahead
    }

    /// Last bookable day, counted from today (default 60).
    pub fn latest_days_ahead(&self) -> u16 {
        self.latest_days_ahead
    }

    /// A booking can be changed or cancelled through its link until this many hours before
    /// the visit (default 24, 0 ..= 720).
    pub fn change_cutoff_hours(&self) -> u16 {
        self.change_cutoff_hours
    }

    /// Bookings one e-mail address may hold for visits still to come (default 3, 1 ..= 20).
    pub fn max_future_bookings_per_email(&self) -> u16 {
        self.max_future_bookings_per_email
    }

    /// Days after the cancellation or the visit when a booking's personal data is deleted
    /// (default 90, 1 ..= 3650).
    pub fn retention_days(&self) -> u16 {
        self.retention_days
    }

    /// Hour (JST, 0 ..= 23) on the day before the visit when the reminder goes out
    /// (default 10).
    pub fn reminder_hour(&self) -> u8 {
        self.reminder_hour
    }
}

impl ReservationWindow {
    /// How long before the visit changing or cancelling by link stops: a booking starting at
    /// `t` can be changed while `now < t - change_cutoff()`.
    pub fn change_cutoff(&self) -> Duration {
        Duration::hours(i64::from(self.change_cutoff_hours))
    }

    /// How long a cancelled or past booking's personal data is kept, counted from the
    /// cancellation or the visit.
    pub fn retention(&self) -> Duration {
        Duration::days(i64::from(self.retention_days))
    }
}

/// `[retention]`: how long records are kept before the scheduled deletion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Completed applications (default 2557 days = 7 years, the period banks keep
    /// verification records under the Act on Prevention of Transfer of Criminal Proceeds).
    pub(super) completed_days: u32,
    /// Rejected and withdrawn applications (default 180 days).
    pub(super) rejected_days: u32,
    /// Identity documents, counted from when the application left review (approved,
    /// rejected, …): verification is done by then (default 7 days, 0 ..= 365).
    pub(super) documents_days_after_decision: u32,
}

impl Retention {
    /// Completed applications (default 2557 days = 7 years, the period banks keep
    /// verification records under the Act on Prevention of Transfer of Criminal Proceeds).
    pub fn completed_days(&self) -> u32 {
        self.completed_days
    }

    /// Rejected and withdrawn applications (default 180 days).
    pub fn rejected_days(&self) -> u32 {
        self.rejected_days
    }

    /// Identity documents, counted from when the application left review (default 7 days).
    pub fn documents_days_after_decision(&self) -> u32 {
        self.documents_days_after_decision
    }

    /// How long a completed application's personal data is kept.
    pub fn completed(&self) -> Duration {
        Duration::days(i64::from(self.completed_days))
    }

    /// How long a rejected, withdrawn or expired application's personal data is kept.
    pub fn rejected(&self) -> Duration {
        Duration::days(i64::from(self.rejected_days))
    }

    /// How long identity documents are kept once the application left review.
    pub fn documents_after_decision(&self) -> Duration {
        Duration::days(i64::from(self.documents_days_after_decision))
    }
}
