//! What a form template shows: the values typed so far, the refusals, the CSRF token.

use crate::form::FormData;
use crate::messages::Catalog;

/// One refusal, shown next to its field and in the summary at the top of the page.
#[derive(Debug, Clone)]
pub struct FieldMessage {
    pub field: String,
    pub message: String,
}

/// A choice of a select, radio group or check box list.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

#[derive(Debug, Default)]
pub struct FormView {
    pub values: FormData,
    pub errors: Vec<FieldMessage>,
    pub csrf: String,
}

impl FormView {
    pub fn new(csrf: String) -> FormView {
        FormView {
            csrf,
            ..FormView::default()
        }
    }

    pub fn with_values(mut self, values: FormData) -> FormView {
        self.values = values;
        self
    }

    pub fn with_errors(
        mut self,
        catalog: &Catalog,
        errors: impl IntoIterator<Item = (String, String)>,
    ) -> FormView {
        self.errors = errors
            .into_iter()
            .map(|(field, code)| FieldMessage {
                message: catalog.message(&field, &code),
                field,
            })
            .collect();
        self
    }

    pub fn value(&self, name: &str) -> &str {
        self.values.get(name).unwrap_or_default()
    }

    pub fn checked(&self, name: &str, value: &str) -> bool {
        self.values.get_all(name).contains(&value)
    }

    pub fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.as_str())
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }
}

/// The choices of `field`, labelled from the catalogue, in the order given.
pub fn choices(catalog: &Catalog, field: &str, values: &[&str]) -> Vec<Choice> {
    values
        .iter()
        .map(|value| Choice {
            value: (*value).to_owned(),
            label: catalog.choice(field, value).to_owned(),
        })
        .collect()
}
