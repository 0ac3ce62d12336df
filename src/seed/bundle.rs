//! The bundling stage: checked rows -> entity models in canonical order, with the
//! statistics protected by disclosure control and kept compact.

use super::*;

/// A validated, disclosure-protected bundle, ready to load as a release.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// SHA-256 of the canonical bundle: the release id.
    pub id: String,
    pub title: String,
    pub min_cell: i64,
    /// The declared dimensions in canonical JSON (kept with the release).
    pub dimensions: String,
    pub sources: Vec<source::Model>,
    pub programs: Vec<program::Model>,
    pub metrics: Vec<metric::Model>,
    pub events: Vec<event::Model>,
    pub documents: Vec<document::Model>,
    /// Compact: see [`Statistics::models`].
    pub statistics: Statistics,
}

impl Bundle {
    /// Name the release by the SHA-256 of what it publishes: the title, k and every
    /// protected row in canonical order (see [`digest`]). Not of the input files: their raw
    /// suppressed values would make the id a checksum an attacker could brute-force them
    /// against. Identical published content therefore gets the same id, and a re-import
    /// is a no-op.
    pub(super) fn assign_release_id(&mut self) {
        let id = digest::release_id(self);
        self.sources
            .iter_mut()
            .for_each(|m| m.release_id = id.clone());
        self.programs
            .iter_mut()
            .for_each(|m| m.release_id = id.clone());
        self.metrics
            .iter_mut()
            .for_each(|m| m.release_id = id.clone());
        self.events
            .iter_mut()
            .for_each(|m| m.release_id = id.clone());
        self.documents
            .iter_mut()
            .for_each(|m| m.release_id = id.clone());
        self.id = id;
    }

    /// Rows per table, for messages.
    pub fn summary(&self) -> String {
        let suppressed = self.statistics.suppressed();
        format!(
            "{} sources, {} programs, {} metrics, {} events, {} documents, {} statistics ({} suppressed at k={})",
            self.sources.len(),
            self.programs.len(),
            self.metrics.len(),
            self.events.len(),
            self.documents.len(),
            self.statistics.len(),
            suppressed,
            self.min_cell
        )
    }
}

/// Turn checked rows into entity models in canonical order, applying disclosure control
/// to statistics. Raw values of suppressed cells are dropped here and go no further.
#[tracing::instrument(skip(policy, dimensions, earlier, tables, problems))]
pub(super) fn build_bundle(
    title: String,
    policy: Policy,
    dimensions: &Dimensions,
    earlier: &Earlier,
    tables: Vec<ReadTable>,
    problems: &mut Problems,
) -> Bundle {
    let mut by_name: HashMap<&str, ReadTable> =
        tables.into_iter().map(|t| (t.table.name, t)).collect();
    let mut take = |name: &str| by_name.remove(name).expect("every table was read");
    // The release id is only known once the published content is; see `assign_release_id`.
    let release_id = String::new();

    let t = take("sources");
    let mut sources: Vec<source::Model> = (0..t.len())
        .map(|r| source::Model {
            release_id: release_id.clone(),
            id: t.string(r, "id"),
            position: 0,
            title: t.string(r, "title"),
            publisher: t.string(r, "publisher"),
            url: t.string(r, "url"),
            published_on: t.date(r, "published_on"),
            retrieved_on: t.date(r, "retrieved_on"),
            kind: t.string(r, "kind"),
            search_text: String::new(),
        })
        .collect();
    sources.sort_by(|a, b| a.id.cmp(&b.id));
    sources
        .iter_mut()
        .enumerate()
        .for_each(|(i, m)| m.position = i as i32 + 1);

    let t = take("programs");
    let mut programs: Vec<program::Model> = (0..t.len())
        .map(|r| program::Model {
            release_id: release_id.clone(),
            slug: t.string(r, "slug"),
            position: 0,
            name: t.string(r, "name"),
            jurisdiction: t.string(r, "jurisdiction"),
            administered_by: t.string(r, "administered_by"),
            launched_on: t.date(r, "launched_on"),
            status: t.string(r, "status"),
            website: t.opt_text(r, "website"),
            description: t.string(r, "description"),
            source_id: t.string(r, "source_id"),
            search_text: String::new(),
        })
        .collect();
    programs.sort_by(|a, b| a.slug.cmp(&b.slug));
    programs
        .iter_mut()
        .enumerate()
        .for_each(|(i, m)| m.position = i as i32 + 1);

    let t = take("metrics");
    let mut metrics: Vec<metric::Model> = (0..t.len())
        .map(|r| metric::Model {
            release_id: release_id.clone(),
            id: t.string(r, "id"),
            position: 0,
            name: t.string(r, "name"),
            description: t.string(r, "description"),
            unit: t.string(r, "unit"),
        })
        .collect();
    metrics.sort_by(|a, b| a.id.cmp(&b.id));
    metrics
        .iter_mut()
        .enumerate()
        .for_each(|(i, m)| m.position = i as i32 + 1);

    let t = take("events");
    let mut events: Vec<event::Model> = (0..t.len())
        .map(|r| event::Model {
            release_id: release_id.clone(),
            id: t.string(r, "id"),
            position: 0,
            program: t.string(r, "program"),
            date: t.date(r, "date").unwrap_or_default(),
            date_precision: t.string(r, "date_precision"),
            kind: t.string(r, "kind"),
            title: t.string(r, "title"),
            description: t.string(r, "description"),
            source_id: t.string(r, "source_id"),
            search_text: String::new(),
        })
        .collect();
    events.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
    events
        .iter_mut()
        .enumerate()
        .for_each(|(i, m)| m.position = i as i32 + 1);

    let t = take("documents");
    let mut documents: Vec<document::Model> = (0..t.len())
        .map(|r| document::Model {
            release_id: release_id.clone(),
            id: t.string(r, "id"),
            position: 0,
            program: t.string(r, "program"),
            title: t.string(r, "title"),
            kind: t.string(r, "kind"),
            issuer: t.string(r, "issuer"),
            published_on: t.date(r, "published_on"),
            url: t.string(r, "url"),
            summary: t.string(r, "summary"),
            source_id: t.string(r, "source_id"),
            search_text: String::new(),
        })
        .collect();
    // Dated documents first, oldest first; undated ones after, by id.
    documents.sort_by(|a, b| {
        (a.published_on.is_none(), a.published_on, &a.id).cmp(&(
            b.published_on.is_none(),
            b.published_on,
            &b.id,
        ))
    });
    documents
        .iter_mut()
        .enumerate()
        .for_each(|(i, m)| m.position = i as i32 + 1);

    let t = take("statistics");
    let units: HashMap<&str, &str> = metrics
        .iter()
        .map(|m| (m.id.as_str(), m.unit.as_str()))
        .collect();
    let statistics = protect_statistics(policy, dimensions, earlier, t, &units, problems);

    Bundle {
        id: String::new(),
        title,
        min_cell: policy.k(),
        dimensions: dimensions.canonical(),
        sources,
        programs,
        metrics,
        events,
        documents,
        statistics,
    }
}

