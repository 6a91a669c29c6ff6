//! Back-office keys held in a PKCS#11 token (an HSM; SoftHSM2 in the tests).
//!
//! The private key is generated inside the token as sensitive and non-extractable, so it never
//! leaves it: the token computes the ECDH shared secret of a wrapped data key's ephemeral point,
//! and only that one-time secret comes out (see `madoguchi_seal::suite::p256_kek`). Tokens offer
//! ECDH on P-256, not X25519, which is why a token key is a P-256 key.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as Pkcs11Error, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::elliptic_curve::{EcKdf, Ecdh1DeriveParams};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use madoguchi_audit::{AuditVerifyingKey, CheckpointSigner, SignError};
use madoguchi_seal::{KeyId, P256PublicKey};
use zeroize::Zeroizing;

/// `CKA_LABEL` of every back-office key pair madoguchi creates in a token.
pub const OFFICE_KEY_LABEL: &str = "madoguchi-office";

/// `CKA_LABEL` of the audit signing key (Ed25519) in a token.
pub const AUDIT_KEY_LABEL: &str = "madoguchi-audit";

/// DER of the Ed25519 curve OID 1.3.101.112, as `CKA_EC_PARAMS` wants it.
const ED25519_EC_PARAMS: [u8; 5] = [0x06, 0x03, 0x2b, 0x65, 0x70];

/// DER of the named curve prime256v1 (OID 1.2.840.10045.3.1.7), as `CKA_EC_PARAMS` wants it.
const P256_EC_PARAMS: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// Where the token is and how to log in to it.
#[derive(Clone)]
pub struct TokenConfig {
    /// The PKCS#11 library (`/usr/lib/softhsm/libsofthsm2.so`, a vendor's HSM client).
    pub module: PathBuf,
    /// The token's label.
    pub token_label: String,
    /// The user PIN (read from a file; never from the command line).
    pub pin: AuthPin,
}

impl TokenConfig {
    /// Reads the PIN from `pin_file` (its first line; the file should be 0600).
    pub fn with_pin_file(
        module: PathBuf,
        token_label: String,
        pin_file: &Path,
    ) -> Result<Self, TokenError> {
        let text =
            Zeroizing::new(
                std::fs::read_to_string(pin_file).map_err(|e| TokenError::PinFile {
                    path: pin_file.to_path_buf(),
                    problem: e.to_string(),
                })?,
            );
        let pin = text.lines().next().unwrap_or_default().trim();
        if pin.is_empty() {
            return Err(TokenError::PinFile {
                path: pin_file.to_path_buf(),
                problem: "the file is empty".to_string(),
            });
        }
        Ok(TokenConfig {
            module,
            token_label,
            pin: AuthPin::from(pin.to_string()),
        })
    }
}

impl fmt::Debug for TokenConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenConfig")
            .field("module", &self.module)
            .field("token_label", &self.token_label)
            .finish_non_exhaustive()
    }
}

/// The token could not be reached or refused an operation. Never carries the PIN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The PIN file could not be read.
    #[error("cannot read the token PIN file {}: {problem}; write the user PIN on its first line (mode 0600)", .path.display())]
    PinFile { path: PathBuf, problem: String },
    /// The PKCS#11 library could not be loaded or initialised.
    #[error("cannot load the PKCS#11 module {}: {problem}; install it or fix --pkcs11-module", .module.display())]
    Module { module: PathBuf, problem: String },
    /// No slot holds a token with this label.
    #[error(
        "no PKCS#11 token is labelled `{0}`; initialise it (softhsm2-util --init-token) or fix --pkcs11-token"
    )]
    NoToken(String),
    /// The token refused the PIN.
    #[error("the token `{0}` refused the PIN; check --pkcs11-pin-file")]
    Login(String),
    /// The token failed an operation.
    #[error("the token failed to {what}: {problem}")]
    Operation { what: &'static str, problem: String },
    /// The token holds a key pair under madoguchi's label that is not a valid P-256 key.
    #[error("the token's key {0} is not a P-256 key pair madoguchi can use")]
    BadKey(String),
}

