//! Bounds on what one GraphQL request may ask for, checked before any resolver runs, and
//! the numbers that bound the database work it may do while running (enforced in
//! `gate.rs`).
//!
//! Checked in this order (each rejection is a GraphQL error with
//! `extensions.code = "GRAPHQL_VALIDATION_FAILED"`, or `GRAPHQL_PARSE_FAILED` for syntax):
//! 1. body size ([`MAX_BODY_BYTES`], in the HTTP layer); JSON variables nest at most 128
//!    deep (serde_json's own limit, a 400 in the HTTP layer);
//! 2. bracket nesting ([`MAX_NESTING`]), by a linear scan of the text *before* parsing
//!    (`nesting.rs`):
//!    the parser recurses on nested values without a bound;
//! 3. syntax, then the number of fields once fragments are expanded ([`MAX_FIELDS`]),
//!    the depth of data fields ([`MAX_DEPTH`]) and the database queries the query would
//!    make ([`MAX_DB_QUERIES`]); all are computed once per fragment, so a "fragment bomb"
//!    costs linear time to reject;
//! 4. async-graphql's own bounds: selection-set nesting ([`MAX_RECURSION`]), directives
//!    per field ([`MAX_DIRECTIVES`]), and the depth of every field including
//!    introspection ([`MAX_INTROSPECTION_DEPTH`]);
//! 5. validation, then complexity ([`MAX_COMPLEXITY`]), where a paged field costs
//!    `first × (cost of its selection)` (see [`page_cost`]).
//!
//! While a request runs, every database query of a resolver goes through a `DbGate`
//! (`gate.rs`):
//! one request holds at most [`MAX_REQUEST_CONNECTIONS`] database connections at once,
//! GraphQL as a whole at most [`MAX_GRAPHQL_CONNECTIONS`] (so REST and `/readyz` always
//! find free connections in the pool), and each query is abandoned after
//! [`crate::db::STATEMENT_TIMEOUT`] (PostgreSQL also cancels it on the server). Which
//! release each root field reads, and so how long the answer may be cached, is kept in
//! the request's `RequestScope` (`scope.rs`).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextPrepareRequest, NextRequest,
    NextResolve, NextValidation, ResolveInfo,
};
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Selection, SelectionSet,
};
use async_graphql::{
    Request, Response, SchemaBuilder, ServerError, ServerResult, ValidationResult, Value,
};
use axum::http::header;

use crate::db::MAX_CONNECTIONS;
use crate::query::{DEFAULT_LIMIT, MAX_LIMIT};

use super::scope::RequestScope;

/// The largest request accepted: a POST body, or a GET query string.
pub const MAX_BODY_BYTES: usize = 32 * 1024;
/// How deeply brackets (`{ }`, `[ ]`, `( )`) may nest in the query text, whatever they
/// enclose: selection sets, arguments, list and object values, variable types. The
/// standard introspection query nests about 10 deep; `MAX_RECURSION` and `MAX_DEPTH`
/// bound selection sets further.
pub const MAX_NESTING: usize = 64;
/// How deep data fields may nest. `programs { edges { node { statistics { edges { node {
/// source { title } } } } } } }` is 8 deep. Introspection (`__schema`, `__type`) is not
/// counted here: the standard introspection query is 15 deep by itself.
pub const MAX_DEPTH: usize = 10;
/// How deep any field may nest, introspection included (GraphiQL's query is 15 deep).
pub const MAX_INTROSPECTION_DEPTH: usize = 20;
/// How deeply selection sets and fragments may nest (async-graphql's default).
pub const MAX_RECURSION: usize = 32;
/// How many fields a query may select once its fragments are expanded. GraphiQL's
/// introspection query selects 217; the largest example query about 70.
pub const MAX_FIELDS: usize = 1_000;
/// How much database work one request may ask for, counted before anything runs, in
/// database queries: a list at the root costs 5 (`statistics`, `programs`, `events`,
/// `documents`: its release, `totalCount`, page and the sources it cites) or 3
/// (`sources`, `metrics`); facets (`statisticFacets`, `eventFacets`, `documentFacets`) 6
/// (the release, the count and one `GROUP BY` per field, at most `query::MAX_FACETS`);
/// `program` 3; `source` 2; `release` and `releases` 1;
/// `Statistic.metric` 1. A nested list (`Program.statistics`, …) is one query for all its
/// parents, but it reads every matching row of those programs (not only `first`), so it
/// weighs 10. Aliases repeat the cost: 249 aliased `statistics { totalCount }` cost 1 245
/// and are refused. Every program with its statistics (and their metrics), events and
/// documents costs 34; a dashboard of every collection about 20.
pub const MAX_DB_QUERIES: usize = 40;
/// Database connections one GraphQL request may hold at once (its root fields run
/// concurrently, but only this many of their queries at a time).
pub const MAX_REQUEST_CONNECTIONS: usize = 2;
/// Database connections all GraphQL requests together may hold at once: half of the
/// pool, so REST requests and `/readyz` always find a free connection.
pub const MAX_GRAPHQL_CONNECTIONS: usize = MAX_CONNECTIONS as usize / 2;
/// The largest query complexity. A scalar or object field costs 1 plus its selection; a
/// paged field (`programs`, `statistics`, …, and the nested `Program.statistics`, …)
/// costs `first` (default 100) times the cost of its selection. Calibration: every
/// program with every field of its statistics, events and documents at the default page
/// sizes costs 531 600; the largest page of statistics with every field, about 30 000;
/// `programs(first: 1000) { … statistics(first: 1000) { … { id value } } }` costs
/// 4 002 000 and is refused.
pub const MAX_COMPLEXITY: usize = 1_000_000;
/// Directives allowed on one field (`@include` and `@skip` need two).
pub const MAX_DIRECTIVES: usize = 4;

