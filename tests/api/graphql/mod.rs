//! The GraphQL interface: root fields, filters, connections, limits, batching (no N+1),
//! GraphQL over HTTP (GET caching, media types, status codes), GraphiQL, the SDL.

mod arguments;
mod batching;
mod cache;
mod graphiql;
mod limits;
mod over_http;
mod root_fields;
mod sdl;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use sanctuary_data::query::{self, PageRequest};
use sanctuary_data::{AppState, build_app, graphql};
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::helpers::*;

pub(super) const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// A response: status, headers and the body (JSON when it parses, else a string).
pub(super) struct Reply {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: Value,
    pub(super) bytes: Vec<u8>,
}

impl Reply {
    pub(super) fn header(&self, name: impl header::AsHeaderName) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }
}

pub(super) async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Reply {
        status,
        headers,
        body,
        bytes,
    }
}

/// POST a GraphQL request body, with an optional `Accept` header.
pub(super) async fn post(app: &Router, body: Value, accept: Option<&str>) -> Reply {
    let mut request = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
    if let Some(accept) = accept {
        request = request.header(header::ACCEPT, accept);
    }
    send(app, request.body(Body::from(body.to_string())).unwrap()).await
}

/// GET a URI with extra headers.
pub(super) async fn get(app: &Router, uri: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(app, request.body(Body::empty()).unwrap()).await
}

/// Run a query that must succeed; its `data`.
pub(super) async fn data(app: &Router, query: &str) -> Value {
    let reply = post(app, json!({ "query": query }), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.body.get("errors").is_none(), "{}", reply.body);
    reply.body["data"].clone()
}

/// Run a query that must fail; its first error.
pub(super) async fn first_error(app: &Router, query: &str) -> Value {
    let reply = post(app, json!({ "query": query }), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["errors"][0].clone()
}

pub(super) fn ids(nodes: &Value) -> Vec<&str> {
    nodes
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {nodes}"))
        .iter()
        .map(|n| n["id"].as_str().or(n["slug"].as_str()).unwrap())
        .collect()
}

/// A connection to the same database whose statements are counted.
pub(super) fn counting(db: &DatabaseConnection) -> (Router, Arc<AtomicUsize>) {
    let mut db = db.clone();
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    db.set_metric_callback(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    (build_app(AppState::new(db)), count)
}

/// Run `query` on a counting app; the number of statements it cost.
pub(super) async fn statements(db: &DatabaseConnection, query: &str) -> (usize, Value) {
    let (app, count) = counting(db);
    let reply = post(&app, json!({ "query": query }), None).await;
    (count.load(Ordering::SeqCst), reply.body)
}

/// Replace `from` with `to` in one file of a fixture copy.
pub(super) fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} does not contain {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// Append lines to one file of a fixture copy.
pub(super) fn append(dir: &Path, file: &str, lines: &str) {
    let path = dir.join(file);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(lines);
    std::fs::write(&path, text).unwrap();
}

pub(super) async fn latest_release(db: &DatabaseConnection) -> String {
    query::latest_release(db).await.unwrap().unwrap().id
}
