//! The notice draft (`incident scope --format notice`): in Japanese, the scope section of the
//! bank's public notice (対象となるお客さまの数, 共通事項, 一部のお客さまに関する事項) and the nine
//! items of the report to the Personal Information Protection Commission (個人情報の保護に関する
//! 法律施行規則 第8条第1項: ①概要 … ⑨その他), filled with the scope's figures where the audit log
//! knows them and left for the bank to write where it cannot (cause, secondary harm, measures).
//! A draft for people to finish, never sent by itself.

use std::fmt::Write as _;

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use super::scope::Scope;

/// The draft, as text.
pub fn draft(scope: &Scope, indicators: &str) -> String {
    let label = |f: &String| madoguchi_office::field_label(f).to_owned();
    let common: Vec<String> = scope.common_fields.iter().map(label).collect();
    let partial: Vec<String> = scope
        .field_counts
        .iter()
        .filter(|(f, _)| !scope.common_fields.contains(*f))
        .map(|(f, n)| format!("{}（{}名）", label(f), n))
        .collect();
    let first = japan_time(
        scope
            .customers
            .iter()
            .map(|c| c.first_access.as_str())
            .min(),
    );
    let last = japan_time(scope.customers.iter().map(|c| c.last_access.as_str()).max());
    let mut channels = [0usize; 3];
    for c in &scope.customers {
        for (i, ch) in ["e-mail", "post", "phone"].iter().enumerate() {
            if c.channels.contains(ch) {
                channels[i] += 1;
            }
        }
    }
    let none = "なし".to_owned();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "【下書き】個人情報の漏えい等に関する公表・報告（madoguchi incident scope による自動集計）"
    );
    let _ = writeln!(out, "集計条件：{indicators}");
    let _ = writeln!(out);
    let _ = writeln!(out, "■ 公表文：対象範囲");
    let _ = writeln!(out, "1. 対象となるお客さまの数：{}名", scope.customer_count);
    let _ = writeln!(
        out,
        "2. 閲覧された可能性のある期間：{first} 〜 {last}（日本時間）"
    );
    let _ = writeln!(out, "3. 漏えいのおそれがある情報");
    let _ = writeln!(
        out,
        "  （1）共通事項（対象のお客さま全員）：{}",
        if common.is_empty() {
            none.clone()
        } else {
            common.join("、")
        }
    );
    let _ = writeln!(
        out,
        "  （2）一部のお客さまに関する事項：{}",
        if partial.is_empty() {
            none.clone()
        } else {
            partial.join("、")
        }
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "■ 個人情報保護委員会への報告事項（規則第8条第1項）");
    let _ = writeln!(
        out,
        "① 概要：{first} から {last} までの間、当行の申込・来店予約システムにおいて、上記の条件に該当するアクセスにより、{}名のお客さまの個人データが閲覧された可能性があります。（発覚の経緯・日時を記入してください）",
        scope.customer_count
    );
    let _ = writeln!(
        out,
        "② 漏えい等が発生し、又は発生したおそれがある個人データの項目："
    );
    for (f, n) in &scope.field_counts {
        let _ = writeln!(out, "    ・{}：{}名", label(f), n);
    }
    let _ = writeln!(
        out,
        "③ 本人の数：{}名（お客さまごとの内訳は incident scope --format csv の通知名簿のとおり）",
        scope.customer_count
    );
    let _ = writeln!(out, "④ 原因：（記入してください）");
    let _ = writeln!(
        out,
        "⑤ 二次被害又はそのおそれの有無及びその内容：（記入してください。暗証番号・ログインパスワードは勘定系の公開鍵で封緘され、本システムでは復号できません）"
    );
    let _ = writeln!(
        out,
        "⑥ 本人への対応の実施状況：対象のお客さまへ個別にご連絡します（連絡手段：電子メール {}名、郵送 {}名、電話 {}名）。（実施状況を記入してください）",
        channels[0], channels[1], channels[2]
    );
    let _ = writeln!(out, "⑦ 公表の実施状況：（記入してください）");
    let _ = writeln!(out, "⑧ 再発防止のための措置：（記入してください）");
    let _ = writeln!(
        out,
        "⑨ その他参考となる事項：監査ログはハッシュチェーンと署名付きチェックポイントにより改ざんを検知できます。`madoguchi audit verify` の結果（ログが完全であること）を添付してください。"
    );
    out
}

/// An RFC 3339 time as a Japanese notice writes it, in Japan time: 2026年12月5日 04時42分.
fn japan_time(rfc3339: Option<&str>) -> String {
    let japan = UtcOffset::from_hms(9, 0, 0).unwrap_or(UtcOffset::UTC);
    rfc3339
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
        .map(|t| {
            let t = t.to_offset(japan);
            format!(
                "{}年{}月{}日 {:02}時{:02}分",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        })
        .unwrap_or_else(|| "—".to_owned())
}
