//! The integration suite: one binary, a helper module and one file per feature.
//! Runs on SQLite by default and on PostgreSQL when `TEST_DATABASE_URL` is set.

mod disclosure;
mod graphql;
mod helpers;
mod import;
mod lifecycle;
mod parity;
mod rest;
mod web;
