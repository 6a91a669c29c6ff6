//! Form bodies: `application/x-www-form-urlencoded` only, parsed into a multimap.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;

use zeroize::Zeroize;

use crate::error::PublicError;

/// A submitted form: every value of every field, as sent.
#[derive(Debug, Default, Clone)]
pub struct FormData {
    values: HashMap<String, Vec<String>>,
}

impl FormData {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .and_then(|v| v.first())
            .map(String::as_str)
    }

    pub fn get_all(&self, name: &str) -> Vec<&str> {
        self.values
            .get(name)
            .map(|v| v.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// The values to show again after a refusal: everything except secrets.
    pub fn without(&self, secret_fields: &[&str]) -> FormData {
        let values = self
            .values
            .iter()
            .filter(|(name, _)| !secret_fields.contains(&name.as_str()))
            .map(|(name, values)| (name.clone(), values.clone()))
            .collect();
        FormData { values }
    }

    pub fn insert(&mut self, name: &str, value: String) {
        self.values.entry(name.to_owned()).or_default().push(value);
    }

    pub fn parse(body: &[u8]) -> FormData {
        let mut form = FormData::default();
        for (name, value) in form_urlencoded::parse(body) {
            form.insert(&name, value.into_owned());
        }
        form
    }
}

/// A form may carry a PIN: its text is wiped from memory when the form is dropped.
impl Drop for FormData {
    fn drop(&mut self) {
        for values in self.values.values_mut() {
            values.iter_mut().for_each(Zeroize::zeroize);
        }
    }
}

impl madoguchi_domain::FormInput for FormData {
    fn get(&self, name: &str) -> Option<&str> {
        FormData::get(self, name)
    }

    fn get_all(&self, name: &str) -> Vec<&str> {
        FormData::get_all(self, name)
    }
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = PublicError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_form = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';').next().is_some_and(|mime| {
                    mime.trim()
                        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
                })
            });
        if !is_form {
            return Err(PublicError::UnsupportedMediaType);
        }
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|_| PublicError::BodyTooLarge)?;
        // Wipe the raw body too when this is its only owner (it usually is).
        let form = FormData::parse(&body);
        if let Ok(mut raw) = body.try_into_mut() {
            raw.zeroize();
        }
        Ok(form)
    }
}
