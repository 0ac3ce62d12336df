//! sea-orm entities: the database's view of a release. Never exposed on the wire;
//! `model.rs` holds the public types.
//!
//! Every data table is keyed by `(release_id, id)` and carries a `position`: the row's
//! place in the table's canonical order, fixed at import. Keyset pagination walks
//! `position`, which is unique within a release, so a crawl never skips or repeats a row.

pub mod document;
pub mod event;
pub mod metric;
pub mod program;
pub mod release;
pub mod release_change;
pub mod release_download;
pub mod release_facet;
pub mod source;
pub mod statistic;
