//! The two in-browser IDEs work offline: GraphiQL runs a query and shows the result,
//! Swagger UI lists the operations of the OpenAPI document.

use anyhow::{Context, ensure};

use crate::harness::{PAGES, PUBLIC_HOST, WAIT, browse, stays_on};
use crate::helpers::get;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_runs_a_query_and_shows_the_result() {
    browse(
        "graphiql_runs_a_query_and_shows_the_result",
        async |browser| {
            let page = PAGES.iter().find(|p| p.path == "/graphql").unwrap();
            browser.open_clean(page).await?;
            browser
                .wait_for(".graphiql-execute-button")
                .await?
                .click()
                .await
                .context("clicking the run button")?;
            // The default query asks for CityKey's name and first events. The result pane is a
            // CodeMirror editor, which draws only the lines in view: read its whole text.
            let started = std::time::Instant::now();
            let result =
                loop {
                    let text = browser
                .js("const pane = document.querySelector('.graphiql-response .CodeMirror'); \
                     return pane && pane.CodeMirror ? pane.CodeMirror.getValue() : '';")
                .await?;
                    let text = text.as_str().unwrap_or_default().to_owned();
                    if !text.is_empty() || started.elapsed() > WAIT {
                        break text;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                };
            let result: serde_json::Value = serde_json::from_str(&result).with_context(|| {
                format!("the result pane does not hold a JSON result: {result:?}")
            })?;
            ensure!(result.get("errors").is_none(), "the query failed: {result}");
            let program = &result["data"]["program"];
            ensure!(
                program["name"] == "CityKey"
                    && program["events"]["edges"]
                        .as_array()
                        .is_some_and(|e| !e.is_empty()),
                "the result pane does not show CityKey and its events: {result}"
            );
            let errors = browser.console_errors().await?;
            ensure!(
                errors.is_empty(),
                "console errors while running the query: {errors:?}"
            );
            Ok(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swagger_ui_lists_every_operation_of_the_openapi_document() {
    browse(
        "swagger_ui_lists_every_operation_of_the_openapi_document",
        async |browser| {
            let page = PAGES.iter().find(|p| p.path == "/docs/").unwrap();
            browser.open_clean(page).await?;
            let document = get(&browser.site.app, "/openapi.json").await.json();
            let mut expected = Vec::new();
            for (path, item) in document["paths"].as_object().unwrap() {
                for method in item.as_object().unwrap().keys() {
                    if ["get", "post", "put", "patch", "delete", "head", "options"]
                        .contains(&method.as_str())
                    {
                        expected.push(format!("{} {path}", method.to_uppercase()));
                    }
                }
            }
            ensure!(
                !expected.is_empty(),
                "the OpenAPI document lists no operation"
            );
            let shown = browser
                .js(
                    "return [...document.querySelectorAll('.opblock-summary')].map(s => \
                   (s.querySelector('.opblock-summary-method')?.innerText || '') + ' ' + \
                   (s.querySelector('.opblock-summary-path')?.getAttribute('data-path') || ''));",
                )
                .await?;
            let shown: Vec<String> = shown
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| v.as_str().unwrap_or_default().trim().to_owned())
                .collect();
            let missing: Vec<&String> = expected.iter().filter(|e| !shown.contains(e)).collect();
            ensure!(
                missing.is_empty(),
                "Swagger UI does not list {missing:?}; it lists {shown:?}"
            );
            Ok(())
        },
    )
    .await;
}

/// Swagger UI sends the document's URL to validator.swagger.io for its badge unless the page
/// is on localhost: under a public host name it must still call nobody.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swagger_ui_calls_no_one_else_under_a_public_host_name() {
    browse(
        "swagger_ui_calls_no_one_else_under_a_public_host_name",
        async |browser| {
            let base = browser.site.base.replace("127.0.0.1", PUBLIC_HOST);
            browser.clear_logs().await?;
            browser.client.goto(&format!("{base}/docs/")).await?;
            browser.wait_for(".opblock").await?;
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            let requests = browser.requests().await?;
            let outside: Vec<&String> = requests
                .iter()
                .filter(|u| !stays_on(u, PUBLIC_HOST))
                .collect();
            ensure!(
                outside.is_empty(),
                "/docs/ on {PUBLIC_HOST}: requests to elsewhere: {outside:?}"
            );
            let errors = browser.console_errors().await?;
            ensure!(
                errors.is_empty(),
                "/docs/ on {PUBLIC_HOST}: console errors: {errors:?}"
            );
            Ok(())
        },
    )
    .await;
}