/// Error codes of rejected requests (`extensions.code`); nothing was executed.
pub const PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
pub const VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";

/// Apply the limits to a schema under construction.
pub fn apply<Q, M, S>(builder: SchemaBuilder<Q, M, S>) -> SchemaBuilder<Q, M, S> {
    builder
        .extension(Limits)
        .limit_depth(MAX_INTROSPECTION_DEPTH)
        .limit_recursive_depth(MAX_RECURSION)
        .limit_directives(MAX_DIRECTIVES)
}

/// The complexity of a paged field: `first` (clamped to its allowed range, since an
/// out-of-range value is rejected by the resolver with a clearer message) times the
/// complexity of its selection.
pub fn page_cost(first: Option<i32>, child_complexity: usize) -> usize {
    let first = first.map_or(DEFAULT_LIMIT as i64, i64::from);
    (first.clamp(1, MAX_LIMIT as i64) as usize).saturating_mul(child_complexity.max(1))
}

/// Whether a response is a rejected request (nothing executed), which GraphQL over HTTP
/// answers with 400 when the client accepts `application/graphql-response+json`.
pub fn is_request_error(response: &Response) -> bool {
    !response.errors.is_empty()
        && response.errors.iter().all(|error| {
            matches!(
                error.extensions.as_ref().and_then(|e| e.get("code")),
                Some(Value::String(code)) if code == PARSE_FAILED || code == VALIDATION_FAILED
            )
        })
}

struct Limits;

impl ExtensionFactory for Limits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(LimitsExtension {
            scope: Arc::new(RequestScope::default()),
        })
    }
}

struct LimitsExtension {
    scope: Arc<RequestScope>,
}

pub(super) fn rejection(message: String, code: &str) -> ServerError {
    let mut error = ServerError::new(message, None);
    tag(&mut error, code);
    error
}

fn tag(error: &mut ServerError, code: &str) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code);
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for LimitsExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        if !self.scope.executed.load(Ordering::Relaxed) {
            for error in &mut response.errors {
                tag(error, VALIDATION_FAILED);
            }
        } else if response.is_ok() {
            response
                .http_headers
                .insert(header::CACHE_CONTROL, self.scope.cache_control());
        }
        response
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let mut request = request.data(self.scope.clone());
        super::nesting::check_nesting(&request.query)?;
        // Parse here, once, so the size and depth checks run before async-graphql's
        // own passes over the document (which expand fragments every time they are used).
        let document = async_graphql::parser::parse_query(&request.query).map_err(|e| {
            let mut error = ServerError::from(e);
            tag(&mut error, PARSE_FAILED);
            error
        })?;
        check_shape(&document)?;
        check_variables(&document, &request)?;
        request.set_parsed_query(document);
        next.run(ctx, request).await
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        if result.complexity > MAX_COMPLEXITY {
            return Err(vec![rejection(
                format!(
                    "the query is too complex: its complexity is {}, and the limit is \
                     {MAX_COMPLEXITY}; a paged field costs `first` (default {DEFAULT_LIMIT}) \
                     times the cost of its selection, so ask for smaller pages or fewer fields",
                    result.complexity
                ),
                VALIDATION_FAILED,
            )]);
        }
        Ok(result)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        self.scope.executed.store(true, Ordering::Relaxed);
        next.run(ctx, operation_name).await
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        // The schema itself changes with a deploy, not with a release: never immutable.
        if info.path_node.parent.is_none() && matches!(info.name, "__schema" | "__type") {
            self.scope.unpinned.store(true, Ordering::Relaxed);
        }
        next.run(ctx, info).await
    }
}

