//! `[detection]`: the thresholds above which a member of staff's activity is taken for an
//! intrusion (SPEC §7): the actor is locked out and the bank's security contact alerted.
//!
//! The profile decides the limits; the back office counts (from the audit log) and acts.

use time::{OffsetDateTime, Time, Weekday};
use toml::Spanned;

use super::load::hours_span;
use super::raw::RawDetection;
use super::source::Source;
use super::{OpeningHours, ProfileError};
use crate::calendar::HolidayCalendar;
use crate::person::EmailAddress;
use crate::reservation::JST;

/// A read of personal data by a command on the server (no member of staff), which the
/// profile may exempt from the limits (`exempt_commands`); an exempt read is audited as such.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandRead {
    /// `madoguchi handoff export`: every approved application, decrypted into a batch.
    HandoffExport,
    /// `madoguchi incident scope --format csv`: the contact fields of every affected customer.
    IncidentNotifyList,
}

impl CommandRead {
    pub const ALL: [CommandRead; 2] = [CommandRead::HandoffExport, CommandRead::IncidentNotifyList];

    /// The name the profile and the audit log use.
    pub fn name(self) -> &'static str {
        match self {
            CommandRead::HandoffExport => "handoff-export",
            CommandRead::IncidentNotifyList => "incident-notify-list",
        }
    }

    fn parse(name: &str) -> Option<CommandRead> {
        CommandRead::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// `[detection]`: limits per actor, and where alerts go.
#[derive(Debug, Clone)]
pub struct Detection {
    pub(super) security_contact: Option<EmailAddress>,
    pub(super) customers_read_per_hour: u32,
    pub(super) off_hours_reveals_per_hour: u32,
    pub(super) exported_rows_per_day: u32,
    pub(super) failed_sign_ins_per_hour: u32,
    pub(super) business_hours: OpeningHours,
    pub(super) exempt_commands: Vec<CommandRead>,
}

impl Detection {
    /// The bank's security contact (CSIRT), who receives alerts by e-mail; `None`: alerts
    /// are only audited, logged and counted.
    pub fn security_contact(&self) -> Option<&EmailAddress> {
        self.security_contact.as_ref()
    }

    /// Distinct customers (applications and bookings) one member of staff may read within
    /// an hour.
    pub fn customers_read_per_hour(&self) -> u32 {
        self.customers_read_per_hour
    }

    /// Reveals (fields, documents) one member of staff may make outside business hours
    /// within an hour; 0: none at all.
    pub fn off_hours_reveals_per_hour(&self) -> u32 {
        self.off_hours_reveals_per_hour
    }

    /// Application rows one member of staff may export (CSV) within 24 hours.
    pub fn exported_rows_per_day(&self) -> u32 {
        self.exported_rows_per_day
    }

    /// Failed sign-ins from one client address within an hour, over all accounts (password
    /// spraying), before the address is refused.
    pub fn failed_sign_ins_per_hour(&self) -> u32 {
        self.failed_sign_ins_per_hour
    }

    /// The back office's working hours on business days, in JST.
    pub fn business_hours(&self) -> OpeningHours {
        self.business_hours
    }

    /// Whether the profile exempts `command`'s reads from the limits (they are audited as
    /// exempt); otherwise they count like a member of staff's and are refused past a limit.
    pub fn is_exempt(&self, command: CommandRead) -> bool {
        self.exempt_commands.contains(&command)
    }

    /// Whether `at` falls in business hours: a weekday on which banks open (not a public
    /// holiday nor the year-end closure), between the opening and the closing time (JST).
    pub fn is_business_hours(&self, at: OffsetDateTime, calendar: &HolidayCalendar) -> bool {
        let local = at.to_offset(JST);
        let weekend = matches!(local.weekday(), Weekday::Saturday | Weekday::Sunday);
        let time: Time = local.time();
        !weekend
            && !calendar.is_bank_closed_day(local.date())
            && time >= self.business_hours.opens
            && time < self.business_hours.closes
    }
}

pub(super) fn load(source: &Source<'_>, raw: &RawDetection) -> Result<Detection, ProfileError> {
    let security_contact = match &raw.security_contact {
        None => None,
        Some(value) => Some(EmailAddress::parse(value.get_ref()).map_err(|_| {
            source.error(value.span(), "detection.security_contact must be an e-mail address such as \"csirt@example.jp\", or be removed")
        })?),
    };
    let number = |value: &Option<Spanned<i64>>, key: &str, default, range| {
        source
            .number(value.as_ref(), key, default, range)
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
    };
    let business_hours = match &raw.business_hours {
        None => OpeningHours {
            opens: Time::from_hms(8, 0, 0).unwrap_or(Time::MIDNIGHT),
            closes: Time::from_hms(20, 0, 0).unwrap_or(Time::MIDNIGHT),
        },
        Some(value) => hours_span(value.get_ref()).filter(|h| h.closes > h.opens).ok_or_else(|| {
            source.error(value.span(), "detection.business_hours must be \"HH:MM-HH:MM\" (24-hour clock, JST, closing after opening), e.g. \"08:00-20:00\"")
        })?,
    };
    let exempt_commands = match &raw.exempt_commands {
        None => Vec::new(),
        Some(list) => list
            .get_ref()
            .iter()
            .map(|name| CommandRead::parse(name))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                source.error(list.span(), "detection.exempt_commands may list only \"handoff-export\" and \"incident-notify-list\"")
            })?,
    };
    Ok(Detection {
        exempt_commands,
        security_contact,
        customers_read_per_hour: number(
            &raw.customers_read_per_hour,
            "detection.customers_read_per_hour",
            60,
            1..=100_000,
        )?,
        off_hours_reveals_per_hour: number(
            &raw.off_hours_reveals_per_hour,
            "detection.off_hours_reveals_per_hour",
            10,
            0..=100_000,
        )?,
        exported_rows_per_day: number(
            &raw.exported_rows_per_day,
            "detection.exported_rows_per_day",
            500,
            1..=1_000_000,
        )?,
        failed_sign_ins_per_hour: number(
            &raw.failed_sign_ins_per_hour,
            "detection.failed_sign_ins_per_hour",
            20,
            1..=100_000,
        )?,
        business_hours,
    })
}
