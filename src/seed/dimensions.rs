//! Declared dimensions: the `sanctuary:dimensions` property of `datapackage.json`.
//!
//! Disclosure control protects what it knows to be linked. Every breakdown dimension a
//! statistics row uses is declared here, with its categories (exhaustive: each breakdown
//! lists every one of them) and optionally a parent dimension with the category mapping
//! (ward → region, fine → coarse age band), so the importer can write down every additive
//! link between published cells. What the declarations must not allow, and this stage
//! refuses, located in the descriptor:
//!
//! - a dimension that is two declared dimensions joined (`age_group_channel`,
//!   `age_group_by_channel`): a cross-tabulation under a one-word name. Cross-tabulations
//!   are refused (`crosses` is not supported: declare each dimension on its own);
//! - the same category label under two dimensions neither of which is an ancestor of the
//!   other: a shared cell must be declared as such (by a parent mapping) so it has one
//!   status;
//! - a parent mapping that names unknown categories, leaves a category unmapped, leaves a
//!   parent category without children, or loops.

use super::*;

/// The descriptor property that declares the dimensions.
pub const DIMENSIONS_PROPERTY: &str = "sanctuary:dimensions";

/// The declared dimensions, in declaration order.
#[derive(Debug, Clone, Default)]
pub struct Dimensions {
    pub(super) list: Vec<Dimension>,
}

/// One declared dimension.
#[derive(Debug, Clone)]
pub(super) struct Dimension {
    pub(super) name: String,
    pub(super) categories: Vec<String>,
    /// The parent dimension's index and, for each category (by index), its parent
    /// category's index.
    pub(super) parent: Option<(usize, Vec<usize>)>,
}

impl Dimensions {
    /// The declarations in a canonical JSON form, kept with the release: dimensions by name,
    /// each with its categories sorted and its parent map, so that two packages declaring
    /// the same dimensions in another order give the same text.
    pub(super) fn canonical(&self) -> String {
        serde_json::Value::Array(self.by_name().into_values().collect()).to_string()
    }

    /// Each dimension's canonical JSON, by name.
    fn by_name(&self) -> std::collections::BTreeMap<&str, serde_json::Value> {
        self.list
            .iter()
            .map(|d| {
                let mut categories = d.categories.clone();
                categories.sort();
                let mut json = serde_json::json!({ "name": d.name, "categories": categories });
                if let Some((parent, map)) = &d.parent {
                    let parent = &self.list[*parent];
                    let map: std::collections::BTreeMap<&str, &str> = d
                        .categories
                        .iter()
                        .zip(map)
                        .map(|(c, &p)| (c.as_str(), parent.categories[p].as_str()))
                        .collect();
                    json["parent"] = serde_json::json!({ "dimension": parent.name, "map": map });
                }
                (d.name.as_str(), json)
            })
            .collect()
    }

    /// What an earlier release declared (`declared`: its canonical JSON) that these
    /// declarations do not repeat the same way, as a message per dimension. Declarations
    /// are frozen in a database: an earlier release's breakdowns (their totals, their
    /// parents) are read through them, so a dimension an earlier release declared must be
    /// declared again with the same categories and parent map.
    pub(super) fn changed_since(&self, declared: &str) -> Vec<String> {
        let now = self.by_name();
        let Ok(serde_json::Value::Array(before)) = serde_json::from_str(declared) else {
            return vec!["the earlier declarations to be readable (please report it)".into()];
        };
        before
            .iter()
            .filter_map(|d| {
                let name = d["name"].as_str()?;
                match now.get(name) {
                    Some(json) if json == d => None,
                    Some(_) => Some(format!(
                        "dimension {name} declared as before (its categories and parent map): \
                         declarations are frozen in a database, since earlier breakdowns are \
                         read through them; earlier: {d}"
                    )),
                    None => Some(format!(
                        "dimension {name} declared again (declarations are frozen in a database, \
                         since earlier breakdowns are read through them): {d}"
                    )),
                }
            })
            .collect()
    }

    /// `d`'s ancestors, nearest first.
    pub(super) fn ancestors(&self, d: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(self.list[d].parent.as_ref().map(|p| p.0), |&a| {
            self.list[a].parent.as_ref().map(|p| p.0)
        })
        .take(self.list.len())
    }