fn op(what: &'static str) -> impl FnOnce(Pkcs11Error) -> TokenError {
    move |e| TokenError::Operation {
        what,
        problem: e.to_string(),
    }
}

/// A logged-in session with the token. One session, used under a lock: the token serialises
/// its work anyway, and an ECDH derivation takes well under a millisecond.
pub struct Token {
    session: Mutex<Session>,
    label: String,
}

impl Token {
    /// Loads the module, finds the token by label and logs in as the user.
    pub fn open(config: &TokenConfig) -> Result<Arc<Self>, TokenError> {
        let module_error = |e: Pkcs11Error| TokenError::Module {
            module: config.module.clone(),
            problem: e.to_string(),
        };
        let pkcs11 = Pkcs11::new(&config.module).map_err(module_error)?;
        match pkcs11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) | Err(Pkcs11Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => return Err(module_error(e)),
        }
        let slots = pkcs11.get_slots_with_token().map_err(module_error)?;
        let slot = slots
            .into_iter()
            .find(|slot| {
                pkcs11
                    .get_token_info(*slot)
                    .is_ok_and(|info| info.label().trim_end() == config.token_label)
            })
            .ok_or_else(|| TokenError::NoToken(config.token_label.clone()))?;
        let session = pkcs11.open_rw_session(slot).map_err(op("open a session"))?;
        match session.login(UserType::User, Some(&config.pin)) {
            Ok(()) | Err(Pkcs11Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(_) => return Err(TokenError::Login(config.token_label.clone())),
        }
        Ok(Arc::new(Token {
            session: Mutex::new(session),
            label: config.token_label.clone(),
        }))
    }

    fn session(&self) -> std::sync::MutexGuard<'_, Session> {
        // A panic while holding the lock cannot leave the session half-changed: every use is
        // one PKCS#11 call. So a poisoned lock is still a usable session.
        self.session
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The back-office key pairs in the token.
    pub fn office_keys(self: &Arc<Self>) -> Result<Vec<TokenKey>, TokenError> {
        let session = self.session();
        let private = session
            .find_objects(&[
                Attribute::Class(ObjectClass::PRIVATE_KEY),
                Attribute::KeyType(KeyType::EC),
                Attribute::Label(OFFICE_KEY_LABEL.as_bytes().to_vec()),
            ])
            .map_err(op("list its keys"))?;
        let mut keys = Vec::with_capacity(private.len());
        for handle in private {
            let id = object_id(&session, handle)?;
            let public = public_point(&session, &id)?;
            let key_id = public.key_id();
            if key_id.as_bytes()[..] != id[..] {
                return Err(TokenError::BadKey(hex::encode(&id)));
            }
            keys.push(TokenKey {
                token: Arc::clone(self),
                handle,
                public,
            });
        }
        Ok(keys)
    }

    /// Generates a new back-office key pair inside the token: the private key sensitive,
    /// non-extractable and usable only for ECDH. Returns its public key.
    pub fn generate_office_key(&self) -> Result<P256PublicKey, TokenError> {
        let session = self.session();
        // A random temporary id, replaced by the key id once the public point is known.
        let mut temporary = [0u8; 16];
        getrandom::fill(&mut temporary).map_err(|e| TokenError::Operation {
            what: "generate a key id",
            problem: e.to_string(),
        })?;
        let id = Attribute::Id(temporary.to_vec());
        let (public_template, private_template) = key_pair_templates(
            OFFICE_KEY_LABEL,
            &P256_EC_PARAMS,
            &[Attribute::Derive(true), id.clone()],
            &[
                Attribute::Derive(true),
                Attribute::Sign(false),
                Attribute::Decrypt(false),
                Attribute::Unwrap(false),
                id,
            ],
        );
        let (public, private) = session
            .generate_key_pair(
                &Mechanism::EccKeyPairGen,
                &public_template,
                &private_template,
            )
            .map_err(op("generate a P-256 key pair"))?;
        let point = ec_point(&session, public)?;
        let key = P256PublicKey::from_sec1(&point)
            .map_err(|_| TokenError::BadKey(hex::encode(temporary)))?;
        let id = Attribute::Id(key.key_id().as_bytes().to_vec());
        session
            .update_attributes(public, std::slice::from_ref(&id))
            .map_err(op("label the new public key"))?;
        session
            .update_attributes(private, &[id])
            .map_err(op("label the new private key"))?;
        Ok(key)
    }

