//! What every public handler can reach: the store, the bank profile and the write-only keys.

use std::sync::Arc;

use madoguchi_domain::profile::{BankProfile, Branch, LoanCenter};
use madoguchi_http::CookiePolicy;
use madoguchi_seal::{
    BlindIndexKeys, CsrfKey, EnvelopeWriter, MailSealer, PublicKeySet, SecretSealer,
};
use madoguchi_store::Store;

use crate::language;
use crate::limits::{RateLimitSettings, RateLimits};
use crate::messages::{Catalog, Catalogs, Lang};
use crate::uploads::{IdentityDocuments, SharedDocuments};

/// What every page shows around its content, in the page's language: the bank's name, the
/// support contact, the language switch, and the catalogue the page's texts come from.
#[derive(Debug)]
pub struct Layout {
    pub lang: Lang,
    pub bank_name: String,
    pub support_phone: String,
    pub support_hours: String,
    /// The switch to the other language, coming back to this page.
    pub switch_href: String,
    pub catalog: Arc<Catalogs>,
}

impl Layout {
    fn catalog(&self) -> &Catalog {
        self.catalog.get(self.lang)
    }

    /// A text of the page (`[pages]` of the catalogue).
    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.catalog().t(key)
    }

    /// A text of the page with placeholders: `layout.tr("key").arg("name", value)`.
    pub fn tr<'a>(&'a self, key: &'a str) -> crate::messages::Text<'a> {
        self.catalog().tr(key)
    }

    /// The label of a choice (`[choices]`), e.g. a product's name.
    pub fn choice<'a>(&'a self, field: &str, value: &'a str) -> &'a str {
        self.catalog().choice(field, value)
    }

    /// The label of a form field (`[fields]`).
    pub fn label<'a>(&'a self, field: &'a str) -> &'a str {
        self.catalog().label(field)
    }

    /// The language the switch offers.
    pub fn other_lang(&self) -> &'static str {
        self.lang.other().code()
    }
}

/// The key material of the public site. Every key here can only seal or encrypt: nothing
/// reads back what the public site stored (the crate does not depend on `madoguchi-keyring`).
pub struct PublicCrypto {
    pub secrets: SecretSealer,
    pub envelopes: EnvelopeWriter,
    pub mail: MailSealer,
    pub blind_index: BlindIndexKeys,
    pub csrf: CsrfKey,
}

impl PublicCrypto {
    /// Loaded from a keys folder, the envelope writer and the blind-index keys follow their
    /// files: a rotated key applies without a restart.
    pub fn new(keys: PublicKeySet) -> PublicCrypto {
        let envelopes = keys.envelope_writer();
        PublicCrypto {
            secrets: SecretSealer::new(keys.core_banking),
            envelopes,
            mail: MailSealer::new(keys.mail),
            blind_index: keys.blind_index,
            csrf: keys.csrf,
        }
    }
}

#[derive(Clone)]
pub struct PublicState {
    pub store: Store,
    pub profile: Arc<BankProfile>,
    pub crypto: Arc<PublicCrypto>,
    /// Both catalogues; [`PublicState::catalog`] gives the request's.
    pub catalogs: Arc<Catalogs>,
    pub cookies: CookiePolicy,
    pub limits: Arc<RateLimits>,
    /// The site's address as customers reach it (`https://apply.bank.example`), for the
    /// links in e-mails.
    pub public_url: Arc<str>,
    /// The documents folder (write-only: files are encrypted to the back office).
    pub documents: SharedDocuments,
    /// The services the bank has stopped (kept fresh by [`crate::suspension::watch`]).
    pub suspensions: crate::suspension::Suspensions,
}

impl PublicState {
    pub fn new(
        store: Store,
        profile: Arc<BankProfile>,
        keys: PublicKeySet,
        cookies: CookiePolicy,
        limits: RateLimitSettings,
        public_url: &str,
        documents: madoguchi_documents::DocumentStore,
    ) -> Result<PublicState, toml::de::Error> {
        Ok(PublicState {
            store,
            profile,
            crypto: Arc::new(PublicCrypto::new(keys)),
            catalogs: Arc::new(Catalogs::load()?),
            cookies,
            limits: Arc::new(RateLimits::new(limits)),
            public_url: Arc::from(public_url.trim_end_matches('/')),
            documents: Arc::new(IdentityDocuments::new(documents)),
            suspensions: crate::suspension::Suspensions::default(),
        })
    }
}

impl PublicState {
    /// The language of the request being answered.
    pub fn lang(&self) -> Lang {
        language::current()
    }

    /// A loan centre's name in the request's language (the Japanese when it has no English).
    pub fn center_name<'a>(&self, center: &'a LoanCenter) -> &'a str {
        match self.lang() {
            Lang::Ja => center.name(),
            Lang::En => center.name_en(),
        }
    }

    /// A loan centre's address in the request's language.
    pub fn center_address<'a>(&self, center: &'a LoanCenter) -> &'a str {
        match self.lang() {
            Lang::Ja => center.address(),
            Lang::En => center.address_en(),
        }
    }

    /// A branch's name in the request's language.
    pub fn branch_name<'a>(&self, branch: &'a Branch) -> &'a str {
        match self.lang() {
            Lang::Ja => branch.name(),
            Lang::En => branch.name_en(),
        }
    }

    /// The catalogue of the request's language.
    pub fn catalog(&self) -> &Catalog {
        self.catalogs.get(self.lang())
    }

    /// The page frame in the request's language.
    pub fn layout(&self) -> Arc<Layout> {
        let lang = self.lang();
        let bank = self.profile.bank();
        let support = self.profile.support();
        let (bank_name, support_hours) = match lang {
            Lang::Ja => (bank.name_ja(), support.hours_ja()),
            Lang::En => (bank.name_en(), support.hours_en()),
        };
        Arc::new(Layout {
            lang,
            bank_name: bank_name.to_owned(),
            support_phone: support.phone().to_string(),
            support_hours: support_hours.to_owned(),
            switch_href: language::switch_href(lang.other(), &language::here()),
            catalog: self.catalogs.clone(),
        })
    }
}
