use crate::app::connect_store;
use crate::cli::Cli;
use crate::data_dir::DataDir;

pub async fn run(cli: &Cli) -> anyhow::Result<()> {
    let data = DataDir::open(&cli.data_dir)?;
    let store = connect_store(cli.database_url.as_deref(), &data).await?;
    println!("migrations applied ({:?})", store.backend());
    store.close().await;
    Ok(())
}
