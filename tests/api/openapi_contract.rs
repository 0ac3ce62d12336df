//! The OpenAPI document says what the server accepts: every text parameter declares the
//! values it takes (so an empty or control-character value is documented as invalid), and
//! what the document allows is not refused. `.ci/run` fuzzes the rest with schemathesis.

use serde_json::Value;

use crate::helpers::*;

/// Every parameter of every operation, as (operation, parameter object).
fn parameters(document: &Value) -> Vec<(String, Value)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                found.push((format!("{method} {path}"), parameter.clone()));
            }
        }
    }
    found
}

#[test]
fn every_text_parameter_declares_the_values_it_accepts() {
    let document: Value = serde_json::from_str(&sanctuary_data::rest::openapi_json()).unwrap();
    let all = parameters(&document);
    assert!(all.len() > 40, "{}", all.len());
    for (operation, parameter) in all {
        let name = parameter["name"].as_str().unwrap();
        let schema = &parameter["schema"];
        let types: Vec<&str> = match &schema["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let is_text = types.contains(&"string") && schema.get("format").is_none();
        if is_text {
            assert!(
                schema.get("pattern").is_some() || schema.get("enum").is_some(),
                "{operation}: text parameter {name} accepts any string, but the server \
                 refuses empty values and control characters: {parameter}"
            );
        }
        match name {
            // A full id or a unique prefix of at least 8 digits.
            "release" => assert_eq!(schema["pattern"], "^[0-9a-f]{8,64}$", "{operation}"),
            "cursor" => assert_eq!(schema["pattern"], "^[A-Za-z0-9_-]+$", "{operation}"),
            "id" if operation.contains("/releases/") => {
                assert_eq!(schema["pattern"], "^[0-9a-f]{8,64}$", "{operation}")
            }
            _ => {}
        }
    }
}

#[tokio::test]
async fn bom_is_checked_on_json_as_documented_and_ignored() {
    let (app, _db) = app_with("small").await;
    for path in ["/api/v1/releases", "/api/v1/programs", "/api/v1/statistics"] {
        get(&app, &format!("{path}?bom=AAA"))
            .await
            .assert_problem(400, Some("bom"));
        let json = get(&app, &format!("{path}?bom=true")).await;
        assert_eq!(json.status, 200, "{path}");
        assert_eq!(json.header("content-type"), "application/json");
        assert_eq!(
            json.body,
            get(&app, path).await.body,
            "{path}: ignored for JSON"
        );
    }
}
