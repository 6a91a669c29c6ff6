//! One module per subcommand.

pub mod audit;
pub mod canaries;
pub mod core;
pub mod demo;
pub mod doctor;
pub mod handoff;
pub mod incident;
pub mod keys;
pub mod migrate;
pub mod purge;
pub mod serve;
pub mod staff;
