//! Reads of personal data by commands on the server (`cli:…`, no member of staff): the hand-off
//! export and the incident's notification list. Either the profile exempts the command
//! (`[detection] exempt_commands`) — then each of its events says so (`exempt=profile` in the
//! detail), so the exemption is itself in the audit log — or its reads count against the same
//! limits as a member of staff's, in the same step as they are written, and a read past a
//! limit is refused (written as denied; nothing is decrypted; the command fails and says
//! which profile key would let it through).

use madoguchi_domain::BankProfile;
use madoguchi_domain::profile::CommandRead;
use madoguchi_store::{ActorTally, AuditEventRow, Store, StoreError, TallyWindows};
use time::OffsetDateTime;

use super::{
    DAY, HOUR, denied, is_export, over_export_limit, over_read_limits, reads_personal_data,
};

/// A command's read could not be recorded, or was refused.
#[derive(Debug, thiserror::Error)]
pub enum CommandReadError {
    #[error("the audit event could not be written, so nothing was decrypted: {0}")]
    Audit(#[from] StoreError),
    #[error(
        "{command} was refused by detection ({rule}: {count} where the profile allows {limit}); \
         nothing was decrypted. To let this command read in bulk, list \"{command}\" in \
         [detection] exempt_commands of the bank profile"
    )]
    Refused {
        command: &'static str,
        rule: &'static str,
        count: i64,
        limit: u32,
    },
}

/// Appends the events of one read by `command` — marked exempt, or screened — before the
/// caller decrypts anything.
pub async fn append_command_reads(
    store: &Store,
    profile: &BankProfile,
    command: CommandRead,
    rows: Vec<AuditEventRow>,
) -> Result<(), CommandReadError> {
    if profile.detection().is_exempt(command) {
        for row in rows {
            let detail = match row.detail {
                Some(detail) => format!("{detail} exempt=profile"),
                None => "exempt=profile".to_owned(),
            };
            store
                .insert_audit_event(&AuditEventRow {
                    detail: Some(detail),
                    ..row
                })
                .await?;
        }
        return Ok(());
    }
    let Some(actor) = rows.first().map(|r| r.actor.clone()) else {
        return Ok(());
    };
    let now = OffsetDateTime::now_utc();
    let windows = TallyWindows {
        actor,
        reads_since: now - HOUR,
        exports_since: now - DAY,
    };
    let reads = rows.iter().any(reads_personal_data);
    let exports = rows.iter().any(is_export);
    let judge = |tally: &ActorTally| {
        let rules = profile.detection();
        let breached = reads.then(|| over_read_limits(rules, profile.calendar(), now, tally));
        let exported = exports.then(|| over_export_limit(rules, tally));
        breached.flatten().or(exported.flatten())
    };
    match store
        .append_audit_screened(&rows, &windows, judge, denied)
        .await?
    {
        Ok(()) => Ok(()),
        Err(breach) => {
            tracing::warn!(
                command = command.name(),
                rule = breach.rule.name(),
                count = breach.count,
                limit = breach.limit,
                "detection refused a command's read of personal data"
            );
            Err(CommandReadError::Refused {
                command: command.name(),
                rule: breach.rule.name(),
                count: breach.count,
                limit: breach.limit,
            })
        }
    }
}
