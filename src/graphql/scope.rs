//! Release scoping: which release each root field of a request reads (nested fields read
//! the same one), and whether every root field named its release, which decides how long
//! the answer may be cached.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::{Context, QueryPathSegment};
use axum::http::HeaderValue;
use tokio::sync::Semaphore;

use super::limits::MAX_REQUEST_CONNECTIONS;
use crate::error::ApiError;

/// The latest release when the request arrived: every root field without a `release`
/// (or cursor) reads this one, so one request reads one latest release, and the answer is
/// a pure function of it and the request (which is how `http.rs` caches it).
pub struct LatestRelease(pub Arc<crate::entity::release::Model>);

/// What the resolvers of one request share.
pub struct RequestScope {
    /// The database connections this request may still take ([`MAX_REQUEST_CONNECTIONS`]).
    pub(super) connections: Semaphore,
    /// The release each root field (by response key) resolved to, so nested fields
    /// (which carry no `release` argument) read the same release.
    releases: Mutex<HashMap<String, String>>,
    /// Some root field names its release (or a cursor of one).
    pinned: AtomicBool,
    /// Some root field reads "the latest" (or the list of releases, or the schema).
    pub(super) unpinned: AtomicBool,
    /// Execution started (so errors are field errors, not a rejected request).
    pub(super) executed: AtomicBool,
}

impl RequestScope {
    /// The answer's `Cache-Control`: immutable only when every root field named its
    /// release.
    pub(super) fn cache_control(&self) -> HeaderValue {
        let pinned = self.pinned.load(Ordering::Relaxed) && !self.unpinned.load(Ordering::Relaxed);
        crate::http::cache_control(pinned)
    }
}

impl Default for RequestScope {
    fn default() -> Self {
        RequestScope {
            connections: Semaphore::new(MAX_REQUEST_CONNECTIONS),
            releases: Mutex::default(),
            pinned: AtomicBool::default(),
            unpinned: AtomicBool::default(),
            executed: AtomicBool::default(),
        }
    }
}

/// The response key of the root field `ctx` is under.
fn root_key<'a>(ctx: &'a Context<'_>) -> Option<&'a str> {
    let mut node = ctx.path_node.as_ref()?;
    while let Some(parent) = node.parent {
        node = parent;
    }
    match node.segment {
        QueryPathSegment::Name(name) => Some(name),
        QueryPathSegment::Index(_) => None,
    }
}

pub(super) fn scope<'a>(ctx: &'a Context<'_>) -> Result<&'a Arc<RequestScope>, ApiError> {
    ctx.data::<Arc<RequestScope>>()
        .map_err(|_| ApiError::internal(anyhow::anyhow!("the GraphQL limits extension is missing")))
}

/// Called by every root field that reads a release: records the release for the
/// field's nested fields, and whether the request pinned it (for caching).
pub fn enter_release(ctx: &Context<'_>, release: &str, pinned: bool) -> Result<(), ApiError> {
    let scope = scope(ctx)?;
    if let Some(key) = root_key(ctx) {
        scope
            .releases
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.to_owned(), release.to_owned());
    }
    mark_pinned(ctx, pinned)
}

/// Record whether a root field's answer can change when a new release is imported.
pub fn mark_pinned(ctx: &Context<'_>, pinned: bool) -> Result<(), ApiError> {
    let scope = scope(ctx)?;
    if pinned {
        scope.pinned.store(true, Ordering::Relaxed);
    } else {
        scope.unpinned.store(true, Ordering::Relaxed);
    }
    Ok(())
}

/// The release of the root field a nested field is under.
pub fn release_of(ctx: &Context<'_>) -> Result<String, ApiError> {
    let scope = scope(ctx)?;
    root_key(ctx)
        .and_then(|key| {
            scope
                .releases
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(key)
                .cloned()
        })
        .ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!(
                "no release recorded for the root field of {:?}",
                ctx.path_node.map(|p| p.to_string())
            ))
        })
}
