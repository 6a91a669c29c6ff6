//! The e-mails of the public site. They carry no personal data beyond the applicant's name and
//! receipt number, never a link that asks for a PIN or password, and always the bank's
//! standing warning. They are sealed to the mail worker's key before they are queued.

use madoguchi_domain::OutgoingMail;
use madoguchi_store::OutboxRow;
use time::OffsetDateTime;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::error::PublicError;
use crate::state::PublicState;

const STANDING_WARNING: &str = "【ご注意】当行が電子メールや電話で、暗証番号やパスワードをお尋ねすることは絶対にありません。\n\
    暗証番号やパスワードの入力を求めるメールやお電話にはお答えにならず、当行までご連絡ください。";

pub(crate) fn footer(state: &PublicState) -> String {
    format!(
        "\n\n{STANDING_WARNING}\n\n{}\nお問い合わせ：{}（{}）\n※このメールは送信専用です。ご返信いただいてもお答えできません。\n",
        state.layout.bank_name, state.layout.support_phone, state.layout.support_hours
    )
}

/// The e-mail that carries a verification code.
pub fn verification_code(
    state: &PublicState,
    to: &str,
    code: &str,
    ttl_minutes: u32,
) -> OutgoingMail {
    OutgoingMail {
        to: to.to_owned(),
        subject: format!(
            "【{}】メールアドレス確認コードのお知らせ",
            state.layout.bank_name
        ),
        body: format!(
            "{}をご利用いただき、ありがとうございます。\n\n\
             お申込み画面に、次の確認コードを入力してください。\n\n\
             確認コード：{code}\n\n\
             有効期限は{ttl_minutes}分です。お心当たりのない場合は、このメールを破棄してください。{}",
            state.layout.bank_name,
            footer(state)
        ),
    }
}

/// The e-mail that confirms a submitted application.
pub fn application_received(
    state: &PublicState,
    to: &str,
    name: &str,
    product_title: &str,
    receipt_number: &str,
) -> OutgoingMail {
    OutgoingMail {
        to: to.to_owned(),
        subject: format!(
            "【{}】{}のお申込みを受け付けました",
            state.layout.bank_name, product_title
        ),
        body: format!(
            "{name} 様\n\n\
             {product_title}のお申込みを受け付けました。\n\n\
             受付番号：{receipt_number}\n\n\
             受付番号は、お申込み状況のお問い合わせに必要です。大切に保管してください。\n\
             審査の結果は、あらためてご連絡いたします。{}",
            footer(state)
        ),
    }
}

/// Seals a message to the mail worker's key, ready to queue.
pub fn seal(state: &PublicState, mail: &OutgoingMail) -> Result<OutboxRow, PublicError> {
    let id = Uuid::now_v7();
    let plain = Zeroizing::new(
        serde_json::to_vec(mail).map_err(|e| PublicError::Internal(format!("mail encode: {e}")))?,
    );
    let sealed = state
        .crypto
        .mail
        .seal(&id, &plain)
        .map_err(|e| PublicError::Internal(format!("mail seal: {e}")))?;
    Ok(OutboxRow::now(
        id,
        sealed.key_id().to_string(),
        sealed.as_bytes().to_vec(),
        OffsetDateTime::now_utc(),
    ))
}
