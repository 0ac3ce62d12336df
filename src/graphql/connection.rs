//! Relay connections over [`query::Page`]: every edge's cursor is the REST keyset cursor
//! (`query::Cursor { release, position, sort }`), so a cursor from one interface pages the other.

use async_graphql::SimpleObject;

use crate::model::{Document, Event, Metric, Program, Source, Statistic};
use crate::query::{Cursor, Page};

/// Where a page sits in its collection (the Relay `PageInfo`).
#[derive(Debug, Clone, SimpleObject)]
pub struct PageInfo {
    /// Whether the page starts after a cursor (`after` was given), so rows come before it.
    pub has_previous_page: bool,
    /// Whether more rows follow: pass `endCursor` as `after` to get them.
    pub has_next_page: bool,
    /// The cursor of the first edge on this page, if the page is not empty.
    pub start_cursor: Option<String>,
    /// The cursor of the last edge on this page; pass it as `after` to get the next page.
    pub end_cursor: Option<String>,
}

/// Turn a page of `release` into edges with cursors and a `PageInfo`.
fn edges<T>(release: &str, page: Page<T>, after: bool) -> (Vec<(String, T)>, PageInfo, u64) {
    let sort = page.sort.spec();
    let edges: Vec<(String, T)> = page
        .positions
        .iter()
        .zip(page.items)
        .map(|(&position, item)| {
            let cursor = Cursor {
                release: release.to_owned(),
                position,
                sort: sort.clone(),
            };
            (cursor.encode(), item)
        })
        .collect();
    let info = PageInfo {
        has_previous_page: after,
        has_next_page: page.next.is_some(),
        start_cursor: edges.first().map(|(cursor, _)| cursor.clone()),
        end_cursor: edges.last().map(|(cursor, _)| cursor.clone()),
    };
    (edges, info, page.total)
}

/// One connection type and its edge type per node type, with descriptions naming the
/// rows they hold.
macro_rules! connection {
    ($connection:ident, $edge:ident, $node:ty, $rows:literal) => {
        #[doc = concat!("A page of ", $rows, " in canonical order (a Relay connection).")]
        #[derive(Debug, Clone, SimpleObject)]
        #[graphql(complex)]
        pub struct $connection {
            #[doc = concat!("The ", $rows, " on this page, each with its cursor.")]
            pub edges: Vec<$edge>,
            /// Where this page sits in the collection, and the cursor to continue from.
            pub page_info: PageInfo,
            #[doc = concat!("How many ", $rows, " match the filter, across all pages.")]
            pub total_count: u64,
        }

        #[async_graphql::ComplexObject]
        impl $connection {
            #[doc = concat!("The ", $rows, " on this page, without cursors (the `node` of each edge).")]
            async fn nodes(&self) -> Vec<&$node> {
                self.edges.iter().map(|edge| &edge.node).collect()
            }
        }

        #[doc = concat!("One of the ", $rows, " on a page, with its cursor.")]
        #[derive(Debug, Clone, SimpleObject)]
        pub struct $edge {
            /// An opaque cursor: pass it as `after` to continue after this row.
            pub cursor: String,
            #[doc = concat!("One of the ", $rows, ".")]
            pub node: $node,
        }

        impl $connection {
            /// The connection for a page of `release`; `after` says whether the page
            /// starts after a cursor.
            pub fn new(release: &str, page: Page<$node>, after: bool) -> Self {
                let (edges, page_info, total_count) = edges(release, page, after);
                $connection {
                    edges: edges
                        .into_iter()
                        .map(|(cursor, node)| $edge { cursor, node })
                        .collect(),
                    page_info,
                    total_count,
                }
            }

        }
    };
}

connection!(ProgramConnection, ProgramEdge, Program, "programs");
connection!(StatisticConnection, StatisticEdge, Statistic, "statistics");
connection!(EventConnection, EventEdge, Event, "events");
connection!(DocumentConnection, DocumentEdge, Document, "documents");
connection!(SourceConnection, SourceEdge, Source, "sources");
connection!(MetricConnection, MetricEdge, Metric, "metrics");
