//! What every handler can reach: the database, the releases it holds (the latest in
//! memory) and the cache of rendered representations. Below every front door (`rest`, `graphql`, `web`), which import it
//! from here, never from `app`.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::config::Publication;
use crate::files::DownloadStore;
use crate::http::ResponseCache;
use crate::releases::Releases;

/// Memory for rendered responses.
pub const RESPONSE_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// What every handler can reach: one `Arc` around [`Shared`] (its fields are reached
/// through it), because axum clones the state for every request a route answers, whether
/// the handler takes it or not; one reference count is cheaper than seven (issue #12).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] holds.
#[derive(Clone)]
pub struct Shared {
    pub db: DatabaseConnection,
    /// The latest release and the releases seen by id, in memory.
    pub releases: Arc<Releases>,
    /// Rendered representations of immutable releases.
    pub responses: Arc<ResponseCache>,
    /// Whole-table downloads, rendered once per release into files.
    pub files: Arc<DownloadStore>,
    /// Who publishes the data, under which licence, at which public URL (the catalogs).
    pub publication: Arc<Publication>,
}

impl AppState {
    /// Inside a Tokio runtime, this starts the task that watches the database for new
    /// releases (stopped when the last clone of the state is dropped). Downloads are
    /// rendered into a private temporary directory, removed with the state.
    pub fn new(db: DatabaseConnection) -> Self {
        Self::with_downloads(db, DownloadStore::private())
    }

    /// The same, with downloads rendered into `store` (`serve`: under the data directory).
    pub fn with_downloads(db: DatabaseConnection, store: DownloadStore) -> Self {
        AppState(Arc::new(Shared {
            releases: Arc::new(Releases::new(db.clone())),
            db,
            responses: Arc::new(ResponseCache::new(RESPONSE_CACHE_BYTES)),
            files: Arc::new(store),
            publication: Arc::new(Publication::default()),
        }))
    }

    /// The same state, naming itself as `publication` says in catalogs and pages.
    pub fn with_publication(mut self, publication: Publication) -> Self {
        Arc::make_mut(&mut self.0).publication = Arc::new(publication);
        self
    }
}
