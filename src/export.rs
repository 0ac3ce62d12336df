//! `sanctuary-data export`: write the generated contracts that are committed with the code.

use std::path::Path;

/// Where the OpenAPI document is committed, relative to the repository root.
pub const OPENAPI_PATH: &str = "openapi/openapi.json";

/// Where the GraphQL SDL is committed, relative to the repository root.
pub const SCHEMA_PATH: &str = "schema.graphql";

/// Where the seed bundle's descriptor is committed, relative to the repository root.
pub const SEED_DESCRIPTOR_PATH: &str = "seed-data/datapackage.json";

/// Write `openapi/openapi.json` and `schema.graphql` under `root`, and bring the Table
/// Schemas in `seed-data/datapackage.json` in line with the importer's allow-list.
pub fn write_contracts(root: &Path) -> anyhow::Result<()> {
    let schema = root.join(SCHEMA_PATH);
    std::fs::write(&schema, crate::graphql::sdl())?;
    println!("wrote {}", schema.display());
    let openapi = root.join(OPENAPI_PATH);
    if let Some(dir) = openapi.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&openapi, crate::rest::openapi_json())?;
    println!("wrote {}", openapi.display());
    let descriptor = root.join(SEED_DESCRIPTOR_PATH);
    if descriptor.exists() {
        let current = std::fs::read_to_string(&descriptor)?;
        std::fs::write(&descriptor, seed_descriptor(&current)?)?;
        println!("wrote {}", descriptor.display());
    }
    Ok(())
}

/// `descriptor` (a data package's JSON) with the schema of every resource named after
/// a table replaced by that table's [`Table::table_schema`](crate::tables::Table::table_schema);
/// everything else (title, licence, sources, paths) is kept.
pub fn seed_descriptor(descriptor: &str) -> anyhow::Result<String> {
    let mut json: serde_json::Value = serde_json::from_str(descriptor)?;
    if let Some(resources) = json.get_mut("resources").and_then(|r| r.as_array_mut()) {
        for resource in resources {
            let name = resource.get("name").and_then(|n| n.as_str()).unwrap_or("");
            if let Some(table) = crate::tables::TABLES.iter().find(|t| t.name == name) {
                resource["schema"] = table.table_schema();
            }
        }
    }
    Ok(serde_json::to_string_pretty(&json)? + "\n")
}
