//! `madoguchi keys`: create the server's keys, and rotate the back office's key pair.

use std::path::Path;

use anyhow::Context as _;
use madoguchi_keyring::RotationError;
use madoguchi_keyring::blind_rotation::{
    previous_blind_index_key, reindex_wait, retire_blind_index_key, rotate_blind_index_key,
};
use madoguchi_keyring::rotation::{retire_office_key, rotate_audit_signing_key, rotate_office_key};
use madoguchi_keyring::{OfficeKeySource, Token, TokenConfig};
use madoguchi_office::key_rotation::{audit_key_event, rewrap_all};
use madoguchi_office::reindex::{ReindexPass, reindex_all};
use madoguchi_seal::keyfile::OFFICE_PUB;
use madoguchi_seal::{BlindIndexKeys, EnvelopeWriter, KeyId, OfficePublicKey, PublicKeySet};
use madoguchi_store::Store;

use crate::app::connect_store;
use crate::cli::{Cli, PrintFormat, RotatedKey};
use crate::data_dir::DataDir;

/// The audit actor of these commands.
const ACTOR: &str = "cli:keys";

/// `madoguchi keys init`.
pub fn init(cli: &Cli, core_private_key: Option<&Path>) -> anyhow::Result<()> {
    let data = DataDir::open(&cli.data_dir)?;
    let core_out = core_private_key
        .map(Path::to_path_buf)
        .unwrap_or_else(|| data.default_core_private_key());
    let report = madoguchi_keyring::init_keys(&data.keys(), data.root(), &core_out)?;
    println!("{report}");
    Ok(())
}

/// The public keys of the keys folder, with the core-banking key the profile names (if it
/// names one: rotating the core-banking key is a profile change that applies to new seals).
pub fn public_keys(
    data: &DataDir,
    profile: &madoguchi_domain::profile::BankProfile,
) -> anyhow::Result<PublicKeySet> {
    let mut keys = PublicKeySet::load(&data.keys())?;
    if let Some(line) = profile.core_banking_key() {
        let (role, key) = madoguchi_seal::PublicKey::parse_file_text(line).map_err(|e| {
            anyhow::anyhow!(
                "the profile's [core_banking] public_key is not a usable key ({e}): paste the \
                 core banking system's core-banking.pub line"
            )
        })?;
        anyhow::ensure!(
            role == madoguchi_seal::keyfile::KeyRole::CoreBanking,
            "the profile's [core_banking] public_key is a {role} key, not a core-banking key"
        );
        keys.core_banking = key;
    }
    Ok(keys)
}

/// The token named by `--pkcs11-module`, `--pkcs11-token` and `--pkcs11-pin-file`, if any.
pub fn token_config(cli: &Cli) -> anyhow::Result<Option<TokenConfig>> {
    let Some(module) = &cli.pkcs11_module else {
        return Ok(None);
    };
    let pin_file = cli.pkcs11_pin_file.as_deref().context(
        "--pkcs11-module needs --pkcs11-pin-file (a 0600 file holding the token's user PIN)",
    )?;
    Ok(Some(TokenConfig::with_pin_file(
        module.clone(),
        cli.pkcs11_token.clone(),
        pin_file,
    )?))
}

/// Where the back office's keys are, from the data folder and the token options.
pub fn office_key_source(cli: &Cli, data: &DataDir) -> anyhow::Result<OfficeKeySource> {
    Ok(OfficeKeySource {
        keys_dir: data.keys(),
        token: token_config(cli)?,
    })
}

async fn open(cli: &Cli) -> anyhow::Result<(DataDir, Store)> {
    let data = DataDir::open(&cli.data_dir)?;
    let store = connect_store(cli.database_url.as_deref(), &data).await?;
    Ok((data, store))
}

/// `madoguchi keys rotate [office|audit-signing]`.
pub async fn rotate(cli: &Cli, key: RotatedKey) -> anyhow::Result<()> {
    match key {
        RotatedKey::Office => rotate_office(cli).await,
        RotatedKey::AuditSigning => rotate_audit_signing(cli).await,
        RotatedKey::BlindIndex => rotate_blind_index(cli).await,
    }
}

async fn rotate_blind_index(cli: &Cli) -> anyhow::Result<()> {
    let (data, store) = open(cli).await?;
    let rotated = rotate_blind_index_key(&data.keys())?;
    audit_key_event(
        &store,
        ACTOR,
        "keys.rotate",
        rotated.current,
        format!("blind-index previous={}", rotated.previous),
    )
    .await?;
    println!(
        "blind-index key {} is current; {} stays as blind-index.previous.key, so look-ups find \
         rows not yet re-indexed",
        rotated.current, rotated.previous
    );
    println!(
        "running servers pick the new key up within a minute and re-index stored rows; \
         `madoguchi keys reindex` does it now; then `madoguchi keys retire blind-index`"
    );
    Ok(())
}

