//! What every back-office page shows around its content.

use madoguchi_domain::staff::Role;

use crate::OfficeState;
use crate::session::StaffSession;

/// The frame of a page: bank, title, and who is signed in.
pub(crate) struct Layout {
    pub bank_name: String,
    pub title: String,
    pub username: Option<String>,
    pub role: Option<Role>,
    /// The CSRF token for the page's forms (empty without a session).
    pub csrf: String,
}

impl Layout {
    pub(crate) fn new(state: &OfficeState, staff: Option<&StaffSession>, title: &str) -> Layout {
        Layout {
            bank_name: state.profile().bank().name_ja().to_owned(),
            title: title.to_owned(),
            username: staff.map(|s| s.username.clone()),
            role: staff.map(|s| s.role),
            csrf: staff.map(|s| s.csrf_token.clone()).unwrap_or_default(),
        }
    }

    /// The role's name in Japanese.
    pub(crate) fn role_name(&self) -> &'static str {
        self.role.map_or("", role_name)
    }

    pub(crate) fn is(&self, role: &str) -> bool {
        self.role.is_some_and(|r| r.as_str() == role)
    }
}

/// A role's name as staff know it.
pub(crate) fn role_name(role: Role) -> &'static str {
    match role {
        Role::Operator => "受付担当",
        Role::Supervisor => "承認者",
        Role::Consultant => "相談員",
        Role::Auditor => "監査担当",
        Role::Administrator => "システム管理者",
    }
}
