//! The integration suite: one binary, a helper module and one file per feature.
//! Runs on SQLite by default and on PostgreSQL when `TEST_DATABASE_URL` is set.

mod attacks;
mod attacks_releases;
mod catalogs;
mod citable;
mod connections;
mod disclosure;
mod downloads;
mod errors;
mod facets;
mod fields;
mod filters;
mod graphql;
mod graphql_hostile;
mod helpers;
mod import;
mod instances;
mod latest;
mod lifecycle;
mod openapi_contract;
mod parity;
mod rest;
mod search;
mod seed_data;
mod sorting;
mod text_inputs;
mod totals;
mod web;
