//! The public process's entire key material, loaded from the server's keys folder.

use std::path::{Path, PathBuf};

use crate::blind_keys::BlindIndexKeys;
use crate::csrf::CsrfKey;
use crate::envelope::EnvelopeWriter;
use crate::keyfile::{CORE_BANKING_PUB, CSRF_KEY, KeyFileError, KeyRole, MAIL_PUB, OFFICE_PUB};
use crate::mail::MailSealer;
use crate::office_key::OfficePublicKey;
use crate::public_key::PublicKey;
use crate::secret::SecretSealer;

/// Public keys (core-banking, office, mail) and the two HMAC keys (blind index, CSRF).
///
/// Holds no private key: with it one can seal and encrypt, never read back.
/// Fields are public so a caller can move the keys into its own state.
#[derive(Debug)]
pub struct PublicKeySet {
    /// `core-banking.pub`: secrets are sealed to it.
    pub core_banking: PublicKey,
    /// `office.pub`: record data keys are wrapped to it (X25519, or P-256 in a token).
    pub office: OfficePublicKey,
    /// `mail.pub`: outbox messages are sealed to it.
    pub mail: PublicKey,
    /// `blind-index.key` (and `blind-index.previous.key` during a rotation), followed.
    pub blind_index: BlindIndexKeys,
    /// `csrf.key`.
    pub csrf: CsrfKey,
    /// The `office.pub` the set was loaded from, which envelope writers follow.
    office_pub: Option<PathBuf>,
}

impl PublicKeySet {
    /// Loads `core-banking.pub`, `office.pub`, `mail.pub`, `blind-index.key` and `csrf.key` from
    /// `keys_dir`. Errors name the missing or broken file and the fix.
    pub fn load(keys_dir: &Path) -> Result<Self, KeyFileError> {
        Ok(PublicKeySet {
            core_banking: PublicKey::load_expecting(
                &keys_dir.join(CORE_BANKING_PUB),
                KeyRole::CoreBanking,
            )?,
            office: OfficePublicKey::load(&keys_dir.join(OFFICE_PUB))?,
            mail: PublicKey::load_expecting(&keys_dir.join(MAIL_PUB), KeyRole::Mail)?,
            blind_index: BlindIndexKeys::following(keys_dir)?,
            csrf: CsrfKey::load(&keys_dir.join(CSRF_KEY))?,
            office_pub: Some(keys_dir.join(OFFICE_PUB)),
        })
    }

    /// Assembles a set from keys already in memory.
    pub fn new(
        core_banking: PublicKey,
        office: impl Into<OfficePublicKey>,
        mail: PublicKey,
        blind_index: BlindIndexKeys,
        csrf: CsrfKey,
    ) -> Self {
        PublicKeySet {
            core_banking,
            office: office.into(),
            mail,
            blind_index,
            csrf,
            office_pub: None,
        }
    }

    /// The core-banking public key.
    pub fn core_banking(&self) -> &PublicKey {
        &self.core_banking
    }

    /// The back-office public key.
    pub fn office(&self) -> &OfficePublicKey {
        &self.office
    }

    /// The mail worker's public key.
    pub fn mail(&self) -> &PublicKey {
        &self.mail
    }

    /// The blind-index keys.
    pub fn blind_index(&self) -> &BlindIndexKeys {
        &self.blind_index
    }

    /// The CSRF key.
    pub fn csrf(&self) -> &CsrfKey {
        &self.csrf
    }

    /// A sealer of secrets to the core-banking key.
    pub fn secret_sealer(&self) -> SecretSealer {
        SecretSealer::new(self.core_banking.clone())
    }

    /// A writer of records for the back office. Loaded from a folder, it follows `office.pub`
    /// (a rotated key is picked up without a restart).
    pub fn envelope_writer(&self) -> EnvelopeWriter {
        self.office_pub
            .as_deref()
            .and_then(|path| EnvelopeWriter::following(path).ok())
            .unwrap_or_else(|| EnvelopeWriter::new(self.office.clone()))
    }

    /// A sealer of outbox messages to the mail worker.
    pub fn mail_sealer(&self) -> MailSealer {
        MailSealer::new(self.mail.clone())
    }
}
