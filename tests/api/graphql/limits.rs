//! GraphQL: limits.

use super::*;

/// GraphiQL 3's introspection query (graphql-js `getIntrospectionQuery`, as GraphiQL
/// sends it).
fn introspection_query(full: bool) -> String {
    let (schema_description, specified_by, repeatable, deprecated_args, input_deprecation, one_of) =
        if full {
            (
                "description",
                "specifiedByURL",
                "isRepeatable",
                "(includeDeprecated: true)",
                "isDeprecated\n deprecationReason",
                "isOneOf",
            )
        } else {
            ("", "", "", "", "", "")
        };
    let mut type_ref = "kind name".to_owned();
    for _ in 0..9 {
        type_ref = format!("kind name ofType {{ {type_ref} }}");
    }
    format!(
        r#"query IntrospectionQuery {{
  __schema {{
    {schema_description}
    queryType {{ name }}
    mutationType {{ name }}
    subscriptionType {{ name }}
    types {{ ...FullType }}
    directives {{ name description {repeatable} locations args{deprecated_args} {{ ...InputValue }} }}
  }}
}}
fragment FullType on __Type {{
  kind name description {specified_by} {one_of}
  fields(includeDeprecated: true) {{
    name description args{deprecated_args} {{ ...InputValue }} type {{ ...TypeRef }}
    isDeprecated deprecationReason
  }}
  inputFields{deprecated_args} {{ ...InputValue }}
  interfaces {{ ...TypeRef }}
  enumValues(includeDeprecated: true) {{ name description isDeprecated deprecationReason }}
  possibleTypes {{ ...TypeRef }}
}}
fragment InputValue on __InputValue {{
  name description type {{ ...TypeRef }} defaultValue {input_deprecation}
}}
fragment TypeRef on __Type {{ {type_ref} }}"#
    )
}

#[tokio::test]
async fn the_standard_introspection_query_passes_under_the_limits() {
    let (app, _db) = app_with("small").await;
    for full in [false, true] {
        let data = data(&app, &introspection_query(full)).await;
        let types = data["__schema"]["types"].as_array().unwrap();
        assert!(
            types.iter().any(|t| t["name"] == "Statistic"),
            "{}",
            data["__schema"]["queryType"]
        );
        assert_eq!(data["__schema"]["queryType"]["name"], "Query");
        assert_eq!(data["__schema"]["mutationType"], Value::Null);
    }
}

#[tokio::test]
async fn every_type_field_argument_and_enum_value_has_a_description() {
    let (app, _db) = app_with("small").await;
    let data = data(&app, &introspection_query(false)).await;
    let builtin = ["String", "Int", "Float", "Boolean", "ID"];
    let mut missing = Vec::new();
    let described = |v: &Value| {
        v["description"]
            .as_str()
            .is_some_and(|d| !d.trim().is_empty())
    };
    for ty in data["__schema"]["types"].as_array().unwrap() {
        let name = ty["name"].as_str().unwrap();
        if name.starts_with("__") || builtin.contains(&name) {
            continue;
        }
        if !described(ty) {
            missing.push(name.to_owned());
        }
        for field in ty["fields"].as_array().into_iter().flatten() {
            if !described(field) {
                missing.push(format!("{name}.{}", field["name"]));
            }
            for arg in field["args"].as_array().into_iter().flatten() {
                if !described(arg) {
                    missing.push(format!("{name}.{}({})", field["name"], arg["name"]));
                }
            }
        }
        for field in ty["inputFields"].as_array().into_iter().flatten() {
            if !described(field) {
                missing.push(format!("{name}.{}", field["name"]));
            }
        }
        for value in ty["enumValues"].as_array().into_iter().flatten() {
            if !described(value) {
                missing.push(format!("{name}.{}", value["name"]));
            }
        }
    }
    assert!(missing.is_empty(), "without a description: {missing:?}");
}