/// Reject a request that leaves out a required variable (async-graphql would only notice
/// while executing, as a field error). Variables of the wrong type are caught by
/// validation.
fn check_variables(document: &ExecutableDocument, request: &Request) -> ServerResult<()> {
    let operation = match (&request.operation_name, &document.operations) {
        (None, DocumentOperations::Single(operation)) => operation,
        (Some(name), DocumentOperations::Multiple(operations)) => {
            match operations.get(name.as_str()) {
                Some(operation) => operation,
                None => return Ok(()),
            }
        }
        (None, DocumentOperations::Multiple(operations)) if operations.len() == 1 => {
            match operations.values().next() {
                Some(operation) => operation,
                None => return Ok(()),
            }
        }
        // Validation reports the ambiguity.
        _ => return Ok(()),
    };
    for definition in &operation.node.variable_definitions {
        let definition = &definition.node;
        let required = !definition.var_type.node.nullable && definition.default_value.is_none();
        let given = request
            .variables
            .get(&definition.name.node)
            .is_some_and(|value| *value != Value::Null);
        if required && !given {
            return Err(rejection(
                format!(
                    "variable ${} of type {} is required, and the request gives no value for it",
                    definition.name.node, definition.var_type.node
                ),
                VALIDATION_FAILED,
            ));
        }
    }
    Ok(())
}

/// Reject documents that select too many fields, nest data fields too deeply, or would
/// make too many database queries.
fn check_shape(document: &ExecutableDocument) -> ServerResult<()> {
    let mut walker = Walker {
        document,
        memo: HashMap::new(),
        in_progress: Vec::new(),
    };
    let mut shape = Shape::default();
    for (_, operation) in document.operations.iter() {
        let operation = walker.selection_set(&operation.node.selection_set.node, true);
        shape.fields = shape.fields.saturating_add(operation.fields);
        shape.depth = shape.depth.max(operation.depth);
        shape.db_queries = shape.db_queries.saturating_add(operation.db_queries);
    }
    let Shape {
        fields,
        depth,
        db_queries,
    } = shape;
    if fields > MAX_FIELDS {
        return Err(rejection(
            format!(
                "the query selects {fields} fields once its fragments are expanded, and the \
                 limit is {MAX_FIELDS}; split it into several queries"
            ),
            VALIDATION_FAILED,
        ));
    }
    if depth > MAX_DEPTH {
        return Err(rejection(
            format!(
                "the query is nested too deep: its depth is {depth}, and the limit is \
                 {MAX_DEPTH} (introspection fields are not counted)"
            ),
            VALIDATION_FAILED,
        ));
    }
    if db_queries > MAX_DB_QUERIES {
        return Err(rejection(
            format!(
                "the query would make {db_queries} database queries, and the limit \
                 (MAX_DB_QUERIES) is {MAX_DB_QUERIES}: a list at the root such as \
                 `statistics` costs 5 (with its `totalCount`), a nested list such as \
                 `Program.statistics` {NESTED_LIST_QUERIES}, and aliases repeat the cost; \
                 ask for fewer fields, or split the query into several requests"
            ),
            VALIDATION_FAILED,
        ));
    }
    Ok(())
}

/// The weight of a nested list (see [`MAX_DB_QUERIES`]).
const NESTED_LIST_QUERIES: usize = 10;

