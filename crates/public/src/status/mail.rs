//! The e-mail of the status check: the code, and nothing of the application (not even its
//! receipt number or status: the status is shown only on the page, after the code).

use madoguchi_domain::OutgoingMail;

use crate::state::PublicState;

/// The e-mail that carries a status check's code.
pub fn status_code(state: &PublicState, to: &str, code: &str, ttl_minutes: u32) -> OutgoingMail {
    OutgoingMail {
        to: to.to_owned(),
        subject: format!(
            "【{}】お申込み状況の確認コードのお知らせ",
            state.layout.bank_name
        ),
        body: format!(
            "{}をご利用いただき、ありがとうございます。\n\n\
             お申込み状況の確認画面に、次の確認コードを入力してください。\n\n\
             確認コード：{code}\n\n\
             有効期限は{ttl_minutes}分です。お心当たりのない場合は、このメールを破棄してください。{}",
            state.layout.bank_name,
            crate::mail::footer(state)
        ),
    }
}
