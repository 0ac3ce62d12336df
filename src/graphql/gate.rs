//! Bounds on the database work of GraphQL resolvers: connections per request and for
//! GraphQL as a whole, and the deadline of each query (see `limits.rs` for the numbers).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::Context;
use tokio::sync::Semaphore;

use super::limits::MAX_GRAPHQL_CONNECTIONS;
use crate::db::{ACQUIRE_TIMEOUT, STATEMENT_TIMEOUT};
use crate::error::ApiError;

/// The database connections GraphQL may use ([`MAX_GRAPHQL_CONNECTIONS`]), shared by every
/// request of one schema and by the DataLoader, and the deadline of each query.
#[derive(Clone)]
pub struct DbGate {
    connections: Arc<Semaphore>,
}

impl Default for DbGate {
    fn default() -> Self {
        DbGate {
            connections: Arc::new(Semaphore::new(MAX_GRAPHQL_CONNECTIONS)),
        }
    }
}

impl DbGate {
    /// Run database work (which holds one connection at a time) once GraphQL has a
    /// connection to spare, and give up after [`STATEMENT_TIMEOUT`]. Waiting for a
    /// connection is bounded like the pool's own wait ([`ACQUIRE_TIMEOUT`]).
    pub async fn run<T>(
        &self,
        work: impl Future<Output = Result<T, ApiError>>,
    ) -> Result<T, ApiError> {
        self.run_within(ACQUIRE_TIMEOUT, STATEMENT_TIMEOUT, work)
            .await
    }

    async fn run_within<T>(
        &self,
        wait: Duration,
        deadline: Duration,
        work: impl Future<Output = Result<T, ApiError>>,
    ) -> Result<T, ApiError> {
        let _permit = tokio::time::timeout(wait, self.connections.acquire())
            .await
            .map_err(|_| ApiError::Unavailable)?
            .map_err(|_| ApiError::Unavailable)?;
        tokio::time::timeout(deadline, work)
            .await
            .unwrap_or_else(|_| {
                tracing::warn!(?deadline, "a GraphQL database query timed out");
                Err(ApiError::Unavailable)
            })
    }
}

/// Run the database work of a resolver within the request's and GraphQL's connection
/// caps, and the statement deadline (see [`DbGate::run`]).
pub async fn db<T>(
    ctx: &Context<'_>,
    work: impl Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    let scope = super::scope::scope(ctx)?;
    let gate = ctx
        .data::<DbGate>()
        .map_err(|_| ApiError::internal(anyhow::anyhow!("the GraphQL DbGate is missing")))?;
    // Waiting for the request's own queries is bounded by their deadlines.
    let _permit = scope
        .connections
        .acquire()
        .await
        .map_err(|_| ApiError::Unavailable)?;
    gate.run(work).await
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;

    #[tokio::test]
    async fn the_gate_caps_concurrent_database_work_and_abandons_it_at_the_deadline() {
        use std::sync::atomic::AtomicUsize;
        let gate = DbGate::default();
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..4 * MAX_GRAPHQL_CONNECTIONS)
            .map(|_| {
                let (gate, running, most) = (gate.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    gate.run(async {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        running.fetch_sub(1, Ordering::SeqCst);
                        Ok(())
                    })
                    .await
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), MAX_GRAPHQL_CONNECTIONS);

        let slow = gate.run_within(Duration::from_secs(5), Duration::from_millis(50), async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(())
        });
        let started = std::time::Instant::now();
        assert!(matches!(slow.await, Err(ApiError::Unavailable)));
        assert!(started.elapsed() < Duration::from_secs(30));
        // The abandoned work gave its connection back.
        assert_eq!(
            gate.connections.available_permits(),
            MAX_GRAPHQL_CONNECTIONS
        );
    }
}
