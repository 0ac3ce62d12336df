//! The GraphQL interface at `/graphql`: a read-only schema over the same query layer as
//! REST and CSV ([`crate::query`]), so the same filter returns the same rows and numbers.
//!
//! - [`root`]: the root fields (`programs`, `statistics`, …), each taking an optional
//!   `release`, paged as Relay connections ([`connection`]) with the REST keyset cursors.
//! - [`nested`]: `Program.statistics / events / documents` and `Statistic.metric`, loaded
//!   through one [`DataLoader`] so a query costs a constant number of database queries.
//! - [`limits`]: nesting, depth, complexity, database-query, size and directive limits,
//!   checked before any resolver runs.
//! - [`gate`]: the caps on database connections and time while a request runs.
//! - [`scope`]: the release of each root field, and the cache lifetime it implies.
//! - [`http`]: GraphQL over HTTP (GET and POST); [`graphiql`]: GraphiQL and its vendored
//!   assets.

mod connection;
mod gate;
mod graphiql;
mod http;
mod inputs;
mod limits;
mod nested;
mod nesting;
mod root;
mod scope;

use async_graphql::dataloader::DataLoader;
use async_graphql::{EmptyMutation, EmptySubscription, Schema, SchemaBuilder};

use crate::state::AppState;

pub use http::{PATH, routes};
pub use limits::{
    MAX_BODY_BYTES, MAX_COMPLEXITY, MAX_DB_QUERIES, MAX_DEPTH, MAX_DIRECTIVES, MAX_FIELDS,
    MAX_GRAPHQL_CONNECTIONS, MAX_INTROSPECTION_DEPTH, MAX_NESTING, MAX_RECURSION,
    MAX_REQUEST_CONNECTIONS,
};
pub use root::QueryRoot;

/// The schema served at `/graphql`: queries only.
pub type AppSchema = Schema<QueryRoot, EmptyMutation, EmptySubscription>;

/// The schema with its limits, but no database (enough to render the SDL).
fn builder() -> SchemaBuilder<QueryRoot, EmptyMutation, EmptySubscription> {
    limits::apply(Schema::build(QueryRoot, EmptyMutation, EmptySubscription))
}

/// The schema over the application's database, limits included.
pub fn build_schema(state: &AppState) -> AppSchema {
    let gate = gate::DbGate::default();
    builder()
        .data(state.clone())
        .data(gate.clone())
        .data(DataLoader::new(
            nested::QueryLoader::new(state.clone(), gate),
            tokio::spawn,
        ))
        .finish()
}

/// The schema in GraphQL SDL, as committed at `schema.graphql`.
pub fn sdl() -> String {
    builder().finish().sdl()
}

/// The base URL (`scheme://host`) of the request, for the absolute URLs of citations.
pub struct BaseUrl(pub String);
