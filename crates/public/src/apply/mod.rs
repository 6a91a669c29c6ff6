//! What every product's application shares: the flow description, the e-mail check that
//! starts it, and the draft that carries it to submission.

pub mod email_check;

use madoguchi_domain::Product;

/// One product's application flow.
#[derive(Debug)]
pub struct Flow {
    pub product: Product,
    /// The path segment under `/apply/`.
    pub slug: &'static str,
    /// The first form step after the e-mail check.
    pub first_step: &'static str,
    /// Steps shown to the applicant, the e-mail check and confirmation included.
    pub total_steps: u8,
}

impl Flow {
    pub fn path(&self, step: &str) -> String {
        format!("/apply/{}/{}", self.slug, step)
    }

    pub fn start_path(&self) -> String {
        format!("/apply/{}", self.slug)
    }
}