    /// Generates a new audit signing key pair (Ed25519) inside the token, sensitive and never
    /// extractable, and destroys the earlier ones (checkpoints they signed are verified with the
    /// verifying keys kept in the keys folder). Returns its verifying key.
    pub fn generate_audit_key(&self) -> Result<AuditVerifyingKey, TokenError> {
        let session = self.session();
        let earlier = session
            .find_objects(&[Attribute::Label(AUDIT_KEY_LABEL.as_bytes().to_vec())])
            .map_err(op("list the audit keys"))?;
        let (public_template, private_template) = key_pair_templates(
            AUDIT_KEY_LABEL,
            &ED25519_EC_PARAMS,
            &[Attribute::Verify(true)],
            &[Attribute::Sign(true), Attribute::Derive(false)],
        );
        let (public, _private) = session
            .generate_key_pair(
                &Mechanism::EccEdwardsKeyPairGen,
                &public_template,
                &private_template,
            )
            .map_err(op("generate an Ed25519 key pair"))?;
        let key = ed25519_public(&session, public)?;
        for object in earlier {
            session
                .destroy_object(object)
                .map_err(op("destroy an earlier audit key"))?;
        }
        Ok(key)
    }

    /// The audit signing key in the token, if there is one.
    pub fn audit_key(self: &Arc<Self>) -> Result<Option<TokenAuditKey>, TokenError> {
        let session = self.session();
        let label = Attribute::Label(AUDIT_KEY_LABEL.as_bytes().to_vec());
        let find = |class| {
            session
                .find_objects(&[Attribute::Class(class), label.clone()])
                .map_err(op("find the audit key"))
        };
        let (Some(private), Some(public)) = (
            find(ObjectClass::PRIVATE_KEY)?.into_iter().next(),
            find(ObjectClass::PUBLIC_KEY)?.into_iter().next(),
        ) else {
            return Ok(None);
        };
        let public = ed25519_public(&session, public)?;
        Ok(Some(TokenAuditKey {
            token: Arc::clone(self),
            handle: private,
            public,
        }))
    }

    /// Destroys a back-office key pair (retirement, once no record is wrapped to it).
    pub fn destroy_office_key(&self, key_id: KeyId) -> Result<bool, TokenError> {
        let session = self.session();
        let objects = session
            .find_objects(&[
                Attribute::Label(OFFICE_KEY_LABEL.as_bytes().to_vec()),
                Attribute::Id(key_id.as_bytes().to_vec()),
            ])
            .map_err(op("find the key to retire"))?;
        let found = !objects.is_empty();
        for object in objects {
            session
                .destroy_object(object)
                .map_err(op("destroy a retired key"))?;
        }
        Ok(found)
    }

