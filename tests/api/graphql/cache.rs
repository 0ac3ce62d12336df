//! GraphQL answers come from the per-release response cache (issue #12): keyed by the
//! latest release, the request and the media type, shared by GET and POST.

use super::*;

const QUERY: &str = "query($n: Int) { statistics(first: $n, filter: { program: \"alpha\" }) { totalCount nodes { id value } } release { id } }";

fn get_uri(variables: &Value) -> String {
    format!(
        "/graphql?query={}&variables={}",
        url::form_urlencoded::byte_serialize(QUERY.as_bytes()).collect::<String>(),
        url::form_urlencoded::byte_serialize(variables.to_string().as_bytes()).collect::<String>()
    )
}

#[tokio::test]
async fn a_repeated_request_is_answered_without_the_database_by_post_and_get() {
    let (_, test_db) = app_with("small").await;
    let (app, count) = counting(&test_db.db);
    // The first request of an instance learns the latest release (and is not kept).
    post(&app, json!({ "query": "{ release { seq } }" }), None).await;
    let body = json!({ "query": QUERY, "variables": { "n": 2 } });
    let first = post(&app, body.clone(), None).await;
    assert!(first.body.get("errors").is_none(), "{}", first.body);
    let after_first = count.load(Ordering::SeqCst);
    assert!(after_first > 0);

    let second = post(&app, body, None).await;
    assert_eq!(second.bytes, first.bytes);
    assert_eq!(second.header(header::CACHE_CONTROL), "no-store");
    // The same request by GET: the same cached answer, now with its validators.
    let by_get = get(&app, &get_uri(&json!({ "n": 2 })), &[]).await;
    assert_eq!(by_get.bytes, first.bytes);
    let etag = by_get.header(header::ETAG).to_owned();
    assert!(!etag.is_empty());
    let not_modified = get(
        &app,
        &get_uri(&json!({ "n": 2 })),
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);
    assert_eq!(
        count.load(Ordering::SeqCst),
        after_first,
        "a repeated request reached the database"
    );

    // Another media type is another representation (rendered once, then kept too).
    let typed = post(
        &app,
        json!({ "query": QUERY, "variables": { "n": 2 } }),
        Some(GRAPHQL_RESPONSE),
    )
    .await;
    assert_eq!(typed.header(header::CONTENT_TYPE), GRAPHQL_RESPONSE);
    assert_eq!(typed.body, first.body);
}

#[tokio::test]
async fn different_variables_and_documents_get_their_own_answers() {
    let (app, _db) = app_with("small").await;
    let one = post(
        &app,
        json!({ "query": QUERY, "variables": { "n": 1 } }),
        None,
    )
    .await;
    let two = post(
        &app,
        json!({ "query": QUERY, "variables": { "n": 2 } }),
        None,
    )
    .await;
    assert_eq!(
        one.body["data"]["statistics"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        two.body["data"]["statistics"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let again = post(
        &app,
        json!({ "query": QUERY, "variables": { "n": 1 } }),
        None,
    )
    .await;
    assert_eq!(again.bytes, one.bytes);
    // A document laid out differently is its own entry (error locations depend on layout).
    let error = post(&app, json!({ "query": "{ nosuch }" }), None).await;
    let moved = post(&app, json!({ "query": "\n\n  { nosuch }" }), None).await;
    assert_ne!(
        error.body["errors"][0]["locations"],
        moved.body["errors"][0]["locations"]
    );
    // An operation name picks another operation of the same document.
    let document = "query A { release { seq } } query B { releases { seq } }";
    let a = post(
        &app,
        json!({ "query": document, "operationName": "A" }),
        None,
    )
    .await;
    let b = post(
        &app,
        json!({ "query": document, "operationName": "B" }),
        None,
    )
    .await;
    assert_eq!(a.body["data"]["release"]["seq"], 1);
    assert_eq!(b.body["data"]["releases"][0]["seq"], 1);
}

#[tokio::test]
async fn a_new_release_is_a_new_answer() {
    let (app, test_db) = app_with("small").await;
    let query = json!({ "query": "{ statistics(filter: { program: \"alpha\" }) { nodes { value } } release { seq } }" });
    let before = post(&app, query.clone(), None).await;
    assert_eq!(before.body["data"]["release"]["seq"], 1);
    let values = before.body["data"]["statistics"]["nodes"].to_string();
    assert!(values.contains("19000"), "{values}");
    let dir = fixture_copy("small");
    edit(dir.path(), "statistics.csv", ",19000,", ",19001,");
    import(&test_db.db, dir.path()).await;
    let after = post(&app, query, None).await;
    assert_eq!(after.body["data"]["release"]["seq"], 2);
    let values = after.body["data"]["statistics"]["nodes"].to_string();
    assert!(
        values.contains("19001") && !values.contains("19000"),
        "{values}"
    );
}
