//! The start page: what this member of staff can do, by role.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;

use crate::OfficeState;
use crate::session::Actor;
use crate::view::Layout;

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub(crate) struct HomePage {
    layout: Layout,
}

pub(crate) async fn page(State(state): State<OfficeState>, Actor(staff): Actor) -> HomePage {
    HomePage {
        layout: Layout::new(&state, Some(&staff), "トップ"),
    }
}
