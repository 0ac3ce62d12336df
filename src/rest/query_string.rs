//! Query strings: strict parsing of a request's parameters ([`ApiQuery`]), content
//! negotiation ([`Representation`]) and the parameter structs documented in OpenAPI.

use super::*;

/// A request's path, query pairs and headers, for strict parameter parsing.
pub struct ApiQuery {
    pub(super) path: String,
    pub(super) pairs: Vec<(String, String)>,
    pub(super) headers: HeaderMap,
}

impl<S: Send + Sync> FromRequestParts<S> for ApiQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
        for (name, value) in &pairs {
            query::check_text(name, name)?;
            query::check_text(name, value)?;
        }
        // Nested routers see a shortened path; links and cache keys need the one the client used.
        let path = match parts.extensions.get::<axum::extract::OriginalUri>() {
            Some(original) => original.path().to_owned(),
            None => parts.uri.path().to_owned(),
        };
        Ok(ApiQuery {
            path,
            pairs,
            headers: parts.headers.clone(),
        })
    }
}

/// A parameter struct documented in OpenAPI (`IntoParams`) and read from the query string
/// by the same struct, so the documentation, the allowed names and the parsing cannot
/// disagree.
pub trait QueryParams: IntoParams + Sized {
    /// Read the parameters (their names are already checked); a malformed value is a 400
    /// naming it.
    fn read(request: &ApiQuery) -> Result<Self, ApiError>;
}

impl ApiQuery {
    /// The typed filter parameters `P` of a collection. Any name other than `P`'s and the
    /// paging parameters of [`ListParams`] is a 400 naming it.
    pub fn list_params<P: QueryParams>(&self) -> Result<P, ApiError> {
        let mut allowed = param_names::<ListParams>();
        allowed.extend(param_names::<P>());
        self.check_names(&allowed)?;
        P::read(self)
    }

    /// The typed filter parameters `P` of an API collection: as [`Self::list_params`],
    /// and `fields` too (field selection, read by `rest::list`; the HTML table view shows
    /// every column and refuses it).
    pub fn collection_params<P: QueryParams>(&self) -> Result<P, ApiError> {
        let mut allowed = param_names::<ListParams>();
        allowed.extend(param_names::<P>());
        allowed.push(crate::fields::PARAMETER.to_owned());
        self.check_names(&allowed)?;
        P::read(self)
    }

    /// The typed parameters `P` of a resource; any other name is a 400 naming it.
    pub fn params<P: QueryParams>(&self) -> Result<P, ApiError> {
        self.check_names(&param_names::<P>())?;
        P::read(self)
    }

    /// Reject unknown, repeated and empty parameters. `allowed` comes from the handler's
    /// documented parameter structs, so the docs and the check cannot disagree.
    pub fn check_names(&self, allowed: &[String]) -> Result<(), ApiError> {
        for (i, (name, value)) in self.pairs.iter().enumerate() {
            if !allowed.iter().any(|a| a == name) {
                let expected = if allowed.is_empty() {
                    "this resource takes no parameters".to_owned()
                } else {
                    format!("allowed: {}", allowed.join(", "))
                };
                return Err(ApiError::invalid(
                    name.clone(),
                    format!("unknown parameter {:?} ({expected})", echo(name)),
                ));
            }
            if self.pairs[..i].iter().any(|(n, _)| n == name) {
                return Err(ApiError::invalid(
                    name.clone(),
                    format!(
                        "parameter {0} is given more than once; to ask for several values, separate them with commas ({0}=a,b)",
                        echo(name)
                    ),
                ));
            }
            if value.is_empty() {
                return Err(ApiError::invalid(
                    name.clone(),
                    format!("parameter {} is empty", echo(name)),
                ));
            }
        }
        Ok(())
    }

    /// The path the client asked for.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The request's headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The same request without its empty parameters: an HTML form sends every field,
    /// filled in or not, and an empty field means "no filter" (the API refuses empty
    /// parameters, so a link to it never carries one).
    pub fn without_empty(mut self) -> Self {
        self.pairs.retain(|(_, value)| !value.is_empty());
        self
    }