/// `madoguchi keys reindex`.
pub async fn reindex(cli: &Cli) -> anyhow::Result<()> {
    let (data, store) = open(cli).await?;
    let (keys, pass) = reindex_pass(cli, &data, &store).await?;
    let current = keys.current_key_id();
    let stale = store.stale_email_indexes(&current.to_string()).await?;
    println!(
        "{} e-mail indexes moved to blind-index key {current}; {} could not be opened; {stale} \
         stored indexes are not computed by it",
        pass.moved, pass.unreadable
    );
    Ok(())
}

/// One re-index pass with the keys as the files hold them now, audited.
async fn reindex_pass(
    cli: &Cli,
    data: &DataDir,
    store: &Store,
) -> anyhow::Result<(BlindIndexKeys, ReindexPass)> {
    let keyring = office_key_source(cli, data)?
        .load()
        .context("cannot load the back office's keys (the re-index opens e-mail fields)")?;
    if let Some(wait) = reindex_wait(&data.keys())? {
        println!(
            "waiting {} s for running processes to pick up the new blind-index key",
            wait.as_secs() + 1
        );
        tokio::time::sleep(wait).await;
    }
    let keys = BlindIndexKeys::load(&data.keys())?;
    let pass = reindex_all(store, &keyring, &keys).await?;
    audit_key_event(
        store,
        ACTOR,
        "keys.reindex",
        keys.current_key_id(),
        pass.detail(),
    )
    .await?;
    Ok((keys, pass))
}

/// `madoguchi keys retire blind-index`: a last re-index, then the previous key goes.
async fn retire_blind_index(cli: &Cli) -> anyhow::Result<()> {
    let (data, store) = open(cli).await?;
    if previous_blind_index_key(&data.keys())?.is_none() {
        return Err(RotationError::NoBlindIndexRotation.into());
    }
    let (keys, _) = reindex_pass(cli, &data, &store).await?;
    let stale = store
        .stale_email_indexes(&keys.current_key_id().to_string())
        .await?;
    let retired = retire_blind_index_key(&data.keys(), stale)?;
    audit_key_event(
        &store,
        ACTOR,
        "keys.retire",
        retired,
        "blind-index".to_owned(),
    )
    .await?;
    println!("blind-index key {retired} retired (blind-index.previous.key deleted)");
    Ok(())
}

async fn rotate_audit_signing(cli: &Cli) -> anyhow::Result<()> {
    let (data, store) = open(cli).await?;
    let token = token_config(cli)?
        .map(|config| Token::open(&config))
        .transpose()?;
    let rotated = rotate_audit_signing_key(&data.keys(), token.as_ref())?;
    store
        .insert_audit_event(&madoguchi_store::AuditEventRow {
            id: uuid::Uuid::now_v7(),
            at: time::OffsetDateTime::now_utc(),
            actor: ACTOR.to_owned(),
            actor_address: None,
            session: None,
            action: "keys.rotate".to_owned(),
            subject_kind: Some("audit-signing-key".to_owned()),
            subject_id: Some(rotated.current_origin.clone()),
            fields: String::new(),
            purpose: None,
            detail: Some(format!("previous={}", rotated.previous_origin)),
            outcome: "ok".to_owned(),
        })
        .await?;
    println!(
        "audit checkpoints are now signed as {} (was {}); give the bank's checkpoint \
         verifiers the new keys/audit-signing.pub; the earlier one stays beside it",
        rotated.current_origin, rotated.previous_origin
    );
    Ok(())
}

async fn rotate_office(cli: &Cli) -> anyhow::Result<()> {
    let (data, store) = open(cli).await?;
    let token = token_config(cli)?
        .map(|config| Token::open(&config))
        .transpose()?;
    let rotated = rotate_office_key(&data.keys(), token.as_ref())?;
    let place = if rotated.in_token { "token" } else { "file" };
    audit_key_event(
        &store,
        ACTOR,
        "keys.rotate",
        rotated.current,
        format!("previous={} in={place}", rotated.previous),
    )
    .await?;
    println!(
        "back-office key {} is current ({place}); {} stays until `madoguchi keys retire {}`",
        rotated.current, rotated.previous, rotated.previous
    );
    println!(
        "running servers pick the new key up within a minute and move old records to it; \
         `madoguchi keys rewrap` does it now"
    );
    Ok(())
}

/// `madoguchi keys rewrap`.
pub async fn rewrap(cli: &Cli) -> anyhow::Result<()> {
    let (data, store) = open(cli).await?;
    let keyring = office_key_source(cli, &data)?
        .load()
        .context("cannot load the back office's keys")?;
    let writer = EnvelopeWriter::following(&data.keys().join(OFFICE_PUB))?;
    let pass = rewrap_all(&store, &keyring, &writer).await?;
    let detail = format!(
        "moved={} unreadable={} unknown_key={}",
        pass.moved, pass.unreadable, pass.unknown_key
    );
    audit_key_event(&store, ACTOR, "keys.rewrap", writer.key_id(), detail).await?;
    println!(
        "{} data keys moved to {}; {} could not be opened; {} are wrapped to keys not held",
        pass.moved,
        writer.key_id(),
        pass.unreadable,
        pass.unknown_key
    );
    Ok(())
}

