//! The administrator's pages: the list of staff, adding one, disabling, resetting.

use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use madoguchi_domain::ErrorCode;
use madoguchi_domain::staff::Role;
use serde::Deserialize;
use time::{OffsetDateTime, UtcOffset};
use uuid::Uuid;

use super::accounts::{self, AccountError, Issued};
use crate::OfficeState;
use crate::audit::{self, Event};
use crate::error::OfficeError;
use crate::session::{Actor, StaffSession};
use crate::view::{Layout, role_name};

/// One line of the list.
pub(crate) struct StaffLine {
    id: Uuid,
    username: String,
    role: &'static str,
    scope: String,
    state: &'static str,
    disabled: bool,
    last_sign_in: String,
    is_me: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "staff_list.html")]
pub(crate) struct StaffListPage {
    layout: Layout,
    staff: Vec<StaffLine>,
    error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "staff_new.html")]
pub(crate) struct StaffNewPage {
    layout: Layout,
    username: String,
    scope: String,
    /// (value, label, chosen)
    roles: Vec<(&'static str, &'static str, bool)>,
    errors: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "staff_password.html")]
pub(crate) struct StaffPasswordPage {
    layout: Layout,
    username: String,
    one_time_password: String,
    added: bool,
}

fn japan_time(t: OffsetDateTime) -> String {
    let japan = UtcOffset::from_hms(9, 0, 0).unwrap_or(UtcOffset::UTC);
    let t = t.to_offset(japan);
    format!(
        "{}-{:02}-{:02} {:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

fn state_name(state: &str) -> &'static str {
    match state {
        "disabled" => "無効",
        "locked" => "ロック中",
        "held" => "停止中（不正検知・要リセット）",
        "new" => "初回サインイン待ち",
        _ => "有効",
    }
}

async fn list_page(
    state: &OfficeState,
    staff: &StaffSession,
    error: Option<String>,
) -> Result<StaffListPage, OfficeError> {
    let now = OffsetDateTime::now_utc();
    let rows = accounts::list(state.store()).await.map_err(internal)?;
    let lines = rows
        .into_iter()
        .map(|row| StaffLine {
            id: row.id,
            role: Role::parse(&row.role).map_or("？", role_name),
            scope: row.scope.clone(),
            state: state_name(accounts::state_of(&row, now)),
            disabled: row.disabled_at.is_some(),
            last_sign_in: row.last_sign_in_at.map(japan_time).unwrap_or_default(),
            is_me: row.id == staff.staff_id,
            username: row.username,
        })
        .collect();
    Ok(StaffListPage {
        layout: Layout::new(state, Some(staff), "職員管理"),
        staff: lines,
        error,
    })
}

fn internal(e: AccountError) -> OfficeError {
    match e {
        AccountError::Store(e) => OfficeError::Store(e),
        other => OfficeError::Internal(other.to_string()),
    }
}

/// GET /staff
pub(crate) async fn list(
    State(state): State<OfficeState>,
    Actor(staff): Actor,
) -> Result<StaffListPage, OfficeError> {
    list_page(&state, &staff, None).await
}

fn roles(chosen: &str) -> Vec<(&'static str, &'static str, bool)> {
    [
        Role::Operator,
        Role::Supervisor,
        Role::Consultant,
        Role::Auditor,
        Role::Administrator,
    ]
    .into_iter()
    .map(|r| (r.as_str(), role_name(r), r.as_str() == chosen))
    .collect()
}

/// GET /staff/new
pub(crate) async fn new_form(
    State(state): State<OfficeState>,
    Actor(staff): Actor,
) -> StaffNewPage {
    StaffNewPage {
        layout: Layout::new(&state, Some(&staff), "職員の追加"),
        username: String::new(),
        scope: String::new(),
        roles: roles(""),
        errors: Vec::new(),
    }
}

#[derive(Deserialize)]
pub(crate) struct NewStaffForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    scope: String,
}

