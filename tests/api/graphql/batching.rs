//! GraphQL: batching: no n+1.

use super::*;

const EVERYTHING_PER_PROGRAM: &str = r#"{
  programs {
    nodes {
      slug
      statistics { totalCount nodes { id value metric { name } source { id } } }
      events { totalCount nodes { id date } }
      documents { totalCount nodes { id title } }
    }
  }
}"#;

/// The small fixture with three more programs, each with a statistic, an event and a
/// document.
fn five_programs() -> tempfile::TempDir {
    let dir = fixture_copy("small");
    for name in ["gamma", "delta", "epsilon"] {
        append(
            dir.path(),
            "programs.csv",
            &format!(
                "{name},{name} ID,{name} City,{name} Clerk,,active,,A synthetic program.,src-a\n"
            ),
        );
        append(
            dir.path(),
            "statistics.csv",
            &format!(
                "{name}-2022,{name},cards_issued,2022-01-01,2022-12-31,total,all,500,exact,cards,reported,src-a,,in_period,none,\n"
            ),
        );
        append(
            dir.path(),
            "events.csv",
            &format!(
                "{name}-launch,{name},2019-01-01,day,launch,{name} launches,Synthetic event.,src-a\n"
            ),
        );
        append(
            dir.path(),
            "documents.csv",
            &format!(
                "{name}-code,{name},{name} code,ordinance,{name} Council,2019-01-01,https://example.org/{name},Synthetic.,src-a\n"
            ),
        );
    }
    dir
}

#[tokio::test]
async fn nested_fields_cost_the_same_statements_for_two_programs_as_for_five() {
    let small = fresh_db().await;
    import(&small.db, &fixture("small")).await;
    let large = fresh_db().await;
    let dir = five_programs();
    import(&large.db, dir.path()).await;

    let (for_two, body) = statements(&small.db, EVERYTHING_PER_PROGRAM).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(
        body["data"]["programs"]["nodes"].as_array().unwrap().len(),
        2
    );
    let (for_five, body) = statements(&large.db, EVERYTHING_PER_PROGRAM).await;
    assert!(body.get("errors").is_none(), "{body}");
    let nodes = body["data"]["programs"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 5);
    assert!(
        nodes
            .iter()
            .all(|p| p["statistics"]["totalCount"].as_u64() >= Some(1)
                && p["events"]["totalCount"].as_u64() >= Some(1)
                && p["documents"]["totalCount"].as_u64() >= Some(1)),
        "{body}"
    );
    assert_eq!(
        for_two, for_five,
        "statements for 2 programs vs 5: nested fields must be batched"
    );
    // The latest release, the programs page (count, rows, sources), then one batch for
    // each nested collection (rows, sources) and one for the metrics.
    assert!(
        for_five <= 11,
        "{for_five} statements for programs with nested collections"
    );

    // One program or two: the same.
    let one = EVERYTHING_PER_PROGRAM.replace("programs {", "programs(first: 1) {");
    let (for_one, _) = statements(&small.db, &one).await;
    assert_eq!(for_one, for_two);
}