    pub fn text(&self, name: &str) -> Option<String> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    /// The comma-separated values of a list filter (none when the parameter is absent):
    /// at most `query::MAX_FILTER_VALUES`, none empty; a value given twice counts once.
    pub fn list(&self, name: &str) -> Result<Vec<String>, ApiError> {
        let Some(text) = self.text(name) else {
            return Ok(Vec::new());
        };
        let mut values: Vec<String> = Vec::new();
        for value in text.split(',') {
            if !values.iter().any(|v| v == value) {
                values.push(value.to_owned());
            }
        }
        query::check_values(name, &values)?;
        Ok(values)
    }

    /// The comma-separated values of a list filter over a closed vocabulary.
    pub fn vocab_list<T>(
        &self,
        name: &str,
        parse: fn(&str) -> Option<T>,
        values: &[&str],
    ) -> Result<Vec<T>, ApiError> {
        self.list(name)?
            .iter()
            .map(|v| {
                parse(v).ok_or_else(|| {
                    ApiError::invalid(
                        name,
                        format!(
                            "{name} must be one or more of {} (separated by commas), got {:?}",
                            values.join(", "),
                            echo(v)
                        ),
                    )
                })
            })
            .collect()
    }

    pub fn date(&self, name: &str) -> Result<Option<NaiveDate>, ApiError> {
        self.text(name)
            .map(|v| {
                NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                    .ok()
                    .filter(|_| v.len() == 10)
                    .ok_or_else(|| {
                        ApiError::invalid(
                            name,
                            format!("{name} must be a date as YYYY-MM-DD, got {:?}", echo(&v)),
                        )
                    })
            })
            .transpose()
    }

    pub fn integer(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.text(name)
            .map(|v| {
                v.parse::<i64>().map_err(|_| {
                    ApiError::invalid(
                        name,
                        format!("{name} must be a whole number, got {:?}", echo(&v)),
                    )
                })
            })
            .transpose()
    }

    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        self.text(name)
            .map(|v| match v.as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(ApiError::invalid(
                    name,
                    format!("{name} must be true or false, got {:?}", echo(&v)),
                )),
            })
            .transpose()
    }

    pub fn vocab<T>(
        &self,
        name: &str,
        parse: fn(&str) -> Option<T>,
        values: &[&str],
    ) -> Result<Option<T>, ApiError> {
        self.text(name)
            .map(|v| {
                parse(&v).ok_or_else(|| {
                    ApiError::invalid(
                        name,
                        format!(
                            "{name} must be one of {}, got {:?}",
                            values.join(", "),
                            echo(&v)
                        ),
                    )
                })
            })
            .transpose()
    }

    /// The query string in a canonical order, for cache keys and links.
    pub(crate) fn normalized(&self, skip: &[&str]) -> String {
        let mut pairs: Vec<&(String, String)> = self
            .pairs
            .iter()
            .filter(|(n, _)| !skip.contains(&n.as_str()))
            .collect();
        pairs.sort();
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    }

    /// Whether the URL names its release for good: a full release id (a short prefix
    /// could become ambiguous when a release is imported) or a cursor (which holds one).
    pub(crate) fn pins_release(&self) -> bool {
        self.text("release")
            .is_some_and(|release| query::is_release_id(&release))
            || self.text("cursor").is_some()
    }

    /// JSON or CSV, from a `format` parameter (which wins) or the `Accept` header. `bom`
    /// is ignored for JSON.
    pub(super) fn representation(
        &self,
        format: Option<&str>,
        bom: Option<bool>,
        csv_allowed: bool,
    ) -> Result<Representation, ApiError> {
        let bom = bom.unwrap_or(false);
        if let Some(format) = format {
            return match format {
                "json" => Ok(Representation::Json),
                "csv" if csv_allowed => Ok(Representation::Csv { bom }),
                _ => Err(ApiError::invalid(
                    "format",
                    format!("format must be json or csv, got {:?}", echo(format)),
                )),
            };
        }
        let accept = self
            .headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(",");
        match negotiate(&accept, csv_allowed) {
            Some(Representation::Csv { .. }) => Ok(Representation::Csv { bom }),
            Some(json) => Ok(json),
            None => Err(ApiError::NotAcceptable {
                detail: format!(
                    "cannot produce any of {:?}; available: application/json{}",
                    crate::error::echo(&accept),
                    if csv_allowed { ", text/csv" } else { "" }
                ),
            }),
        }
    }
}