/// The refusal of an account's input, in Japanese, naming the field.
fn refusal_text(e: &AccountError) -> String {
    match e {
        AccountError::Username(ErrorCode::Required) => "ユーザー名を入力してください。".to_owned(),
        AccountError::Username(_) => {
            "ユーザー名は、半角英小文字で始まる3〜32文字の英小文字・数字・「.」「-」「_」にしてください（例：tanaka.k）。".to_owned()
        }
        AccountError::Role => "役割を選んでください。".to_owned(),
        AccountError::Scope(_) => {
            "担当範囲は「bank」（全店）、「branches:001,002」（支店番号）または「centers:shinjuku」（ローンセンター）の形で入力してください。".to_owned()
        }
        AccountError::ScopeForRole(role) => match role {
            Role::Operator | Role::Supervisor => {
                "受付担当・承認者の担当範囲は、支店（branches:…）または全店（bank）にしてください。".to_owned()
            }
            Role::Consultant => {
                "相談員の担当範囲は、ローンセンター（centers:…）または全店（bank）にしてください。".to_owned()
            }
            Role::Auditor | Role::Administrator => {
                "監査担当・システム管理者の担当範囲は全店（bank）にしてください。".to_owned()
            }
        },
        AccountError::Taken(_) => {
            "このユーザー名はすでに使われています。別のユーザー名にしてください。".to_owned()
        }
        AccountError::NotFound(_) => "その職員は見つかりません。".to_owned(),
        AccountError::Store(_) | AccountError::Internal(_) => {
            "処理を完了できませんでした。時間をおいてもう一度お試しください。".to_owned()
        }
    }
}

/// POST /staff: adds a member of staff and shows the one-time password once.
pub(crate) async fn create(
    State(state): State<OfficeState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Actor(staff): Actor,
    Form(input): Form<NewStaffForm>,
) -> Result<Response, OfficeError> {
    let issued = match accounts::add(state.store(), &input.username, &input.role, &input.scope)
        .await
    {
        Ok(issued) => issued,
        Err(e @ (AccountError::Store(_) | AccountError::Internal(_))) => return Err(internal(e)),
        Err(e) => {
            let page = StaffNewPage {
                layout: Layout::new(&state, Some(&staff), "職員の追加"),
                username: input.username.clone(),
                scope: input.scope.clone(),
                roles: roles(&input.role),
                errors: vec![refusal_text(&e)],
            };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    audited(&state, &staff, peer, "staff.add", issued.id).await?;
    Ok(password_page(&state, &staff, issued, true).into_response())
}

fn password_page(
    state: &OfficeState,
    staff: &StaffSession,
    issued: Issued,
    added: bool,
) -> StaffPasswordPage {
    let title = if added {
        "職員を追加しました"
    } else {
        "パスワードを再設定しました"
    };
    StaffPasswordPage {
        layout: Layout::new(state, Some(staff), title),
        username: issued.username.clone(),
        one_time_password: issued.one_time_password.to_string(),
        added,
    }
}

async fn audited(
    state: &OfficeState,
    staff: &StaffSession,
    peer: SocketAddr,
    action: &str,
    subject: Uuid,
) -> Result<(), OfficeError> {
    audit::record(
        state,
        Some(staff),
        Some(peer.ip().to_string()),
        Event {
            action,
            subject_kind: Some("staff"),
            subject_id: Some(subject.to_string()),
            fields: accounts::fields_of(action),
            purpose: None,
            detail: None,
            outcome: "ok",
        },
    )
    .await
}

/// POST /staff/{staff}/disable
pub(crate) async fn disable(
    State(state): State<OfficeState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Actor(staff): Actor,
    Path(id): Path<Uuid>,
) -> Result<Response, OfficeError> {
    if id == staff.staff_id {
        let error = "自分自身は無効にできません。別のシステム管理者に依頼してください。";
        let page = list_page(&state, &staff, Some(error.to_owned())).await?;
        return Ok((StatusCode::CONFLICT, page).into_response());
    }
    if state.store().staff_by_id(id).await?.is_none() {
        return Ok(crate::error::status_page(StatusCode::NOT_FOUND));
    }
    if accounts::disable(state.store(), id)
        .await
        .map_err(internal)?
    {
        audited(&state, &staff, peer, "staff.disable", id).await?;
    }
    Ok(Redirect::to("/staff").into_response())
}

/// POST /staff/{staff}/reset: a new one-time password, shown once.
pub(crate) async fn reset(
    State(state): State<OfficeState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Actor(staff): Actor,
    Path(id): Path<Uuid>,
) -> Result<Response, OfficeError> {
    if id == staff.staff_id {
        let error = "自分自身のパスワードはここでは再設定できません。「パスワードの変更」を使うか、別のシステム管理者に依頼してください。";
        let page = list_page(&state, &staff, Some(error.to_owned())).await?;
        return Ok((StatusCode::CONFLICT, page).into_response());
    }
    let Some(row) = state.store().staff_by_id(id).await? else {
        return Ok(crate::error::status_page(StatusCode::NOT_FOUND));
    };
    let issued = accounts::reset(state.store(), &row)
        .await
        .map_err(internal)?;
    audited(&state, &staff, peer, "staff.reset", id).await?;
    Ok(password_page(&state, &staff, issued, false).into_response())
}