/// The protected statistics, compactly: the rows as read, and for each published row
/// (in canonical order) which row it is and what is published of its value. Entity
/// models are made on the fly, a few at a time, when the release is written.
#[derive(Debug, Clone)]
pub struct Statistics {
    pub(super) read: ReadTable,
    /// (row, published value or `SUPPRESSED`), in canonical order.
    pub(super) order: Vec<(u32, i64)>,
}

/// The published value of a suppressed cell (counts are never negative).
pub(super) const SUPPRESSED: i64 = -1;

/// The `note` and `source_wording` of every suppressed row, whatever the input said: the
/// input's texts of a suppressed row are neither stored nor published (nor digested into
/// the release id), since they may state or bound the withheld count.
pub const WITHHELD_TEXT: &str = "withheld with the value: disclosure control";

/// The `qualifier` of every suppressed row, whatever the input said ("fewer than",
/// "about" would say something about the withheld count). The Table Schema requires a
/// qualifier, so it is a fixed one; it describes nothing about a suppressed row.
pub const WITHHELD_QUALIFIER: &str = "exact";

impl Statistics {
    /// How many statistics the release holds.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// How many of them are suppressed.
    pub fn suppressed(&self) -> usize {
        self.order.iter().filter(|(_, v)| *v == SUPPRESSED).count()
    }

    /// The rows as entity models, in canonical order with their positions.
    pub fn models<'a>(
        &'a self,
        release_id: &'a str,
    ) -> impl Iterator<Item = statistic::Model> + 'a {
        let t = &self.read;
        self.order
            .iter()
            .enumerate()
            .map(move |(i, &(row, published))| {
                let row = row as usize;
                let value = (published != SUPPRESSED).then_some(published);
                // A suppressed row's texts go with its value: a note or a source's wording
                // ("7 cards online") or a qualifier can state or bound the count.
                let withheld = value.is_none();
                let text = |field: &str| match withheld {
                    true => Some(WITHHELD_TEXT.to_owned()),
                    false => t.opt_text(row, field),
                };
                statistic::Model {
                    release_id: release_id.to_owned(),
                    id: t.string(row, "id"),
                    position: i as i32 + 1,
                    program: t.string(row, "program"),
                    metric: t.string(row, "metric"),
                    period_start: t.date(row, "period_start").unwrap_or_default(),
                    period_end: t.date(row, "period_end").unwrap_or_default(),
                    dimension: t.string(row, "dimension"),
                    category: t.string(row, "category"),
                    value,
                    suppressed: value.is_none(),
                    suppression_reason: value
                        .is_none()
                        .then(|| disclosure::SUPPRESSION_REASON.to_owned()),
                    qualifier: match withheld {
                        true => WITHHELD_QUALIFIER.to_owned(),
                        false => t.string(row, "qualifier"),
                    },
                    unit: t.string(row, "unit"),
                    status: t.string(row, "status"),
                    source_id: t.string(row, "source_id"),
                    note: text("note"),
                    basis: Some(t.string(row, "basis")),
                    period_inferred: Some(t.string(row, "period_inferred")),
                    source_wording: text("source_wording"),
                    // Set in the database once the release's rows are there
                    // (`seed::load::mark_latest`).
                    latest: false,
                }
            })
    }
}
