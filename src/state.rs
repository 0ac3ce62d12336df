//! What every handler can reach: the database and the cache of rendered
//! representations. Below every front door (`rest`, `graphql`, `web`), which import it
//! from here, never from `app`.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::http::ResponseCache;

/// Memory for rendered responses.
pub const RESPONSE_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// Rendered representations of immutable releases.
    pub responses: Arc<ResponseCache>,
}

impl AppState {
    pub fn new(db: DatabaseConnection) -> Self {
        AppState {
            db,
            responses: Arc::new(ResponseCache::new(RESPONSE_CACHE_BYTES)),
        }
    }
}