/// Queries a client is expected to send (documentation and GraphiQL examples).
const EXAMPLES: &[&str] = &[
    // GraphiQL's default query.
    r#"{ program(slug: "citykey") { name events(first: 5) { edges { node { date kind title } } } } }"#,
    // Every program with everything nested, default page sizes.
    r#"{ programs { totalCount pageInfo { hasNextPage endCursor } edges { cursor node {
         slug name jurisdiction status launchedOn website source { title url }
         statistics { totalCount pageInfo { hasNextPage endCursor } edges { cursor node {
           id periodStart periodEnd dimension category value suppressed suppressionReason
           qualifier unit status note metric { id name unit } source { id title url } } } }
         events { totalCount edges { cursor node { id date datePrecision kind title description source { title url } } } }
         documents { totalCount edges { cursor node { id title kind issuer publishedOn url summary source { title } } } }
       } } } }"#,
    // The largest page of statistics with every field.
    r#"{ statistics(first: 1000) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
         edges { cursor node { id program periodStart periodEnd dimension category value suppressed
           suppressionReason qualifier unit status note
           metric { id name description unit }
           source { id title publisher url publishedOn retrievedOn kind } } } } }"#,
    // A dashboard: several collections at once.
    r#"{ releases { id seq importedAt disclosure { minCell method suppressionReason } }
         metrics { nodes { id name description unit } }
         sources(first: 1000) { nodes { id title publisher url kind } }
         events(first: 1000) { nodes { id program date kind title } }
         documents(search: "ordinance", first: 1000) { nodes { id title url } } }"#,
];

#[tokio::test]
async fn the_example_queries_pass_under_the_limits() {
    let (app, _db) = app_with("small").await;
    for example in EXAMPLES {
        data(&app, example).await;
    }
}

#[tokio::test]
async fn a_query_nested_too_deep_is_rejected_before_any_resolver_runs() {
    let test_db = fresh_db().await;
    import(&test_db.db, &fixture("small")).await;
    // The schema has no cycles, so the deepest valid query is 8 levels; depth is checked
    // before validation, so an 11-level query is refused for its depth.
    let deep = "{ programs { edges { node { statistics { edges { node { source { title { a { b { c } } } } } } } } } } }";
    let (count, body) = statements(&test_db.db, deep).await;
    assert_eq!(count, 0, "no resolver ran: {body}");
    let error = &body["errors"][0];
    assert_eq!(
        error["message"],
        "the query is nested too deep: its depth is 11, and the limit is 10 (introspection fields are not counted)"
    );
    assert_eq!(error["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
    assert!(body.get("data").is_none(), "{body}");
    // Fragments count where they are spread.
    let via_fragments = "{ programs { ...P } } fragment P on ProgramConnection { edges { node { statistics { ...S } } } } fragment S on StatisticConnection { edges { node { source { title { a { b { c } } } } } } }";
    let (count, body) = statements(&test_db.db, via_fragments).await;
    assert_eq!(count, 0);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("depth is 11"),
        "{body}"
    );
}

#[tokio::test]
async fn an_abusive_nested_query_is_rejected_as_too_complex_before_any_resolver_runs() {
    let test_db = fresh_db().await;
    import(&test_db.db, &fixture("small")).await;
    let abusive = "{ programs(first: 1000) { edges { node { statistics(first: 1000) { edges { node { id value } } } } } } }";
    let (count, body) = statements(&test_db.db, abusive).await;
    assert_eq!(count, 0, "no resolver ran: {body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "the query is too complex: its complexity is 4002000, and the limit is 1000000"
        ),
        "{message}"
    );
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    // Variables count too.
    let with_variables = post(
        &build_app(AppState::new(test_db.db.clone())),
        json!({
            "query": "query($n: Int) { programs(first: $n) { nodes { statistics(first: $n) { nodes { id } } } } }",
            "variables": { "n": 1000 }
        }),
        None,
    )
    .await;
    assert!(
        with_variables.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("too complex"),
        "{}",
        with_variables.body
    );
}

#[tokio::test]
async fn fragment_bombs_and_directive_floods_are_rejected() {
    let (app, _db) = app_with("small").await;
    // Ten fragments, each spreading the next ten times: 10^10 fields once expanded.
    let mut query = String::from("{ __schema { types { ...F0 } } }\n");
    for level in 0..10 {
        let next = if level == 9 {
            "name".to_owned()
        } else {
            (0..10)
                .map(|i| format!("a{i}: ofType {{ ...F{} }}", level + 1))
                .collect::<Vec<_>>()
                .join(" ")
        };
        query.push_str(&format!("fragment F{level} on __Type {{ {next} }}\n"));
    }
    let started = std::time::Instant::now();
    let error = first_error(&app, &query).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "rejected quickly"
    );
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("fields once its fragments are expanded"),
        "{error}"
    );
    let flood = format!(
        "{{ releases {{ id {} }} }}",
        "@include(if: true) ".repeat(5)
    );
    let error = first_error(&app, &flood).await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("number of directives"),
        "{error}"
    );
}
