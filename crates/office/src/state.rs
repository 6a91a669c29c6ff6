//! What every back-office handler can reach.

use std::net::IpAddr;
use std::sync::Arc;

use madoguchi_documents::DocumentStore;
use madoguchi_domain::BankProfile;
use madoguchi_http::CookiePolicy;
use madoguchi_keyring::OfficeKeyring;
use madoguchi_seal::PublicKeySet;
use madoguchi_store::Store;

/// Everything the back office is started with.
pub struct OfficeDeps {
    pub store: Store,
    pub profile: Arc<BankProfile>,
    /// The public keys (the office's own, the core-banking key for hand-off batches, the mail
    /// key for e-mails to applicants, the blind-index key).
    pub keys: PublicKeySet,
    /// The back office's private keys: they unwrap data keys, so reveals happen only here.
    pub keyring: Arc<OfficeKeyring>,
    pub documents: DocumentStore,
    pub cookies: CookiePolicy,
    /// Client addresses other than loopback that may reach the back office (none by default).
    pub allowed_clients: Vec<IpAddr>,
    /// The public site's address, for links in e-mails to applicants.
    pub public_url: String,
    /// Where hand-off batches are written (`<data-dir>/handoff`).
    pub handoff_dir: std::path::PathBuf,
    /// The hand-off signing key file (`<keys>/handoff-signing.key`), read when a batch is
    /// signed so that a server started before the key existed still serves everything else.
    pub handoff_signing_key: std::path::PathBuf,
    /// The back office as a WebAuthn relying party (its own origin); `None`: TOTP only.
    pub passkeys: Option<crate::passkeys::RelyingParty>,
}

/// Shared state of the back-office router; cheap to clone.
#[derive(Clone)]
pub struct OfficeState {
    pub(crate) inner: Arc<OfficeDeps>,
}

impl OfficeState {
    pub fn new(deps: OfficeDeps) -> Self {
        OfficeState {
            inner: Arc::new(deps),
        }
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn profile(&self) -> &BankProfile {
        &self.inner.profile
    }

    pub(crate) fn cookies(&self) -> CookiePolicy {
        self.inner.cookies
    }
}