/// The media types a response can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Representation {
    Json,
    Csv { bom: bool },
}

/// Pick JSON or CSV from an `Accept` header by quality, then by order.
pub(super) fn negotiate(accept: &str, csv_allowed: bool) -> Option<Representation> {
    if accept.trim().is_empty() {
        return Some(Representation::Json);
    }
    let mut best: Option<(f32, Representation)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if quality <= 0.0 {
            continue;
        }
        let representation = match media.as_str() {
            "application/json" | "application/*" | "*/*" | "application/problem+json" => {
                Representation::Json
            }
            "text/csv" | "text/*" if csv_allowed => Representation::Csv { bom: false },
            _ => continue,
        };
        if best.is_none_or(|(q, _)| quality > q) {
            best = Some((quality, representation));
        }
    }
    best.map(|(_, r)| r)
}

/// The text search `q` of a collection, checked as GraphQL checks its `q`
/// (`query::check_search`).
pub(super) fn search_param(request: &ApiQuery) -> Result<Option<String>, ApiError> {
    let q = request.text("q");
    if let Some(q) = &q {
        query::check_search("q", q)?;
    }
    Ok(q)
}

/// Names of the parameters documented by `T`.
pub fn param_names<T: IntoParams>() -> Vec<String> {
    T::into_params(|| None)
        .into_iter()
        .map(|p| p.name)
        .collect()
}

/// Parameters every collection takes: paging, the release and the representation.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Rows per page, 1 to 1000.
    #[param(minimum = 1, maximum = 1000, default = 100, example = 100)]
    pub(super) limit: Option<i64>,
    /// Opaque cursor from `links.next` or the `Link` header; it pins the release. Only
    /// cursors this service issued are accepted.
    #[param(pattern = "^[A-Za-z0-9_-]+$")]
    pub(super) cursor: Option<String>,
    /// A release id (64 hex digits, or a unique prefix of at least 8, see
    /// `/api/v1/releases`); default: the latest release.
    #[param(pattern = "^[0-9a-f]{8,64}$")]
    pub(super) release: Option<String>,
    /// `json` (default) or `csv`; overrides the `Accept` header.
    #[param(pattern = "^(json|csv)$")]
    pub(super) format: Option<String>,
    /// With CSV: prefix a UTF-8 byte order mark so Excel reads accents correctly
    /// (ignored for JSON).
    pub(super) bom: Option<bool>,
}

impl QueryParams for ListParams {
    fn read(request: &ApiQuery) -> Result<Self, ApiError> {
        Ok(ListParams {
            limit: request.integer("limit")?,
            cursor: request.text("cursor"),
            release: request.text("release"),
            format: request.text("format"),
            bom: request.boolean("bom")?,
        })
    }
}

impl ListParams {
    /// JSON or CSV, as `format` or the `Accept` header asks.
    pub(super) fn representation(&self, request: &ApiQuery) -> Result<Representation, ApiError> {
        request.representation(self.format.as_deref(), self.bom, true)
    }

    /// The release and page these parameters ask for (`release`, else the cursor's
    /// release, else the latest; `limit` and `cursor` checked). Every collection, in the
    /// API and in the HTML table view, pages through this.
    pub async fn resolve_page(
        &self,
        releases: &crate::releases::Releases,
        sort: query::Sort,
    ) -> Result<(std::sync::Arc<crate::entity::release::Model>, PageRequest), ApiError> {
        query::resolve_page(
            releases,
            self.release.as_deref(),
            self.cursor.as_deref(),
            self.limit,
            sort,
            ("limit", "cursor"),
        )
        .await
    }

    /// Whether `format` or `bom` was given (they choose a media type, which an HTML view
    /// does not offer).
    pub fn asks_for_a_format(&self) -> bool {
        self.format.is_some() || self.bom.is_some()
    }
}

/// Parameters every single item takes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemParams {
    /// A release id (64 hex digits, or a unique prefix of at least 8, see
    /// `/api/v1/releases`); default: the latest release.
    #[param(pattern = "^[0-9a-f]{8,64}$")]
    pub(super) release: Option<String>,
}

impl QueryParams for ItemParams {
    fn read(request: &ApiQuery) -> Result<Self, ApiError> {
        Ok(ItemParams {
            release: request.text("release"),
        })
    }
}
