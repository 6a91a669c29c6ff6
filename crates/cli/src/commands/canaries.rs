//! `madoguchi demo canaries`: plants canary records (SPEC §7) — applications and bookings
//! that look like any other (names, addresses, receipt numbers, sealed exactly as the public
//! site seals them) but that no legitimate work opens: applications completed months ago,
//! visits that took place weeks ago. Opening one in the back office raises a critical alert
//! and holds the member of staff at once.
//!
//! Their e-mail addresses go to the security contact's mailbox under a random sub-address
//! (`csirt+k3x9q@…`): mail sent to one from outside means the data left the bank.

use anyhow::Context;
use madoguchi_domain::ReceiptNumber;
use madoguchi_seal::{EncryptedFields, PublicKeySet};
use madoguchi_store::{CanaryBooking, NewApplication, Store};
use time::{Duration, OffsetDateTime, Time};
use uuid::Uuid;

use crate::app::connect_store;
use crate::cli::Cli;
use crate::data_dir::DataDir;

/// (姓, セイ, 名, メイ, sex).
const PEOPLE: [(&str, &str, &str, &str, &str); 12] = [
    ("佐藤", "サトウ", "美咲", "ミサキ", "female"),
    ("鈴木", "スズキ", "健太", "ケンタ", "male"),
    ("高橋", "タカハシ", "陽子", "ヨウコ", "female"),
    ("田中", "タナカ", "大輔", "ダイスケ", "male"),
    ("伊藤", "イトウ", "真由美", "マユミ", "female"),
    ("渡辺", "ワタナベ", "翔太", "ショウタ", "male"),
    ("山本", "ヤマモト", "恵", "メグミ", "female"),
    ("中村", "ナカムラ", "拓也", "タクヤ", "male"),
    ("小林", "コバヤシ", "由美", "ユミ", "female"),
    ("加藤", "カトウ", "浩二", "コウジ", "male"),
    ("比嘉", "ヒガ", "さくら", "サクラ", "female"),
    ("金城", "キンジョウ", "直樹", "ナオキ", "male"),
];

/// (郵便番号, 都道府県, 市区町村・番地).
const PLACES: [(&str, &str, &str); 6] = [
    ("900-0015", "沖縄県", "那覇市久茂地2丁目3番1号"),
    ("901-2131", "沖縄県", "浦添市牧港4丁目11番8号"),
    ("160-0022", "東京都", "新宿区新宿5丁目17番5号"),
    ("530-0001", "大阪府", "大阪市北区梅田1丁目8番16号"),
    ("812-0011", "福岡県", "福岡市博多区博多駅前3丁目2番1号"),
    ("904-2173", "沖縄県", "沖縄市比屋根6丁目2番3号"),
];

const PRODUCTS: [&str; 3] = ["savings-account", "internet-banking", "debit-card"];

