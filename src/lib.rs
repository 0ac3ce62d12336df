//! # sanctuary-data
//!
//! An open-data service for municipal ID and sanctuary-policy programs (starting with
//! Chicago's CityKey): aggregate statistics, program timelines and policy documents, each
//! figure with its source, and **no individual records**.
//!
//! The flow: `seed` (CSV -> validated rows -> [`disclosure`] control -> one transaction ->
//! a release) fills the database; [`query`] reads it; `rest`, `graphql` and `csv` present
//! it; `files` renders whole-table downloads (CSV, `xlsx`) once per release. [`app::build_app`] assembles the HTTP application used by `main` and the tests.

pub mod app;
pub mod cite;
pub mod config;
pub mod csv;
pub mod db;
pub mod diff;
pub mod disclosure;
pub mod edge;
pub mod entity;
pub mod error;
pub mod export;
pub mod fields;
pub mod files;
pub mod graphql;
pub mod http;
pub mod migration;
pub mod model;
pub mod query;
pub mod releases;
pub mod rest;
pub mod search;
pub mod seed;
pub mod server;
pub mod state;
pub mod tables;
pub mod vocabulary;
pub mod web;
pub mod xlsx;

pub use app::build_app;
pub use state::AppState;
