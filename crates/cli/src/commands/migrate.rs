//! `madoguchi migrate [--create-roles]`: the schema, and on PostgreSQL the least-privilege
//! roles, applied as the tables' owner.

use crate::app::connect_store;
use crate::cli::Cli;
use crate::data_dir::DataDir;

pub async fn run(cli: &Cli, create_roles: bool) -> anyhow::Result<()> {
    let data = DataDir::open(&cli.data_dir)?;
    let store = connect_store(cli.database_url.as_deref(), &data).await?;
    println!("migrations applied ({:?})", store.backend());
    let result = if create_roles {
        match store.create_roles().await {
            Ok(true) => {
                println!(
                    "roles {} and {} created (or kept) and granted; give them passwords or certificates",
                    madoguchi_store::PUBLIC_ROLE,
                    madoguchi_store::OFFICE_ROLE
                );
                Ok(())
            }
            Ok(false) => Err(anyhow::anyhow!(
                "--create-roles is for PostgreSQL; SQLite has no roles (protect the data folder's permissions)"
            )),
            Err(e) => Err(e.into()),
        }
    } else {
        Ok(())
    };
    store.close().await;
    result
}
