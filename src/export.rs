//! `sanctuary-data export`: write the generated contracts that are committed with the code.

use std::path::Path;

/// Where the OpenAPI document is committed, relative to the repository root.
pub const OPENAPI_PATH: &str = "openapi/openapi.json";

/// Write `openapi/openapi.json` under `root`.
pub fn write_contracts(root: &Path) -> anyhow::Result<()> {
    let openapi = root.join(OPENAPI_PATH);
    if let Some(dir) = openapi.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&openapi, crate::rest::openapi_json())?;
    println!("wrote {}", openapi.display());
    Ok(())
}
