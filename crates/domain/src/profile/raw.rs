//! The profile file as written, before validation. Values that are checked keep their
//! position (`Spanned`) so a refusal can name the line.

use serde::Deserialize;
use toml::Spanned;
use toml::value::Datetime;

type Text = Spanned<String>;
type Number = Spanned<i64>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProfile {
    pub bank: RawBank,
    #[serde(default)]
    pub branches: Vec<RawBranch>,
    #[serde(default)]
    pub loan_centers: Vec<RawLoanCenter>,
    pub support: RawSupport,
    pub products: RawProducts,
    #[serde(default)]
    pub applications: RawApplications,
    #[serde(default)]
    pub reservations: RawReservations,
    #[serde(default)]
    pub retention: RawRetention,
    #[serde(default)]
    pub holidays: RawHolidays,
    #[serde(default)]
    pub detection: RawDetection,
    #[serde(default)]
    pub core_banking: RawCoreBanking,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCoreBanking {
    pub public_key: Option<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBank {
    pub name_ja: Text,
    pub name_en: Text,
    pub name_kana: Text,
    pub finance_code: Text,
    pub swift_code: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBranch {
    pub code: Text,
    pub name: Text,
    pub name_en: Option<Text>,
    pub kana: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLoanCenter {
    pub id: Text,
    pub name: Text,
    pub name_en: Option<Text>,
    pub address: Text,
    pub address_en: Option<Text>,
    pub slot_minutes: Number,
    pub consultants_per_slot: Number,
    #[serde(default)]
    pub closed_days: Vec<Spanned<Datetime>>,
    pub hours: Spanned<RawHours>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHours {
    pub mon: Option<Text>,
    pub tue: Option<Text>,
    pub wed: Option<Text>,
    pub thu: Option<Text>,
    pub fri: Option<Text>,
    pub sat: Option<Text>,
    pub sun: Option<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSupport {
    pub phone: Text,
    pub hours_ja: Text,
    pub hours_en: Text,
    pub email: Option<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProducts {
    pub savings_account: bool,
    pub internet_banking: bool,
    pub debit_card: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApplications {
    pub savings_min_age: Option<Number>,
    pub max_age: Option<Number>,
    pub debit_card_min_age: Option<Number>,
    pub email_code_ttl_minutes: Option<Number>,
    pub email_code_max_tries: Option<Number>,
    pub email_codes_per_address_per_hour: Option<Number>,
    pub draft_ttl_hours: Option<Number>,
    pub identity_image_method_until: Option<Spanned<Datetime>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReservations {
    pub earliest_days_ahead: Option<Number>,
    pub latest_days_ahead: Option<Number>,
    pub change_cutoff_hours: Option<Number>,
    pub max_future_bookings_per_email: Option<Number>,
    pub retention_days: Option<Number>,
    pub reminder_hour: Option<Number>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRetention {
    pub completed_days: Option<Number>,
    pub rejected_days: Option<Number>,
    pub documents_days_after_decision: Option<Number>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHolidays {
    #[serde(default)]
    pub add: Vec<RawAddedHoliday>,
    #[serde(default)]
    pub remove: Vec<Spanned<Datetime>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAddedHoliday {
    pub date: Spanned<Datetime>,
    pub name: Text,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDetection {
    pub security_contact: Option<Text>,
    pub customers_read_per_hour: Option<Number>,
    pub off_hours_reveals_per_hour: Option<Number>,
    pub exported_rows_per_day: Option<Number>,
    pub failed_sign_ins_per_hour: Option<Number>,
    pub business_hours: Option<Text>,
    pub exempt_commands: Option<Spanned<Vec<String>>>,
}
