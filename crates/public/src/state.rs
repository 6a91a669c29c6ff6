//! What every public handler can reach: the store, the bank profile and the write-only keys.

use std::sync::Arc;

use madoguchi_domain::profile::BankProfile;
use madoguchi_http::CookiePolicy;
use madoguchi_seal::{
    BlindIndexKey, CsrfKey, EnvelopeWriter, MailSealer, PublicKeySet, SecretSealer,
};
use madoguchi_store::Store;

use crate::limits::{RateLimitSettings, RateLimits};
use crate::messages::Catalog;
use crate::uploads::{IdentityDocuments, SharedDocuments};

/// The bank's name and support contact, shown on every page.
#[derive(Debug)]
pub struct Layout {
    pub bank_name: String,
    pub support_phone: String,
    pub support_hours: String,
}

/// The key material of the public site. Every key here can only seal or encrypt: nothing
/// reads back what the public site stored (the crate does not depend on `madoguchi-keyring`).
pub struct PublicCrypto {
    pub secrets: SecretSealer,
    pub envelopes: EnvelopeWriter,
    pub mail: MailSealer,
    pub blind_index: BlindIndexKey,
    pub csrf: CsrfKey,
}

impl PublicCrypto {
    pub fn new(keys: PublicKeySet) -> PublicCrypto {
        PublicCrypto {
            secrets: SecretSealer::new(keys.core_banking),
            envelopes: EnvelopeWriter::new(keys.office),
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
    pub layout: Arc<Layout>,
    pub crypto: Arc<PublicCrypto>,
    pub catalog: Arc<Catalog>,
    pub cookies: CookiePolicy,
    pub limits: Arc<RateLimits>,
    /// The site's address as customers reach it (`https://apply.bank.example`), for the
    /// links in e-mails.
    pub public_url: Arc<str>,
    /// The documents folder (write-only: files are encrypted to the back office).
    pub documents: SharedDocuments,
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
        let layout = Layout {
            bank_name: profile.bank().name_ja().to_owned(),
            support_phone: profile.support().phone().to_string(),
            support_hours: profile.support().hours_ja().to_owned(),
        };
        Ok(PublicState {
            store,
            profile,
            layout: Arc::new(layout),
            crypto: Arc::new(PublicCrypto::new(keys)),
            catalog: Arc::new(Catalog::japanese()?),
            cookies,
            limits: Arc::new(RateLimits::new(limits)),
            public_url: Arc::from(public_url.trim_end_matches('/')),
            documents: Arc::new(IdentityDocuments::new(documents)),
        })
    }
}
