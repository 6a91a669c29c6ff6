use std::path::Path;

use crate::cli::Cli;
use crate::data_dir::DataDir;

/// `madoguchi keys init`.
pub fn init(cli: &Cli, core_private_key: Option<&Path>) -> anyhow::Result<()> {
    let data = DataDir::open(&cli.data_dir)?;
    let core_out = core_private_key
        .map(Path::to_path_buf)
        .unwrap_or_else(|| data.default_core_private_key());
    let report = madoguchi_keyring::init_keys(&data.keys(), data.root(), &core_out)?;
    println!("{report}");
    Ok(())
}