    /// ECDH inside the token: the x-coordinate shared with `peer` (a SEC1 point).
    fn ecdh(&self, private: ObjectHandle, peer: &[u8]) -> Result<Zeroizing<Vec<u8>>, TokenError> {
        let session = self.session();
        let params = Ecdh1DeriveParams::new(EcKdf::null(), peer);
        // The derived secret is a session object (gone at logout) and is destroyed at once.
        let template = [
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::GENERIC_SECRET),
            Attribute::ValueLen(32.into()),
            Attribute::Token(false),
            Attribute::Sensitive(false),
            Attribute::Extractable(true),
        ];
        let derived = session
            .derive_key(&Mechanism::Ecdh1Derive(params), private, &template)
            .map_err(op("derive an ECDH secret"))?;
        let value = session.get_attributes(derived, &[AttributeType::Value]);
        let destroyed = session.destroy_object(derived);
        let value = value.map_err(op("read the ECDH secret"))?;
        destroyed.map_err(op("discard the ECDH secret"))?;
        value
            .into_iter()
            .find_map(|a| match a {
                Attribute::Value(v) => Some(Zeroizing::new(v)),
                _ => None,
            })
            .ok_or(TokenError::Operation {
                what: "read the ECDH secret",
                problem: "no value returned".to_string(),
            })
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token").field("label", &self.label).finish()
    }
}

/// The audit signing key in a token: it signs checkpoints with `CKM_EDDSA`; the private key
/// never leaves the token.
pub struct TokenAuditKey {
    token: Arc<Token>,
    handle: ObjectHandle,
    public: AuditVerifyingKey,
}

impl CheckpointSigner for TokenAuditKey {
    fn verifying_key(&self) -> AuditVerifyingKey {
        self.public.clone()
    }

    fn sign_message(&self, message: &[u8]) -> Result<[u8; 64], SignError> {
        let session = self.token.session();
        let mechanism = Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure));
        let signature = session
            .sign(&mechanism, self.handle, message)
            .map_err(|e| SignError(e.to_string()))?;
        signature
            .try_into()
            .map_err(|_| SignError("the token's signature is not 64 bytes".to_string()))
    }
}

impl fmt::Debug for TokenAuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenAuditKey({})", self.public.origin())
    }
}

/// The templates of a key pair generated in the token, labelled `label`, on curve `ec_params`:
/// both halves stored on the token; the private half private, sensitive and never extractable.
/// Each half may do only what `public_uses` / `private_uses` allow.
fn key_pair_templates(
    label: &str,
    ec_params: &[u8],
    public_uses: &[Attribute],
    private_uses: &[Attribute],
) -> (Vec<Attribute>, Vec<Attribute>) {
    let label = Attribute::Label(label.as_bytes().to_vec());
    let mut public = vec![
        Attribute::Token(true),
        Attribute::Private(false),
        Attribute::EcParams(ec_params.to_vec()),
        label.clone(),
    ];
    public.extend_from_slice(public_uses);
    let mut private = vec![
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        label,
    ];
    private.extend_from_slice(private_uses);
    (public, private)
}

/// `CKA_EC_POINT` of an Ed25519 public key: a DER OCTET STRING around its 32 bytes.
fn ed25519_public(
    session: &Session,
    handle: ObjectHandle,
) -> Result<AuditVerifyingKey, TokenError> {
    let der = session
        .get_attributes(handle, &[AttributeType::EcPoint])
        .map_err(op("read the audit key"))?
        .into_iter()
        .find_map(|a| match a {
            Attribute::EcPoint(p) => Some(p),
            _ => None,
        })
        .unwrap_or_default();
    let bytes: [u8; 32] = match der.as_slice() {
        [0x04, 0x20, point @ ..] => point.try_into().ok(),
        point => point.try_into().ok(),
    }
    .ok_or_else(|| TokenError::BadKey("(bad Ed25519 point)".to_string()))?;
    AuditVerifyingKey::from_bytes(&bytes)
        .map_err(|_| TokenError::BadKey("(bad Ed25519 point)".to_string()))
}

/// One back-office key pair in a token: its handle and public key.
#[derive(Clone)]
pub struct TokenKey {
    token: Arc<Token>,
    handle: ObjectHandle,
    public: P256PublicKey,
}

impl TokenKey {
    /// The public key (what `office.pub` names when this key is current).
    pub fn public_key(&self) -> &P256PublicKey {
        &self.public
    }