/// `madoguchi demo canaries --applications N --bookings M`.
pub async fn plant(cli: &Cli, applications: usize, bookings: usize) -> anyhow::Result<()> {
    let profile = crate::demo::load_profile(cli.config.as_deref())?;
    let data = DataDir::open(&cli.data_dir)?;
    let keys = PublicKeySet::load(&data.keys()).context("cannot load the public keys")?;
    let store = connect_store(cli.database_url.as_deref(), &data).await?;
    let contact = profile
        .detection()
        .security_contact()
        .map(|e| e.as_str().to_owned());
    let result = async {
        let planter = Planter {
            store: &store,
            keys: &keys,
            contact: contact.as_deref(),
            now: OffsetDateTime::now_utc(),
        };
        let branches: Vec<String> = profile
            .branches()
            .iter()
            .map(|b| b.code().as_str().to_owned())
            .collect();
        for i in 0..applications {
            planter.application(i, &branches[i % branches.len()]).await?;
        }
        let centers: Vec<_> = profile.loan_centers().iter().map(|c| c.id()).collect();
        anyhow::ensure!(
            bookings == 0 || !centers.is_empty(),
            "the profile has no loan centre: plant bookings with --bookings 0"
        );
        for i in 0..bookings {
            planter.booking(i, centers[i % centers.len()]).await?;
        }
        let counts = store.canary_counts().await?;
        println!(
            "planted {applications} canary applications and {bookings} canary bookings; now planted: {}",
            counts
                .iter()
                .map(|(kind, n)| format!("{n} {kind}s"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        Ok(())
    }
    .await;
    store.close().await;
    result
}

struct Planter<'a> {
    store: &'a Store,
    keys: &'a PublicKeySet,
    contact: Option<&'a str>,
    now: OffsetDateTime,
}

impl Planter<'_> {
    async fn application(&self, i: usize, branch: &str) -> anyhow::Result<()> {
        let id = Uuid::now_v7();
        let person = PEOPLE[pick(PEOPLE.len())];
        let place = PLACES[pick(PLACES.len())];
        let email = self.email();
        let index = self.email_index(&email);
        let birth = format!(
            "{}-{:02}-{:02}",
            1955 + pick(45),
            1 + pick(12),
            1 + pick(28)
        );
        let phone = format!("090-{:04}-{:04}", pick(10_000), pick(10_000));
        let sealed = self.seal(
            &id,
            &[
                ("family_name", person.0),
                ("given_name", person.2),
                ("family_name_kana", person.1),
                ("given_name_kana", person.3),
                ("birth_date", &birth),
                ("sex", person.4),
                ("email", &email),
                ("phone_mobile", &phone),
                ("postal_code", place.0),
                ("prefecture", place.1),
                ("address_line", place.2),
                ("occupation", "company-employee"),
                ("purposes", "salary,savings"),
            ],
        )?;
        let receipt = ReceiptNumber::generate().context("no randomness for a receipt number")?;
        let submitted_at = self.now - Duration::days(30 + pick(300) as i64);
        let application = NewApplication {
            id,
            receipt_number: receipt.as_str().to_owned(),
            product: PRODUCTS[i % PRODUCTS.len()].to_owned(),
            branch_code: branch.to_owned(),
            email_index: index.index.as_bytes().to_vec(),
            email_index_key: index.key_id.to_string(),
            personal_fields: sealed.fields,
            data_key_id: sealed.key_id,
            wrapped_data_key: sealed.wrapped,
            secrets: Vec::new(),
            submitted_at,
        };
        self.store
            .plant_canary_application(&application, "completed", self.now)
            .await?;
        Ok(())
    }

    async fn booking(&self, i: usize, center: &str) -> anyhow::Result<()> {
        let id = Uuid::now_v7();
        let person = PEOPLE[pick(PEOPLE.len())];
        let email = self.email();
        let index = self.email_index(&email);
        let phone = format!("098-{:03}-{:04}", pick(1000), pick(10_000));
        let consultation = ["housing-loan", "refinancing", "car-loan"][i % 3];
        let sealed = self.seal(
            &id,
            &[
                ("consultation", consultation),
                ("family_name", person.0),
                ("given_name", person.2),
                ("family_name_kana", person.1),
                ("given_name_kana", person.3),
                ("phone", &phone),
                ("email", &email),
                ("existing_customer", "yes"),
            ],
        )?;
        // A weekday visit at 10:00 or 14:00 JST, one to eight weeks ago.
        let day = (self.now - Duration::days(7 + pick(49) as i64)).to_offset(madoguchi_domain::JST);
        let day = match day.weekday() {
            time::Weekday::Saturday => day - Duration::days(1),
            time::Weekday::Sunday => day - Duration::days(2),
            _ => day,
        };
        let hour = if i.is_multiple_of(2) { 10 } else { 14 };
        let starts_at = day.replace_time(Time::from_hms(hour, 0, 0).unwrap_or(Time::MIDNIGHT));
        let booking = CanaryBooking {
            id,
            center_id: center.to_owned(),
            starts_at,
            ends_at: starts_at + Duration::minutes(60),
            consultation: consultation.to_owned(),
            request_id: Uuid::new_v4().as_bytes().repeat(2),
            email_index: index.index.as_bytes().to_vec(),
            email_index_key: index.key_id.to_string(),
            personal_fields: sealed.fields,
            data_key_id: sealed.key_id,
            wrapped_data_key: sealed.wrapped,
            created_at: starts_at - Duration::days(3 + pick(20) as i64),
        };
        self.store.plant_canary_booking(&booking, self.now).await?;
        Ok(())
    }

    /// A sub-address of the security contact's mailbox, or an address of a reserved domain.
    fn email(&self) -> String {
        let tag: String = Uuid::new_v4().simple().to_string()[..6].to_owned();
        match self.contact.and_then(|c| c.split_once('@')) {
            Some((local, domain)) => format!("{local}+{tag}@{domain}"),
            None => format!("{tag}@example.jp"),
        }
    }

    /// The index a real record of this address would carry (the same normalization).
    fn email_index(&self, email: &str) -> madoguchi_seal::EmailIndex {
        self.keys
            .blind_index()
            .email_index(&email.to_ascii_lowercase())
    }

    fn seal(&self, id: &Uuid, fields: &[(&str, &str)]) -> anyhow::Result<Sealed> {
        let envelope = self.keys.envelope_writer().begin(id)?;
        let mut encrypted = EncryptedFields::new();
        for (name, value) in fields {
            envelope.encrypt_into(&mut encrypted, name, value.as_bytes())?;
        }
        Ok(Sealed {
            fields: encrypted.to_bytes(),
            key_id: envelope.wrapped_key().key_id().to_string(),
            wrapped: envelope.wrapped_key().as_bytes().to_vec(),
        })
    }
}

struct Sealed {
    fields: Vec<u8>,
    key_id: String,
    wrapped: Vec<u8>,
}

/// A number below `n` from the operating system's generator (through a v4 UUID).
fn pick(n: usize) -> usize {
    let bytes = Uuid::new_v4().into_bytes();
    let value = u64::from_le_bytes([
        bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[10], bytes[11],
    ]);
    usize::try_from(value % n.max(1) as u64).unwrap_or(0)
}