/// `madoguchi keys retire KEY_ID`.
pub async fn retire(cli: &Cli, key_id: &str) -> anyhow::Result<()> {
    let data = DataDir::open(&cli.data_dir)?;
    let blind_previous = previous_blind_index_key(&data.keys())?.map(|id| id.to_string());
    if key_id == "blind-index" || blind_previous.as_deref() == Some(key_id) {
        return retire_blind_index(cli).await;
    }
    let id: KeyId = key_id
        .parse()
        .with_context(|| format!("{key_id:?} is not a key id (16 hexadecimal characters)"))?;
    let (data, store) = open(cli).await?;
    let in_use = store
        .data_key_counts()
        .await?
        .into_iter()
        .find(|(k, _)| *k == id.to_string())
        .map_or(0, |(_, n)| u64::try_from(n).unwrap_or(u64::MAX));
    let token = token_config(cli)?
        .map(|config| Token::open(&config))
        .transpose()?;
    let place = retire_office_key(&data.keys(), id, in_use, token.as_ref())?;
    audit_key_event(&store, ACTOR, "keys.retire", id, format!("from={place}")).await?;
    println!("back-office key {id} retired (deleted from {place})");
    Ok(())
}

/// `madoguchi keys status`.
pub async fn status(cli: &Cli, format: PrintFormat) -> anyhow::Result<()> {
    let (data, store) = open(cli).await?;
    let current = OfficePublicKey::load(&data.keys().join(OFFICE_PUB))?;
    let source = office_key_source(cli, &data)?;
    let token = source.token.as_ref().map(Token::open).transpose()?;
    let keyring = source.load_with(token.as_ref())?;
    let token_ids: Vec<KeyId> = match &token {
        Some(token) => token.office_keys()?.iter().map(|k| k.key_id()).collect(),
        None => Vec::new(),
    };
    let counts = store.data_key_counts().await?;
    let mut ids = keyring.key_ids();
    for (k, _) in &counts {
        if let Ok(id) = k.parse::<KeyId>()
            && !ids.contains(&id)
        {
            ids.push(id);
        }
    }
    let rows: Vec<serde_json::Value> = ids
        .iter()
        .map(|id| {
            let wrapped = counts
                .iter()
                .find(|(k, _)| *k == id.to_string())
                .map_or(0, |(_, n)| *n);
            let place = match (token_ids.contains(id), keyring.holds(*id)) {
                (true, _) => "token",
                (false, true) => "file",
                (false, false) => "missing",
            };
            serde_json::json!({
                "key_id": id.to_string(),
                "current": *id == current.key_id(),
                "held_in": place,
                "data_keys": wrapped,
            })
        })
        .collect();
    let blind = blind_index_rows(&data, &store).await?;
    match format {
        PrintFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "office": rows,
                "blind_index": blind,
            }))?
        ),
        PrintFormat::Text => {
            for row in &rows {
                println!(
                    "office      {} {:7} {:8} {} data keys",
                    row["key_id"].as_str().unwrap_or_default(),
                    current_or_earlier(row),
                    row["held_in"].as_str().unwrap_or_default(),
                    row["data_keys"]
                );
            }
            for row in &blind {
                println!(
                    "blind-index {} {:7} {:8} {} stored e-mail indexes",
                    row["key_id"].as_str().unwrap_or_default(),
                    current_or_earlier(row),
                    row["held_in"].as_str().unwrap_or_default(),
                    row["email_indexes"]
                );
            }
        }
    }
    Ok(())
}

fn current_or_earlier(row: &serde_json::Value) -> &'static str {
    match row["current"] == true {
        true => "current",
        false => "earlier",
    }
}

/// The blind-index keys held and how many stored e-mail indexes each computed; indexes of a key
/// no longer held (or written before key ids were kept) are listed as `unknown`.
async fn blind_index_rows(data: &DataDir, store: &Store) -> anyhow::Result<Vec<serde_json::Value>> {
    let keys = BlindIndexKeys::load(&data.keys())?;
    let current = keys.current_key_id().to_string();
    let previous = keys.previous_key_id().map(|id| id.to_string());
    let mut counts: Vec<(String, i64)> = Vec::new();
    for (_, key, n) in store.email_index_key_counts().await? {
        let key = key.unwrap_or_else(|| "unknown".to_owned());
        match counts.iter_mut().find(|(k, _)| *k == key) {
            Some((_, total)) => *total += n,
            None => counts.push((key, n)),
        }
    }
    let count_of = |key: &str| counts.iter().find(|(k, _)| k == key).map_or(0, |(_, n)| *n);
    let mut rows = vec![serde_json::json!({
        "key_id": current,
        "current": true,
        "held_in": "file",
        "email_indexes": count_of(&current),
    })];
    if let Some(previous) = &previous {
        rows.push(serde_json::json!({
            "key_id": previous,
            "current": false,
            "held_in": "file",
            "email_indexes": count_of(previous),
        }));
    }
    for (key, n) in &counts {
        if *key != current && Some(key) != previous.as_ref() {
            rows.push(serde_json::json!({
                "key_id": key,
                "current": false,
                "held_in": "missing",
                "email_indexes": n,
            }));
        }
    }
    Ok(rows)
}
