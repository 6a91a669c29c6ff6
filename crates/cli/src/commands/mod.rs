//! One module per subcommand.

pub mod keys;
pub mod migrate;
pub mod serve;
