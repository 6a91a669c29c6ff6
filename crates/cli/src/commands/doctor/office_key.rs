//! Where the back office's private key lives. A key file is one `cp` away from every
//! customer's data; in a PKCS#11 token (an HSM) the key cannot be copied, only used, and only
//! by a process that holds the token's PIN.

use madoguchi_keyring::rotation::previous_office_key_files;
use madoguchi_keyring::{Token, TokenConfig};
use madoguchi_seal::keyfile::OFFICE_KEY;

use super::Deployment;
use super::finding::{Check, Outcome, Severity};

pub const OFFICE_KEY_FILE: Check = Check {
    id: "MDG-KEY-03",
    severity: Severity::Medium,
    title: "The back office's private key is a file on this host, not in a hardware token",
    risk: "A copy of the host (backup, snapshot, stolen disk) with the key file opens every customer's data.",
    fix: "Move it into the HSM: `madoguchi keys rotate --pkcs11-module … --pkcs11-token … --pkcs11-pin-file …`, then `keys rewrap` and `keys retire` the old key; serve with the same --pkcs11 options.",
    reference: "ASVS 4.0.3 V6.4.1, V6.4.2; PCI DSS 4.0 3.6.1",
};

pub const TOKEN_KEY: Check = Check {
    id: "MDG-KEY-04",
    severity: Severity::High,
    title: "The back office's token cannot be used, or its key can leave it",
    risk: "The back office cannot open records, or the private key can be exported from the token after all.",
    fix: "Check --pkcs11-module, --pkcs11-token and --pkcs11-pin-file; generate the key inside the token with `madoguchi keys rotate` (sensitive, never extractable).",
    reference: "ASVS 4.0.3 V6.4.2; FIPS 140-3 key management",
};

pub const UNFINISHED_ROTATION: Check = Check {
    id: "MDG-KEY-05",
    severity: Severity::Low,
    title: "A key rotation is unfinished",
    risk: "An earlier back-office key still opens records, or an earlier blind-index key still links e-mail addresses to rows: whoever copied it keeps that power until the rewrap (re-index) and the retirement are done.",
    fix: "`madoguchi keys rewrap` or `madoguchi keys reindex` (the server also does both in the background), then `madoguchi keys retire KEY_ID` or `madoguchi keys retire blind-index`.",
    reference: "ASVS 4.0.3 V6.2.4; NIST SP 800-57 Part 1 §5.3",
};

/// Data keys still wrapped to keys other than the current one, earlier key files that wrap
/// nothing any more, and a blind-index key kept from a rotation. `counts`: data keys per key
/// id; `stale_indexes`: stored e-mail indexes not computed by the current blind-index key.
pub fn rotation(d: &Deployment, counts: &[(String, i64)], stale_indexes: u64) -> Outcome {
    let keys = d.data_dir.join("keys");
    let Ok(current) =
        madoguchi_seal::OfficePublicKey::load(&keys.join(madoguchi_seal::keyfile::OFFICE_PUB))
    else {
        return Outcome::pass(UNFINISHED_ROTATION);
    };
    let current = current.key_id().to_string();
    let mut findings: Vec<String> = counts
        .iter()
        .filter(|(id, n)| *id != current && *n > 0)
        .map(|(id, n)| format!("{n} data keys are still wrapped to the earlier key {id}"))
        .collect();
    for file in previous_office_key_files(&keys).unwrap_or_default() {
        let id = file
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("office."))
            .and_then(|n| n.strip_suffix(".key"))
            .unwrap_or_default()
            .to_owned();
        if !counts.iter().any(|(k, n)| *k == id && *n > 0) {
            findings.push(format!(
                "the earlier key {id} ({}) wraps no data key any more: retire it",
                file.display()
            ));
        }
    }
    if let Ok(Some(previous)) = madoguchi_keyring::blind_rotation::previous_blind_index_key(&keys) {
        findings.push(match stale_indexes {
            0 => format!(
                "the earlier blind-index key {previous} (blind-index.previous.key) is needed by \
                 no stored e-mail index any more: `madoguchi keys retire blind-index`"
            ),
            n => format!(
                "{n} stored e-mail indexes still need the earlier blind-index key {previous}: \
                 `madoguchi keys reindex`"
            ),
        });
    }
    Outcome::from_findings(UNFINISHED_ROTATION, findings)
}

/// Both checks; only for a process that serves the back office.
pub fn run(d: &Deployment) -> Vec<Outcome> {
    if !d.serves_office() {
        return Vec::new();
    }
    vec![key_file(d), token_key(d)]
}

fn key_file(d: &Deployment) -> Outcome {
    let keys = d.data_dir.join("keys");
    let mut findings = Vec::new();
    if d.pkcs11_module.is_none() {
        findings.push(format!(
            "{} holds the key (no --pkcs11-module)",
            keys.join(OFFICE_KEY).display()
        ));
    } else {
        let current = keys.join(OFFICE_KEY);
        let earlier = previous_office_key_files(&keys).unwrap_or_default();
        for file in std::iter::once(current).chain(earlier) {
            if file.exists() {
                findings.push(format!(
                    "{} is still on the host beside the token: rewrap, then retire it",
                    file.display()
                ));
            }
        }
    }
    Outcome::from_findings(OFFICE_KEY_FILE, findings)
}

fn token_key(d: &Deployment) -> Outcome {
    let Some(module) = &d.pkcs11_module else {
        return Outcome::pass(TOKEN_KEY);
    };
    let findings = match token_findings(d, module) {
        Ok(findings) => findings,
        Err(problem) => vec![problem],
    };
    Outcome::from_findings(TOKEN_KEY, findings)
}

fn token_findings(d: &Deployment, module: &std::path::Path) -> Result<Vec<String>, String> {
    let pin_file = d
        .pkcs11_pin_file
        .as_deref()
        .ok_or("--pkcs11-module is set without --pkcs11-pin-file")?;
    let config = TokenConfig::with_pin_file(module.to_path_buf(), d.pkcs11_token.clone(), pin_file)
        .map_err(|e| e.to_string())?;
    let token = Token::open(&config).map_err(|e| e.to_string())?;
    let keys = token.office_keys().map_err(|e| e.to_string())?;
    if keys.is_empty() {
        return Ok(vec![format!(
            "the token `{}` holds no back-office key",
            d.pkcs11_token
        )]);
    }
    let mut findings = Vec::new();
    for key in keys {
        let protection = key.protection().map_err(|e| e.to_string())?;
        if !protection.never_leaves() {
            findings.push(format!(
                "key {} in the token is {:?}: it must be sensitive, never extractable and generated in the token",
                key.key_id(),
                protection
            ));
        }
    }
    Ok(findings)
}
