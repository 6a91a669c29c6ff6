//! The demo bank: a fictional bank profile shipped with the project.

use madoguchi_domain::profile::BankProfile;

/// The demo profile's source, compiled in so that `serve --demo` works anywhere.
pub const DEMO_PROFILE: &str = include_str!("../../../config/demo-bank.toml");

pub fn demo_profile() -> anyhow::Result<BankProfile> {
    Ok(BankProfile::from_toml_str(
        "config/demo-bank.toml",
        DEMO_PROFILE,
    )?)
}

/// Loads the profile from `--config`, or the demo profile.
pub fn load_profile(config: Option<&std::path::Path>) -> anyhow::Result<BankProfile> {
    match config {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                anyhow::anyhow!("cannot read the bank profile {}: {e}", path.display())
            })?;
            Ok(BankProfile::from_toml_str(
                &path.display().to_string(),
                &text,
            )?)
        }
        None => demo_profile(),
    }
}
