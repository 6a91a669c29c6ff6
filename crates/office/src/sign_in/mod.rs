//! Staff sign-in (placeholder until the sign-in work lands: no session ever loads).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::request::Parts;

use crate::OfficeState;
use crate::error::OfficeError;
use crate::session::StaffSession;
use crate::view::Layout;

#[derive(Template, WebTemplate)]
#[template(path = "sign_in.html")]
pub(crate) struct SignInPage {
    layout: Layout,
}

pub(crate) async fn form(State(state): State<OfficeState>) -> SignInPage {
    SignInPage {
        layout: Layout::new(&state, None, "サインイン"),
    }
}

/// The session named by the request's cookie.
pub(crate) async fn load_session(
    _state: &OfficeState,
    _parts: &Parts,
) -> Result<Option<StaffSession>, OfficeError> {
    Ok(None)
}