    /// The key's id.
    pub fn key_id(&self) -> KeyId {
        self.public.key_id()
    }

    /// How the token protects the private key (what `doctor` checks).
    pub fn protection(&self) -> Result<KeyProtection, TokenError> {
        let session = self.token.session();
        let attributes = session
            .get_attributes(
                self.handle,
                &[
                    AttributeType::Sensitive,
                    AttributeType::Extractable,
                    AttributeType::NeverExtractable,
                    AttributeType::Local,
                ],
            )
            .map_err(op("read a key's attributes"))?;
        let mut p = KeyProtection::default();
        for attribute in attributes {
            match attribute {
                Attribute::Sensitive(v) => p.sensitive = v,
                Attribute::Extractable(v) => p.extractable = v,
                Attribute::NeverExtractable(v) => p.never_extractable = v,
                Attribute::Local(v) => p.generated_in_token = v,
                _ => {}
            }
        }
        Ok(p)
    }

    /// The ECDH shared x-coordinate with `peer`, computed by the token.
    pub(crate) fn shared_secret(&self, peer: &[u8]) -> Result<Zeroizing<Vec<u8>>, TokenError> {
        self.token.ecdh(self.handle, peer)
    }
}

/// A token key's protection attributes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyProtection {
    /// `CKA_SENSITIVE`: the token never reveals its value in the clear.
    pub sensitive: bool,
    /// `CKA_EXTRACTABLE`: it may be wrapped out of the token.
    pub extractable: bool,
    /// `CKA_NEVER_EXTRACTABLE`: it never was extractable.
    pub never_extractable: bool,
    /// `CKA_LOCAL`: generated inside the token (not imported).
    pub generated_in_token: bool,
}

impl KeyProtection {
    /// Sensitive, not extractable now or ever, and made in the token.
    pub fn never_leaves(&self) -> bool {
        self.sensitive && !self.extractable && self.never_extractable && self.generated_in_token
    }
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenKey({})", self.public.key_id())
    }
}

fn object_id(session: &Session, handle: ObjectHandle) -> Result<Vec<u8>, TokenError> {
    session
        .get_attributes(handle, &[AttributeType::Id])
        .map_err(op("read a key's id"))?
        .into_iter()
        .find_map(|a| match a {
            Attribute::Id(id) => Some(id),
            _ => None,
        })
        .ok_or_else(|| TokenError::BadKey("(no id)".to_string()))
}

/// The public point of the public-key object with this id.
fn public_point(session: &Session, id: &[u8]) -> Result<P256PublicKey, TokenError> {
    let handle = session
        .find_objects(&[
            Attribute::Class(ObjectClass::PUBLIC_KEY),
            Attribute::Label(OFFICE_KEY_LABEL.as_bytes().to_vec()),
            Attribute::Id(id.to_vec()),
        ])
        .map_err(op("find a public key"))?
        .into_iter()
        .next()
        .ok_or_else(|| TokenError::BadKey(hex::encode(id)))?;
    let point = ec_point(session, handle)?;
    P256PublicKey::from_sec1(&point).map_err(|_| TokenError::BadKey(hex::encode(id)))
}

/// `CKA_EC_POINT` is a DER OCTET STRING around the 65-byte uncompressed point.
fn ec_point(session: &Session, handle: ObjectHandle) -> Result<Vec<u8>, TokenError> {
    let der = session
        .get_attributes(handle, &[AttributeType::EcPoint])
        .map_err(op("read a public point"))?
        .into_iter()
        .find_map(|a| match a {
            Attribute::EcPoint(p) => Some(p),
            _ => None,
        })
        .unwrap_or_default();
    match der.as_slice() {
        [0x04, 0x41, point @ ..] if point.len() == 65 => Ok(point.to_vec()),
        point if point.len() == 65 => Ok(point.to_vec()),
        _ => Err(TokenError::BadKey("(bad EC point)".to_string())),
    }
}
