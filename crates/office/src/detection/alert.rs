//! What a breach sets off: the hold on the member of staff, then the alert — an audit event
//! by `system:detection`, an e-mail to the security contact through the outbox, a metric
//! and a log line. The alert names staff, addresses, rules and counts, never a customer's
//! data, and says which command scopes the damage.

use madoguchi_domain::OutgoingMail;
use time::OffsetDateTime;

use super::{Breach, Rule};
use crate::OfficeState;
use crate::audit::{self, Event};
use crate::error::OfficeError;
use crate::session::StaffSession;

/// Answers `breach` by `staff`: holds them and raises the alert (once: the request that
/// placed the hold raises it). Returns the error the
/// request ends with (the member of staff sees that the account is held; nothing is shown).
pub(crate) async fn respond(
    state: &OfficeState,
    staff: &StaffSession,
    address: Option<String>,
    breach: Breach,
) -> OfficeError {
    let now = OffsetDateTime::now_utc();
    let held = state
        .store()
        .hold_staff(staff.staff_id, breach.rule.name(), now)
        .await;
    match held {
        Err(e) => return OfficeError::Store(e),
        // Held already, by a request that ran beside this one: its alert is raised.
        Ok(false) => return OfficeError::Held,
        Ok(true) => {}
    }
    let who = Culprit::Staff {
        id: staff.staff_id.to_string(),
        username: staff.username.clone(),
        session: staff.audit_id.clone(),
    };
    match raise(state, &breach, &who, address.as_deref(), now).await {
        Ok(()) => OfficeError::Held,
        Err(e) => e,
    }
}

/// Who broke the rule.
pub(crate) enum Culprit {
    Staff {
        id: String,
        username: String,
        session: String,
    },
    /// A client address (failed sign-ins over all accounts).
    Address,
}

/// The alert: audit event first, then the e-mail, the metric and the log line.
pub(crate) async fn raise(
    state: &OfficeState,
    breach: &Breach,
    who: &Culprit,
    address: Option<&str>,
    at: OffsetDateTime,
) -> Result<(), OfficeError> {
    let rule = breach.rule;
    let (subject_kind, subject_id) = match who {
        Culprit::Staff { id, .. } => ("staff", id.clone()),
        Culprit::Address => ("address", address.unwrap_or("unknown").to_owned()),
    };
    let mut detail = format!(
        "rule={} severity={} count={} limit={}",
        rule.name(),
        rule.severity(),
        breach.count,
        breach.limit
    );
    if let Some(subject) = &breach.subject {
        detail.push_str(&format!(" subject={subject}"));
    }
    audit::record_as(
        state,
        "system:detection",
        None,
        address.map(str::to_owned),
        Event {
            action: "detection.alert",
            subject_kind: Some(subject_kind),
            subject_id: Some(subject_id),
            fields: &[],
            purpose: None,
            detail: Some(detail),
            outcome: "ok",
        },
    )
    .await?;
    metrics::counter!(
        "madoguchi_detection_alerts_total",
        "rule" => rule.name(),
        "severity" => rule.severity()
    )
    .increment(1);
    tracing::warn!(
        rule = rule.name(),
        severity = rule.severity(),
        count = breach.count,
        limit = breach.limit,
        "detection alert: the actor is held and the security contact alerted"
    );
    let Some(contact) = state.profile().detection().security_contact() else {
        return Ok(());
    };
    let mail = compose(state, breach, who, address, at, contact.as_str());
    let row = crate::mail::seal(state, &mail)?;
    state.store().enqueue(&row).await?;
    Ok(())
}

fn compose(
    state: &OfficeState,
    breach: &Breach,
    who: &Culprit,
    address: Option<&str>,
    at: OffsetDateTime,
    to: &str,
) -> OutgoingMail {
    let rule = breach.rule;
    let bank = state.profile().bank().name_ja();
    let from = at - time::Duration::hours(if rule == Rule::ExportedRows { 24 } else { 1 });
    let from = from
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let address = address.unwrap_or("不明");
    let (who_text, action_taken, scope) = match who {
        Culprit::Staff {
            id,
            username,
            session,
        } => (
            format!("職員 {username}（staff:{id}）、接続元 {address}"),
            "この職員のアカウントを停止し、すべてのセッションを終了しました。\
             再開には管理者によるリセット（madoguchi staff reset）が必要です。",
            format!(
                "madoguchi incident scope --actor staff:{id} --from {from}\n\
                 madoguchi incident scope --session {session}\n\
                 madoguchi incident scope --ip {address} --from {from}"
            ),
        ),
        Culprit::Address => (
            format!("接続元 {address}"),
            "このアドレスからのサインインを1時間停止しました。",
            format!("madoguchi incident scope --ip {address} --from {from}"),
        ),
    };
    let subject_line = breach
        .subject
        .as_deref()
        .map(|s| format!("対象: {s}\n"))
        .unwrap_or_default();
    OutgoingMail {
        to: to.to_owned(),
        subject: format!(
            "【{bank} 窓口システム】セキュリティ警告（{}）: {}",
            rule.severity(),
            rule.label_ja()
        ),
        body: format!(
            "検知ルール: {label}（{name}）\n\
             重大度: {severity}\n\
             発生時刻: {when}\n\
             行為者: {who_text}\n\
             件数: {count}（上限 {limit}）\n\
             {subject_line}\n\
             実施した措置: {action_taken}\n\n\
             影響範囲の確認（サーバーで実行）:\n{scope}\n\n\
             このメールに個人情報は含まれていません。監査ログの action=detection.alert にも記録されています。\n",
            label = rule.label_ja(),
            name = rule.name(),
            severity = rule.severity(),
            when = crate::review::jst(at),
            count = breach.count,
            limit = breach.limit,
        ),
    }
}