    /// The category of ancestor `a` that category `c` of `d` belongs to.
    pub(super) fn lift(&self, mut d: usize, mut c: usize, a: usize) -> usize {
        while d != a {
            let (parent, map) = self.list[d].parent.as_ref().expect("a is an ancestor of d");
            c = map[c];
            d = *parent;
        }
        c
    }

    /// The two declared dimensions `name` joins, if it looks like a cross-tabulation of
    /// them (`a_b`, `a_by_b`, `a_x_b`, `a_and_b`, `a_per_b`, `a_within_b`, `a__b`).
    pub(super) fn crossing(&self, name: &str) -> Option<(&str, &str)> {
        for a in &self.list {
            let Some(rest) = name.strip_prefix(a.name.as_str()) else {
                continue;
            };
            for b in &self.list {
                if a.name == b.name {
                    continue;
                }
                for join in [
                    "_", "__", "_by_", "_x_", "_and_", "_per_", "_within_", "_vs_",
                ] {
                    if rest.strip_prefix(join) == Some(b.name.as_str()) {
                        return Some((&a.name, &b.name));
                    }
                }
            }
        }
        None
    }
}

/// The message for a cross-tabulation.
pub(super) fn crossing_expected(a: &str, b: &str) -> String {
    format!(
        "one dimension per row: this name joins the declared dimensions {a} and {b}, a \
         cross-tabulation, and cross-tabulations are refused (\"crosses\" is not supported); \
         publish the {a} and {b} breakdowns separately"
    )
}

