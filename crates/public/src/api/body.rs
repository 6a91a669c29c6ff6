//! JSON request bodies, read into the same shape as a form so that the API and the HTML
//! forms share one validation. A value of the wrong type is refused naming its field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde_json::Value;
use zeroize::Zeroize;

use super::error::ApiError;
use crate::error::PublicError;
use crate::form::FormData;

/// A JSON object body, before its types are checked.
pub struct JsonFields {
    form: FormData,
    booleans: Vec<(String, bool)>,
    lists: Vec<(String, Vec<String>)>,
    wrong_types: Vec<String>,
}

impl JsonFields {
    /// The body as form fields: strings as given, the `boolean_fields` as `yes`/`no`, `null`
    /// as absent. Refuses (422, naming each field) any other type, or a boolean elsewhere.
    pub fn into_form(
        self,
        boolean_fields: &[&str],
        catalog: &crate::messages::Catalog,
    ) -> Result<FormData, ApiError> {
        self.into_form_with_lists(boolean_fields, &[], catalog)
    }

    /// As [`into_form`](Self::into_form), and the `list_fields` may also be arrays of
    /// strings (a form's repeated field, e.g. checkboxes).
    pub fn into_form_with_lists(
        self,
        boolean_fields: &[&str],
        list_fields: &[&str],
        catalog: &crate::messages::Catalog,
    ) -> Result<FormData, ApiError> {
        let JsonFields {
            mut form,
            booleans,
            lists,
            mut wrong_types,
        } = self;
        for (name, values) in lists {
            if list_fields.contains(&name.as_str()) {
                for value in values {
                    form.insert(&name, value);
                }
            } else {
                let mut values = values;
                values.iter_mut().for_each(Zeroize::zeroize);
                wrong_types.push(name);
            }
        }
        for (name, yes) in booleans {
            if boolean_fields.contains(&name.as_str()) {
                form.insert(&name, if yes { "yes" } else { "no" }.to_owned());
            } else {
                wrong_types.push(name);
            }
        }
        if wrong_types.is_empty() {
            Ok(form)
        } else {
            Err(ApiError::fields(
                catalog,
                wrong_types
                    .into_iter()
                    .map(|f| (f, "invalid-type".to_owned())),
            ))
        }
    }
}

fn is_json(request: &Request) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

impl<S: Send + Sync> FromRequest<S> for JsonFields {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(&request) {
            return Err(PublicError::UnsupportedMediaType.into());
        }
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|_| ApiError::from(PublicError::BodyTooLarge))?;
        let parsed = serde_json::from_slice::<Value>(&body);
        if let Ok(mut raw) = body.try_into_mut() {
            raw.zeroize();
        }
        let Ok(Value::Object(object)) = parsed else {
            return Err(ApiError::bad_request("invalid-json"));
        };
        let mut fields = JsonFields {
            form: FormData::default(),
            booleans: Vec::new(),
            lists: Vec::new(),
            wrong_types: Vec::new(),
        };
        for (name, value) in object {
            match value {
                Value::String(text) => fields.form.insert(&name, text),
                Value::Bool(yes) => fields.booleans.push((name, yes)),
                Value::Null => {}
                Value::Array(items) if items.iter().all(Value::is_string) => {
                    let values = items
                        .into_iter()
                        .filter_map(|item| match item {
                            Value::String(text) => Some(text),
                            _ => None,
                        })
                        .collect();
                    fields.lists.push((name, values));
                }
                _ => fields.wrong_types.push(name),
            }
        }
        Ok(fields)
    }
}
