//! `sanctuary-data export`: write the generated contracts that are committed with the code.

use std::path::Path;

/// Where the OpenAPI document is committed, relative to the repository root.
pub const OPENAPI_PATH: &str = "openapi/openapi.json";

/// Where the GraphQL SDL is committed, relative to the repository root.
pub const SCHEMA_PATH: &str = "schema.graphql";

/// Write `openapi/openapi.json` and `schema.graphql` under `root`.
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
    Ok(())
}