/// Read and check `sanctuary:dimensions` (absent: no dimension is declared, and only
/// total rows are accepted).
pub(super) fn read_dimensions(
    json: &serde_json::Value,
    text: &str,
    problems: &mut Problems,
) -> Dimensions {
    let mut problem = |needle: &str, field: String, value: String, expected: String| {
        let (line, column) = locate(text, needle);
        problems.push(Problem {
            file: DESCRIPTOR.into(),
            line,
            column,
            field,
            value,
            expected,
        });
    };
    let property = format!("\"{DIMENSIONS_PROPERTY}\"");
    let Some(value) = json.get(DIMENSIONS_PROPERTY) else {
        return Dimensions::default();
    };
    let Some(entries) = value.as_array() else {
        problem(
            &property,
            DIMENSIONS_PROPERTY.into(),
            String::new(),
            "a list of dimension declarations ({\"name\", \"categories\", \"parent\"?})".into(),
        );
        return Dimensions::default();
    };
    let is_identifier = |t: &str| {
        t.len() <= MAX_KEY_CHARS
            && t.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && t.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    let mut list: Vec<Dimension> = Vec::new();
    let mut parents: Vec<Option<(&str, &serde_json::Map<String, serde_json::Value>)>> = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let at = format!("{DIMENSIONS_PROPERTY}[{i}]");
        let name = entry.get("name").and_then(|n| n.as_str()).unwrap_or("");
        let needle = format!("\"{name}\"");
        if !is_identifier(name) || name == "total" {
            problem(
                &property,
                format!("{at}.name"),
                name.into(),
                "a snake_case dimension name other than total".into(),
            );
            continue;
        }
        if list.iter().any(|d| d.name == name) {
            problem(
                &needle,
                format!("{at}.name"),
                name.into(),
                "each dimension declared once".into(),
            );
            continue;
        }
        if entry.get("crosses").is_some() {
            problem(
                &needle,
                format!("{at}.crosses"),
                name.into(),
                "no \"crosses\": cross-tabulations (two dimensions at once) are refused; \
                 declare and publish each dimension on its own"
                    .into(),
            );
            continue;
        }
        let mut categories: Vec<String> = Vec::new();
        let Some(declared) = entry.get("categories").and_then(|c| c.as_array()) else {
            problem(
                &needle,
                format!("{at}.categories"),
                name.into(),
                "a non-empty list of the dimension's categories (exhaustive)".into(),
            );
            continue;
        };
        let mut ok = !declared.is_empty();
        for (j, category) in declared.iter().enumerate() {
            let label = category.as_str().unwrap_or("");
            let bad = label.is_empty()
                || label == "all"
                || label.trim() != label
                || label.chars().count() > MAX_TEXT_CHARS
                || label.chars().any(char::is_control);
            if bad || categories.iter().any(|c| c == label) {
                problem(
                    &needle,
                    format!("{at}.categories[{j}]"),
                    label.into(),
                    "category labels that are non-empty text without surrounding spaces, \
                     each once, and not \"all\" (the total's category)"
                        .into(),
                );
                ok = false;
            }
            categories.push(label.to_owned());
        }
        if !ok {
            if declared.is_empty() {
                problem(
                    &needle,
                    format!("{at}.categories"),
                    name.into(),
                    "a non-empty list of the dimension's categories (exhaustive)".into(),
                );
            }
            continue;
        }
        let parent = match entry.get("parent") {
            None => None,
            Some(parent) => {
                let dimension = parent.get("dimension").and_then(|d| d.as_str());
                let map = parent.get("map").and_then(|m| m.as_object());
                match (dimension, map) {
                    (Some(dimension), Some(map)) => Some((dimension, map)),
                    _ => {
                        problem(
                            &needle,
                            format!("{at}.parent"),
                            name.into(),
                            "{\"dimension\": the parent dimension, \"map\": {child category: \
                             parent category}}"
                                .into(),
                        );
                        continue;
                    }
                }
            }
        };
        list.push(Dimension {
            name: name.to_owned(),
            categories,
            parent: None,
        });
        parents.push(parent);
    }

    // Parents: declared, exhaustive mappings onto the parent's categories, no loops.
    let mut resolved: Vec<Option<(usize, Vec<usize>)>> = vec![None; list.len()];
    for (d, parent) in parents.iter().enumerate() {
        let Some((parent_name, map)) = parent else {
            continue;
        };
        let name = &list[d].name;
        let at = format!("{DIMENSIONS_PROPERTY}[{name}].parent");
        let Some(p) = list
            .iter()
            .position(|x| x.name == *parent_name)
            .filter(|&p| p != d)
        else {
            problem(
                &format!("\"{parent_name}\""),
                format!("{at}.dimension"),
                (*parent_name).into(),
                format!("another declared dimension (the parent of {name})"),
            );
            continue;
        };
        let mut ok = true;
        for (child, _) in map.iter() {
            if !list[d].categories.contains(child) {
                problem(
                    &format!("\"{child}\""),
                    format!("{at}.map"),
                    child.clone(),
                    format!("a declared category of {name}"),
                );
                ok = false;
            }
        }
        let mut indices = Vec::with_capacity(list[d].categories.len());
        for child in &list[d].categories {
            let target = map.get(child).and_then(|v| v.as_str());
            match target.and_then(|t| list[p].categories.iter().position(|c| c == t)) {
                Some(q) => indices.push(q),
                None => {
                    problem(
                        &format!("\"{}\"", target.unwrap_or(child)),
                        format!("{at}.map"),
                        target.unwrap_or(child).to_owned(),
                        format!(
                            "for category {child} of {name}, a declared category of {parent_name} \
                             (every category of a child dimension maps to one parent category)"
                        ),
                    );
                    ok = false;
                }
            }
        }
        if ok {
            for (q, category) in list[p].categories.iter().enumerate() {
                if !indices.contains(&q) {
                    problem(
                        &format!("\"{parent_name}\""),
                        format!("{at}.map"),
                        category.clone(),
                        format!(
                            "at least one category of {name} mapped to each category of {parent_name}"
                        ),
                    );
                    ok = false;
                }
            }
        }
        if ok {
            resolved[d] = Some((p, indices));
        }
    }
    for (d, parent) in resolved.into_iter().enumerate() {
        list[d].parent = parent;
    }
    let mut dimensions = Dimensions { list };
    for d in 0..dimensions.list.len() {
        let mut seen = vec![false; dimensions.list.len()];
        let mut at = d;
        let mut looped = false;
        while let Some((p, _)) = &dimensions.list[at].parent {
            if seen[*p] {
                looped = true;
                break;
            }
            seen[*p] = true;
            at = *p;
        }
        if looped {
            let name = dimensions.list[d].name.clone();
            problem(
                &format!("\"{name}\""),
                format!("{DIMENSIONS_PROPERTY}[{name}].parent"),
                name,
                "a parent chain that ends (no dimension is its own ancestor)".into(),
            );
            dimensions.list[d].parent = None;
        }
    }

    // Cross-tabulations under one name, and one label under unrelated dimensions.
    for d in &dimensions.list {
        if let Some((a, b)) = dimensions.crossing(&d.name) {
            problem(
                &format!("\"{}\"", d.name),
                format!("{DIMENSIONS_PROPERTY}[{}].name", d.name),
                d.name.clone(),
                crossing_expected(a, b),
            );
        }
    }
    let mut labels: Vec<(&str, usize)> = dimensions
        .list
        .iter()
        .enumerate()
        .flat_map(|(d, dim)| dim.categories.iter().map(move |c| (c.as_str(), d)))
        .collect();
    labels.sort_unstable();
    for pair in labels.windows(2) {
        let ((label, a), (other, b)) = (pair[0], pair[1]);
        if label != other {
            continue;
        }
        let related =
            dimensions.ancestors(a).any(|x| x == b) || dimensions.ancestors(b).any(|x| x == a);
        if !related {
            let (a, b) = (&dimensions.list[a].name, &dimensions.list[b].name);
            problem(
                &format!("\"{label}\""),
                DIMENSIONS_PROPERTY.into(),
                label.to_owned(),
                format!(
                    "a category label used by one dimension, or by dimensions linked by a \
                     declared parent: {a} and {b} both have it, so it names one group of \
                     people twice; declare one as the other's parent (with the mapping) or \
                     rename it"
                ),
            );
        }
    }
    dimensions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: serde_json::Value) -> (Dimensions, Vec<String>) {
        let text = serde_json::to_string_pretty(&json).unwrap();
        let mut problems = Problems::default();
        let dims = read_dimensions(&json, &text, &mut problems);
        (
            dims,
            problems.listed.iter().map(|p| p.to_string()).collect(),
        )
    }

    #[test]
    fn hierarchies_are_resolved_and_lifted() {
        let (dims, problems) = read(serde_json::json!({ DIMENSIONS_PROPERTY: [
            {"name": "region", "categories": ["north", "south"]},
            {"name": "ward", "categories": ["w1", "w2", "w3"],
             "parent": {"dimension": "region", "map": {"w1": "north", "w2": "north", "w3": "south"}}},
            {"name": "block", "categories": ["b1", "b2", "b3", "b4"],
             "parent": {"dimension": "ward", "map": {"b1": "w1", "b2": "w2", "b3": "w3", "b4": "w3"}}},
        ]}));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(dims.ancestors(2).collect::<Vec<_>>(), [1, 0]);
        assert_eq!(dims.lift(2, 3, 0), 1);
        assert_eq!(dims.lift(2, 1, 0), 0);
    }

    #[test]
    fn bad_declarations_are_refused_with_located_reasons() {
        for (json, expected) in [
            (
                serde_json::json!([{"name": "age_group", "categories": ["a"]},
                    {"name": "channel", "categories": ["b"]},
                    {"name": "age_group_by_channel", "categories": ["c"]}]),
                "cross-tabulations are refused",
            ),
            (
                serde_json::json!([{"name": "x", "categories": ["a"], "crosses": ["y", "z"]}]),
                "\"crosses\"",
            ),
            (
                serde_json::json!([{"name": "age_group", "categories": ["65_plus", "young"]},
                    {"name": "age_band", "categories": ["65_plus", "other"]}]),
                "age_group and age_band both have it",
            ),
            (
                serde_json::json!([{"name": "region", "categories": ["north"]},
                    {"name": "ward", "categories": ["w1"],
                     "parent": {"dimension": "region", "map": {"w1": "east"}}}]),
                "a declared category of region",
            ),
            (
                serde_json::json!([{"name": "region", "categories": ["north", "south"]},
                    {"name": "ward", "categories": ["w1"],
                     "parent": {"dimension": "region", "map": {"w1": "north"}}}]),
                "mapped to each category of region",
            ),
            (
                serde_json::json!([{"name": "ward", "categories": ["w1"],
                     "parent": {"dimension": "region", "map": {"w1": "north"}}}]),
                "another declared dimension",
            ),
            (
                serde_json::json!([{"name": "a", "categories": ["x"],
                     "parent": {"dimension": "b", "map": {"x": "y"}}},
                    {"name": "b", "categories": ["y"],
                     "parent": {"dimension": "a", "map": {"y": "x"}}}]),
                "no dimension is its own ancestor",
            ),
            (
                serde_json::json!([{"name": "channel", "categories": ["all"]}]),
                "not \"all\"",
            ),
            (
                serde_json::json!([{"name": "channel", "categories": []}]),
                "non-empty list",
            ),
        ] {
            let (_, problems) = read(serde_json::json!({ DIMENSIONS_PROPERTY: json }));
            assert!(
                problems
                    .iter()
                    .any(|p| p.starts_with("datapackage.json:") && p.contains(expected)),
                "{expected}: {problems:?}"
            );
        }
    }
}
