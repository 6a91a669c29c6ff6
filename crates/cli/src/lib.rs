//! The `madoguchi` command: assembles the crates into one program.
//!
//! It owns the process's wiring (paths, keys, listeners, workers) and nothing of the product's
//! rules. Library form so that the integration tests start exactly what `serve` starts.

pub mod app;
pub mod cli;
pub mod commands;
pub mod data_dir;
pub mod demo;
pub mod documents;
pub mod listener;
pub mod metrics;
