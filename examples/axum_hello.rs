//! The framework ceiling for `bench/compare.sh`: an axum "Hello, World!" on the same axum,
//! tokio and release profile as the service, so `/healthz` through the full middleware
//! stack can be compared with a route through none.
//!
//! Run: `cargo run --release --example axum_hello -- 127.0.0.1:3000` (prints the address).

use axum::{Router, routing::get};

#[tokio::main]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let app = Router::new().route("/", get(|| async { "Hello, World!" }));
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .expect("a free address");
    println!("{}", listener.local_addr().expect("a bound address"));
    axum::serve(listener, app).await.expect("serving");
}
