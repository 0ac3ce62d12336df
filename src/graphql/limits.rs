//! Bounds on what one GraphQL request may ask for, checked before any resolver runs, and
//! the per-request bookkeeping the resolvers and the HTTP layer share.
//!
//! Checked in this order (each rejection is a GraphQL error with
//! `extensions.code = "GRAPHQL_VALIDATION_FAILED"`, or `GRAPHQL_PARSE_FAILED` for syntax):
//! 1. body size ([`MAX_BODY_BYTES`], in the HTTP layer);
//! 2. syntax, then the number of fields once fragments are expanded ([`MAX_FIELDS`]) and
//!    the depth of data fields ([`MAX_DEPTH`]); both are computed once per fragment, so
//!    a "fragment bomb" costs linear time to reject;
//! 3. async-graphql's own bounds: selection-set nesting ([`MAX_RECURSION`]), directives
//!    per field ([`MAX_DIRECTIVES`]), and the depth of every field including
//!    introspection ([`MAX_INTROSPECTION_DEPTH`]);
//! 4. validation, then complexity ([`MAX_COMPLEXITY`]), where a paged field costs
//!    `first × (cost of its selection)` (see [`page_cost`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextPrepareRequest, NextRequest,
    NextResolve, NextValidation, ResolveInfo,
};
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Selection, SelectionSet,
};
use async_graphql::{
    Context, QueryPathSegment, Request, Response, SchemaBuilder, ServerError, ServerResult,
    ValidationResult, Value,
};
use axum::http::header;

use crate::error::ApiError;
use crate::query::{DEFAULT_LIMIT, MAX_LIMIT};

/// The largest request accepted: a POST body, or a GET query string.
pub const MAX_BODY_BYTES: usize = 32 * 1024;
/// How deep data fields may nest. `programs { edges { node { statistics { edges { node {
/// source { title } } } } } } }` is 8 deep. Introspection (`__schema`, `__type`) is not
/// counted here: the standard introspection query is 15 deep by itself.
pub const MAX_DEPTH: usize = 10;
/// How deep any field may nest, introspection included (GraphiQL's query is 15 deep).
pub const MAX_INTROSPECTION_DEPTH: usize = 20;
/// How deeply selection sets and fragments may nest (async-graphql's default).
pub const MAX_RECURSION: usize = 32;
/// How many fields a query may select once its fragments are expanded. GraphiQL's
/// introspection query selects 217; the largest example query about 70. This also bounds
/// how many root fields (each its own database queries) one request can alias.
pub const MAX_FIELDS: usize = 1_000;
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

/// What the resolvers of one request share.
#[derive(Default)]
pub struct RequestScope {
    /// The release each root field (by response key) resolved to, so nested fields
    /// (which carry no `release` argument) read the same release.
    releases: Mutex<HashMap<String, String>>,
    /// Some root field names its release (or a cursor of one).
    pinned: AtomicBool,
    /// Some root field reads "the latest" (or the list of releases, or the schema).
    unpinned: AtomicBool,
    /// Execution started (so errors are field errors, not a rejected request).
    executed: AtomicBool,
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

fn scope<'a>(ctx: &'a Context<'_>) -> Result<&'a Arc<RequestScope>, ApiError> {
    ctx.data::<Arc<RequestScope>>()
        .map_err(|_| ApiError::Internal(anyhow::anyhow!("the GraphQL limits extension is missing")))
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
            ApiError::Internal(anyhow::anyhow!(
                "no release recorded for the root field of {:?}",
                ctx.path_node.map(|p| p.to_string())
            ))
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

fn rejection(message: String, code: &str) -> ServerError {
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
            let pinned = self.scope.pinned.load(Ordering::Relaxed)
                && !self.scope.unpinned.load(Ordering::Relaxed);
            response
                .http_headers
                .insert(header::CACHE_CONTROL, crate::http::cache_control(pinned));
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

/// Reject documents that select too many fields or nest data fields too deeply.
fn check_shape(document: &ExecutableDocument) -> ServerResult<()> {
    let mut walker = Walker {
        document,
        memo: HashMap::new(),
        in_progress: Vec::new(),
    };
    let mut fields = 0usize;
    let mut depth = 0usize;
    for (_, operation) in document.operations.iter() {
        let shape = walker.selection_set(&operation.node.selection_set.node);
        fields = fields.saturating_add(shape.fields);
        depth = depth.max(shape.depth);
    }
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
    Ok(())
}

#[derive(Debug, Clone, Copy, Default)]
struct Shape {
    /// Fields selected, fragments expanded.
    fields: usize,
    /// Depth of data fields (introspection subtrees excluded).
    depth: usize,
}

struct Walker<'a> {
    document: &'a ExecutableDocument,
    /// The shape of each fragment, computed once.
    memo: HashMap<&'a str, Shape>,
    /// Fragments being expanded (a cycle is left to validation to report).
    in_progress: Vec<&'a str>,
}

impl<'a> Walker<'a> {
    fn selection_set(&mut self, set: &'a SelectionSet) -> Shape {
        let mut shape = Shape::default();
        for selection in &set.items {
            let inner = match &selection.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    let child = self.selection_set(&field.node.selection_set.node);
                    let introspection = matches!(name, "__schema" | "__type");
                    Shape {
                        fields: child.fields.saturating_add(1),
                        depth: if introspection { 0 } else { child.depth + 1 },
                    }
                }
                Selection::FragmentSpread(spread) => {
                    self.fragment(spread.node.fragment_name.node.as_str())
                }
                Selection::InlineFragment(inline) => {
                    self.selection_set(&inline.node.selection_set.node)
                }
            };
            shape.fields = shape.fields.saturating_add(inner.fields);
            shape.depth = shape.depth.max(inner.depth);
        }
        shape
    }

    fn fragment(&mut self, name: &'a str) -> Shape {
        if let Some(shape) = self.memo.get(name) {
            return *shape;
        }
        if self.in_progress.contains(&name) {
            return Shape::default();
        }
        let Some(fragment) = self.document.fragments.get(name) else {
            return Shape::default();
        };
        self.in_progress.push(name);
        let shape = self.selection_set(&fragment.node.selection_set.node);
        self.in_progress.pop();
        self.memo.insert(name, shape);
        shape
    }
}