/// The database queries a field makes by itself (its selection aside): what the
/// resolvers in [`super::root`] and [`super::nested`] and the query layer run, at most
/// (a page of up to 1 000 rows cites at most 2 chunks of 500 sources). Fields of the rows
/// themselves (`source`, `totalCount`, `pageInfo`, …) are read with the row; the
/// DataLoader answers every parent of a nested field at once (up to 1 000 keys a batch,
/// and a page holds at most 1 000 parents).
fn db_queries_of(name: &str, root: bool) -> usize {
    match (root, name) {
        (true, "programs" | "statistics" | "events" | "documents") => 5,
        (true, "sources" | "metrics" | "program") => 3,
        (true, "source") => 2,
        (true, "statisticFacets" | "eventFacets" | "documentFacets") => {
            2 + crate::query::MAX_FACETS
        }
        (true, "release" | "releases") => 1,
        (false, "statistics" | "events" | "documents") => NESTED_LIST_QUERIES,
        (false, "metric") => 1,
        _ => 0,
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Shape {
    /// Fields selected, fragments expanded.
    fields: usize,
    /// Depth of data fields (introspection subtrees excluded).
    depth: usize,
    /// Database queries the resolvers will make, at most.
    db_queries: usize,
}

struct Walker<'a> {
    document: &'a ExecutableDocument,
    /// The shape of each fragment (spread at the root or not), computed once.
    memo: HashMap<(&'a str, bool), Shape>,
    /// Fragments being expanded (a cycle is left to validation to report).
    in_progress: Vec<&'a str>,
}

impl<'a> Walker<'a> {
    /// The shape of a selection set; `root` when its fields are root fields.
    fn selection_set(&mut self, set: &'a SelectionSet, root: bool) -> Shape {
        let mut shape = Shape::default();
        for selection in &set.items {
            let inner = match &selection.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    let child = self.selection_set(&field.node.selection_set.node, false);
                    let introspection = matches!(name, "__schema" | "__type");
                    Shape {
                        fields: child.fields.saturating_add(1),
                        depth: if introspection { 0 } else { child.depth + 1 },
                        db_queries: child.db_queries.saturating_add(db_queries_of(name, root)),
                    }
                }
                Selection::FragmentSpread(spread) => {
                    self.fragment(spread.node.fragment_name.node.as_str(), root)
                }
                Selection::InlineFragment(inline) => {
                    self.selection_set(&inline.node.selection_set.node, root)
                }
            };
            shape.fields = shape.fields.saturating_add(inner.fields);
            shape.depth = shape.depth.max(inner.depth);
            shape.db_queries = shape.db_queries.saturating_add(inner.db_queries);
        }
        shape
    }

    fn fragment(&mut self, name: &'a str, root: bool) -> Shape {
        if let Some(shape) = self.memo.get(&(name, root)) {
            return *shape;
        }
        if self.in_progress.contains(&name) {
            return Shape::default();
        }
        let Some(fragment) = self.document.fragments.get(name) else {
            return Shape::default();
        };
        self.in_progress.push(name);
        let shape = self.selection_set(&fragment.node.selection_set.node, root);
        self.in_progress.pop();
        self.memo.insert((name, root), shape);
        shape
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_249_alias_total_count_query_is_refused_for_its_database_queries() {
        let aliases: String = (0..249)
            .map(|i| format!("a{i}: statistics {{ totalCount }} "))
            .collect();
        let document = async_graphql::parser::parse_query(format!("{{ {aliases} }}")).unwrap();
        let error = check_shape(&document).unwrap_err();
        assert!(
            error.message.starts_with(
                "the query would make 1245 database queries, and the limit (MAX_DB_QUERIES) is"
            ),
            "{}",
            error.message
        );
    }

    #[test]
    fn database_queries_count_root_lists_nested_lists_and_fragments() {
        let shape = |query: &str| {
            let document = async_graphql::parser::parse_query(query).unwrap();
            let mut walker = Walker {
                document: &document,
                memo: HashMap::new(),
                in_progress: Vec::new(),
            };
            let (_, operation) = document.operations.iter().next().unwrap();
            walker
                .selection_set(&operation.node.selection_set.node, true)
                .db_queries
        };
        assert_eq!(shape("{ __schema { types { name } } __typename }"), 0);
        assert_eq!(
            shape("{ statistics { totalCount } sources { totalCount } }"),
            5 + 3
        );
        assert_eq!(
            shape(
                "{ programs { nodes { statistics { nodes { metric { id } } } events { totalCount } } } }"
            ),
            5 + 10 + 1 + 10
        );
        assert_eq!(
            shape("{ program(slug: \"a\") { documents { totalCount } } releases { id } }"),
            3 + 10 + 1
        );
        // The same fragment at the root and nested costs what its fields cost there.
        assert_eq!(
            shape(
                "{ ...S programs { nodes { ...S } } } fragment S on Query { statistics { totalCount } }"
            ),
            5 + 5 + 10
        );
    }
}
